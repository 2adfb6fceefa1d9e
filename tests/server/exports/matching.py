"""The export filters' decision for report records in memory, as the database query makes it.

Only tests use it (the exports themselves filter in SQL): it is the reference the filter tests
and the PDF tests check records against, without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shapely import prepared
from shapely.geometry import Point

from peacewatch.server.exports.filters import ExportFilters, parse_time, record_point


def matches(filters: ExportFilters, record: Mapping[str, Any]) -> bool:
    """Does this report record pass every filter that is set (as the database query would)?"""
    return Matcher(filters)(record)


class Matcher:
    """`ExportFilters` compiled for many records (sets for membership, the area geometry prepared once)."""

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
