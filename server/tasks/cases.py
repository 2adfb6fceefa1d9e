"""Follow-up of human-rights concerns: case status, next action, due date, responsible officer.

Read and written only by the protection team (``Permission.CASEWORK``), for concerns they may read
(all of them: they read restricted cases). A concern without a follow-up row is listed as ``open``
with nothing planned. A case is overdue when it is not closed and its due date has passed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .. import clock
from ..access import PROTECTION_TEAM, Permission, Principal, Role, visible_clause
from ..audit.service import record
from ..db.tables import case_followups, reports, users
from ..problems import forbidden, invalid
from ..reports.service import load_readable
from .models import CaseIn

CONCERN = "hr_concern"


def _check(principal: Principal) -> None:
    if not principal.may(Permission.CASEWORK):
        raise forbidden("only the protection team follows up human-rights concerns")


def _overdue(status: str, due: str | None, today: date) -> bool:
    return status != "closed" and due is not None and date.fromisoformat(due) < today


def _out(row: Any, officers: dict[int, str], today: date) -> dict[str, Any]:
    status = row["case_status"] or "open"
    return {"report_id": row["id"], "title": row["title"], "category": row["category"],
            "event_time": row["event_time"], "case_status": status, "next_action": row["next_action"] or "",
            "due_date": row["due_date"], "officer": officers.get(row["officer_user_id"]),
            "overdue": _overdue(status, row["due_date"], today), "updated_at": row["updated_at"]}


def _select(principal: Principal) -> Any:
    return (select(reports.c.id, reports.c.title, reports.c.category, reports.c.event_time,
                   case_followups.c.case_status, case_followups.c.next_action, case_followups.c.due_date,
                   case_followups.c.officer_user_id, case_followups.c.updated_at)
            .select_from(reports.outerjoin(case_followups, case_followups.c.report_id == reports.c.id))
            .where(reports.c.kind == CONCERN, visible_clause(principal, reports)))


def _officers(conn: Connection, rows: list[Any]) -> dict[int, str]:
    ids = {r["officer_user_id"] for r in rows if r["officer_user_id"] is not None}
    if not ids:
        return {}
    return dict(conn.execute(select(users.c.id, users.c.username).where(users.c.id.in_(ids))).all())


def list_cases(conn: Connection, principal: Principal, *, overdue_only: bool = False) -> list[dict[str, Any]]:
    """Every concern with its follow-up: overdue first, then by due date, then newest."""
    _check(principal)
    rows = list(conn.execute(_select(principal)).mappings())
    today = clock.now().date()
    out = [_out(r, _officers(conn, rows), today) for r in rows]
    if overdue_only:
        out = [c for c in out if c["overdue"]]
    far = "9999-12-31"
    out.sort(key=lambda c: (not c["overdue"], c["case_status"] == "closed", c["due_date"] or far,
                            -c["event_time"].timestamp()))
    return out


def get_case(conn: Connection, principal: Principal, report_id: str) -> dict[str, Any]:
    _check(principal)
    row = load_readable(conn, principal, report_id)
    if row["kind"] != CONCERN:
        raise invalid("report_id", "follow-up is for human-rights concerns")
    found = conn.execute(_select(principal).where(reports.c.id == report_id)).mappings().one()
    return _out(found, _officers(conn, [found]), clock.now().date())


def set_case(conn: Connection, principal: Principal, report_id: str, body: CaseIn) -> dict[str, Any]:
    """Record the case's status, next action, due date and officer (replacing the previous ones)."""
    get_case(conn, principal, report_id)
    officer_id = None
    if body.officer:
        officer = conn.execute(select(users.c.id, users.c.role, users.c.active)
                               .where(users.c.username == body.officer)).mappings().one_or_none()
        if officer is None or not officer["active"] or Role(officer["role"]) not in PROTECTION_TEAM:
            raise invalid("officer", "name an active protection or human-rights officer")
        officer_id = officer["id"]
    if body.due_date is not None:
        try:
            date.fromisoformat(body.due_date)
        except ValueError:
            raise invalid("due_date", "not a date (YYYY-MM-DD)") from None
    values = {"case_status": body.case_status, "next_action": body.next_action, "due_date": body.due_date,
              "officer_user_id": officer_id, "updated_by": principal.user_id, "updated_at": clock.now()}
    if conn.execute(update(case_followups).where(case_followups.c.report_id == report_id)
                    .values(**values)).rowcount == 0:
        conn.execute(insert(case_followups).values(report_id=report_id, **values))
    record(conn, action="case_followup", actor=principal.username, actor_user_id=principal.user_id,
           target=report_id, detail={"case_status": body.case_status, "due_date": body.due_date})
    return get_case(conn, principal, report_id)
