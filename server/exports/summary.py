"""Running totals over a stream of report records, shared by the XLSX summary sheet and the PDF.

`Summary.add` is called once per record as the writer streams; it keeps counters (by category,
contingent, severity, kind and ISO week), the period actually covered, and, when asked, the
positions for the PDF map (two float arrays and a small category index: about 17 bytes a report)
and the `keep_latest` most recent records for the PDF's table (a bounded heap). Nothing else of
the records is kept.
"""

from __future__ import annotations

import heapq
from array import array
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

from peacewatch.server.exports.records import event_datetime, point_of

__all__ = ["Summary", "week_start"]


class _Unset:
    """The type of `_UNSET`: `Summary.add` was not given the event time."""


_UNSET = _Unset()


def _count(value: Any) -> int:
    """A casualty count as the schema allows it (a non-negative integer); anything else counts 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def week_start(moment: datetime) -> date:
    """The Monday (ISO 8601 week) on or before `moment`'s UTC date."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


class Summary:
    """Totals of everything added so far."""

    def __init__(self, *, keep_points: bool = False, keep_latest: int = 0) -> None:
        self.total = 0
        # Casualty totals over the period (incidents' ``casualties``; other kinds count none).
        self.killed = 0
        self.injured = 0
        self.by_category: Counter[str] = Counter()
        self.by_contingent: Counter[str] = Counter()
        self.by_severity: Counter[int | None] = Counter()
        self.by_kind: Counter[str] = Counter()
        self.by_week: Counter[date] = Counter()
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.keep_points = keep_points
        self.lons = array("d")
        self.lats = array("d")
        self.point_category = array("H")
        self.route_lines: list[array] = []
        self._category_index: dict[str, int] = {}
        self.keep_latest = keep_latest
        self._latest: list[tuple[datetime, int, Mapping[str, Any]]] = []
        self._tiebreak = count()

    @property
    def categories(self) -> list[str]:
        """Category codes in the order `point_category` indexes them."""
        return list(self._category_index)

    def add(self, record: Mapping[str, Any], *, when: datetime | None | _Unset = _UNSET) -> None:
        """Count one record; `when` is its event time when the caller has parsed it already."""
        self.total += 1
        category = record.get("category") or ""
        self.by_category[category] += 1
        self.by_contingent[record.get("contingent") or ""] += 1
        self.by_severity[record.get("severity")] += 1
        self.by_kind[record.get("kind") or ""] += 1
        casualties = record.get("casualties") or {}
        self.killed += _count(casualties.get("killed"))
        self.injured += _count(casualties.get("injured"))
        if isinstance(when, _Unset):
            when = event_datetime(record)
        if when is not None:
            self.by_week[week_start(when)] += 1
            if self.first is None or when < self.first:
                self.first = when
            if self.last is None or when > self.last:
                self.last = when
        if self.keep_points:
            self._add_position(record, category)
        if self.keep_latest and when is not None:
            item = (when, next(self._tiebreak), record)
            if len(self._latest) < self.keep_latest:
                heapq.heappush(self._latest, item)
            elif item[0] > self._latest[0][0]:
                heapq.heapreplace(self._latest, item)

    def _add_position(self, record: Mapping[str, Any], category: str) -> None:
        index = self._category_index.setdefault(category, len(self._category_index))
        route = record.get("route") or []
        if record.get("kind") == "patrol" and len(route) >= 2:
            # Routes are drawn as lines; they are few (patrols) and short, so kept whole.
            line = array("d")
            for p in route:
                line.extend((p["lon"], p["lat"]))
            self.route_lines.append(line)
            return
        lat, lon = point_of(record)
        if lat is None or lon is None:
            return
        self.lons.append(lon)
        self.lats.append(lat)
        self.point_category.append(min(index, 65535))

    def latest(self) -> list[Mapping[str, Any]]:
        """The kept records, most recent first."""
        return [record for _, _, record in sorted(self._latest, key=lambda item: (item[0], item[1]), reverse=True)]

    def weeks(self) -> list[tuple[date, int]]:
        """Every week from the first to the last report, zeros included (a trend needs the gaps)."""
        if not self.by_week:
            return []
        first, last = min(self.by_week), max(self.by_week)
        out: list[tuple[date, int]] = []
        day = first
        while day <= last:
            out.append((day, self.by_week.get(day, 0)))
            day += timedelta(days=7)
        return out
