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
