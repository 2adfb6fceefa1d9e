"""A fresh database per benchmark run: a SQLite file, or a PostgreSQL database created and dropped."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from peacewatch.server.db.engine import make_engine

PG_ADMIN_URL = os.environ.get("PEACEWATCH_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_database(backend: str, workdir: Path, prefix: str = "pw_bench") -> Iterator[str]:
    """The URL of an empty database of ``backend`` (sqlite or postgresql), removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'{prefix}.db'}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
