"""Fixtures for the reliability proofs: settings, an in-process app, and a seeded mission."""

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
    with TestClient(create_app(settings, engine)) as c:
        yield c


@pytest.fixture
def mission(client: TestClient, engine: Engine) -> Mission:
    return build_mission(client, engine)
