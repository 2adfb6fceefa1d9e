"""The report body: one pydantic v2 schema for incident, patrol and human-rights-concern reports.

Longer than 500 lines because it is the one contract every layer reads: the three models, their
cross-field rules, the error catalogue they raise and the translatable labels of every field and
choice (about a fifth of the file) sit together, so a change to a field and its wording is one edit.

This is the contract in CONTRIBUTING.md ("The report body"); the app, the server, exports,
hotspots and duplicate detection all read bodies through :func:`parse_report`. The push path reads
them through ``fast_schema.canonical_body``, a compiled mirror of these models that accepts only
what they would accept unchanged and hands every other body to :func:`parse_report`: a field or
limit changed here must be changed there too (``tests/common/test_fast_schema.py`` fails until it is).

Rules beyond field types:

* ``category`` must be in the taxonomy and apply to the report's ``kind``.
* ``confidentiality`` defaults to ``mission``, or ``restricted`` for a category that requires it
  (``Taxonomy.initial_confidentiality``: a category's ``public`` level is never a default). A category whose default is
  ``restricted`` (sexual violence, child recruitment, torture) must be reported as
  ``restricted``: a lower level is **rejected** with ``confidentiality_too_low`` rather than
  raised silently, so the person filing sees and confirms who will be able to read it.
* ``location`` accepts ``{lat, lon}`` or ``{mgrs}`` (or both, if consistent) and always
  serialises ``lat, lon, mgrs, precision_m, source, place``.
* Times are aware UTC (naive times are refused, see ``timefmt``); ``event_time`` defaults to now.
* Unknown fields are refused (``extra="forbid"``).

Every failure becomes :class:`ReportValidationError` holding one :class:`FieldError` per
problem (dotted ``field`` path, stable ``code``, English ``message``, ``message_for(lang)``).

Longer than 500 lines because the report body is one contract: three kinds on a shared base, their
nested types, and the conversion that names every bad field must be read (and changed) together.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from peacewatch.common.coords import CoordinateError, digits_for_precision, from_mgrs, normalise_mgrs, to_mgrs
from peacewatch.common.errors import MESSAGES, InputError, render
from peacewatch.common.i18n import N_, gettext
from peacewatch.common.taxonomy import CONFIDENTIALITY_LEVELS, KINDS, load_taxonomy
from peacewatch.common.timefmt import TimeFormatError, parse_iso, to_iso, utcnow

__all__ = [
    "AttachmentRef",
    "Casualties",
    "Confidentiality",
    "FieldError",
    "HumanRightsConcern",
    "IncidentReport",
    "Kind",
    "Location",
    "PatrolReport",
    "Person",
    "Report",
    "ReportValidationError",
    "RoutePoint",
    "json_schemas",
    "new_report",
    "parse_report",
    "report_to_json",
]

Kind = Literal["incident", "patrol", "hr_concern"]
Confidentiality = Literal["public", "mission", "restricted"]


# ---------------------------------------------------------------- errors


@dataclass(frozen=True)
class FieldError:
    """One problem: dotted ``field`` path (``location.lat``, ``victims.0.age_group``), ``code``, English ``message``."""

    field: str
    code: str
    message: str
    params: dict[str, Any] = dataclass_field(default_factory=dict, compare=False)

    def message_for(self, lang: str) -> str:
        return render(self.code, lang, self.params)

    def as_dict(self, lang: str = "en") -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message_for(lang)}


class ReportValidationError(ValueError):
    """A report body failed validation; ``errors`` lists every bad field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field or '(body)'}: {e.message}" for e in errors))


def _field_error(path: str, code: str, **params: Any) -> FieldError:
    return FieldError(path, code, render(code, "en", params), params)


