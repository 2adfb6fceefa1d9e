"""Routes: list and read reports, their history, review decisions and comments."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from ..deps import ReadConn, Reader, Reviewer, WriteConn
from . import review as review_service
from . import service
from .filters import ReportFilters
from .models import (
    CommentIn,
    CommentWritten,
    ReportOut,
    ReportPage,
    ReviewIn,
    ReviewWritten,
    VersionOut,
)

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("", response_model=ReportPage)
def list_reports(conn: ReadConn, me: Reader, filters: Annotated[ReportFilters, Query()],
                 cursor: str | None = None, limit: int = Query(50, ge=1, le=500),
                 sort: Annotated[Literal["event_time", "-event_time", "received_at", "-received_at", "severity",
                                         "-severity"], Query(description="order over all pages; '-' descending")]
                 = "-event_time") -> dict:
    """Reports the caller may see, newest event first unless ``sort`` says otherwise; filters combine
    with AND; page with ``cursor`` (a cursor belongs to the order it was made for)."""
    return service.list_reports(conn, me, filters, cursor=cursor, limit=limit, sort=sort)


@router.get("/{report_id}", response_model=ReportOut)
def get_report(report_id: str, conn: WriteConn, me: Reader) -> dict:
    """Current state, heads (several when in conflict), consolidated-incident sources, reviews, comments."""
    return service.get_report(conn, me, report_id)


@router.get("/{report_id}/versions", response_model=list[VersionOut])
def versions(report_id: str, conn: WriteConn, me: Reader) -> list[dict]:
    """Every version with parents, author, device, device time and server receipt time."""
    return service.version_history(conn, me, report_id)


@router.post("/{report_id}/review", status_code=201, response_model=ReviewWritten)
def review(report_id: str, body: ReviewIn, conn: WriteConn, me: Reviewer) -> dict:
    """Verify, reject or ask for more information, with a comment; devices pull the decision."""
    return review_service.review(conn, me, report_id=report_id, status=body.status, comment=body.comment)


@router.post("/{report_id}/comments", status_code=201, response_model=CommentWritten)
def comment(report_id: str, body: CommentIn, conn: WriteConn, me: Reader) -> dict:
    """Comment on a report you may read; devices pull comments."""
    return review_service.add_comment(conn, me, report_id=report_id, text=body.text)
