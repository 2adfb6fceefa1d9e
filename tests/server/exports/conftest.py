"""Export test data: synthetic report records (every kind, redacted names, tricky text)."""

from __future__ import annotations

from typing import Any

import pytest
import synthetic_reports as synthetic


@pytest.fixture(scope="session")
def sample() -> list[dict[str, Any]]:
    """240 records: incidents, patrols with routes, human-rights concerns with redacted names."""
    return list(synthetic.records(240, seed=7))


@pytest.fixture
def bare() -> dict[str, Any]:
    """A record with nothing but its identity: every writer must cope with missing fields."""
    return {"id": "00000000-0000-4000-8000-000000000000", "kind": "incident", "category": "looting"}
