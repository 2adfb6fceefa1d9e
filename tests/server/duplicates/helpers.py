"""Report makers and a tiny taxonomy shared by the duplicates tests."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from peacewatch.server.duplicates.engine import EARTH_RADIUS_M

BASE_LAT, BASE_LON = 4.85, 31.6
BASE_TIME = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)

# attack_on_civilians ~ killing (both ways); looting -> arson only one way, to prove it is read both ways.
_RELATED = {
    "attack_on_civilians": ["killing"],
    "killing": ["attack_on_civilians"],
    "looting": ["arson"],
    "arson": [],
    "displacement": [],
    "patrol_routine": [],
}


def related(code: str) -> list[str]:
    return _RELATED.get(code, [])


def destination(lat: float, lon: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lon) along ``bearing_deg`` on the sphere the engine uses."""
    phi1, lam1, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta))
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lam2) + 540.0) % 360.0 - 180.0


def report(rid: str, **overrides: Any) -> dict[str, Any]:
    """An incident at the base place and time from contingent BANBAT; override any field."""
    out: dict[str, Any] = {
        "id": rid,
        "kind": "incident",
        "category": "attack_on_civilians",
        "event_time": BASE_TIME.isoformat(),
        "lat": BASE_LAT,
        "lon": BASE_LON,
        "contingent": "BANBAT",
        "device_id": f"dev-{rid}",
        "casualties": {"killed": 2, "injured": 5, "abducted": 0, "displaced": 0},
        "title": "Armed men attacked Yei market",
        "description": "Gunmen on motorbikes fired at traders in Yei market at dawn; two killed, five injured.",
    }
    out.update(overrides)
    return out


def moved(rid: str, bearing: float, distance_m: float, minutes: float = 0.0, **overrides: Any) -> dict[str, Any]:
    """A report ``distance_m`` away from the base and ``minutes`` later, from contingent NEPBAT."""
    lat, lon = destination(BASE_LAT, BASE_LON, bearing, distance_m)
    fields: dict[str, Any] = {
        "lat": lat,
        "lon": lon,
        "event_time": (BASE_TIME + timedelta(minutes=minutes)).isoformat(),
        "contingent": "NEPBAT",
    }
    fields.update(overrides)
    return report(rid, **fields)


def scatter(n: int, seed: int, *, radius_m: float = 6000.0, hours: float = 24.0) -> list[dict[str, Any]]:
    """``n`` random reports crowded into a small area and time, so many pairs fall within the limits."""
    rng = np.random.default_rng(seed)
    cats = ["attack_on_civilians", "killing", "looting", "arson", "displacement"]
    words = "market attack gunmen village looting arson houses burned cattle killed injured road school".split()
    out = []
    for i in range(n):
        lat, lon = destination(BASE_LAT, BASE_LON, float(rng.uniform(0, 360)), float(radius_m * math.sqrt(rng.random())))
        out.append(
            report(
                f"s{seed}-{i:05d}",
                lat=lat,
                lon=lon,
                event_time=(BASE_TIME + timedelta(seconds=int(rng.integers(0, int(hours * 3600))))).isoformat(),
                category=cats[int(rng.integers(len(cats)))],
                contingent=f"C{int(rng.integers(3))}",
                device_id=f"d{int(rng.integers(4))}",
                casualties=None if rng.random() < 0.2 else {"killed": int(rng.integers(3)), "injured": int(rng.integers(3))},
                title=" ".join(rng.choice(words, 3)),
                description=" ".join(rng.choice(words, 6)),
            )
        )
    return out
