"""Tasks in the tablets' pull: the feed's ``task`` changes a principal may receive, and their content.

Every creation of and event on a task appends one ``task`` change whose ``ref`` is the task's id.
A puller receives it only if it may see the task as it stands now (``access.task_clause``), and the
change carries the task as it is now, with its events: the tablet keeps the latest state.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, and_, case, cast, exists, select

from ..access import Principal, task_clause
from ..db.tables import changes, reports, tasks
from .service import task_out, visible_select

# The report a task is about, apart from the ``reports`` the pull already joins to its changes.
_about = reports.alias("task_report")


def feed_clause(principal: Principal) -> ColumnElement[bool]:
    """SQL on ``changes``: the task changes this principal may pull."""
    # The ref is cast only on task rows (CASE keeps a version's hash from reaching the cast), so
    # the lookup is by the tasks' primary key, whatever else the pull examines.
    task_id = case((changes.c.kind == "task", cast(changes.c.ref, Integer)), else_=None)
    visible = (select(tasks.c.id).select_from(tasks.outerjoin(_about, _about.c.id == tasks.c.report_id))
               .where(tasks.c.id == task_id, task_clause(principal, tasks, _about)))
    return and_(changes.c.kind == "task", exists(visible))


def rendered(conn: Connection, principal: Principal, refs: list[str]) -> dict[str, dict[str, Any]]:
    """The tasks named by these feed refs, as the principal sees them now, by ref."""
    ids = sorted({int(r) for r in refs if r and r.isdigit()})
    if not ids:
        return {}
    rows = list(conn.execute(visible_select(principal).where(tasks.c.id.in_(ids))).mappings())
    return {str(t["id"]): t for t in task_out(conn, rows, events=True)}
