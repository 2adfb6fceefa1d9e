"""Stable pseudonymous reporter ids for exports: a file that leaves the mission names no patrol member.

An export carries ``reporter`` (e.g. ``R-3f9a2c1d7e``) instead of the author's username. The id is
an HMAC-SHA256 of the username under a random key kept in the database's ``meta`` table, so the
same reporter has the same id in every export of this mission (a partner can count reports per
reporter and follow up through the mission) while the username cannot be recovered or guessed
from it without the key. The key never leaves the server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from peacewatch.server.db.tables import meta

__all__ = ["KEY_NAME", "mission_key", "mission_key_in", "pseudonymise", "reporter_id"]

KEY_NAME = "export_pseudonym_key"


def mission_key(engine: Engine) -> bytes:
    """This mission's pseudonym key, created on first use (two servers racing agree on one)."""
    with engine.begin() as conn:
        return mission_key_in(conn)


def mission_key_in(conn: Connection) -> bytes:
    """`mission_key` inside a transaction already open (a request's own, which on SQLite may hold
    the write lock another connection would wait for)."""
    value = conn.execute(select(meta.c.value).where(meta.c.key == KEY_NAME)).scalar_one_or_none()
    if value is None:
        # Insert-if-absent in a nested transaction: a concurrent first export may win the race.
        try:
            with conn.begin_nested():
                conn.execute(meta.insert().values(key=KEY_NAME, value={"hex": secrets.token_hex(32)}))
        except IntegrityError:  # the other writer's key is read below
            pass
        value = conn.execute(select(meta.c.value).where(meta.c.key == KEY_NAME)).scalar_one()
    return bytes.fromhex(value["hex"])


def reporter_id(key: bytes, author: str) -> str:
    return "R-" + hmac.new(key, author.encode("utf-8"), hashlib.sha256).hexdigest()[:10]


def pseudonymise(records: Iterable[Mapping[str, Any]], key: bytes) -> Iterator[dict[str, Any]]:
    """Each record with ``author`` replaced by ``reporter``."""
    for record in records:
        out = dict(record)
        author = out.pop("author", None)
        out["reporter"] = reporter_id(key, author) if author else None
        yield out
