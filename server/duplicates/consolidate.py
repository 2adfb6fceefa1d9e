"""Consolidating source reports into one incident (pure: no database, no web).

Owns the answer to "what do we say happened, and where do the sources disagree?". Given the source
reports of one event (report bodies as in CONTRIBUTING.md) it lists, fact by fact, every source's
value; marks the fact **agreed** when every source that gives it gives the same value (coordinates
within ``LOCATION_AGREE_M``, event times within ``TIME_AGREE``), otherwise **disagreeing**; and
proposes a default consolidated value by a fixed rule, which HQ may override by picking one source's
value or by typing its own.

| fact | default when sources disagree | why |
| --- | --- | --- |
| kind, category, perpetrator, place | most frequent value, ties to the first source | majority view, stable |
| event_time | earliest | later times are usually when it was seen or written up |
| location (lat, lon) | median of latitudes and of longitudes | one bad GPS fix cannot drag it away |
| casualties.* | highest count | each source may have seen part of it; HQ confirms the figure |
| severity | highest | the incident is as serious as its gravest account |
| confidentiality | most restrictive | consolidating must never widen who may read |
| title, description | the first source's | prose is not merged; every source's stays readable |

Sources are taken in the order given (the service passes them oldest first). Confidentiality cannot
be overridden below the most restrictive source, for the same reason as above.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from .engine import CASUALTY_FIELDS, EARTH_RADIUS_M

__all__ = [
    "FACTS",
    "LOCATION_AGREE_M",
    "TIME_AGREE",
    "InvalidOverride",
    "Source",
    "consolidate",
]

LOCATION_AGREE_M = 100.0  # GPS fixes of one spot by two tablets differ by tens of metres
TIME_AGREE = timedelta(minutes=15)  # people round the time they give to the quarter hour

CONFIDENTIALITY_ORDER = ("public", "mission", "restricted")

# fact -> default rule; the order is the order facts are listed in the output.
FACTS: dict[str, str] = {
    "kind": "most_frequent",
    "category": "most_frequent",
    "event_time": "earliest",
    "location": "median",
    "place": "most_frequent",
    **{f"casualties.{name}": "highest" for name in CASUALTY_FIELDS},
    "severity": "highest",
    "confidentiality": "most_restrictive",
    "perpetrator": "most_frequent",
    "title": "first_source",
    "description": "first_source",
}


class InvalidOverride(ValueError):
    """An override HQ gave that cannot be used; ``field`` names it (``overrides.<fact>``)."""

    def __init__(self, fact: str, message: str) -> None:
        self.field = f"overrides.{fact}"
        self.message = message
        super().__init__(f"{self.field}: {message}")


@dataclass(frozen=True, slots=True)
class Source:
    """One source report: its id and its current body."""

    report_id: str
    body: Mapping[str, Any]


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else None
    return None


def _fact_value(body: Mapping[str, Any], fact: str) -> Any:
    """The source's value for a fact, or None when it does not give one."""
    if fact == "location":
        loc = body.get("location")
        if not isinstance(loc, Mapping):
            return None
        lat, lon = loc.get("lat"), loc.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            return {"lat": float(lat), "lon": float(lon)}
        return None
    if fact == "place":
        loc = body.get("location")
        return (loc.get("place") or None) if isinstance(loc, Mapping) else None
    if fact.startswith("casualties."):
        cas = body.get("casualties")
        return cas.get(fact.split(".", 1)[1]) if isinstance(cas, Mapping) else None
    if fact == "event_time":
        t = _parse_time(body.get("event_time"))
        return _iso(t) if t else None
    value = body.get(fact)
    return None if value == "" else value


def _distance_m(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dl = math.radians(b["lon"] - a["lon"])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _agreed(fact: str, values: list[Any]) -> bool:
    if len(values) <= 1:
        return True
    if fact == "location":
        return max(_distance_m(a, b) for a in values for b in values) <= LOCATION_AGREE_M
    if fact == "event_time":
        times = [_parse_time(v) for v in values]
        return max(times) - min(times) <= TIME_AGREE  # type: ignore[operator]
    return all(v == values[0] for v in values[1:])


def _default(fact: str, values: list[Any]) -> Any:
    rule = FACTS[fact]
    if not values:
        return None
    if rule == "most_frequent":
        counts = Counter(_hashable(v) for v in values)
        best = max(counts.values())
        return next(v for v in values if counts[_hashable(v)] == best)  # ties: first source
    if rule == "earliest":
        return min(values, key=lambda v: _parse_time(v))  # type: ignore[arg-type, return-value]
    if rule == "median":
        # Longitudes are unwrapped around the first source so a cluster across 180 degrees stays whole.
        lons = [v["lon"] for v in values]
        if max(lons) - min(lons) > 180.0:
            lon0 = lons[0]
            lons = [lon0 + ((x - lon0 + 180.0) % 360.0 - 180.0) for x in lons]
        lon = (median(lons) + 180.0) % 360.0 - 180.0 if not -180.0 <= median(lons) <= 180.0 else median(lons)
        return {"lat": median(v["lat"] for v in values), "lon": lon}
    if rule == "highest":
        return max(values)
    if rule == "most_restrictive":
        return max(values, key=_confidentiality_rank)
    return values[0]  # first_source


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, dict | list) else value


