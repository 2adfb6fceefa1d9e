"""Tasks on the tablet: those HQ gave this user or their contingent, and what the patrol did about them.

Pulled ``task`` changes carry the task as the server sees it now (status folded from every
device's events); the latest one wins here. What the patrol does (accept, start, done, cannot do
with a reason, a report filed for the task) is an **event** with an id made here, kept in
``task_events`` until the server has it: it works offline for days, is sent by the sync client
after the reports it may name (``POST /api/v1/tasks/{id}/events``), and sending it twice stores it
once. Until then the list shows the task with the patrol's own latest status, so nothing the user
did seems to vanish.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlcipher3

from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.store import Store

# What a patrol may say about a task (HQ alone cancels or reopens).
STATUSES = ("accepted", "started", "done", "cannot_do")
ACTIVE = ("open", "accepted", "started")
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
_DRAFT_KEY = "task_for_report:"  # meta key: a draft begun from a task


@dataclass(frozen=True)
class PendingEvent:
    """An event waiting to be sent, as the server's events route takes it."""

    event_id: str
    task_id: int
    body: dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def apply_change(conn: sqlcipher3.Connection, change: dict[str, Any], where: str) -> None:
    """Store or refresh one pulled task (inside the pull page's transaction)."""
    task = change.get("task")
    if not isinstance(task, dict) or not isinstance(task.get("id"), int):
        raise InvalidInput(f"{where}.task", "must be an object with an integer id")
    save(conn, task, where)


def save(conn: sqlcipher3.Connection, task: dict[str, Any], where: str = "task") -> None:
    status = task.get("status")
    if not isinstance(status, str):
        raise InvalidInput(f"{where}.status", "must be a string")
    conn.execute(
        "INSERT INTO tasks (task_id, status, data, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(task_id) DO UPDATE SET status = excluded.status, data = excluded.data, "
        "updated_at = excluded.updated_at",
        (task["id"], status, json.dumps(task, ensure_ascii=False, default=str), _now()),
    )


def _with_local_status(store: Store, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    unsent: dict[int, str] = {}
    for task_id, status in store.query("SELECT task_id, status FROM task_events WHERE sent_at IS NULL "
                                       "AND refused IS NULL AND status IS NOT NULL ORDER BY created_at, rowid"):
        unsent[int(task_id)] = status  # the patrol's newest unsent word on each task
    out = []
    for (data,) in rows:
        task = json.loads(data)
        task["local_status"] = unsent.get(task["id"], task["status"])
        task["unsent"] = task["id"] in unsent
        out.append(task)
    return out


def my_tasks(store: Store, *, include_finished: bool = False) -> list[dict[str, Any]]:
    """Tasks on this tablet, as the list shows them: active first, urgent first, soonest due first."""
    tasks = _with_local_status(store, store.query("SELECT data FROM tasks"))
    if not include_finished:
        tasks = [t for t in tasks if t["local_status"] in ACTIVE]
    far = "9999"
    tasks.sort(key=lambda t: (t["local_status"] not in ACTIVE, PRIORITY_RANK.get(str(t.get("priority")), 4),
                              t.get("window_end") or far, -t["id"]))
    return tasks


def get(store: Store, task_id: int) -> dict[str, Any] | None:
    rows = store.query("SELECT data FROM tasks WHERE task_id = ?", (task_id,))
    return _with_local_status(store, rows)[0] if rows else None


def record(store: Store, task_id: int, *, status: str | None = None, note: str = "",
           report_id: str | None = None) -> str:
    """Record what the patrol did (offline); returns the event's id. Sent at the next sync."""
    if get(store, task_id) is None:
        raise InvalidInput("task_id", "no such task on this tablet")
    if status is not None and status not in STATUSES:
        raise InvalidInput("status", f"one of {', '.join(STATUSES)}")
    note = note.strip()
    if status == "cannot_do" and not note:
        raise InvalidInput("note", "say why the task cannot be done")
    if len(note) > 2000:
        raise InvalidInput("note", "at most 2000 characters")
    if status is None and report_id is None and not note:
        raise InvalidInput("status", "say what happened")
    event_id = str(uuid.uuid4())
    with store.transaction() as conn:
        conn.execute("INSERT INTO task_events (event_id, task_id, status, note, report_id, device_time, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (event_id, task_id, status, note, report_id, _now(), _now()))
    return event_id


def draft_for(store: Store, report_id: str, task_id: int) -> None:
    """A report begun from a task: once it is finished, it is filed for that task (``report_finished``)."""
    if get(store, task_id) is None:
        raise InvalidInput("task_id", "no such task on this tablet")
    with store.transaction() as conn:
        store.set_meta(conn, f"{_DRAFT_KEY}{report_id}", str(task_id))


def report_finished(store: Store, report_id: str) -> str | None:
    """The report was finalised: if it was begun from a task, record it for the task (once)."""
    task_id = store.get_meta(f"{_DRAFT_KEY}{report_id}")
    if not task_id:
        return None
    event_id = record(store, int(task_id), report_id=report_id)
    with store.transaction() as conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (f"{_DRAFT_KEY}{report_id}",))
    return event_id


def pending_events(store: Store) -> list[PendingEvent]:
    """Events not yet stored by the server, oldest first."""
    rows = store.query("SELECT event_id, task_id, status, note, report_id, device_time FROM task_events "
                       "WHERE sent_at IS NULL AND refused IS NULL ORDER BY created_at, rowid")
    out = []
    for event_id, task_id, status, note, report_id, device_time in rows:
        body: dict[str, Any] = {"event_id": event_id, "note": note or "", "device_time": device_time}
        if status is not None:
            body["status"] = status
        if report_id is not None:
            body["report_id"] = report_id
        out.append(PendingEvent(event_id, int(task_id), body))
    return out


def event_sent(store: Store, event_id: str, task: dict[str, Any] | None) -> None:
    """The server has the event: it leaves the queue, and the task as the server now sees it is kept."""
    with store.transaction() as conn:
        conn.execute("UPDATE task_events SET sent_at = ? WHERE event_id = ?", (_now(), event_id))
        if isinstance(task, dict) and isinstance(task.get("id"), int):
            save(conn, task)


def event_refused(store: Store, event_id: str, reason: str) -> None:
    """The server refused the event for good (e.g. the task was withdrawn): kept, with the reason."""
    with store.transaction() as conn:
        conn.execute("UPDATE task_events SET refused = ? WHERE event_id = ?", (reason, event_id))


def refused_events(store: Store) -> list[dict[str, Any]]:
    rows = store.query("SELECT event_id, task_id, status, refused FROM task_events WHERE refused IS NOT NULL")
    return [{"event_id": e, "task_id": t, "status": s, "reason": r} for e, t, s, r in rows]
