"""Report records flattened into typed table rows: the columns every tabular export shares.

A *report record* is a report body (CONTRIBUTING.md) plus the server keys ``review_status``,
``version_id``, ``received_at`` and ``in_conflict``, already passed through the access policy's
redaction (so person names may be ``None``). `row_values` turns one into a list of typed values
(datetime, int, float, bool, str, None) in `COLUMNS` order, `flatten` into the same values by
column key; each writer formats those for its own medium. `COLUMNS` gives each column its HXL 1.1
hashtag and type, and says which report kinds it belongs to.

Category labels come from the shared taxonomy, MGRS and DTG from ``peacewatch.common``; they are
reached through `Labels` only, so a format never imports them itself. A stored body always carries
``location.mgrs`` (``peacewatch.common.schema`` serialises it, at the report's precision or as the
reporter typed it), so `row_values` takes it from there and converts lat/lon only for a record without
one (a patrol located by its route alone, or a hand-made record).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from peacewatch.common.coords import digits_for_precision, to_mgrs
from peacewatch.common.taxonomy import load_taxonomy
from peacewatch.common.timefmt import MONTHS
from peacewatch.server.exports.filters import parse_time
from peacewatch.server.exports.filters import record_point as point_of
from peacewatch.server.exports.i18n import check_lang, text

ColumnType = Literal["text", "int", "float", "datetime", "bool"]
ALL_KINDS = frozenset({"incident", "patrol", "hr_concern"})
KIND_ORDER = ("incident", "patrol", "hr_concern")

__all__ = [
    "ALL_KINDS",
    "COLUMNS",
    "Column",
    "KEYS",
    "KIND_ORDER",
    "Labels",
    "columns_for",
    "event_datetime",
    "flatten",
    "persons_count",
    "row_values",
]


@dataclass(frozen=True)
class Column:
    """One exported column: its key in `flatten`'s row, HXL hashtag, value type and report kinds."""

    key: str
    hxl: str
    type: ColumnType
    kinds: frozenset[str] = ALL_KINDS

    def header(self, lang: str) -> str:
        return text(f"col.{self.key}", lang)


_INC = frozenset({"incident"})
_PAT = frozenset({"patrol"})
_HR = frozenset({"hr_concern"})
_CASUALTY_KINDS = frozenset({"incident", "hr_concern"})

# HXL 1.1: hashtags and attributes from the core dictionary where one fits (#event, #date+occurred,
# #date+reported, #date+start/+end, #geo+lat/+lon/+coord, #loc+name, #description, #severity,
# #affected+killed/+injured, #org, #status, #meta, #activity, #group, #contact); attributes the
# dictionary lacks (+abducted, +contingent, +confidentiality, +mgrs...) follow the tagging
# conventions' syntax, which allows any lower-case attribute.
COLUMNS: tuple[Column, ...] = (
    Column("id", "#event+id", "text"),
    Column("kind", "#event+kind", "text"),
    Column("category", "#event+type", "text"),
    Column("category_code", "#event+type+code", "text"),
    Column("event_time", "#date+occurred", "datetime"),
    Column("dtg", "#date+occurred+dtg", "text"),
    Column("received_at", "#date+reported", "datetime"),
    Column("lat", "#geo+lat", "float"),
    Column("lon", "#geo+lon", "float"),
    Column("mgrs", "#geo+coord+mgrs", "text"),
    Column("precision_m", "#geo+precision", "float"),
    Column("place", "#loc+name", "text"),
    Column("title", "#description+title", "text"),
    Column("description", "#description+details", "text"),
    Column("severity", "#severity", "int"),
    Column("killed", "#affected+killed", "int", _CASUALTY_KINDS),
    Column("injured", "#affected+injured", "int", _CASUALTY_KINDS),
    Column("abducted", "#affected+abducted", "int", _CASUALTY_KINDS),
    Column("displaced", "#affected+displaced", "int", _CASUALTY_KINDS),
    Column("perpetrator", "#group+perpetrator", "text", _INC),
    Column("patrol_type", "#activity+type", "text", _PAT),
    Column("start_time", "#date+start", "datetime", _PAT),
    Column("end_time", "#date+end", "datetime", _PAT),
    Column("route_points", "#geo+route+num", "int", _PAT),
    Column("nil_report", "#meta+nil_report", "bool", _PAT),
    Column("observations", "#description+observations", "text", _PAT),
    Column("victims", "#affected+victims", "int", _HR),
    Column("witnesses", "#meta+witnesses+num", "int", _HR),
    Column("alleged_perpetrators", "#group+perpetrator+num", "int", _HR),
    Column("contingent", "#org+contingent", "text"),
    Column("reporter", "#meta+reporter+id", "text"),
    Column("language", "#meta+lang", "text"),
    Column("review_status", "#status+review", "text"),
    Column("confidentiality", "#meta+confidentiality", "text"),
    Column("in_conflict", "#meta+conflict", "bool"),
    Column("attachments", "#meta+attachments+num", "int"),
    Column("version_id", "#meta+version", "text"),
)


def columns_for(kind: str | None = None) -> tuple[Column, ...]:
    """The columns of one kind's table, or every column (the flat CSV) when `kind` is None."""
    if kind is None:
        return COLUMNS
    return tuple(c for c in COLUMNS if kind in c.kinds)


def _taxonomy_label() -> Callable[[str, str], str]:
    taxonomy = load_taxonomy()
    return taxonomy.label


