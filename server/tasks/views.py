"""Routes: tasks (create, list, board, one, events) and the follow-up of human-rights concerns."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from ..access import Permission, Principal
from ..deps import ReadConn, Reader, WriteConn, require
from . import cases, service
from .models import Board, Case, CaseIn, CaseList, EventAnswer, Task, TaskEventIn, TaskIn, TaskList

router = APIRouter(tags=["tasks"])

TaskId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the task's id")]
ReportId = Annotated[str, Path(min_length=1, max_length=36, description="the human-rights concern's report id")]
Assigner = Annotated[Principal, Depends(require(Permission.ASSIGN_TASKS))]
CaseWorker = Annotated[Principal, Depends(require(Permission.CASEWORK))]
StatusFilter = Literal["active", "overdue", "open", "accepted", "started", "done", "cannot_do", "cancelled"]


@router.post("/tasks", response_model=Task, status_code=201)
def create(body: TaskIn, conn: WriteConn, me: Assigner) -> dict:
    """Create a task (HQ, or a commander for their own contingent). Its kind, title and place default
    from ``source``: a coverage gap's or hot spot's H3 cell, an alert, a community alert or a report."""
    return service.create_task(conn, me, body)


@router.get("/tasks", response_model=TaskList)
def list_(conn: ReadConn, me: Reader,
          status: Annotated[StatusFilter | None, Query(description="active = open, accepted or started")] = None,
          mine: Annotated[bool, Query(description="only tasks for you or your contingent")] = False,
          contingent: Annotated[str | None, Query(max_length=32)] = None) -> dict:
    """The tasks you may see: active ones first, by priority and due time."""
    return {"tasks": service.list_tasks(conn, me, status=status, mine=mine, contingent=contingent)}


@router.get("/tasks/board", response_model=Board)
def board(conn: ReadConn, me: Reader) -> dict:
    """Per contingent: tasks open, overdue, done and could-not-do (of those you may see)."""
    return {"contingents": service.board(conn, me)}


@router.get("/tasks/{task_id}", response_model=Task)
def get(conn: ReadConn, me: Reader, task_id: TaskId) -> dict:
    """One task with its events and, for a gap or hot-spot patrol, the cells before and after."""
    return service.get_task(conn, me, task_id)


@router.post("/tasks/{task_id}/events", response_model=EventAnswer, status_code=201)
def add_event(body: TaskEventIn, conn: WriteConn, me: Reader, task_id: TaskId, response: Response) -> dict:
    """Record what happened (accepted, started, done, cannot_do with a reason; a report filed for it).
    The same ``event_id`` twice is stored once (200 the second time)."""
    task, stored = service.add_event(conn, me, task_id, body)
    response.status_code = 201 if stored else 200
    return {"stored": stored, "task": task}


@router.get("/cases", response_model=CaseList)
def list_cases(conn: ReadConn, me: CaseWorker,
               overdue: Annotated[bool, Query(description="only overdue cases")] = False) -> dict:
    """Human-rights concerns and their follow-up, overdue first (protection team only)."""
    return {"cases": cases.list_cases(conn, me, overdue_only=overdue)}


@router.get("/cases/{report_id}", response_model=Case)
def get_case(conn: ReadConn, me: CaseWorker, report_id: ReportId) -> dict:
    """One concern's follow-up."""
    return cases.get_case(conn, me, report_id)


@router.put("/cases/{report_id}", response_model=Case)
def set_case(body: CaseIn, conn: WriteConn, me: CaseWorker, report_id: ReportId) -> dict:
    """Set a concern's case status, next action, due date and responsible officer."""
    return cases.set_case(conn, me, report_id, body)
