"""Reports: the filtered, searchable, paged table with counts; one report's detail; review and comments.

Filters are ``reports.filters.ReportFilters`` (the same the API, exports and hotspots take), read
from the query string, so a filtered table's URL can be bookmarked and handed to the exports page.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from ...access import Permission, can_review
from ...attachments import service as attachments
from ...deps import ReadConn, SettingsDep
from ...duplicates.candidates import candidates_for
from ...duplicates.views import current_proposals
from ...problems import invalid
from ...reports import review as review_service
from ...reports import service
from ...reports.filters import REVIEW_STATUSES, ReportFilters, filter_query, filters_from_query
from ...reports.review import DECISIONS
from ...saved_filters import service as saved
from ...users.service import list_contingents
from ..render import category_codes, page
from ..services import WriteTx, as_page
from ..session import CSRF, ReaderPage, ReviewerPage

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (25, 50, 100)


def filters_from(request: Request) -> tuple[ReportFilters, dict[str, Any], str]:
    """The query string's filters, the raw values (to refill the form) and an error naming the field."""
    return filters_from_query(request.query_params)


def _limit(request: Request) -> int:
    try:
        value = int(request.query_params.get("limit", "50"))
    except ValueError:
        return 50
    return value if value in PAGE_SIZES else 50


@router.get("/reports")
def list_page(request: Request, conn: ReadConn, me: ReaderPage) -> Response:
    """The reports table: filters, text search, per-status counts, cursor paging."""
    filters, raw, error = filters_from(request)
    limit = _limit(request)
    cursor = request.query_params.get("cursor") or None
    sort = request.query_params.get("sort") or service.DEFAULT_SORT
    with as_page(me):
        result = service.list_reports(conn, me, filters, cursor=cursor, limit=limit, sort=sort)
        # Counts per review status under the same filters (the status filter itself aside).
        counts = {s: service.list_reports(conn, me, filters.model_copy(update={"review_status": [s]}),
                                          cursor=None, limit=1)["total"] for s in REVIEW_STATUSES}
    return page(request, "reports.html", me, result=result, raw=raw, error=error, counts=counts,
                statuses=REVIEW_STATUSES, kinds=("incident", "patrol", "hr_concern"), categories=category_codes(),
                contingents=[c["code"] for c in list_contingents(conn)], query=filter_query(raw), limit=limit,
                page_sizes=PAGE_SIZES, cursor=cursor, decisions=DECISIONS, sort=sort, sorts=tuple(service.SORTS), done=request.query_params.get("done", ""),
                done_count=request.query_params.get("n", ""), saved_filters=saved.list_filters(conn, me))


@router.post("/reports/saved-filters")
def save_filter(conn: WriteTx, me: ReaderPage, _csrf: CSRF, name: Annotated[str, Form(max_length=saved.NAME_MAX)] = "",
                query: Annotated[str, Form(max_length=saved.QUERY_MAX)] = "") -> Response:
    """Save the list's current filters under a name (the same name replaces that filter)."""
    with as_page(me):
        out, _created = saved.save_filter(conn, me, name=name, query=query)
    sep = "&" if out["query"] else ""
    return RedirectResponse(f"/reports?{out['query']}{sep}{urlencode({'done': 'filter_saved'})}", status_code=303)


@router.post("/reports/saved-filters/{filter_id}/delete")
def delete_filter(conn: WriteTx, me: ReaderPage, _csrf: CSRF,
                  filter_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
                  list_query: Annotated[str, Form(alias="list", max_length=4000)] = "") -> Response:
    """Delete one of your saved filters; back to the list as it was."""
    with as_page(me):
        saved.delete_filter(conn, me, filter_id)
    back = filter_query(filters_from_query(list_query)[1])
    return RedirectResponse(f"/reports?{back}{'&' if back else ''}done=filter_deleted", status_code=303)


@router.get("/reports/next-unreviewed")
def next_unreviewed(request: Request, conn: ReadConn, me: ReviewerPage) -> Response:
    """The review queue: the oldest-received unreviewed report in the current filters that the
    visitor may review, after the one just handled (``after``); back to the list when none is left."""
    filters, raw, error = filters_from(request)
    if error:
        return RedirectResponse(f"/reports?{filter_query(raw)}", status_code=303)
    after = request.query_params.get("after") or None
    with as_page(me):
        report_id = review_service.next_unreviewed(conn, me, filters, after=after)
    query = filter_query(raw)
    if report_id is None:
        return RedirectResponse(f"/reports?{query}{'&' if query else ''}done=queue_empty", status_code=303)
    return RedirectResponse(f"/reports/{report_id}?{urlencode({'list': query})}", status_code=303)


