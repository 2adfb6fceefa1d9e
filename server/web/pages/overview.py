"""The overview page, the landing page of HQ roles and commanders: new, critical, waiting, trends.

Figures come from ``reports.overview`` (only what the visitor may read); each links to the reports
table filtered to the reports behind it. "Since your last visit" is the time of the previous
overview in this browser, kept in a cookie that holds nothing but that time (24 hours ago on a
first visit).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ....common.colours import category_colour
from ... import clock
from ...deps import ReadConn
from ...reports.overview import BACKLOG_AGES, CRITICAL_SEVERITY, Figure, overview
from ..render import page
from ..services import as_page
from ..session import ReviewerPage

router = APIRouter(include_in_schema=False)

LAST_VISIT_COOKIE = "pw_last_overview"
FIRST_VISIT_WINDOW = timedelta(hours=24)


def _last_visit(request: Request, now: datetime) -> datetime:
    raw = request.cookies.get(LAST_VISIT_COOKIE, "")
    try:
        seen = datetime.fromisoformat(raw)
    except ValueError:
        return now - FIRST_VISIT_WINDOW
    if seen.tzinfo is None or seen > now:
        return now - FIRST_VISIT_WINDOW
    return seen


def link(figure: Figure) -> str:
    """The reports table showing the reports behind a figure."""
    return "/reports?" + urlencode(figure.filters)


def _bars(series: list[tuple[str, list[int]]], weeks: int) -> list[list[tuple[str, int, int]]]:
    """Per week, the stacked segments (key, bottom, height) of every series, in series order."""
    stacks: list[list[tuple[str, int, int]]] = []
    for week in range(weeks):
        bottom = 0
        segments = []
        for key, values in series:
            if values[week]:
                segments.append((key, bottom, values[week]))
                bottom += values[week]
        stacks.append(segments)
    return stacks


@router.get("/overview")
def overview_page(request: Request, conn: ReadConn, me: ReviewerPage) -> Response:
    """What is new since the last visit, critical reports and casualties, the review backlog,
    tablets' last contact per contingent, and weekly trends: every number links to its reports."""
    now = clock.now()
    since = _last_visit(request, now)
    with as_page(me):
        data = overview(conn, me, now=now, since=since)
    trends = data["trends"]
    peak = max([*trends["totals"], 1])
    context: dict[str, Any] = {
        "data": data, "link": link, "backlog_ages": BACKLOG_AGES, "critical_severity": CRITICAL_SEVERITY,
        "peak": peak, "colour": category_colour,
        "category_bars": _bars(trends["by_category"], len(trends["weeks"])),
        "casualty_peak": max([*trends["casualties"]["killed"], *trends["casualties"]["injured"], 1]),
        "week_link": lambda i: "/reports?" + urlencode({
            "start": trends["weeks"][i].astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "end": (trends["weeks"][i] + timedelta(weeks=1)).astimezone(UTC).isoformat().replace("+00:00", "Z")}),
    }
    response = page(request, "overview.html", me, **context)
    response.set_cookie(LAST_VISIT_COOKIE, now.isoformat(), httponly=True, samesite="lax",
                        secure=request.url.scheme == "https" or request.app.state.settings.environment != "development",
                        max_age=90 * 24 * 3600, path="/")
    return response
