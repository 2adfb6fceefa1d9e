"""The change feed: every stored change gets the next server sequence number here.

Order comes from the server, never from device clocks. On PostgreSQL a sequence value can be
taken by one transaction and committed after a higher one, which would let a pull cursor skip a
change; so every transaction that appends to the feed (or to the hash-chained audit log) first
takes one transaction-scoped advisory lock, and commits in sequence order. SQLite writers are
already serialised by ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from . import clock
from .db.tables import changes

WRITE_LOCK_KEY = 7_000_001


def take_write_lock(conn: Connection) -> None:
    """Serialise feed and audit appends (no-op on SQLite, whose writers are serialised already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})


def append(
    conn: Connection,
    *,
    kind: str,
    payload: dict[str, Any],
    report_id: str | None = None,
    ref: str | None = None,
    contingent_id: int | None = None,
    confidentiality: str | None = None,
    author_user_id: int | None = None,
    device_id: str | None = None,
) -> int:
    """Append one change and return its sequence number."""
    take_write_lock(conn)
    result = conn.execute(
        insert(changes)
        .values(
            kind=kind,
            payload=payload,
            report_id=report_id,
            ref=ref,
            contingent_id=contingent_id,
            confidentiality=confidentiality,
            author_user_id=author_user_id,
            device_id=device_id,
            created_at=clock.now(),
        )
        .returning(changes.c.seq)
    )
    return int(result.scalar_one())


def last_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(changes.c.seq), 0))).scalar_one())