@router.post("/reports/bulk-review")
def bulk_review(request: Request, conn: WriteTx, me: ReviewerPage, _csrf: CSRF,
                status: Annotated[str, Form()], ids: Annotated[list[str], Form(max_length=500)],
                comment: Annotated[str, Form(max_length=4000)] = "",
                list_query: Annotated[str, Form(alias="list", max_length=4000)] = "") -> Response:
    """One decision and one comment for every selected report, all or none: a report the visitor
    may not review refuses the whole batch (the transaction is rolled back) and names it."""
    with as_page(me):
        if status not in DECISIONS:
            raise invalid("status", f"status must be one of {', '.join(DECISIONS)}")
        chosen = list(dict.fromkeys(i for i in ids if i))
        if not chosen:
            raise invalid("ids", "select at least one report")
        for report_id in chosen:
            review_service.review(conn, me, report_id=report_id, status=status, comment=comment)
    done = urlencode({"done": status, "n": len(chosen)})
    return RedirectResponse(f"/reports?{list_query}{'&' if list_query else ''}{done}", status_code=303)


# Proposals catch up in a route-level dependency, which FastAPI runs before the parameters': it
# writes in a transaction of its own, and on SQLite it would wait out the busy timeout behind this
# page's own write transaction if it ran after it.
@router.get("/reports/{report_id}", dependencies=[Depends(current_proposals)])
def detail_page(report_id: str, request: Request, conn: WriteTx, me: ReaderPage) -> Response:
    """One report: current state, heads, version history (who, when, device), sources, reviews, comments."""
    # A write transaction: reading a restricted report is itself audited by the service.
    with as_page(me):
        report = service.get_report(conn, me, report_id)
        history = service.version_history(conn, me, report_id)
        row = service.load_readable(conn, me, report_id)
        candidates = candidates_for(conn, me, report_id) if me.may(Permission.ANALYSE) else []
    may_review = can_review(me, contingent_id=row["contingent_id"], confidentiality=row["confidentiality"],
                            author_user_id=row["author_user_id"])
    return page(request, "report.html", me, report=report, history=list(reversed(history)),
                may_review=may_review, decisions=DECISIONS, done=request.query_params.get("done", ""),
                list_query=request.query_params.get("list", ""), candidates=candidates)


@router.post("/reports/{report_id}/review")
def review_submit(report_id: str, conn: WriteTx, me: ReviewerPage, _csrf: CSRF,
                  status: Annotated[str, Form()], comment: Annotated[str, Form(max_length=4000)] = "",
                  list_query: Annotated[str, Form(alias="list", max_length=4000)] = "",
                  then: Annotated[str, Form()] = "") -> Response:
    """Verify, reject or ask for more information (the service checks the contingent rule); with
    ``then=next``, go on to the next unreviewed report of the list the reviewer came from."""
    with as_page(me):
        if status not in DECISIONS:
            raise invalid("status", f"status must be one of {', '.join(DECISIONS)}")
        review_service.review(conn, me, report_id=report_id, status=status, comment=comment)
    if then == "next":
        return RedirectResponse(f"/reports/next-unreviewed?{list_query}{'&' if list_query else ''}"
                                f"{urlencode({'after': report_id})}", status_code=303)
    back = {"done": status} | ({"list": list_query} if list_query else {})
    return RedirectResponse(f"/reports/{report_id}?{urlencode(back)}", status_code=303)


@router.post("/reports/{report_id}/comments")
def comment_submit(report_id: str, conn: WriteTx, me: ReaderPage, _csrf: CSRF,
                   text: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """Comment on a report you may read."""
    with as_page(me):
        if not text.strip():
            raise invalid("text", "write a comment first")
        review_service.add_comment(conn, me, report_id=report_id, text=text.strip())
    return RedirectResponse(f"/reports/{report_id}?done=comment", status_code=303)


@router.get("/attachments/{sha256}")
def attachment(sha256: str, conn: WriteTx, settings: SettingsDep, me: ReaderPage) -> Response:
    """An attachment of a report you may read: JPEG/PNG/WebP inline, anything else as a download.

    The audit entry of a restricted read commits before the bytes stream (``WriteTx``), as in the API.
    """
    with as_page(me):
        dl = attachments.open_download(conn, me, root=settings.attachments_dir, sha256=sha256)
    return StreamingResponse(dl.iter_bytes(), media_type=dl.media_type, headers=attachments.download_headers(dl))