# pydantic error type -> (our code, name of the ctx value that fills {limit}/{allowed})
_PYDANTIC_CODES: dict[str, tuple[str, str | None]] = {
    "missing": ("required", None),
    "extra_forbidden": ("unknown_field", None),
    "string_type": ("not_text", None),
    "string_unicode": ("bad_characters", None),
    "int_type": ("not_an_integer", None),
    "int_parsing": ("not_an_integer", None),
    "int_from_float": ("not_an_integer", None),
    "int_parsing_size": ("not_an_integer", None),
    "float_type": ("not_a_number", None),
    "float_parsing": ("not_a_number", None),
    "finite_number": ("not_finite", None),
    "bool_type": ("not_a_boolean", None),
    "bool_parsing": ("not_a_boolean", None),
    "list_type": ("not_a_list", None),
    "dict_type": ("not_an_object", None),
    "model_type": ("not_an_object", None),
    "model_attributes_type": ("not_an_object", None),
    "greater_than_equal": ("too_small", "ge"),
    "greater_than": ("must_be_greater", "gt"),
    "less_than_equal": ("too_large", "le"),
    "less_than": ("must_be_less", "lt"),
    "string_too_short": ("text_too_short", "min_length"),
    "string_too_long": ("text_too_long", "max_length"),
    "too_short": ("too_few_items", "min_length"),
    "too_long": ("too_many_items", "max_length"),
    "string_pattern_mismatch": ("bad_format", None),
    "literal_error": ("not_allowed", "expected"),
    "enum": ("not_allowed", "expected"),
    "uuid_type": ("bad_uuid", None),
    "uuid_parsing": ("bad_uuid", None),
    "uuid_version": ("bad_uuid", None),
    "datetime_type": ("bad_datetime", None),
    "datetime_parsing": ("bad_datetime", None),
}


def _convert(exc: ValidationError) -> list[FieldError]:
    out: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        ctx = err.get("ctx") or {}
        if "subfield" in ctx:  # a cross-field check names the field it blames
            loc.append(str(ctx["subfield"]))
        path = ".".join(loc)
        kind = err["type"]
        if kind in MESSAGES:  # our own PydanticCustomError codes
            params = {k: v for k, v in ctx.items() if k != "subfield"}
            out.append(_field_error(path, kind, **params))
            continue
        code, ctx_key = _PYDANTIC_CODES.get(kind, ("invalid", None))
        params = {}
        if ctx_key is not None:
            name = "allowed" if code == "not_allowed" else "limit"
            params[name] = ctx.get(ctx_key, "")
        out.append(_field_error(path, code, **params))
    return out


def _custom(error: InputError) -> PydanticCustomError:
    """An InputError from coords/timefmt as a pydantic error, so it lands on the field being validated."""
    return PydanticCustomError(error.code, error.message, dict(error.params))


# ---------------------------------------------------------------- field types


def _utc_datetime(value: Any) -> datetime:
    # Our parser, not pydantic's: pydantic accepts naive times and bare numbers as times.
    if isinstance(value, datetime):
        value = value.isoformat()
    try:
        return parse_iso(value)
    except TimeFormatError as exc:
        raise _custom(exc) from None


UtcDatetime = Annotated[
    datetime,
    BeforeValidator(_utc_datetime),
    PlainSerializer(to_iso, return_type=str, when_used="json"),
]


def _pattern_check(code: str, regex: str) -> BeforeValidator:
    """Report ``code`` (not pydantic's generic pattern error) when a string does not match ``regex``."""
    compiled = re.compile(regex)

    def check(value: Any) -> Any:
        if isinstance(value, str) and not compiled.fullmatch(value):
            raise PydanticCustomError(code, MESSAGES[code])
        return value

    return BeforeValidator(check)


# Each pattern is also declared in the JSON Schema (Field first: pydantic drops a constraint placed
# after a BeforeValidator from the schema), so forms can check it before sending.
_SHA256 = r"[0-9a-f]{64}"
_MEDIA_TYPE = r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*"
_FILE_NAME = r"[^/\\\x00-\x1f\x7f]+"
_LANGUAGE = r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*"
Sha256 = Annotated[str, Field(pattern=f"^{_SHA256}$"), _pattern_check("bad_sha256", _SHA256)]
MediaType = Annotated[str, Field(pattern=f"^{_MEDIA_TYPE}$"), _pattern_check("bad_media_type", _MEDIA_TYPE)]
FileName = Annotated[str, Field(pattern=f"^{_FILE_NAME}$"), _pattern_check("bad_file_name", _FILE_NAME)]
LanguageCode = Annotated[str, Field(pattern=f"^{_LANGUAGE}$"), _pattern_check("bad_language", _LANGUAGE)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=20000)]


