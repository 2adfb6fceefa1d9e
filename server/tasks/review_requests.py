"""Review requests become tasks: HQ's ``needs_information`` is a task for the report's author.

``request_information`` is called by the review itself (in its transaction), so the request and
its task are one commit. The task is closed by the author's edit: ``REVIEW_TASKS`` follows the
feed's ``version`` changes once pushes pause and, for a report with an open request, records a
``done`` event (made by the author, naming the edit) once a version of it arrives from one of the
author's devices after the request. It appends to the feed, so it writes durably.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from .. import clock, feed_consumers
from ..access import Principal
from ..db.tables import devices, task_events, tasks
from ..reports.projection import PROJECTION
from .service import ACTIVE, append_change, base_select, refold

SOURCE = "review"


def request_information(conn: Connection, reviewer: Principal, report: dict[str, Any], comment: str) -> int:
    """The author's task for this request (an open one is reused: one question at a time)."""
    open_task = conn.execute(select(tasks.c.id).where(tasks.c.source_kind == SOURCE,
                                                      tasks.c.report_id == report["id"],
                                                      tasks.c.status.in_(ACTIVE))).scalar()
    if open_task is not None:
        return int(open_task)
    now = clock.now()
    place = ({"type": "Point", "coordinates": [report["lon"], report["lat"]]}
             if report.get("lat") is not None and report.get("lon") is not None else None)
    task_id = conn.execute(insert(tasks).values(
        kind="follow_up", title="HQ needs information", instructions=comment, priority="high", place=place,
        lat=report.get("lat"), lon=report.get("lon"), contingent_id=report["contingent_id"],
        assignee_user_id=report["author_user_id"], report_id=report["id"], source_kind=SOURCE,
        source_ref=report["id"], status="open", created_by=reviewer.user_id, created_at=now,
        updated_at=now)).inserted_primary_key[0]
    append_change(conn, conn.execute(base_select().where(tasks.c.id == task_id)).mappings().one(), "created")
    return int(task_id)


def _close_answered(conn: Connection, changes: Sequence[Row[Any]], _computed: Any) -> None:
    by_report: dict[str, list[Row[Any]]] = {}
    for c in changes:
        if c.report_id:
            by_report.setdefault(c.report_id, []).append(c)
    if not by_report:
        return
    waiting = conn.execute(base_select().where(tasks.c.source_kind == SOURCE, tasks.c.status.in_(ACTIVE),
                                         tasks.c.report_id.in_(list(by_report)))).mappings().all()
    for task in waiting:
        author_devices = set(conn.execute(select(devices.c.id).where(
            devices.c.user_id == task["assignee_user_id"])).scalars())
        edit = next((c for c in by_report[task["report_id"]]
                     if c.created_at >= task["created_at"] and c.device_id in author_devices), None)
        if edit is None:
            continue
        now = clock.now()
        seq = append_change(conn, task, "done")
        # A made-up event id that is the same however often this chunk is redone.
        conn.execute(insert(task_events).values(
            task_id=task["id"], event_id=f"edit-{edit.seq}", status="done", note="the author edited the report",
            report_id=task["report_id"], user_id=task["assignee_user_id"], device_id=edit.device_id,
            received_at=now, seq=seq))
        refold(conn, task["id"], now)


REVIEW_TASKS = feed_consumers.FeedConsumer(
    name="tasks.review_requests_through_seq",
    kinds=frozenset({"version"}),
    write=_close_answered,
    lock_key=7_000_104,
    # Once pushes pause (at most 30 s later), like duplicate proposals: closing the task is not
    # urgent, and a durable write per chunk during a burst of pushes would queue them for SQLite's lock.
    timing="after_pause",
    needs=(PROJECTION,),
    transaction=feed_consumers.durable_transaction,
)
