"""Requests and answers of the report routes (list, read, history, review, comments)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..answers import Answer


class ReviewIn(BaseModel):
    status: Literal["verified", "rejected", "needs_information"]
    comment: str = Field(default="", max_length=4000)


class CommentIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class ReportSummary(Answer):
    """One row of the reports list: the ``reports`` projection's columns (no body)."""

    id: str
    kind: str
    category: str
    confidentiality: str
    event_time: str | None
    title: str
    review_status: str
    in_conflict: bool


class ReportPage(Answer):
    items: list[ReportSummary]
    next: str | None = Field(description="Pass as `cursor` for the next page; null at the end")
    more: bool
    total: int
    sort: str = Field(default="-event_time", description="The order of the pages (see the `sort` parameter)")


class HeadOut(Answer):
    version_id: str
    author: str | None
    device_id: str | None
    received_at: str | None
    body: dict[str, Any]


class ReviewOut(Answer):
    status: str
    comment: str | None
    by: str | None
    seq: int
    task_id: int | None = Field(default=None, description="needs_information: the author's task it made")


class CommentOut(Answer):
    text: str
    by: str | None
    seq: int


class ReportOut(Answer):
    id: str
    contingent: str
    review_status: str
    in_conflict: bool
    incident_id: str | None
    incident_sources: list[str]
    current: dict[str, Any] = Field(description="The newest head's body, redacted for the caller")
    version_id: str
    heads: list[HeadOut]
    reviews: list[ReviewOut]
    comments: list[CommentOut]
    received_at: str | None
    updated_at: str | None


class VersionOut(Answer):
    version_id: str
    parents: list[str]
    body: dict[str, Any]
    device_id: str | None = Field(description="Null for a web or API edit (device key user:<author>)")
    device_time: str | None
    received_at: str | None
    seq: int
    author: str


class ReviewWritten(Answer):
    report_id: str
    status: str
    comment: str
    seq: int
    by: str


class CommentWritten(Answer):
    report_id: str
    text: str
    seq: int
    by: str
