"""Engines for SQLite and PostgreSQL with the same transactional behaviour.

SQLite: WAL, synchronous=FULL, foreign keys on, and write transactions opened with
``BEGIN IMMEDIATE`` so two writers queue on ``busy_timeout`` instead of failing when a read
lock cannot be upgraded. PostgreSQL: plain connection pool. Callers choose a write transaction
with ``write_options`` and every change-feed insert takes the feed lock (see ``changes``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

WRITE = {"sqlite_begin": "IMMEDIATE"}


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``database_url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    url = make_url(database_url)
    # Every report body is written twice (its version, the projection) and read back by pulls,
    # exports and maps: orjson does that several times faster than the standard library.
    kwargs.setdefault("json_serializer", _json_text)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.get_backend_name() == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    if url.get_backend_name() != "sqlite":
        raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so we can choose IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine

