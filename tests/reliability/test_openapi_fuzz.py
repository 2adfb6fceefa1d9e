"""Schemathesis walks the whole OpenAPI (``/api/v1/openapi.json``) against the app in-process.

Every operation gets a bounded number of generated requests (valid and invalid), signed in as an
HQ analyst and as an administrator: no answer may be a 5xx, and every answer the schema
documents must match it. SQLite only: the point is the request handling, which is one code path.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from factories import Mission, build_mission
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import make_engine

# ~45 operations x 2 roles x this many examples stays around a minute on a busy 2-core machine.
MAX_EXAMPLES = 10


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple[Any, Mission]]:
    root = tmp_path_factory.mktemp("fuzz")
    db = root / "peacewatch.db"
    shutil.copy(sqlite_template, db)
    engine = make_engine(f"sqlite:///{db}")
    app = create_app(Settings(data_dir=root / "data", database_url=f"sqlite:///{db}"), engine)
    with TestClient(app) as client:
        yield app, build_mission(client, engine)
    engine.dispose()


CHECKS = [not_a_server_error, response_schema_conformance]


def _fuzz_every_operation(app: Any, mission: Mission, username: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    auth = mission.headers(username)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30  # the whole API, not an empty schema

    for operation in operations:

        # Valid requests and requests that break the schema on purpose (wrong types, missing fields).
        cases = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                          operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

        @given(case=cases)
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(headers=dict(case.headers or {}) | auth, checks=CHECKS)

        check()


@pytest.mark.parametrize("username", ["analyst", "admin"])
def test_every_operation_answers_without_5xx_and_as_documented(fuzz_app: tuple[Any, Mission],
                                                                username: str) -> None:
    _fuzz_every_operation(*fuzz_app, username)
