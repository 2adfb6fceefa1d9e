"""What the duplicates engine accepts, checked once: the one validator of its input.

An engine input is a flat mapping (``id``, ``kind``, ``category``, ``event_time``, ``lat``, ``lon``,
``contingent``, ``device_id``, ``casualties``, ``title``, ``description``); ``report_from_body``
adapts a report body (the contract in CONTRIBUTING.md) to it. ``check_reports`` checks a whole batch
column by column, because a column of 200,000 values checks in C-speed loops when all is well, and
names the first offending report and field (``InvalidReport.field``) when it is not. ``add`` checks a
batch of one through the same function, so single and bulk input can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import numpy as np

__all__ = ["CASUALTY_FIELDS", "Batch", "InvalidReport", "check_reports", "report_from_body"]

CASUALTY_FIELDS: tuple[str, ...] = ("killed", "injured", "abducted", "displaced")
_CASUALTY_KEYS = frozenset(CASUALTY_FIELDS)
_UNKNOWN_CASUALTIES = (math.nan,) * len(CASUALTY_FIELDS)


class InvalidReport(ValueError):
    """A report the engine cannot use; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(slots=True)
class Batch:
    """Checked reports as columns: what the index appends."""

    ids: list[str]
    kinds: list[str]
    categories: list[str]
    t: list[float]  # event time, POSIX seconds
    lat: list[float]
    lon: list[float]
    contingents: list[str]
    devices: list[str | None]
    casualties: list[tuple[float, ...]]  # NaN where unknown
    texts: list[str]  # title and description; tokenised only if the report is ever in a scored pair

    def select(self, keep: Sequence[int]) -> Batch:
        return Batch(*([column[i] for i in keep] for column in (
            self.ids, self.kinds, self.categories, self.t, self.lat, self.lon, self.contingents, self.devices,
            self.casualties, self.texts)))


def report_from_body(body: Mapping[str, Any], *, device_id: str | None = None) -> dict[str, Any]:
    """Adapt a report body (the contract in CONTRIBUTING.md) to the engine's flat input."""
    loc = body.get("location")
    if not isinstance(loc, Mapping):
        raise InvalidReport("location", "an object with lat and lon is required")
    return {
        "id": body.get("id"),
        "kind": body.get("kind"),
        "category": body.get("category"),
        "event_time": body.get("event_time"),
        "lat": loc.get("lat"),
        "lon": loc.get("lon"),
        "contingent": body.get("contingent"),
        "device_id": device_id,
        "casualties": body.get("casualties"),
        "title": body.get("title") or "",
        "description": body.get("description") or "",
    }


_Fail = Callable[[int, str, str], NoReturn]


def _first_bad(column: Sequence[Any], is_bad: Callable[[Any], bool]) -> int | None:
    return next((i for i, v in enumerate(column) if is_bad(v)), None)


def _strings(column: list[Any], key: str, fail: _Fail) -> list[str]:
    if set(map(type, column)) <= {str} and all(map(str.strip, column)):
        return column  # the common case, checked without a Python-level loop
    bad = _first_bad(column, lambda v: not isinstance(v, str) or not v.strip())
    if bad is not None:
        fail(bad, key, "a non-empty string is required")
    return column


def _devices(column: list[Any], fail: _Fail) -> list[str | None]:
    if set(map(type, column)) <= {str, type(None)} and "" not in column:
        return column
    bad = _first_bad(column, lambda v: v is not None and (not isinstance(v, str) or not v))
    if bad is not None:
        fail(bad, "device_id", "a non-empty string or null is required")
    return column


def _coordinates(column: list[Any], key: str, limit: float, fail: _Fail) -> list[float]:
    # Checked by type, not isinstance, so that True/False are refused rather than read as 1/0.
    if set(map(type, column)) <= {float, int}:
        values = np.asarray(column, dtype=float)
        if (np.abs(values) <= limit).all():  # also refuses NaN and infinities
            return values.tolist()
    for i, v in enumerate(column):
        if type(v) is not float and type(v) is not int:
            fail(i, key, "a number is required")
        if not -limit <= v <= limit:
            fail(i, key, f"must be a number within [-{limit:g}, {limit:g}]")
    return [float(v) for v in column]