def _confidentiality_rank(level: Any) -> int:
    # An unknown level is treated as the most restrictive: refusing to share is the safe error.
    return CONFIDENTIALITY_ORDER.index(level) if level in CONFIDENTIALITY_ORDER else len(CONFIDENTIALITY_ORDER)


def _check_edit(fact: str, value: Any) -> Any:
    """An HQ-typed value for a fact, checked and normalised."""
    if fact == "location":
        if not isinstance(value, Mapping):
            raise InvalidOverride(fact, "an object with lat and lon is required")
        lat, lon = value.get("lat"), value.get("lon")
        for name, v, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
            if isinstance(v, bool) or not isinstance(v, int | float) or not -limit <= v <= limit:
                raise InvalidOverride(f"{fact}.{name}", f"a number within [-{limit:g}, {limit:g}] is required")
        return {"lat": float(lat), "lon": float(lon)}  # type: ignore[arg-type]
    if fact == "event_time":
        t = _parse_time(value)
        if t is None:
            raise InvalidOverride(fact, "an ISO 8601 date-time with a time zone is required")
        return _iso(t)
    if fact.startswith("casualties.") or fact == "severity":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidOverride(fact, "a non-negative whole number is required")
        return value
    if fact == "confidentiality":
        if value not in CONFIDENTIALITY_ORDER:
            raise InvalidOverride(fact, f"one of {', '.join(CONFIDENTIALITY_ORDER)} is required")
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidOverride(fact, "a non-empty string is required")
    return value


def consolidate(sources: Sequence[Source], overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The consolidated incident of these sources, with HQ's overrides applied.

    ``overrides`` maps a fact to ``{"from": report_id}`` (take that source's value) or
    ``{"value": v}`` (HQ's own value). The result is JSON-ready::

        {"sources": [ids], "values": {fact: value}, "agreed": [facts], "disagreeing": [facts],
         "facts": {fact: {"agreed": bool, "by_source": {id: value}, "missing": [ids],
                          "rule": str, "default": value, "value": value,
                          "override": None | {"from": id} | {"value": v}}}}
    """
    if not sources:
        raise ValueError("at least one source report is required")
    ids = [s.report_id for s in sources]
    if len(set(ids)) != len(ids):
        raise ValueError("a source report is listed twice")
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(FACTS))
    if unknown:
        raise InvalidOverride(unknown[0], "is not a consolidated fact")

    facts: dict[str, dict[str, Any]] = {}
    for fact, rule in FACTS.items():
        by_source = {s.report_id: _fact_value(s.body, fact) for s in sources}
        given = [v for v in by_source.values() if v is not None]
        default = _default(fact, given)
        value, override = default, None
        spec = overrides.get(fact)
        if spec is not None:
            value, override = _apply_override(fact, spec, by_source, default)
        facts[fact] = {
            "agreed": _agreed(fact, given),
            "by_source": by_source,
            "missing": [rid for rid, v in by_source.items() if v is None],
            "rule": rule,
            "default": default,
            "value": value,
            "override": override,
        }
    if facts["location"]["value"] is not None and len(facts["location"]["by_source"]) > 1:
        centre = facts["location"]["value"]
        facts["location"]["spread_m"] = round(
            max(_distance_m(centre, v) for v in facts["location"]["by_source"].values() if v is not None)
        )
    return {
        "sources": ids,
        "values": {fact: f["value"] for fact, f in facts.items()},
        "agreed": [fact for fact, f in facts.items() if f["agreed"] and f["value"] is not None],
        "disagreeing": [fact for fact, f in facts.items() if not f["agreed"]],
        "facts": facts,
    }


def _apply_override(
    fact: str, spec: Mapping[str, Any], by_source: Mapping[str, Any], default: Any
) -> tuple[Any, dict[str, Any]]:
    if not isinstance(spec, Mapping) or len(spec) != 1 or next(iter(spec)) not in ("from", "value"):
        raise InvalidOverride(fact, 'give either {"from": report_id} or {"value": ...}')
    if "from" in spec:
        rid = spec["from"]
        if rid not in by_source:
            raise InvalidOverride(fact, f"{rid!r} is not one of the incident's sources")
        if by_source[rid] is None:
            raise InvalidOverride(fact, f"source {rid} gives no value for this fact")
        value, override = by_source[rid], {"from": rid}
    else:
        value = _check_edit(fact, spec["value"])
        override = {"value": value}
    if fact == "confidentiality" and _confidentiality_rank(value) < _confidentiality_rank(default):
        raise InvalidOverride(fact, f"cannot be less restrictive than the sources ({default})")
    return value, override
