"""Export filters: `ExportFilters`, shared by every export format, the export API and the CLI.

It *is* the reports' filter model (``peacewatch.server.reports.filters.ReportFilters``: time
range, bbox or GeoJSON area, category, kind, contingent, review status, severity range, text), so
the database side of an export is the same query as the reports list and hotspots, validated by
the same rules. What exports add:

* `ExportFilters.describe()`: the filters that are set, as short text for document headers and
  the audit log;
* `record_point(record)`: where a report is, as the database stores it.

(The same filter decision for records in memory, which only tests use, is
``tests/server/exports/matching.py``.)

Bad input raises `pydantic.ValidationError` whose ``loc`` names the field (``bbox``, ``area``,
``severity_min``...): the API answers it as a 422 naming the field, the CLI prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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