# NUL and lone surrogates pass JSON parsing but break canonical_json (UTF-8) and
# PostgreSQL text/jsonb, so they are refused at the door, in every text field.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_default=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if isinstance(value, str) and _UNSTORABLE.search(value):
            raise PydanticCustomError("bad_characters", MESSAGES["bad_characters"])
        return value


# ---------------------------------------------------------------- parts


class Location(_Strict):
    """Where: lat/lon (WGS 84) and/or an MGRS reference; lat/lon are the square's centre for MGRS input."""

    model_config = ConfigDict(title=N_("Location"))

    lat: Latitude | None = Field(
        None, title=N_("Latitude"), description=N_("Decimal degrees, north positive.")
    )
    lon: Longitude | None = Field(
        None, title=N_("Longitude"), description=N_("Decimal degrees, east positive.")
    )
    mgrs: str | None = Field(
        None, title=N_("MGRS grid reference"), description=N_("For example 36N UL 44753 36243.")
    )
    precision_m: float | None = Field(
        None,
        gt=0,
        le=100000,
        allow_inf_nan=False,
        title=N_("Precision (metres)"),
        description=N_("Size of the MGRS square or the GPS accuracy."),
    )
    source: Literal["gps", "mgrs", "latlon"] | None = Field(None, title=N_("Position source"))
    place: str | None = Field(None, max_length=200, title=N_("Place name"))

    @field_validator("mgrs")
    @classmethod
    def _check_mgrs(cls, value: str | None) -> str | None:
        # Only the form here; whether GeoTrans can read it is settled in _fill, which converts
        # at most once (a position that converts to this very reference proves it readable).
        if value is None:
            return None
        try:
            return normalise_mgrs(value)[0]
        except CoordinateError as exc:
            raise _custom(exc) from None

    @model_validator(mode="after")
    def _fill(self) -> Location:
        if self.lat is None or self.lon is None:
            if self.mgrs is None:
                missing = "lat" if self.lat is None else "lon"
                raise PydanticCustomError(
                    "position_missing", MESSAGES["position_missing"], {"subfield": missing}
                )
            if self.lat is not None or self.lon is not None:
                # Half a lat/lon next to an MGRS reference is a typing slip, not a position.
                raise PydanticCustomError(
                    "required", MESSAGES["required"], {"subfield": "lon" if self.lon is None else "lat"}
                )
            self.lat, self.lon, size = _square_of(self.mgrs)
            if self.precision_m is None:
                self.precision_m = size
            if self.source is None:
                self.source = "mgrs"
            return self
        if self.mgrs is not None:
            _, pairs = normalise_mgrs(self.mgrs)
            if to_mgrs(self.lat, self.lon, pairs) != self.mgrs:
                # The reference's own centre is accepted as is: for a 1 m square cut by a zone
                # edge it can fall outside, and a serialised location must always parse back.
                centre = _square_of(self.mgrs)
                if abs(centre[0] - self.lat) >= 1e-9 or abs(centre[1] - self.lon) >= 1e-9:
                    raise PydanticCustomError("mgrs_mismatch", MESSAGES["mgrs_mismatch"], {"subfield": "mgrs"})
        else:
            self.mgrs = to_mgrs(self.lat, self.lon, digits_for_precision(self.precision_m))
        if self.source is None:
            self.source = "latlon"
        return self


def _square_of(ref: str) -> tuple[float, float, float]:
    """``from_mgrs`` with its refusal placed on the ``mgrs`` field of the location."""
    try:
        return from_mgrs(ref)
    except CoordinateError as exc:
        raise PydanticCustomError(exc.code, exc.message, {**exc.params, "subfield": "mgrs"}) from None


