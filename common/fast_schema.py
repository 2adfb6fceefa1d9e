"""A compiled fast path for validating report bodies, owned by the push path's throughput.

What it owns: msgspec ``Struct`` mirrors of the report schema in :mod:`peacewatch.common.schema`
(same fields, same order, same constraints, unknown fields forbidden) and :func:`canonical_body`,
which returns exactly ``report_to_json(parse_report(body))``. Validating and dumping through the
pydantic models costs about 30-37 µs of CPU a body; this path about 15 µs, of which the MGRS
conversion the location check needs (shared with the models) is some 4 µs
(``bench/schema_parse.py``). A body it hands over costs the pydantic price plus a few µs.

What it does not own: the contract itself. ``schema.py`` stays the one definition of the body and
of every error. The fast path only *accepts*: a body it is not certain the pydantic models would
accept unchanged goes to ``parse_report``, so every refusal (field, code, message) is exactly
today's, and anything the fast path does not model is decided there. It is certain only when:

* the msgspec decode passes; msgspec is strict where pydantic is lax (no ``"5"`` or ``True`` for
  an integer, no ``1.0`` for an integer, no ``"true"`` for a boolean), so a coerced body falls back;
* no text has surrounding whitespace (pydantic would strip it), a NUL or a lone surrogate;
* ``id`` is a lower-case canonical UUID version 4 and ``event_time`` is present (their defaults are
  random / now: left to pydantic);
* the category, confidentiality, location and patrol-time rules pass, computed with the very
  functions the models call (``normalise_mgrs``, ``from_mgrs``, ``to_mgrs``, ``parse_iso``...).

``tests/common/test_fast_schema.py`` checks on generated valid and invalid bodies that the result
is identical (values, types and key order) to the pydantic path's.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType, field

from peacewatch.common.coords import digits_for_precision, from_mgrs, normalise_mgrs, to_mgrs
from peacewatch.common.schema import (
    _LANGUAGE,
    _MEDIA_TYPE,
    _SHA256,
    _UNSTORABLE,
    parse_report,
    report_to_json,
)
from peacewatch.common.taxonomy import load_taxonomy
from peacewatch.common.timefmt import parse_iso, to_iso

__all__ = ["canonical_body", "fast_canonical"]

# msgspec checks a pattern with re.search, hence \A...\Z (``$`` would let a trailing newline through).
# Attachment names: schema._FILE_NAME plus no lone surrogate and no whitespace at either end, so
# pydantic's stripping and storable-text check leave a name this accepts unchanged (attachments are
# rare; free text, which every body has, is checked by _plain instead: a regex there costs µs).
_FILE_NAME_TEXT = r"\A(?!\s)[^/\\\x00-\x1f\x7f\ud800-\udfff]+(?<!\s)\Z"
# Only the canonical spelling pydantic would serialise back unchanged (it also reads upper case,
# braces or no hyphens, and rewrites them): the version nibble 4 and an RFC 4122 variant.
_UUID4 = r"\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z"

ShortText = Annotated[str, Meta(min_length=1, max_length=200)]
LongText = Annotated[str, Meta(max_length=20000)]
Code64 = Annotated[str, Meta(min_length=1, max_length=64)]
Name200 = Annotated[str, Meta(max_length=200)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]  # ge/le also refuse NaN and infinities
Longitude = Annotated[float, Meta(ge=-180, le=180)]
Severity = Annotated[int, Meta(ge=1, le=5)]
PersonList = Annotated[list["_Person"], Meta(max_length=1000)]


class _Strict(Struct, kw_only=True, forbid_unknown_fields=True):
    # kw_only (repeated on every subclass: msgspec does not inherit it) lets a required field follow
    # one with a default, so the fields keep pydantic's declaration order, which is its dump order.
    pass


class _Location(_Strict, kw_only=True):
    lat: Latitude | None = None
    lon: Longitude | None = None
    mgrs: str | None = None  # normalise_mgrs refuses NUL, surrogates; drops spaces
    precision_m: Annotated[float, Meta(gt=0, le=100000)] | None = None
    source: Literal["gps", "mgrs", "latlon"] | None = None
    place: Name200 | None = None


class _RoutePoint(_Strict, kw_only=True):
    lat: Latitude
    lon: Longitude


class _Casualties(_Strict, kw_only=True):
    killed: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    injured: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    abducted: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    displaced: Annotated[int, Meta(ge=0, le=10_000_000)] = 0


class _Person(_Strict, kw_only=True):
    sex: Literal["female", "male", "other", "unknown"] = "unknown"
    age_group: Literal["child", "adult", "elderly", "unknown"] = "unknown"
    count: Annotated[int, Meta(ge=1, le=100_000)] = 1
    consent_to_share: bool = False
    name: Name200 | None = None
    description: Annotated[str, Meta(max_length=2000)] | None = None


class _Attachment(_Strict, kw_only=True):
    sha256: Annotated[str, Meta(pattern=rf"\A{_SHA256}\Z")]
    size: Annotated[int, Meta(ge=0, le=2**40)]
    media_type: Annotated[str, Meta(pattern=rf"\A{_MEDIA_TYPE}\Z")]
    name: Annotated[str, Meta(min_length=1, max_length=255, pattern=_FILE_NAME_TEXT)]


class _ReportBase(_Strict, kw_only=True):
    # UNSET marks the fields whose default is not a constant: id and event_time (left to pydantic)
    # and confidentiality (filled from the category, as schema._default_confidentiality does).
    id: Annotated[str, Meta(pattern=_UUID4)] | UnsetType = UNSET
    category: str
    event_time: str | UnsetType = UNSET
    title: ShortText
    description: LongText = ""
    casualties: _Casualties = field(default_factory=_Casualties)
    confidentiality: Literal["public", "mission", "restricted"] | UnsetType = UNSET
    attachments: Annotated[list[_Attachment], Meta(max_length=100)] = field(default_factory=list)
    contingent: Code64
    author: Code64
    language: Annotated[str, Meta(pattern=rf"\A{_LANGUAGE}\Z")] = "en"


class _Incident(_ReportBase, kw_only=True):
    kind: Literal["incident"] = "incident"
    location: _Location
    severity: Severity
    perpetrator: Name200 | None = None


class _Patrol(_ReportBase, kw_only=True):
    kind: Literal["patrol"] = "patrol"
    location: _Location | None = None
    severity: Severity = 1
    patrol_type: Literal["foot", "vehicle", "air", "river"]
    start_time: str
    end_time: str
    route: Annotated[list[_RoutePoint], Meta(max_length=10_000)] = field(default_factory=list)
    observations: LongText = ""
    nil_report: bool = False


class _HumanRightsConcern(_ReportBase, kw_only=True):
    kind: Literal["hr_concern"] = "hr_concern"
    location: _Location
    severity: Severity
    victims: Annotated[list[_Person], Meta(min_length=1, max_length=1000)]
    witnesses: PersonList = field(default_factory=list)
    alleged_perpetrators: PersonList = field(default_factory=list)


_STRUCTS: dict[str, type[_Incident] | type[_Patrol] | type[_HumanRightsConcern]] = {
    "incident": _Incident,
    "patrol": _Patrol,
    "hr_concern": _HumanRightsConcern,
}


def _prepare_decoders() -> None:
    # msgspec builds a Struct's decoder on first use (a few ms for these types, nested ones
    # included): do it at import, not inside the first push a server process answers.
    for struct in _STRUCTS.values():
        try:
            msgspec.convert({}, struct)
        except msgspec.ValidationError:
            pass


_prepare_decoders()


class _Unsure(Exception):
    """The fast path cannot vouch for this body; the pydantic path decides."""


def _plain(text: str | None) -> bool:
    """Whether pydantic keeps ``text`` as is: no whitespace at either end, no NUL or lone surrogate.

    ``str.strip`` trims every character Python calls whitespace, a superset of what pydantic's
    ``str_strip_whitespace`` trims, so an unchanged strip means pydantic's is a no-op too. ASCII text
    (nearly all of it) cannot hold a surrogate, so only non-ASCII text pays for the regex.
    """
    if text is None:
        return True
    if text.strip() != text:
        return False
    return "\x00" not in text if text.isascii() else _UNSTORABLE.search(text) is None


def _people_plain(people: list[_Person]) -> bool:
    return all(_plain(p.name) and _plain(p.description) for p in people)


# The text to_iso writes: seconds, microseconds only when non-zero, "Z". ASCII digits only ([0-9],
# not \d, which would let other scripts' digits through).
_CANONICAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.(?!000000)[0-9]{6})?Z")


def _utc_time(text: str) -> tuple[str, datetime]:
    """``to_iso(parse_iso(text))`` and the time, as schema's UtcDatetime reads and writes it.

    A time already written the way to_iso writes it (as every tablet sends it) is kept after one
    C-level parse, when writing that parse back gives the same text; any other spelling (offsets,
    spaces, no seconds...) goes the long way through the very functions the model uses.
    """
    if _CANONICAL_TIME.fullmatch(text):
        when = datetime.fromisoformat(text)
        if when.tzinfo is UTC and when.isoformat() == text[:-1] + "+00:00":
            return text, when
    when = parse_iso(text)
    return to_iso(when), when


def _fill_location(loc: _Location) -> None:
    """schema.Location's ``_check_mgrs`` and ``_fill``, on the same functions; a refusal is _Unsure."""
    pairs = 0
    if loc.mgrs is not None:
        # Normalising is idempotent, so the model's second call (in _fill) gives these pairs again.
        loc.mgrs, pairs = normalise_mgrs(loc.mgrs)
    if loc.lat is None or loc.lon is None:
        if loc.mgrs is None or loc.lat is not None or loc.lon is not None:
            raise _Unsure
        loc.lat, loc.lon, size = from_mgrs(loc.mgrs)
        if loc.precision_m is None:
            loc.precision_m = size
        if loc.source is None:
            loc.source = "mgrs"
        return
    if loc.mgrs is not None:
        if to_mgrs(loc.lat, loc.lon, pairs) != loc.mgrs:
            centre = from_mgrs(loc.mgrs)
            if abs(centre[0] - loc.lat) >= 1e-9 or abs(centre[1] - loc.lon) >= 1e-9:
                raise _Unsure
    else:
        loc.mgrs = to_mgrs(loc.lat, loc.lon, digits_for_precision(loc.precision_m))
    if loc.source is None:
        loc.source = "latlon"


