"""Shared fixtures: every server test runs once on SQLite and once on PostgreSQL.

``db_url`` is parametrised with ids ``sqlite`` and ``postgresql``. Each pytest worker gets its own
fresh PostgreSQL database (created here, dropped at the end) migrated once; each test then starts
from empty tables. SQLite tests each get a copy of a migrated template file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("PEACEWATCH_PASSWORD_HASH_COST", "test")

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from factories import Mission, build_mission
from peacewatch.server import clock
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import make_engine
from peacewatch.server.db.migrate import upgrade
from peacewatch.server.db.tables import metadata

PG_ADMIN_URL = os.environ.get("PEACEWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this worker, migrated once, dropped at the end."""
    name = f"pw_test_{_worker()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({exc}); run 'make test', which starts it")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: SQLite file or this worker's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "peacewatch.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _truncate_all(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Server settings with a temporary data dir on the test's database.

    The live alert stream ends after half a second, so a test (or a fuzzer) that opens it reads
    it whole instead of waiting out the production five minutes; tests of the stream set more.
    """
    return Settings(data_dir=tmp_path / "data", database_url=db_url, alert_stream_max_s=0.5)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The real app in-process (Starlette's TestClient)."""
    # https: session cookies are Secure by default, and a browser sends them only over HTTPS.
    with TestClient(create_app(settings, engine), base_url="https://testserver") as c:
        yield c


@pytest.fixture
def mission(client: TestClient, engine: Engine) -> Mission:
    """Two contingents (ALPHA, BRAVO), one user per role, a bearer token each, and enrolled tablets."""
    return build_mission(client, engine)


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()
