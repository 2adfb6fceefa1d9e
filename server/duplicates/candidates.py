"""One report's duplicate candidates, for its page: the open proposals that pair it with another
report the caller may also read (a proposal never reveals a report its reader may not open)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, or_, select

from ..access import Principal, visible_clause
from ..db.tables import duplicate_proposals, reports

__all__ = ["candidates_for"]


def candidates_for(conn: Connection, principal: Principal, report_id: str) -> list[dict[str, Any]]:
    """Open proposals involving ``report_id``, best score first: the other report, score, proposal id."""
    p = duplicate_proposals.c
    rows = conn.execute(
        select(p.id, p.report_a, p.report_b, p.score)
        .where(p.status == "proposed", or_(p.report_a == report_id, p.report_b == report_id))
        .order_by(p.score.desc(), p.id)
    ).all()
    others = {row.report_b if row.report_a == report_id else row.report_a: row for row in rows}
    if not others:
        return []
    readable = {r.id: r for r in conn.execute(
        select(reports.c.id, reports.c.title, reports.c.event_time)
        .where(reports.c.id.in_(list(others)), visible_clause(principal, reports)))}
    return [{"proposal_id": row.id, "report_id": other, "title": readable[other].title,
             "event_time": readable[other].event_time, "score": row.score}
            for other, row in others.items() if other in readable]
