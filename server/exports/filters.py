"""Export filters: `ExportFilters`, shared by every export format, the export API and the CLI.

It *is* the reports' filter model (``peacewatch.server.reports.filters.ReportFilters``: time
range, bbox or GeoJSON area, category, kind, contingent, review status, severity range, text), so
the database side of an export is the same query as the reports list and hotspots, validated by
the same rules. What exports add:

* `ExportFilters.matches(record)` / `.matcher()`: the same decision for report records in memory
  (writers' callers, the benchmark and tests need no database);
* `ExportFilters.describe()`: the filters that are set, as short text for document headers and
  the audit log.

Bad input raises `pydantic.ValidationError` whose ``loc`` names the field (``bbox``, ``area``,
``severity_min``...): the API answers it as a 422 naming the field, the CLI prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shapely import prepared
from shapely.geometry import Point

from peacewatch.server.reports.filters import REVIEW_STATUSES, ReportFilters

__all__ = ["REVIEW_STATUSES", "ExportFilters", "parse_time", "record_point"]


def parse_time(value: str | datetime) -> datetime:
    """An ISO 8601 string or datetime as an aware UTC datetime (a naive value is taken as UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    if moment.tzinfo is UTC:
        return moment
    return moment.astimezone(UTC)


def record_point(record: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """(lat, lon) of a report: its location, else its route's first point (a patrol)."""
    location = record.get("location") or {}
    lat, lon = location.get("lat"), location.get("lon")
    if lat is None or lon is None:
        route = record.get("route") or []
        if route:
            return route[0]["lat"], route[0]["lon"]
        return None, None
    return lat, lon


class ExportFilters(ReportFilters):
    """What to export. Every field is optional; no filter exports everything the caller may see."""

    def matcher(self) -> _Matcher:
        """A predicate for many records (sets for membership, the area geometry prepared once)."""
        return _Matcher(self)

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Does this report record pass every filter that is set (as the database query would)?"""
        return self.matcher()(record)

    def describe(self) -> dict[str, str]:
        """The filters that are set, as short text (for report headers and the audit log)."""
        out: dict[str, str] = {}
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None:
                out[name] = parse_time(value).isoformat().replace("+00:00", "Z")
        if self.area:
            out["area"] = str(self.geometry().geom_type)  # type: ignore[union-attr]
        elif self.bbox:
            out["bbox"] = self.bbox
        for name in ("category", "kind", "contingent", "review_status"):
            values = getattr(self, name)
            if values:
                out[name] = ", ".join(str(v) for v in values)
        for name in ("severity_min", "severity_max", "q"):
            value = getattr(self, name)
            if value:
                out[name] = str(value)
        return out


class _Matcher:
    """`ExportFilters` compiled for many records."""

    def __init__(self, filters: ExportFilters) -> None:
        self.f = filters
        self.start = parse_time(filters.start) if filters.start else None
        self.end = parse_time(filters.end) if filters.end else None
        self.category = frozenset(filters.category)
        self.kind = frozenset(filters.kind)
        self.contingent = frozenset(filters.contingent)
        self.review_status = frozenset(filters.review_status)
        geom = filters.geometry()
        self.area = None if geom is None else prepared.prep(geom)
        self.q = filters.q.lower() if filters.q else None

    def __call__(self, record: Mapping[str, Any]) -> bool:
        f = self.f
        if self.kind and record.get("kind") not in self.kind:
            return False
        if self.category and record.get("category") not in self.category:
            return False
        if self.contingent and record.get("contingent") not in self.contingent:
            return False
        if self.review_status and record.get("review_status", "unreviewed") not in self.review_status:
            return False
        severity = record.get("severity")
        if f.severity_min and (severity is None or severity < f.severity_min):
            return False
        if f.severity_max and (severity is None or severity > f.severity_max):
            return False
        if self.start is not None or self.end is not None:
            raw = record.get("event_time")
            if not raw:
                return False
            when = parse_time(raw)
            if self.start is not None and when < self.start:
                return False
            if self.end is not None and when >= self.end:
                return False
        if self.area is not None:
            # The report's point, as the database stores it: the same rule as the SQL query.
            lat, lon = record_point(record)
            if lat is None or lon is None or not self.area.covers(Point(lon, lat)):
                return False
        if self.q is not None:
            haystack = f"{record.get('title') or ''}\n{record.get('description') or ''}".lower()
            if self.q not in haystack:
                return False
        return True