class RoutePoint(_Strict):
    """One point of a patrol route."""

    model_config = ConfigDict(title=N_("Route point"))

    lat: Latitude = Field(title=N_("Latitude"))
    lon: Longitude = Field(title=N_("Longitude"))


class Casualties(_Strict):
    """Counts of people harmed; zero when not known to be otherwise."""

    model_config = ConfigDict(title=N_("Casualties"))

    killed: int = Field(0, ge=0, le=1_000_000, title=N_("Killed"))
    injured: int = Field(0, ge=0, le=1_000_000, title=N_("Injured"))
    abducted: int = Field(0, ge=0, le=1_000_000, title=N_("Abducted"))
    displaced: int = Field(0, ge=0, le=10_000_000, title=N_("Displaced"))


class Person(_Strict):
    """A victim, witness or alleged perpetrator (or a group of alike people, ``count``)."""

    model_config = ConfigDict(title=N_("Person"))

    sex: Literal["female", "male", "other", "unknown"] = Field("unknown", title=N_("Sex"))
    age_group: Literal["child", "adult", "elderly", "unknown"] = Field("unknown", title=N_("Age group"))
    count: int = Field(1, ge=1, le=100_000, title=N_("Number of people"))
    consent_to_share: bool = Field(
        False,
        title=N_("Consent to share"),
        description=N_("The person agreed that their details may be shared."),
    )
    name: str | None = Field(None, max_length=200, title=N_("Name"))
    description: str | None = Field(None, max_length=2000, title=N_("Description"))


class AttachmentRef(_Strict):
    """A photo, voice note or document, named by the SHA-256 of its content."""

    model_config = ConfigDict(title=N_("Attachment"))

    sha256: Sha256 = Field(title=N_("SHA-256"))
    size: int = Field(ge=0, le=2**40, title=N_("Size (bytes)"))
    media_type: MediaType = Field(title=N_("Media type"))
    name: FileName = Field(min_length=1, max_length=255, title=N_("File name"))


# ---------------------------------------------------------------- reports


class _ReportBase(_Strict):
    KIND: ClassVar[str]

    id: uuid.UUID = Field(default_factory=uuid.uuid4, title=N_("Report id"))
    category: str = Field(title=N_("Category"))
    event_time: UtcDatetime = Field(
        default_factory=lambda: utcnow().replace(microsecond=0),
        title=N_("Event time"),
        description=N_("When it happened (UTC)."),
    )
    title: ShortText = Field(title=N_("Title"), description=N_("A short summary."))
    description: LongText = Field("", title=N_("Description"))
    casualties: Casualties = Field(default_factory=Casualties, title=N_("Casualties"))
    confidentiality: Confidentiality = Field(
        # The default is the rule of ``Taxonomy.initial_confidentiality``; the schema lists it per
        # category (``x-default-by-category``), so a form shows what the server will store.
        "mission", title=N_("Confidentiality"), description=N_("Who may read this report."),
    )
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=100, title=N_("Attachments"))
    contingent: str = Field(min_length=1, max_length=64, title=N_("Contingent"))
    author: str = Field(min_length=1, max_length=64, title=N_("Author"))
    language: LanguageCode = Field("en", title=N_("Language"))

    @field_validator("id")
    @classmethod
    def _uuid4(cls, value: uuid.UUID) -> uuid.UUID:
        if value.version != 4:
            raise PydanticCustomError("bad_uuid", MESSAGES["bad_uuid"])
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_confidentiality(cls, data: Any) -> Any:
        # The default depends on the category, so it is filled before field validation.
        if isinstance(data, dict) and "confidentiality" not in data:
            category = data.get("category")
            taxonomy = load_taxonomy()
            if isinstance(category, str) and category in taxonomy:
                data = {**data, "confidentiality": taxonomy.initial_confidentiality(category)}
        return data

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        taxonomy = load_taxonomy()
        if value not in taxonomy:
            raise PydanticCustomError("unknown_category", MESSAGES["unknown_category"])
        if cls.KIND not in taxonomy.get(value).kinds:
            raise PydanticCustomError("category_not_for_kind", MESSAGES["category_not_for_kind"])
        return value

    @model_validator(mode="after")
    def _restricted_stays_restricted(self) -> _ReportBase:
        required = load_taxonomy().get(self.category).default_confidentiality
        if required == "restricted" and self.confidentiality != "restricted":
            raise PydanticCustomError(
                "confidentiality_too_low",
                MESSAGES["confidentiality_too_low"],
                {"subfield": "confidentiality"},
            )
        return self


