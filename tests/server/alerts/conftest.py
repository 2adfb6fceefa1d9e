"""Alert tests start from the mission's default rules, as ``peacewatch server`` does."""

from __future__ import annotations

import pytest

from peacewatch.server.alerts.rules import ensure_defaults
from peacewatch.server.db.engine import WRITE


@pytest.fixture
def mission(mission):  # type: ignore[no-untyped-def]
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)
    return mission
