"""Server fixtures: settings in a temporary data dir, the app, a TestClient, a seeded small mission."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from factories import Mission, build_mission
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings, engine)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def mission(client: TestClient, engine: Engine) -> Mission:
    """Two contingents (ALPHA, BRAVO), one user per role, a bearer token each, and an enrolled tablet."""
    return build_mission(client, engine)