class IncidentReport(_ReportBase):
    """Something that happened: an attack, a clash, a displacement, a threat."""

    model_config = ConfigDict(title=N_("Incident report"))

    KIND: ClassVar[str] = "incident"
    kind: Literal["incident"] = Field("incident", title=N_("Report kind"))
    location: Location = Field(title=N_("Location"))
    severity: int = Field(ge=1, le=5, title=N_("Severity"), description=N_("1 (minor) to 5 (critical)."))
    perpetrator: str | None = Field(None, max_length=200, title=N_("Perpetrator"))


class PatrolReport(_ReportBase):
    """A patrol: its route, type, start and end, and what it saw (or a nil report)."""

    model_config = ConfigDict(title=N_("Patrol report"))

    KIND: ClassVar[str] = "patrol"
    kind: Literal["patrol"] = Field("patrol", title=N_("Report kind"))
    location: Location | None = Field(None, title=N_("Location"))
    severity: int = Field(1, ge=1, le=5, title=N_("Severity"), description=N_("1 (minor) to 5 (critical)."))
    patrol_type: Literal["foot", "vehicle", "air", "river"] = Field(title=N_("Patrol type"))
    start_time: UtcDatetime = Field(title=N_("Start time"))
    end_time: UtcDatetime = Field(title=N_("End time"))
    route: list[RoutePoint] = Field(default_factory=list, max_length=10_000, title=N_("Route"))
    observations: LongText = Field("", title=N_("Observations"))
    nil_report: bool = Field(False, title=N_("Nothing to report"))

    @model_validator(mode="after")
    def _end_after_start(self) -> PatrolReport:
        if self.end_time < self.start_time:
            raise PydanticCustomError(
                "end_before_start", MESSAGES["end_before_start"], {"subfield": "end_time"}
            )
        return self


class HumanRightsConcern(_ReportBase):
    """A possible human-rights violation, with the people involved."""

    model_config = ConfigDict(title=N_("Human-rights concern report"))

    KIND: ClassVar[str] = "hr_concern"
    kind: Literal["hr_concern"] = Field("hr_concern", title=N_("Report kind"))
    location: Location = Field(title=N_("Location"))
    severity: int = Field(ge=1, le=5, title=N_("Severity"), description=N_("1 (minor) to 5 (critical)."))
    victims: list[Person] = Field(min_length=1, max_length=1000, title=N_("Victims"))
    witnesses: list[Person] = Field(default_factory=list, max_length=1000, title=N_("Witnesses"))
    alleged_perpetrators: list[Person] = Field(
        default_factory=list, max_length=1000, title=N_("Alleged perpetrators")
    )


#: labels for the fixed choices (Literal values), shown by forms instead of the codes
CHOICE_LABELS: dict[str, str] = {
    "incident": N_("Incident"),
    "patrol": N_("Patrol"),
    "hr_concern": N_("Human-rights concern"),
    "public": N_("Public"),
    "mission": N_("Mission"),
    "restricted": N_("Restricted"),
    "gps": N_("GPS"),
    "mgrs": N_("MGRS"),
    "latlon": N_("Latitude/longitude"),
    "foot": N_("Foot"),
    "vehicle": N_("Vehicle"),
    "air": N_("Air"),
    "river": N_("River"),
    "female": N_("Female"),
    "male": N_("Male"),
    "other": N_("Other"),
    "unknown": N_("Unknown"),
    "child": N_("Child"),
    "adult": N_("Adult"),
    "elderly": N_("Elderly"),
}

