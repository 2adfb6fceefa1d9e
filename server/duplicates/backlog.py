"""Duplicate proposals as a consumer of the change feed (``server/feed_consumers.py``).

Proposals are derived data: a pure function of the reports' current state. Computing them inside a
push would make every tablet wait for a spatial search that has nothing to do with keeping its
reports, so the push only appends to the feed and this consumer catches up afterwards, once the
pushes pause (``timing="after_pause"``, run by the app's ``feed_worker`` loop), and before anyone reads
proposals (``ensure_current``). Its cursor is ``WATERMARK_KEY`` in ``meta``. The engine's search
runs in a read transaction (``find_proposals``); only writing its result takes the feed's write
lock, briefly. It reads the ``reports`` projection, so it never passes the projection's cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row

from .. import feed_consumers
from ..reports.projection import PROJECTION
from .service import find_proposals, record_proposals

WATERMARK_KEY = "duplicates.proposed_through_seq"


def _report_ids(changes: Sequence[Row[Any]]) -> list[str]:
    return list(dict.fromkeys(c.report_id for c in changes if c.kind == "version" and c.report_id))


def _compute(conn: Connection, changes: Sequence[Row[Any]]) -> Any:
    return find_proposals(conn, _report_ids(changes))


def _write(conn: Connection, changes: Sequence[Row[Any]], found: Any) -> None:
    if changes:
        record_proposals(conn, _report_ids(changes), found)


PROPOSALS = feed_consumers.FeedConsumer(
    name=WATERMARK_KEY,
    kinds=frozenset({"version"}),
    compute=_compute,
    write=_write,
    lock_key=7_000_102,
    timing="after_pause",
    needs=(PROJECTION,),
)


def watermark(conn: Connection) -> int:
    """The feed sequence up to which every stored version has had its proposals computed."""
    return feed_consumers.cursor(conn, PROPOSALS)


def behind(conn: Connection) -> bool:
    """Whether a stored change still awaits the proposals' catch-up."""
    return feed_consumers.behind(conn, PROPOSALS)


def ensure_current(engine: Engine) -> int:
    """Catch proposals up with everything stored (one cheap read when nothing is waiting)."""
    with engine.connect() as conn, conn.begin():
        if not behind(conn):
            return 0
    return feed_consumers.catch_up(engine, PROPOSALS)
