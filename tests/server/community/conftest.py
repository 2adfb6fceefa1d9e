"""Community test fixtures: a small gazetteer (Ituri-like places in three languages) and a gateway."""

from __future__ import annotations

import json
from typing import Any

import pytest

from peacewatch.server.access import Principal, Role
from peacewatch.server.community.intake import add_gateway
from peacewatch.server.community.protection import mission_key
from peacewatch.server.community.signing import GATEWAY_HEADER, HEADER, sign
from peacewatch.server.db.engine import WRITE
from peacewatch.server.reference.service import upsert

PLACES: dict[str, tuple[dict[str, str], float, float]] = {
    "mambasa": ({"en": "Mambasa", "fr": "Mambasa", "ar": "مامباسا"}, 1.3600, 29.0500),
    "beni": ({"en": "Beni", "fr": "Béni", "ar": "بيني"}, 0.4911, 29.4731),
    "oicha": ({"en": "Oicha", "fr": "Oïcha", "ar": "أويتشا"}, 0.7000, 29.5167),
    "komanda": ({"en": "Komanda", "fr": "Komanda", "ar": "كوماندا"}, 1.3667, 29.7667),
    "bunia": ({"en": "Bunia", "fr": "Bunia", "ar": "بونيا"}, 1.5667, 30.2500),
}

ADMIN = Principal(user_id=0, username="test-admin", role=Role.ADMIN, contingent_id=None)


def add_places(engine, places: dict[str, tuple[dict[str, str], float, float]] = PLACES) -> None:
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        for pid, (names, lat, lon) in places.items():
            upsert(conn, ADMIN, item_id=pid, kind="place", names=names,
                   geometry={"type": "Point", "coordinates": [lon, lat]}, properties={})


@pytest.fixture
def gazetteer(engine) -> None:
    add_places(engine)


@pytest.fixture
def key(settings) -> bytes:
    return mission_key(settings)


@pytest.fixture
def gateway(engine, key) -> dict[str, Any]:
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        return add_gateway(conn, name="ituri-sms", key=key, outbound_url=None)


def signed(gateway: dict[str, Any], payload: dict[str, Any] | bytes, *,
           content_type: str = "application/json") -> dict[str, Any]:
    """Keyword arguments for ``client.post`` of a body signed as this gateway."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {"content": body, "headers": {"Content-Type": content_type, GATEWAY_HEADER: gateway["name"],
                                         HEADER: sign(gateway["secret"], body)}}