Report = IncidentReport | PatrolReport | HumanRightsConcern
MODELS: dict[str, type[IncidentReport] | type[PatrolReport] | type[HumanRightsConcern]] = {
    "incident": IncidentReport,
    "patrol": PatrolReport,
    "hr_concern": HumanRightsConcern,
}
assert tuple(MODELS) == KINDS and CONFIDENTIALITY_LEVELS == ("public", "mission", "restricted")


# ---------------------------------------------------------------- functions


def parse_report(data: dict[str, Any] | str | bytes) -> Report:
    """Validate a report body (dict or JSON text) into its model, or raise :class:`ReportValidationError`."""
    if isinstance(data, str | bytes | bytearray):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            raise ReportValidationError([_field_error("", "invalid_json")]) from None
    if not isinstance(data, dict):
        raise ReportValidationError([_field_error("", "not_an_object")])
    kind = data.get("kind")
    if "kind" not in data:
        raise ReportValidationError([_field_error("kind", "required")])
    if not isinstance(kind, str) or kind not in MODELS:
        raise ReportValidationError([_field_error("kind", "unknown_kind")])
    try:
        return MODELS[kind].model_validate(data)
    except ValidationError as exc:
        raise ReportValidationError(_convert(exc)) from None


def report_to_json(report: Report) -> dict[str, Any]:
    """The JSON-ready body: every field present, times ISO 8601 UTC with ``Z``, ids as strings."""
    return report.model_dump(mode="json")


def new_report(kind: str, **fields: Any) -> Report:
    """A validated report of ``kind`` with a fresh id and event_time now unless given (for the app)."""
    if kind not in MODELS:
        raise ReportValidationError([_field_error("kind", "unknown_kind")])
    return parse_report({**fields, "kind": kind})


def json_schemas(lang: str = "en") -> dict[str, dict[str, Any]]:
    """One JSON Schema per kind, titles/descriptions in ``lang``, ``category`` as an enum of that kind's codes."""
    taxonomy = load_taxonomy()
    schemas: dict[str, dict[str, Any]] = {}
    for kind in MODELS:
        schema = copy.deepcopy(_base_schema(kind))
        categories = taxonomy.for_kind(kind)
        schema["properties"]["category"]["enum"] = [c.code for c in categories]
        # Forms show labels, not codes; a non-standard key keeps the schema valid.
        schema["properties"]["category"]["x-labels"] = {
            c.code: taxonomy.label(c.code, lang) for c in categories
        }
        # The default-confidentiality rule per category, so a form shows what the server will store.
        schema["properties"]["confidentiality"]["x-default-by-category"] = {
            c.code: c.initial_confidentiality for c in categories
        }
        schema["x-taxonomy-version"] = taxonomy.version
        _translate(schema, lang)
        schemas[kind] = schema
    return schemas


_SCHEMA_CACHE: dict[str, dict[str, Any]] = {}


def _base_schema(kind: str) -> dict[str, Any]:
    if kind not in _SCHEMA_CACHE:
        schema = MODELS[kind].model_json_schema(mode="validation")
        # Class docstrings are for programmers and are not translated: keep them out of forms.
        for node in [schema, *schema.get("$defs", {}).values()]:
            node.pop("description", None)
        _SCHEMA_CACHE[kind] = schema
    return _SCHEMA_CACHE[kind]


def _translate(node: Any, lang: str) -> None:
    if isinstance(node, dict):
        choices = node.get("enum") or ([node["const"]] if "const" in node else [])
        if "x-labels" not in node and choices and all(c in CHOICE_LABELS for c in choices):
            node["x-labels"] = {c: gettext(CHOICE_LABELS[c], lang) for c in choices}
        for key in ("title", "description"):
            if isinstance(node.get(key), str):
                node[key] = gettext(node[key], lang)
        for key, value in node.items():
            # Skip only the texts translated above: under "properties" the keys "title" and
            # "description" are the report's own fields and must be translated too.
            if not (key in ("title", "description") and isinstance(value, str)):
                _translate(value, lang)
    elif isinstance(node, list):
        for item in node:
            _translate(item, lang)
