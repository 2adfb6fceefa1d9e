"""Synthetic report records, place names and hotspot hexagons for the export benchmark and the export
tests (kept out of the production packages: nothing here serves real data): deterministic for a seed, shaped like real records (every kind,
redacted names, Arabic and French text, a text that looks like a spreadsheet formula). Like a
stored body (``peacewatch.common.schema.report_to_json``), every location carries its ``mgrs``.

It lets exports be exercised at 100,000 reports without a database. ``bench/exports.py`` imports it
from here (it puts ``tests/`` on its path, as ``bench/sync.py`` does for the e2e helpers).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import h3

from peacewatch.common.coords import digits_for_precision, to_mgrs

__all__ = ["PLACES", "hexagons", "records"]

PLACES: list[dict[str, Any]] = [
    {"name": "Juba", "lat": 4.859, "lon": 31.571},
    {"name": "Yei", "lat": 4.095, "lon": 30.678},
    {"name": "Torit", "lat": 4.413, "lon": 32.568},
    {"name": "Bor", "lat": 6.209, "lon": 31.559},
    {"name": "Terekeka", "lat": 5.441, "lon": 31.755},
    {"name": "Kajo Keji", "lat": 3.853, "lon": 31.657},
    {"name": "جوبا الجديدة", "lat": 4.95, "lon": 31.40},
]

_INCIDENT = ["attack_on_civilians", "armed_clash", "abduction", "killing", "looting", "arson", "displacement",
             "armed_group_movement", "threat_intimidation", "cattle_raiding", "checkpoint"]
_PATROL = ["patrol_routine", "patrol_nil", "displacement", "checkpoint"]
_HR = ["arbitrary_detention", "conflict_related_sexual_violence", "child_recruitment", "threat_intimidation"]
_CONTINGENTS = ["BANBAT", "RWABAT", "NEPBAT", "INDBAT", "GHANBAT"]
_TITLES = [
    "Village attacked at dawn",
    "Affrontement près du marché",
    "هجوم على قرية قرب النهر",
    "=HYPERLINK(\"http://example.invalid\",\"click\")",
    "Cattle raid, 3 herders missing & <unknown> group",
]
_STATUSES = ["unreviewed", "verified", "rejected", "needs_information"]


def _person(rng: random.Random, redacted: bool) -> dict[str, Any]:
    return {
        "sex": rng.choice(["female", "male", "other", "unknown"]),
        "age_group": rng.choice(["child", "adult", "elderly", "unknown"]),
        "count": rng.randint(1, 4),
        "consent_to_share": rng.random() < 0.3,
        "name": None if redacted else rng.choice(["A. Deng", "M. Lado", "ف. علي"]),
        "description": None,
    }


def records(n: int, *, seed: int = 1, start: datetime | None = None, days: int = 120) -> Iterator[dict[str, Any]]:
    """`n` report records in event-time order (a generator: the caller decides what to keep)."""
    rng = random.Random(seed)
    start = start or datetime(2026, 7, 1, tzinfo=UTC)
    step = timedelta(days=days) / max(n, 1)
    centres = [(p["lat"], p["lon"]) for p in PLACES[:6]]
    for i in range(n):
        kind = rng.choices(["incident", "patrol", "hr_concern"], weights=[6, 3, 1])[0]
        clat, clon = rng.choice(centres)
        lat = round(clat + rng.gauss(0, 0.12), 6)
        lon = round(clon + rng.gauss(0, 0.12), 6)
        when = start + step * i + timedelta(minutes=rng.randint(0, 59))
        category = rng.choice(_INCIDENT if kind == "incident" else _PATROL if kind == "patrol" else _HR)
        confidentiality = "restricted" if category in ("conflict_related_sexual_violence", "child_recruitment") else (
            rng.choice(["public", "mission", "mission"]))
        report_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        precision = rng.choice([5, 10, 50, 100])  # drawn where the location literal drew it: same records per seed
        record: dict[str, Any] = {
            "id": report_id,
            "kind": kind,
            "category": category,
            "event_time": when.isoformat().replace("+00:00", "Z"),
            "location": {"lat": lat, "lon": lon, "mgrs": to_mgrs(lat, lon, digits_for_precision(precision)),
                         "precision_m": precision,
                         "source": rng.choice(["gps", "mgrs", "latlon"]),
                         "place": rng.choice([None, "Gudele", "Munuki", "Kator"])},
            "title": rng.choice(_TITLES),
            "description": "Witnesses report movement of armed men; gunfire heard.\nSecond line, ligne française, سطر عربي.",
            "casualties": {"killed": rng.choice([0, 0, 1, 2]), "injured": rng.randint(0, 5),
                           "abducted": rng.choice([0, 0, 1]), "displaced": rng.choice([0, 20, 150])},
            "severity": rng.randint(1, 5),
            "confidentiality": confidentiality,
            "attachments": [],
            "contingent": rng.choice(_CONTINGENTS),
            "author": f"user{rng.randint(1, 40)}",
            "language": rng.choice(["en", "fr", "ar"]),
            "review_status": rng.choice(_STATUSES),
            "version_id": f"{rng.getrandbits(256):064x}",
            "received_at": (when + timedelta(hours=rng.randint(1, 72))).isoformat().replace("+00:00", "Z"),
            "in_conflict": rng.random() < 0.02,
        }
        if kind == "incident":
            record["perpetrator"] = rng.choice([None, "unidentified armed group", "cattle raiders"])
        elif kind == "patrol":
            route = [{"lat": lat, "lon": lon}]
            for _ in range(rng.randint(1, 6)):
                route.append({"lat": round(route[-1]["lat"] + rng.uniform(-0.03, 0.03), 6),
                              "lon": round(route[-1]["lon"] + rng.uniform(-0.03, 0.03), 6)})
            record.update({
                "patrol_type": rng.choice(["foot", "vehicle", "air", "river"]),
                "start_time": record["event_time"],
                "end_time": (when + timedelta(hours=3)).isoformat().replace("+00:00", "Z"),
                "route": route,
                "observations": "Road passable; market open.",
                "nil_report": category == "patrol_nil",
            })
        else:
            redacted = rng.random() < 0.5
            record.update({
                "victims": [_person(rng, redacted) for _ in range(rng.randint(1, 3))],
                "witnesses": [_person(rng, redacted)],
                "alleged_perpetrators": [_person(rng, redacted)],
            })
        yield record


def hexagons(resolution: int = 6, seed: int = 1) -> list[dict[str, Any]]:
    """GeoJSON hexagon Features around the synthetic places with a ``bin`` from -3 to 3."""
    rng = random.Random(seed)
    features = []
    for place in PLACES[:6]:
        centre = h3.latlng_to_cell(place["lat"], place["lon"], resolution)
        for ring, cell in enumerate(h3.grid_disk(centre, 1)):
            boundary = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
            boundary.append(boundary[0])
            hot = 3 if cell == centre else rng.choice([2, 1, 0, 0, -1])
            features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [boundary]},
                             "properties": {"cell": cell, "bin": hot, "ring": ring}})
    return features
