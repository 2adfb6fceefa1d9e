"""Dashboard pages for tasks and case follow-up.

``/tasks``: the task board per contingent (open, overdue, done, could not do) and the tasks the
visitor may see; ``/tasks/new``: a task in one step from a coverage gap, hot spot, alert, community
alert or report (the links on the map, the operations view and the report and alert pages fill in
the source); ``/tasks/{id}``: its history and, for a gap or hot-spot patrol, the gap before and
after. ``/cases``: the protection team's follow-up of human-rights concerns, overdue first.
Everything goes through ``tasks.service`` and ``tasks.cases`` under the API's rules.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from ...problems import invalid
from ...tasks import cases, service
from ...tasks.models import CaseIn, TaskEventIn, TaskIn
from ...users.service import list_contingents, list_users
from ..render import page
from ..services import WriteTx, as_page
from ..session import CSRF, AssignerPage, CaseworkPage, FormFields, ReaderPage

router = APIRouter(include_in_schema=False)

KINDS = ("patrol", "verify", "follow_up", "other")
PRIORITIES = ("urgent", "high", "normal", "low")
SOURCES = ("coverage_gap", "hotspot", "alert", "community_alert", "report", "manual")
CASE_STATUSES = ("open", "monitoring", "referred", "closed")


def _validated(model: type, data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise invalid(".".join(str(p) for p in err["loc"]) or "form", err["msg"]) from None


def _utc(value: str, field: str) -> datetime | None:
    """A ``datetime-local`` field (no zone): the dashboard works in UTC, as DTGs do."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise invalid(field, "not a date and time") from None


@router.get("/tasks")
def tasks_page(request: Request, conn: WriteTx, me: ReaderPage,
               status: Annotated[str, Query(max_length=16)] = "active") -> Response:
    with as_page(me):
        listed = service.list_tasks(conn, me, status=status if status != "all" else None)
        board = service.board(conn, me)
    return page(request, "tasks.html", me, tasks=listed, board=board, status=status)


@router.get("/tasks/new")
def new_task_page(request: Request, conn: WriteTx, me: AssignerPage,
                  source_kind: Annotated[str, Query(max_length=32)] = "manual",
                  source_ref: Annotated[str, Query(max_length=64)] = "") -> Response:
    if source_kind not in SOURCES:
        source_kind = "manual"
    users = [u for u in list_users(conn) if u["active"] and u["role"] != "admin"
             and (me.contingent_code is None or u["contingent"] == me.contingent_code)]
    contingents = [c for c in list_contingents(conn) if me.contingent_code in (None, c["code"])]
    return page(request, "task_form.html", me, source_kind=source_kind, source_ref=source_ref, kinds=KINDS,
                priorities=PRIORITIES, users=users, contingents=contingents)


@router.post("/tasks/new")
def create_task(request: Request, conn: WriteTx, me: AssignerPage, _csrf: CSRF, form: FormFields) -> Response:
    with as_page(me):
        assignee = form.get("assignee", "")
        who, _sep, name = assignee.partition(":")
        data: dict[str, Any] = {
            "source": {"kind": form.get("source_kind") or "manual", "ref": form.get("source_ref") or None},
            "assignee": {"contingent": name} if who == "contingent" else {"user": name} if who == "user" else {},
            "priority": form.get("priority") or "normal", "instructions": form.get("instructions", ""),
            "window_start": _utc(form.get("window_start", ""), "window_start"),
            "window_end": _utc(form.get("window_end", ""), "window_end"),
        }
        for key in ("title", "kind"):
            if form.get(key):
                data[key] = form[key]
        if form.get("lat") and form.get("lon"):
            try:
                data["place"] = {"type": "Point", "coordinates": [float(form["lon"]), float(form["lat"])]}
            except ValueError:
                raise invalid("place", "latitude and longitude are numbers") from None
        task = service.create_task(conn, me, _validated(TaskIn, data))
    return RedirectResponse(f"/tasks/{task['id']}?done=created", status_code=303)


@router.get("/tasks/{task_id}")
def task_page(request: Request, conn: WriteTx, me: ReaderPage, task_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
              ) -> Response:
    with as_page(me):
        task = service.get_task(conn, me, task_id)
    return page(request, "task.html", me, task=task, done=request.query_params.get("done", ""))


@router.post("/tasks/{task_id}/events")
def task_event(request: Request, conn: WriteTx, me: ReaderPage, _csrf: CSRF, form: FormFields,
               task_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> Response:
    """HQ cancels or reopens a task, or anyone who may act on it adds a note, from the task's page."""
    with as_page(me):
        body = _validated(TaskEventIn, {"event_id": str(uuid.uuid4()), "status": form.get("status") or None,
                                        "note": form.get("note", "")})
        if body.status is None and not body.note.strip():
            raise invalid("note", "write a note")
        service.add_event(conn, me, task_id, body)
    return RedirectResponse(f"/tasks/{task_id}?done={body.status or 'note'}", status_code=303)


@router.get("/cases")
def cases_page(request: Request, conn: WriteTx, me: CaseworkPage) -> Response:
    with as_page(me):
        listed = cases.list_cases(conn, me)
    officers = [u for u in list_users(conn) if u["active"] and u["role"] in ("protection_officer", "hr_officer")]
    return page(request, "cases.html", me, cases=listed, statuses=CASE_STATUSES, officers=officers,
                done=request.query_params.get("done", ""))


@router.post("/cases/{report_id}")
def case_save(request: Request, conn: WriteTx, me: CaseworkPage, _csrf: CSRF, form: FormFields,
              report_id: Annotated[str, Path(min_length=1, max_length=36)]) -> Response:
    with as_page(me):
        body = _validated(CaseIn, {"case_status": form.get("case_status", ""), "next_action": form.get("next_action", ""),
                                   "due_date": form.get("due_date") or None, "officer": form.get("officer") or None})
        cases.set_case(conn, me, report_id, body)
    return RedirectResponse(f"/cases?done={report_id}#case-{report_id}", status_code=303)