def _check(report: _Incident | _Patrol | _HumanRightsConcern) -> None:
    """The text, category, confidentiality, time and location rules of the models; raises _Unsure."""
    if isinstance(report.id, UnsetType) or isinstance(report.event_time, UnsetType):
        raise _Unsure
    # category needs no _plain: it must equal a taxonomy code exactly (below).
    if not (_plain(report.title) and _plain(report.description) and _plain(report.contingent)
            and _plain(report.author)):
        raise _Unsure
    if isinstance(report, _Incident):
        ok = _plain(report.perpetrator)
    elif isinstance(report, _Patrol):
        ok = _plain(report.observations)
    else:
        ok = (_people_plain(report.victims) and _people_plain(report.witnesses)
              and _people_plain(report.alleged_perpetrators))
    if not ok or (report.location is not None and not _plain(report.location.place)):
        raise _Unsure
    taxonomy = load_taxonomy()
    if report.category not in taxonomy:
        raise _Unsure
    category = taxonomy.get(report.category)
    if report.kind not in category.kinds:
        raise _Unsure
    if isinstance(report.confidentiality, UnsetType):
        # schema._default_confidentiality: filled from the category when the body does not say
        report.confidentiality = category.initial_confidentiality  # type: ignore[assignment]
    elif category.default_confidentiality == "restricted" and report.confidentiality != "restricted":
        raise _Unsure
    report.event_time = _utc_time(report.event_time)[0]
    if isinstance(report, _Patrol):
        (report.start_time, start), (report.end_time, end) = _utc_time(report.start_time), _utc_time(report.end_time)
        if end < start:
            raise _Unsure
    if report.location is not None:
        _fill_location(report.location)


