"""HQ and commanders' review decisions and comments; each is a change devices pull."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, update

from .. import clock, feed
from ..access import Principal, can_review
from ..audit.service import record
from ..db.tables import comments, reports, reviews
from ..problems import forbidden
from ..tasks.review_requests import request_information
from .filters import ReportFilters
from .service import load_readable, visible_reports

DECISIONS = ("verified", "rejected", "needs_information")


def _change(conn: Connection, principal: Principal, row: dict[str, Any], kind: str, payload: dict[str, Any]) -> int:
    return feed.append(conn, kind=kind, report_id=row["id"], contingent_id=row["contingent_id"],
                       confidentiality=row["confidentiality"], author_user_id=principal.user_id,
                       payload=payload | {"by": principal.username})


def review(conn: Connection, principal: Principal, *, report_id: str, status: str, comment: str) -> dict[str, Any]:
    """Record a decision (verified / rejected / needs_information) with a comment."""
    row = load_readable(conn, principal, report_id)
    if not can_review(principal, contingent_id=row["contingent_id"], confidentiality=row["confidentiality"],
                      author_user_id=row["author_user_id"]):
        raise forbidden("you may review only reports of your own contingent")
    now = clock.now()
    seq = _change(conn, principal, row, "review", {"status": status, "comment": comment,
                                                   "at": now.isoformat()})
    conn.execute(insert(reviews).values(report_id=report_id, status=status, comment=comment,
                                        user_id=principal.user_id, created_at=now, seq=seq))
    conn.execute(update(reports).where(reports.c.id == report_id).values(review_status=status, updated_at=now))
    record(conn, action="report_reviewed", actor=principal.username, actor_user_id=principal.user_id,
           target=report_id, detail={"status": status})
    out = {"report_id": report_id, "status": status, "comment": comment, "seq": seq, "by": principal.username}
    if status == "needs_information":
        # The question becomes the author's task: on their tablet, closed by their edit.
        out["task_id"] = request_information(conn, principal, row, comment)
    return out


def next_unreviewed(conn: Connection, principal: Principal, filters: ReportFilters, *,
                    after: str | None = None) -> str | None:
    """The review queue's next report: unreviewed, in ``filters``, reviewable by ``principal``,
    oldest received first (first in, first out), skipping ``after`` (the one just decided)."""
    stmt = (visible_reports(conn, principal, filters)
            .where(reports.c.review_status == "unreviewed")
            .order_by(reports.c.received_at, reports.c.id).limit(200))
    if after:
        stmt = stmt.where(reports.c.id != after)
    for row in conn.execute(stmt).mappings():
        if can_review(principal, contingent_id=row["contingent_id"], confidentiality=row["confidentiality"],
                      author_user_id=row["author_user_id"]):
            return str(row["id"])
    return None


def add_comment(conn: Connection, principal: Principal, *, report_id: str, text: str) -> dict[str, Any]:
    """Add a comment to a report the principal may read."""
    row = load_readable(conn, principal, report_id)
    now = clock.now()
    seq = _change(conn, principal, row, "comment", {"text": text, "at": now.isoformat()})
    conn.execute(insert(comments).values(report_id=report_id, user_id=principal.user_id, text=text,
                                         created_at=now, seq=seq))
    record(conn, action="comment_added", actor=principal.username, actor_user_id=principal.user_id,
           target=report_id)
    return {"report_id": report_id, "text": text, "seq": seq, "by": principal.username}
