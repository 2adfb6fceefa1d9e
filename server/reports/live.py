"""New and changed reports as they arrive, for a live view: the change feed read under the read policy.

``reports_after(engine, principal, after)`` goes through the feed's ``version`` changes after a
sequence number and returns each changed report the principal may read, in the reports list's
own shape (``service.summaries``: the same ``visible_clause`` over the same projection), so a
live view never names a report its viewer could not open in the list. A change is also read
under its own level (``access.level_clause`` on the change's confidentiality, contingent and
author): a restricted version of an otherwise readable report does not announce itself. Only
changes the reports projection has already applied are read (its cursor bounds the read), so a
report is never skipped because its row was not written yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from ..access import Principal, level_clause
from ..db.tables import changes
from ..feed_consumers import cursor as consumer_cursor
from .projection import PROJECTION
from .service import summaries

PAGE = 200


def current_seq(engine: Engine) -> int:
    """Where a new live view starts: the last change the projection has applied."""
    with engine.connect() as conn, conn.begin():
        last = int(conn.execute(select(func.coalesce(func.max(changes.c.seq), 0))).scalar_one())
        return min(last, consumer_cursor(conn, PROJECTION))


def reports_after(engine: Engine, principal: Principal, after: int) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """(seq, summary) of each readable report changed after ``after``, oldest change first, and the new cursor."""
    with engine.connect() as conn, conn.begin():
        upto = consumer_cursor(conn, PROJECTION)
        if upto <= after:
            return [], after
        rows = conn.execute(
            select(changes.c.seq, changes.c.report_id)
            .where(changes.c.seq > after, changes.c.seq <= upto, changes.c.kind == "version",
                   level_clause(principal, changes.c.confidentiality, contingent_id=changes.c.contingent_id,
                                author_user_id=changes.c.author_user_id))
            .order_by(changes.c.seq).limit(PAGE)).all()
        if len(rows) == PAGE:
            upto = rows[-1].seq
        last: dict[str, int] = {}
        for row in rows:
            last.pop(row.report_id, None)
            last[row.report_id] = row.seq  # a report changed twice is told once, at its last change
        if not last:
            return [], upto
        readable = {s["id"]: s for s in summaries(conn, principal, list(last))}
    return [(seq, readable[rid]) for rid, seq in last.items() if rid in readable], upto
