"""The mission's area as the tablet knows it: the middle of the places it pulled (the form's example)."""

from __future__ import annotations

from peacewatch.mobile.core.outbox import Outbox
from peacewatch.mobile.core.reference import Reference
from peacewatch.mobile.core.store import Store
from tests.mobile.helpers import place_change


def test_the_mission_area_centre_comes_from_its_places(store: Store) -> None:
    assert Reference(store).centre() is None
    Outbox(store).apply_pull_page([
        place_change("p1", kind="village", lat=-1.6, lon=29.2, names={"en": "Goma"}, seq=1),
        place_change("p2", kind="village", lat=-1.8, lon=29.4, names={"en": "Sake"}, seq=2),
    ], "c1")
    lat, lon = Reference(store).centre() or (0.0, 0.0)
    assert (round(lat, 3), round(lon, 3)) == (-1.7, 29.3)
