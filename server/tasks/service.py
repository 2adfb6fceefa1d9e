"""Tasks: create, read under the access policy, and change only through events.

A task's state is never written directly: every change is a ``task_events`` row (a tablet's event
carries the ``event_id`` it made offline, so sending it twice stores it once) and the task's status
is the fold of its events in server order (``fold``), so two devices acting on one task offline
both keep their events and neither overwrites the other. Each creation and event appends one
``task`` change to the feed, which the task's readers pull (``tasks.pull``).

Who sees a task is ``access.can_see_task`` (SQL: ``access.task_clause``); who may act on one is
whoever sees it and may submit; only those who may assign tasks cancel or reopen them. Everything
written is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, case, func, insert, select, update

from .. import clock, feed
from ..access import Permission, Principal, Role, can_read, can_see_task, task_clause
from ..audit.service import record
from ..db.tables import contingents, reports, task_events, tasks, users
from ..problems import Code, Problem, forbidden, invalid, not_found
from .models import TaskEventIn, TaskIn
from .outcome import gap_result
from .places import representative_point
from .sources import Filled, fill_from_source

ACTIVE = ("open", "accepted", "started")
FINISHED = ("done", "cannot_do", "cancelled")
MANAGER_ONLY = frozenset({"cancelled", "reopened"})


def fold(statuses: list[str | None]) -> str:
    """The task's status after these event statuses, in server order: the last one that says one.

    ``reopened`` puts a finished task back to ``open``. Events are never dropped: two devices that
    marked one task offline both appear in its history, and the later to reach the server decides.
    """
    status = "open"
    for s in statuses:
        if s == "reopened":
            status = "open"
        elif s is not None:
            status = s
    return status


def _usernames(conn: Connection, ids: set[int]) -> dict[int, str]:
    ids.discard(None)  # type: ignore[arg-type]
    if not ids:
        return {}
    return dict(conn.execute(select(users.c.id, users.c.username).where(users.c.id.in_(ids))).all())


def base_select() -> Select[Any]:
    return (select(tasks, contingents.c.code.label("contingent_code"))
            .select_from(tasks.outerjoin(contingents, contingents.c.id == tasks.c.contingent_id)
                         .outerjoin(reports, reports.c.id == tasks.c.report_id)))


def visible_select(principal: Principal) -> Select[Any]:
    """Every task the principal may see, as a select on ``tasks`` (with ``contingent_code``)."""
    return base_select().where(task_clause(principal, tasks, reports))


def is_overdue(row: Any, now: datetime | None = None) -> bool:
    end = row["window_end"]
    return bool(end is not None and row["status"] in ACTIVE and end < (now or clock.now()))


def task_out(conn: Connection, rows: list[Any], *, events: bool = False) -> list[dict[str, Any]]:
    """Task rows as the API shows them; with their events (oldest first) when asked."""
    names = _usernames(conn, {r["assignee_user_id"] for r in rows} | {r["created_by"] for r in rows})
    by_task: dict[int, list[dict[str, Any]]] = {}
    if events and rows:
        evs = conn.execute(select(task_events, users.c.username)
                           .select_from(task_events.join(users, users.c.id == task_events.c.user_id))
                           .where(task_events.c.task_id.in_([r["id"] for r in rows]))
                           .order_by(task_events.c.seq)).mappings()
        for e in evs:
            by_task.setdefault(e["task_id"], []).append(
                {"event_id": e["event_id"], "status": e["status"], "note": e["note"], "report_id": e["report_id"],
                 "by": e["username"], "device_time": e["device_time"], "received_at": e["received_at"],
                 "seq": e["seq"]})
    now = clock.now()
    return [{
        "id": r["id"], "kind": r["kind"], "title": r["title"], "instructions": r["instructions"],
        "priority": r["priority"], "place": r["place"], "lat": r["lat"], "lon": r["lon"],
        "window_start": r["window_start"], "window_end": r["window_end"], "contingent": r["contingent_code"],
        "assignee": names.get(r["assignee_user_id"]), "report_id": r["report_id"],
        "source": {"kind": r["source_kind"], "ref": r["source_ref"]}, "status": r["status"],
        "overdue": is_overdue(r, now), "created_by": names.get(r["created_by"], ""), "created_at": r["created_at"],
        "updated_at": r["updated_at"], "done_at": r["done_at"], "events": by_task.get(r["id"], []),
    } for r in rows]


def load_task(conn: Connection, principal: Principal, task_id: int) -> Any:
    """The task's row if the principal may see it, else not found (never "forbidden": no probing)."""
    row = conn.execute(base_select().where(tasks.c.id == task_id)).mappings().one_or_none()
    if row is None:
        raise not_found(f"task {task_id}")
    report = None
    if row["report_id"]:
        report = conn.execute(select(reports).where(reports.c.id == row["report_id"])).mappings().one_or_none()
    if not can_see_task(principal, row, report):
        raise not_found(f"task {task_id}")
    return row


