"""Shared builders for the mobile core tests."""

from __future__ import annotations

import uuid
from typing import Any


def new_id() -> str:
    return str(uuid.uuid4())


def incident_fields(**overrides: Any) -> dict[str, Any]:
    """A complete, valid incident form (everything but id and kind, which the draft carries)."""
    fields: dict[str, Any] = {
        "category": "attack_on_civilians",
        "event_time": "2026-11-24T15:30:00Z",
        "title": "Market attacked",
        "description": "Armed men fired on the market.",
        "location": {"lat": 4.85, "lon": 31.6, "precision_m": 10, "source": "gps"},
        "severity": 3,
        "contingent": "BANBAT",
        "author": "alice",
    }
    fields.update(overrides)
    return fields


def place_change(place_id: str, *, lat: float, lon: float, names: dict[str, str], kind: str = "town",
                 item_kind: str = "place", seq: int = 1) -> dict[str, Any]:
    """A reference change as the feed sends it: a place (or sensitive site) given as a point."""
    return {"seq": seq, "kind": "reference", "item": {
        "id": place_id, "kind": item_kind, "names": names, "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"kind": kind}, "deleted": False}}


def place_deleted(place_id: str, *, seq: int = 2) -> dict[str, Any]:
    """A reference change deleting an item."""
    return {"seq": seq, "kind": "reference", "item": {"id": place_id, "kind": "place", "deleted": True}}
