"""The exports page: the reports table's filters plus a format and a language, and the download itself.

A large export can instead be prepared as a job (``exports.jobs``) with a progress page and a
download when ready. The download goes through ``exports.service`` exactly as ``GET /api/v1/exports/{fmt}`` does: the
same records and redaction, the audit entry, place names and hotspot hexagons on the PDF's map,
and a stream with its own read transaction, so a large export is never held in memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import QueryParams

from ...basemaps.mosaic import background_for
from ...deps import ReadConn, SettingsDep
from ...exports import jobs, service
from ...exports.filters import ExportFilters
from ...exports.formats import FORMATS
from ...problems import invalid
from ...users.service import list_contingents
from ..i18n import LANGUAGES
from ..render import category_codes, page
from ..services import WriteTx, as_page
from ..session import CSRF, ExporterPage
from .reports import filter_query, filters_from, filters_from_query

router = APIRouter(include_in_schema=False)


@router.get("/exports")
def exports_page(request: Request, conn: ReadConn, me: ExporterPage) -> Response:
    _filters, raw, error = filters_from(request)
    return page(request, "exports.html", me, raw=raw, error=error, formats=list(FORMATS),
                statuses=("unreviewed", "verified", "rejected", "needs_information"),
                kinds=("incident", "patrol", "hr_concern"), categories=category_codes(),
                contingents=[c["code"] for c in list_contingents(conn)], query=filter_query(raw))


@router.get("/exports/download")
def download(request: Request, conn: WriteTx, me: ExporterPage, format: Annotated[str, Query()] = "csv",
             lang: Annotated[str, Query()] = "en") -> Response:
    """The export file of the reports the caller may see under the filters in the query string."""
    report_filters, _raw, error = filters_from(request)
    with as_page(me):
        if error:
            field, _, message = error.partition(": ")
            raise invalid(field, message)
        if format not in FORMATS:
            raise invalid("format", f"format must be one of {', '.join(FORMATS)}")
        if lang not in LANGUAGES:
            raise invalid("lang", f"lang must be one of {', '.join(LANGUAGES)}")
        filters = ExportFilters.model_validate(report_filters.model_dump())
        places = service.place_names(conn, lang=lang) if format == "pdf" else []
        hexagons = service.hotspot_cells(conn, principal=me, filters=filters,
                                         cache=getattr(request.app.state, "hotspot_cache", None)) \
            if format == "pdf" else []
        # Who exported what is on the record (committed before the first byte leaves: WriteTx).
        service.audit_export(conn, principal=me, fmt=format, filters=filters, lang=lang)
    spec = FORMATS[format]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%MZ")
    # A CSV downloaded from the browser is opened by a spreadsheet, which reads UTF-8 French and
    # Arabic correctly only after a byte-order mark.
    background = background_for(conn, request.app.state.settings) if format == "pdf" else None
    body = service.stream(request.app.state.engine, principal=me, fmt=format, filters=filters, lang=lang,
                          bom=format == "csv", places=places, hexagons=hexagons, background=background)
    return StreamingResponse(body, media_type=spec.media_type,
                             headers={"Content-Disposition": f'attachment; filename="peacewatch-{stamp}.{spec.extension}"'})


@router.post("/exports/jobs")
def start_job(request: Request, after: BackgroundTasks, conn: WriteTx, me: ExporterPage, settings: SettingsDep,
              _csrf: CSRF,
              query: Annotated[str, Form(max_length=8000)], format: Annotated[str, Form()] = "csv",
              lang: Annotated[str, Form()] = "en") -> Response:
    """Prepare the export in the background: the filters come as the export form's query string."""
    report_filters, _raw, error = filters_from_query(QueryParams(query))
    with as_page(me):
        if error:
            field, _, message = error.partition(": ")
            raise invalid(field, message)
        if lang not in LANGUAGES:
            raise invalid("lang", f"lang must be one of {', '.join(LANGUAGES)}")
        filters = ExportFilters.model_validate(report_filters.model_dump())
        places = service.place_names(conn, lang=lang) if format == "pdf" else []
        hexagons = service.hotspot_cells(conn, principal=me, filters=filters,
                                         cache=getattr(request.app.state, "hotspot_cache", None)) \
            if format == "pdf" else []
        background = background_for(conn, settings) if format == "pdf" else None
        service.audit_export(conn, principal=me, fmt=format, filters=filters, lang=lang)
        job, launch = jobs.start(request.app.state.engine, data_dir=settings.data_dir, principal=me, fmt=format,
                                 filters=filters, lang=lang, places=places, hexagons=hexagons, bom=format == "csv",
                                 background=background)
    after.add_task(launch)  # once this request's transaction has committed
    return RedirectResponse(f"/exports/jobs/{job.id}", status_code=303)


@router.get("/exports/jobs/{job_id}")
def job_page(job_id: str, request: Request, me: ExporterPage, settings: SettingsDep) -> Response:
    """A job's progress (the page refreshes itself while it runs) and its download when ready."""
    with as_page(me):
        job = jobs.get(settings.data_dir, me, job_id)
    return page(request, "export_job.html", me, job=job)


@router.get("/exports/jobs/{job_id}/file")
def job_file(job_id: str, me: ExporterPage, settings: SettingsDep) -> Response:
    with as_page(me):
        job, path = jobs.file_of(settings.data_dir, me, job_id)
    return FileResponse(path, media_type=FORMATS[job.format].media_type, filename=job.filename)