def get_task(conn: Connection, principal: Principal, task_id: int) -> dict[str, Any]:
    row = load_task(conn, principal, task_id)
    out = task_out(conn, [row], events=True)[0]
    out["gap"] = gap_result(conn, principal, row)
    return out


def list_tasks(conn: Connection, principal: Principal, *, status: str | None = None, mine: bool = False,
               contingent: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Tasks the principal sees: active first by priority and due time, then the rest newest first."""
    stmt = visible_select(principal)
    if status == "overdue":
        stmt = stmt.where(tasks.c.status.in_(ACTIVE), tasks.c.window_end < clock.now())
    elif status == "active":
        stmt = stmt.where(tasks.c.status.in_(ACTIVE))
    elif status:
        stmt = stmt.where(tasks.c.status == status)
    if mine:
        stmt = stmt.where((tasks.c.assignee_user_id == principal.user_id) | and_(
            tasks.c.assignee_user_id.is_(None), tasks.c.contingent_id == principal.contingent_id))
    if contingent:
        stmt = stmt.where(contingents.c.code == contingent)
    rank = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=tasks.c.priority, else_=4)
    active_first = case((tasks.c.status.in_(ACTIVE), 0), else_=1)
    stmt = stmt.order_by(active_first, rank, tasks.c.window_end, tasks.c.id.desc()).limit(limit)
    return task_out(conn, list(conn.execute(stmt).mappings()))


def board(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    """Per contingent: tasks open (or under way), overdue, done and could-not-do, of those visible."""
    visible = visible_select(principal).subquery()
    now = clock.now()
    active = visible.c.status.in_(ACTIVE)
    stmt = (select(visible.c.contingent_code,
                   func.sum(case((active, 1), else_=0)),
                   func.sum(case((and_(active, visible.c.window_end < now), 1), else_=0)),
                   func.sum(case((visible.c.status == "done", 1), else_=0)),
                   func.sum(case((visible.c.status == "cannot_do", 1), else_=0)))
            .group_by(visible.c.contingent_code).order_by(visible.c.contingent_code))
    return [{"contingent": c, "open": int(o or 0), "overdue": int(od or 0), "done": int(d or 0),
             "cannot_do": int(cd or 0)} for c, o, od, d, cd in conn.execute(stmt)]


# --------------------------------------------------------------------------------------------------
# Writing


def append_change(conn: Connection, row: Any, event: str) -> int:
    """One ``task`` change: its pullers are decided at pull time from the task as it stands."""
    return feed.append(conn, kind="task", ref=str(row["id"]), contingent_id=row["contingent_id"],
                       payload={"event": event})


def _assignee(conn: Connection, principal: Principal, body: TaskIn, filled: Filled) -> tuple[int | None, int | None]:
    """(contingent id, user id) of the assignee, checked against the creator and the report."""
    a = body.assignee
    if bool(a.contingent) == bool(a.user):
        raise invalid("assignee", "name exactly one of contingent or user")
    if a.user:
        row = conn.execute(select(users.c.id, users.c.role, users.c.contingent_id, users.c.active)
                           .where(users.c.username == a.user)).mappings().one_or_none()
        if row is None or not row["active"]:
            raise invalid("assignee.user", f"no active user {a.user!r}")
        if Role(row["role"]) == Role.ADMIN:
            raise invalid("assignee.user", "an administrator does not carry out tasks")
        contingent_id, user_id = row["contingent_id"], row["id"]
        assignee = Principal(user_id=row["id"], username=a.user, role=Role(row["role"]),
                             contingent_id=row["contingent_id"])
    else:
        cid = conn.execute(select(contingents.c.id).where(contingents.c.code == a.contingent)).scalar()
        if cid is None:
            raise invalid("assignee.contingent", f"no contingent {a.contingent!r}")
        contingent_id, user_id = cid, None
        # Every member of the contingent must be able to read what the task is about.
        assignee = Principal(user_id=-1, username="", role=Role.PATROL, contingent_id=cid)
    if principal.role == Role.COMMANDER and contingent_id != principal.contingent_id:
        raise invalid("assignee", "a commander assigns tasks within their own contingent")
    report = filled.report
    if report is not None and not can_read(assignee, contingent_id=report["contingent_id"],
                                           confidentiality=report["confidentiality"],
                                           author_user_id=report["author_user_id"]):
        raise invalid("assignee", "the assignee may not read the report this task is about")
    return contingent_id, user_id


def create_task(conn: Connection, principal: Principal, body: TaskIn) -> dict[str, Any]:
    """A new task from ``body`` (its kind, title and place default from its source)."""
    if not principal.may(Permission.ASSIGN_TASKS):
        raise forbidden("your role may not assign tasks")
    filled = fill_from_source(conn, principal, body.source)
    place = body.place if body.place is not None else filled.place
    if place is None:
        why = "its source has no confirmed place yet; " if body.source.kind != "manual" else ""
        raise invalid("place", f"{why}give the task a place (a GeoJSON Point, LineString or Polygon)")
    lat, lon = representative_point(place, field="place")
    if body.window_start and body.window_end and body.window_end <= body.window_start:
        raise invalid("window_end", "must be after window_start")
    for name in ("window_start", "window_end"):
        value = getattr(body, name)
        if value is not None and value.tzinfo is None:
            raise invalid(name, "give a time zone (e.g. 2026-12-03T08:00:00Z)")
    contingent_id, user_id = _assignee(conn, principal, body, filled)
    title = " ".join((body.title or filled.title).split())
    if not title:
        raise invalid("title", "give the task a title")
    now = clock.now()
    task_id = conn.execute(insert(tasks).values(
        kind=body.kind or filled.kind, title=title, instructions=body.instructions, priority=body.priority,
        place=place, lat=lat, lon=lon, window_start=body.window_start, window_end=body.window_end,
        contingent_id=contingent_id, assignee_user_id=user_id, report_id=filled.report_id,
        source_kind=body.source.kind, source_ref=filled.source_ref, cells=filled.cells, status="open",
        created_by=principal.user_id, created_at=now, updated_at=now)).inserted_primary_key[0]
    row = conn.execute(base_select().where(tasks.c.id == task_id)).mappings().one()
    append_change(conn, row, "created")
    record(conn, action="task_created", actor=principal.username, actor_user_id=principal.user_id,
           target=str(task_id), detail={"source": body.source.kind, "contingent_id": contingent_id,
                                        "assignee_user_id": user_id})
    return task_out(conn, [row])[0]


def add_event(conn: Connection, principal: Principal, task_id: int, body: TaskEventIn) -> tuple[dict[str, Any], bool]:
    """Store one event (once per ``event_id``) and the task's new status; (task, stored now)."""
    row = load_task(conn, principal, task_id)
    feed.take_write_lock(conn)  # two devices sending one event at once: one stores, one finds it
    known = conn.execute(select(task_events.c.task_id).where(task_events.c.event_id == body.event_id)).first()
    if known is not None:
        if known.task_id != task_id:
            raise Problem(Code.CONFLICT, "this event_id belongs to another task", field="event_id")
        return get_task(conn, principal, task_id), False
    if not principal.may(Permission.SUBMIT):
        raise forbidden("your role may not act on tasks")
    if body.status in MANAGER_ONLY and not principal.may(Permission.ASSIGN_TASKS):
        raise invalid("status", "only HQ or a commander cancels or reopens a task")
    if body.status == "cannot_do" and not body.note.strip():
        raise invalid("note", "say why the task cannot be done")
    if body.report_id is not None:
        report = conn.execute(select(reports).where(reports.c.id == body.report_id)).mappings().one_or_none()
        if report is None or not can_read(principal, contingent_id=report["contingent_id"],
                                          confidentiality=report["confidentiality"],
                                          author_user_id=report["author_user_id"]):
            # A tablet may send the event before the report's versions: that is retryable.
            raise invalid("report_id", "no report with this id has reached the server (yet)", retryable=True)
    if body.device_time is not None and body.device_time.tzinfo is None:
        raise invalid("device_time", "give a time zone")
    seq = append_change(conn, row, body.status or ("report" if body.report_id else "note"))
    now = clock.now()
    conn.execute(insert(task_events).values(
        task_id=task_id, event_id=body.event_id, status=body.status, note=body.note, report_id=body.report_id,
        device_time=body.device_time, user_id=principal.user_id, device_id=principal.device_id, received_at=now,
        seq=seq))
    refold(conn, task_id, now)
    record(conn, action="task_event", actor=principal.username, actor_user_id=principal.user_id,
           device_id=principal.device_id, target=str(task_id),
           detail={"event_id": body.event_id, "status": body.status})
    return get_task(conn, principal, task_id), True


def refold(conn: Connection, task_id: int, now: datetime) -> str:
    """Store the fold of the task's events (its status, and when the event that finished it came)."""
    events = conn.execute(select(task_events.c.status, task_events.c.received_at)
                          .where(task_events.c.task_id == task_id).order_by(task_events.c.seq)).all()
    status = fold([e.status for e in events])
    done_at = next((e.received_at for e in reversed(events) if e.status == "done"), None)
    conn.execute(update(tasks).where(tasks.c.id == task_id).values(
        status=status, updated_at=now, done_at=done_at if status == "done" else None))
    return status