def fast_canonical(data: Any) -> dict[str, Any] | None:
    """``report_to_json(parse_report(data))`` for a body the fast path can vouch for, else None.

    None means only "not decided here": the body may well be valid (e.g. it needs a coercion or a
    default the fast path leaves to pydantic).
    """
    if not isinstance(data, dict):
        return None
    kind = data.get("kind")
    struct = _STRUCTS.get(kind) if isinstance(kind, str) else None  # a list as kind is unhashable
    if struct is None:
        return None
    try:
        report = msgspec.convert(data, struct, strict=True)
        _check(report)
    except Exception:  # noqa: BLE001
        # Deliberately broad: msgspec's ValidationError, a coords/timefmt refusal, _Unsure, or
        # anything unforeseen all mean the same thing here, "let the pydantic models decide"; the
        # models are the authority, so a surprise costs time, never a different answer.
        return None
    out: dict[str, Any] = msgspec.to_builtins(report)
    return out


def canonical_body(data: dict[str, Any] | str | bytes) -> dict[str, Any]:
    """The JSON-ready canonical body, exactly ``report_to_json(parse_report(data))``.

    Raises :class:`~peacewatch.common.schema.ReportValidationError` (from ``parse_report``, so with
    today's fields, codes and messages) when the body is invalid.
    """
    body: Any = data
    if isinstance(data, str | bytes | bytearray):
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            body = None  # parse_report names the error
    fast = fast_canonical(body)
    if fast is not None:
        return fast
    return report_to_json(parse_report(data))
