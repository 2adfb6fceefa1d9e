"""The change feed: every stored change gets the next server sequence number here.

Order comes from the server, never from device clocks. Every transaction that appends to the
feed (or to the hash-chained audit log) first takes the feed's write lock (a transaction-scoped
advisory lock on PostgreSQL; SQLite writers are already serialised by ``BEGIN IMMEDIATE``), then
allocates its sequence numbers itself, ``max(seq) + 1`` onwards, and commits in sequence order.
So a pull cursor can never skip a change that commits later, whichever server process wrote it,
and a batch of changes is one multi-row statement (no RETURNING round trip per row).

A transaction that appended is marked (``appended``/``take_appended``), so whoever commits it
can let the feed's consumers catch up right after the commit (``server/feed_consumers.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from . import clock
from .db.tables import changes

WRITE_LOCK_KEY = 7_000_001
_APPENDED = "peacewatch.feed_appended"


def take_write_lock(conn: Connection) -> None:
    """Serialise feed and audit appends (no-op on SQLite, whose writers are serialised already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})


def allocate(conn: Connection, n: int) -> int:
    """The first of ``n`` consecutive new sequence numbers (the caller holds the write lock)."""
    take_write_lock(conn)
    note_appended(conn)
    return last_seq(conn) + 1 if n else 0


def note_appended(conn: Connection) -> None:
    """Mark the connection's transaction as one that appends to the feed."""
    conn.info[_APPENDED] = True


def take_appended(conn: Connection) -> bool:
    """Whether the transaction just committed on ``conn`` appended to the feed (and clear the mark)."""
    return bool(conn.info.pop(_APPENDED, False))


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
    seq = allocate(conn, 1)
    conn.execute(
        insert(changes).values(
            seq=seq,
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
    )
    return seq


def append_many(conn: Connection, entries: Sequence[dict[str, Any]]) -> list[int]:
    """Append several changes with one statement (each a dict of ``append``'s keyword arguments)."""
    if not entries:
        return []
    first = allocate(conn, len(entries))
    now = clock.now()
    columns = ("report_id", "ref", "contingent_id", "confidentiality", "author_user_id", "device_id")
    conn.execute(insert(changes), [{"seq": first + i, "kind": e["kind"], "payload": e["payload"], "created_at": now,
                                    **{c: e.get(c) for c in columns}} for i, e in enumerate(entries)])
    return [first + i for i in range(len(entries))]


# Built once: every request and every catch-up asks, and building a statement costs more than
# running this one.
_LAST_SEQ = select(func.coalesce(func.max(changes.c.seq), 0))


def last_seq(conn: Connection) -> int:
    return int(conn.execute(_LAST_SEQ).scalar_one())