def _to_mgrs(lat: float, lon: float, precision_m: float | None) -> str:
    # An MGRS reference names a square: give the one as precise as the report, no more.
    return to_mgrs(lat, lon, digits_for_precision(precision_m))


def _to_dtg(moment: datetime) -> str:
    """The Zulu DTG of `moment`, exactly as ``peacewatch.common.timefmt.to_dtg(moment)`` writes it
    (a test checks they agree), formatted from integers: strftime made DTGs 40 % of the CSV
    export's time, and the CSV budget is 100,000 reports in 5 s."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return f"{utc.day:02d}{utc.hour:02d}{utc.minute:02d}Z{MONTHS[utc.month - 1]}{utc.year % 100:02d}"


class Labels:
    """Human-readable names for one export language; caches category labels (few codes, many rows)."""

    def __init__(
        self,
        lang: str = "en",
        *,
        category_label: Callable[[str, str], str] | None = None,
        mgrs: Callable[[float, float, float | None], str] | None = None,
        dtg: Callable[[datetime], str] | None = None,
    ) -> None:
        self.lang = check_lang(lang)
        self._category_label = category_label or _taxonomy_label()
        self._mgrs = mgrs or _to_mgrs
        self._dtg = dtg or _to_dtg
        self._categories: dict[str, str] = {}
        self._fixed: dict[tuple[str, str], str] = {}

    def category(self, code: str | None) -> str:
        if not code:
            return ""
        label = self._categories.get(code)
        if label is None:
            try:
                label = self._category_label(code, self.lang)
            except (KeyError, LookupError, ValueError):
                # A code from a newer taxonomy than the server's must not stop an export:
                # the code itself is the most truthful label we have.
                label = code
            self._categories[code] = label
        return label

    def fixed(self, prefix: str, value: str | None) -> str:
        """Kinds, statuses and confidentiality levels from the exports' catalogue."""
        if not value:
            return ""
        label = self._fixed.get((prefix, value))
        if label is None:
            try:
                label = text(f"{prefix}.{value}", self.lang)
            except KeyError:
                label = value
            self._fixed[(prefix, value)] = label
        return label

    def word(self, key: str, **values: object) -> str:
        return text(key, self.lang, **values)

    def mgrs(self, lat: float | None, lon: float | None, precision_m: float | None = None) -> str:
        if lat is None or lon is None:
            return ""
        try:
            return self._mgrs(lat, lon, precision_m)
        except (ValueError, TypeError):
            return ""  # MGRS is undefined at the poles; lat/lon columns still carry the place

    def dtg(self, moment: datetime | None) -> str:
        return "" if moment is None else self._dtg(moment)


def event_datetime(record: Mapping[str, Any]) -> datetime | None:
    raw = record.get("event_time")
    return parse_time(raw) if raw else None


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    # The common case (a stored body's "...Z" string) inline: up to four times a row, 100,000 rows.
    if value.__class__ is str:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is UTC:
            return moment
        return parse_time(moment)
    return parse_time(value)


def persons_count(people: Any) -> int | None:
    """How many people a list of Person entries stands for (each has a ``count``, default 1)."""
    if not people:
        return 0 if people is not None else None
    return sum(int(p.get("count") or 1) for p in people)


KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
_EMPTY: Mapping[str, Any] = {}


def row_values(record: Mapping[str, Any], labels: Labels) -> list[Any]:
    """Every column's typed value for one record, in `COLUMNS` order (missing fields are None,
    never an error). Writers index this list rather than a dict: it is built once per report, and
    a per-column cost counts 100,000 times in an export's budget."""
    get = record.get
    location = get("location") or _EMPTY
    casualties = get("casualties") or _EMPTY
    route = get("route")
    lat, lon = location.get("lat"), location.get("lon")
    if lat is None or lon is None:
        lat, lon = point_of(record)
    when = _time(get("event_time"))
    category = get("category")
    return [
        get("id"),
        labels.fixed("kind", get("kind")),
        labels.category(category),
        category,
        when,
        labels.dtg(when),
        _time(get("received_at")),
        lat,
        lon,
        # The body's own reference when it has one: converting costs a third of a CSV row.
        location.get("mgrs") or labels.mgrs(lat, lon, location.get("precision_m")),
        location.get("precision_m"),
        location.get("place"),
        get("title"),
        get("description"),
        get("severity"),
        casualties.get("killed"),
        casualties.get("injured"),
        casualties.get("abducted"),
        casualties.get("displaced"),
        get("perpetrator"),
        get("patrol_type"),
        _time(get("start_time")),
        _time(get("end_time")),
        len(route) if route is not None else None,
        get("nil_report"),
        get("observations"),
        persons_count(get("victims")),
        persons_count(get("witnesses")),
        persons_count(get("alleged_perpetrators")),
        get("contingent"),
        get("reporter"),
        get("language"),
        labels.fixed("status", get("review_status")),
        labels.fixed("conf", get("confidentiality")),
        get("in_conflict"),
        len(get("attachments") or ()),
        get("version_id"),
    ]


def flatten(record: Mapping[str, Any], labels: Labels) -> dict[str, Any]:
    """Every column's typed value for one record by column key (see `row_values`)."""
    return dict(zip(KEYS, row_values(record, labels), strict=True))


def utc_naive(moment: datetime) -> datetime:
    """A UTC wall-clock datetime without tzinfo (spreadsheets have no time zones)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, seconds precision unless the source had more."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat()[:-6] + "Z"  # drop "+00:00"