def _event_time(value: Any) -> float:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidReport("event_time", "an ISO 8601 date-time is required") from None
    if not isinstance(value, datetime):
        raise InvalidReport("event_time", "an ISO 8601 date-time is required")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidReport("event_time", "a time zone (e.g. Z) is required")
    return value.timestamp()


def _casualties(value: Any) -> tuple[float, ...]:
    if value is None:
        return _UNKNOWN_CASUALTIES
    # type() first: isinstance against an abstract class costs more than the rest of this check.
    if type(value) is not dict and not isinstance(value, Mapping):
        raise InvalidReport("casualties", "an object of counts is required")
    if not value.keys() <= _CASUALTY_KEYS:
        raise InvalidReport(f"casualties.{sorted(set(value) - _CASUALTY_KEYS)[0]}", "is not a casualty count")
    out = []
    for name in CASUALTY_FIELDS:
        count = value.get(name)
        if count is None:
            out.append(math.nan)
        elif type(count) is not int or count < 0:
            raise InvalidReport(f"casualties.{name}", "a non-negative whole number is required")
        else:
            out.append(float(count))
    return tuple(out)


def _event_times(column: list[Any], fail: _Fail) -> list[float]:
    if set(map(type, column)) == {str}:
        # The common case in C-speed maps; anything off is found and named by the loop below.
        try:
            when = list(map(datetime.fromisoformat, column))
            if all(w.utcoffset() is not None for w in when):
                return [w.timestamp() for w in when]
        except ValueError:
            pass
    return _each(column, _event_time, fail)


def _each(column: list[Any], convert: Callable[[Any], Any], fail: _Fail) -> list[Any]:
    out = []
    for i, value in enumerate(column):
        try:
            out.append(convert(value))
        except InvalidReport as exc:
            fail(i, exc.field, exc.message)
    return out


def _texts(column: list[Any], key: str, fail: _Fail) -> list[Any]:
    if set(map(type, column)) <= {str, type(None)}:
        return column
    bad = _first_bad(column, lambda v: v is not None and not isinstance(v, str))
    if bad is not None:
        fail(bad, key, "must be text")
    return column


def check_reports(reports: Sequence[Any], *, numbered: bool = True) -> Batch:
    """Check engine inputs and turn them into columns; ``InvalidReport`` names the first bad field.

    ``numbered`` prefixes the message with the report's position in the batch ("report #3: ...").
    """

    def fail(i: int, field: str, message: str) -> NoReturn:
        raise InvalidReport(field, f"report #{i}: {message}" if numbered else message)

    for i, r in enumerate(reports):
        if type(r) is not dict and not isinstance(r, Mapping):
            fail(i, "report", "an object is required")

    def column(key: str) -> list[Any]:
        return [r.get(key) for r in reports]

    devices = _devices(column("device_id"), fail)
    ids = _strings(column("id"), "id", fail)
    kinds = _strings(column("kind"), "kind", fail)
    categories = _strings(column("category"), "category", fail)
    when = _event_times(column("event_time"), fail)
    lat = _coordinates(column("lat"), "lat", 90.0, fail)
    lon = _coordinates(column("lon"), "lon", 180.0, fail)
    contingents = _strings(column("contingent"), "contingent", fail)
    casualties = _each(column("casualties"), _casualties, fail)
    titles = _texts(column("title"), "title", fail)
    descriptions = _texts(column("description"), "description", fail)
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        for i, rid in enumerate(ids):
            if rid in seen:
                fail(i, "id", f"id {rid} appears twice in one batch")
            seen.add(rid)
    return Batch(ids, kinds, categories, when, lat, lon, contingents, devices, casualties,
                 [f"{t or ''}\n{d or ''}" for t, d in zip(titles, descriptions, strict=True)])
