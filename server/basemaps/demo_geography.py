"""The demo mission's physical and road geography (Ituri, eastern DRC), for its rendered base map.

Approximate, drawn from the places in ``server/demo_mission.py``: Lake Albert on the eastern edge,
the Ituri and Shari rivers, and the main roads (RN27 Komanda - Bunia - Djugu - Mahagi - Aru and
the roads out to the lake shore, Mongbwalu and the south). Good enough for orientation in a demo,
not for navigation. Coordinates are (lon, lat).
"""

from __future__ import annotations

from ..demo_mission import MISSION_AREA, PLACES

LAKE_ALBERT: list[tuple[float, float]] = [
    (30.52, 1.10), (30.44, 1.30), (30.46, 1.42), (30.55, 1.50), (30.70, 1.66), (30.86, 1.86),
    (31.02, 2.05), (31.18, 2.22), (31.30, 2.36), (31.42, 2.30), (31.34, 2.08), (31.18, 1.86),
    (30.98, 1.60), (30.80, 1.36), (30.66, 1.18),
]

RIVERS: list[tuple[str, list[tuple[float, float]]]] = [
    ("Ituri", [(30.12, 1.08), (29.98, 1.22), (29.86, 1.32), (29.77, 1.37), (29.60, 1.42), (29.40, 1.47),
               (29.20, 1.53), (28.90, 1.58)]),
    ("Shari", [(30.46, 1.74), (30.38, 1.66), (30.30, 1.60), (30.22, 1.55), (30.12, 1.50), (29.98, 1.43),
               (29.86, 1.32)]),
    ("Kibali", [(30.60, 2.95), (30.40, 2.78), (30.15, 2.70), (29.90, 2.62), (29.60, 2.66), (29.30, 2.60),
                (28.90, 2.55)]),
    ("Nizi", [(30.62, 2.02), (30.45, 1.90), (30.30, 1.76), (30.22, 1.55)]),
]

# Roads as chains of place names (places are in demo_mission.PLACES), major ones first.
ROADS: list[tuple[str, list[str]]] = [
    ("major", ["Komanda", "Irumu", "Bunia", "Nizi", "Bule", "Djugu", "Fataki", "Mahagi", "Aru"]),
    ("major", ["Bunia", "Kasenyi", "Tchomia"]),
    ("minor", ["Bunia", "Gety", "Boga"]),
    ("minor", ["Nizi", "Mongbwalu"]),
    ("minor", ["Bunia", "Drodro", "Largu", "Fataki"]),
]


def place_lonlat() -> dict[str, tuple[float, float]]:
    return {name: (lon, lat) for name, _fr, _ar, lat, lon in PLACES}


def mission_bounds(margin: float = 0.1) -> tuple[float, float, float, float]:
    lons = [p[0] for p in MISSION_AREA]
    lats = [p[1] for p in MISSION_AREA]
    return min(lons) - margin, min(lats) - margin, max(lons) + margin, max(lats) + margin
