"""Requests and answers of the task and case follow-up routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..answers import Answer

TaskKind = Literal["patrol", "verify", "follow_up", "other"]
Priority = Literal["low", "normal", "high", "urgent"]
SourceKind = Literal["coverage_gap", "hotspot", "alert", "community_alert", "report", "manual"]
EventStatus = Literal["accepted", "started", "done", "cannot_do", "cancelled", "reopened"]
CaseStatus = Literal["open", "monitoring", "referred", "closed"]


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: SourceKind
    ref: str | None = Field(default=None, max_length=64,
                            description="The H3 cell (hex) of a gap or hot spot, an alert's or community "
                                        "alert's id, or a report's id")


class Assignee(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contingent: str | None = Field(default=None, max_length=32, description="A contingent's code")
    user: str | None = Field(default=None, max_length=64, description="A user's username")


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Source = Field(default_factory=lambda: Source(kind="manual"),
                           description="What the task comes from; its place and kind default from it")
    kind: TaskKind | None = None
    title: str | None = Field(default=None, max_length=200)
    instructions: str = Field(default="", max_length=4000)
    priority: Priority = "normal"
    place: dict[str, Any] | None = Field(default=None, description="A GeoJSON Point, LineString or Polygon")
    window_start: datetime | None = None
    window_end: datetime | None = None
    assignee: Assignee


class TaskEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: str = Field(min_length=8, max_length=36, pattern=r"^[A-Za-z0-9-]+$",
                          description="Made by the client (a UUID): the same event sent twice is stored once")
    status: EventStatus | None = Field(default=None, description="The task's new status; none for a note or a "
                                                                 "report filed for the task")
    note: str = Field(default="", max_length=2000, description="Required with cannot_do: the reason")
    report_id: str | None = Field(default=None, max_length=36, description="A report filed for the task")
    device_time: datetime | None = None


class TaskEvent(Answer):
    event_id: str
    status: str | None
    note: str
    report_id: str | None
    by: str
    device_time: datetime | None
    received_at: datetime
    seq: int


class GapResult(Answer):
    cells_before: int = Field(description="Gap cells when the task was made")
    cells_after: int | None = Field(description="Of them, cells no patrol route has crossed since; None while "
                                                "the task is not done")
    closed: bool | None


class Task(Answer):
    id: int
    kind: str
    title: str
    instructions: str
    priority: str
    place: dict[str, Any] | None
    lat: float | None
    lon: float | None
    window_start: datetime | None
    window_end: datetime | None
    contingent: str | None
    assignee: str | None
    report_id: str | None
    source: dict[str, Any]
    status: str
    overdue: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None
    events: list[TaskEvent] = []
    gap: GapResult | None = None


class TaskList(Answer):
    tasks: list[Task]


class EventAnswer(Answer):
    stored: bool = Field(description="False when this event_id was stored before")
    task: Task


class BoardRow(Answer):
    contingent: str | None
    open: int
    overdue: int
    done: int
    cannot_do: int


class Board(Answer):
    contingents: list[BoardRow]


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_status: CaseStatus
    next_action: str = Field(default="", max_length=2000)
    due_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")
    officer: str | None = Field(default=None, max_length=64, description="The responsible officer's username")


class Case(Answer):
    report_id: str
    title: str
    category: str
    event_time: datetime
    case_status: str
    next_action: str
    due_date: str | None
    officer: str | None
    overdue: bool
    updated_at: datetime | None


class CaseList(Answer):
    cases: list[Case]
