"""Routes: ``GET /api/v1/exports/{pdf|xlsx|csv|geojson|kml|gpkg}?filters`` streams what the caller may
see; ``POST /api/v1/exports/{fmt}/jobs`` prepares the same file in the background (``jobs``), whose
progress and file its owner reads at ``/api/v1/exports/jobs/{job_id}[/file]``.

Thin: validate, audit, hand the stream to `service.stream`. The audit entry is written (and
committed) in the request's own transaction before the first byte is sent, so an export that is
started is on record even if the client goes away.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Connection

from peacewatch.server.access import Principal
from peacewatch.server.basemaps.mosaic import background_for
from peacewatch.server.config import Settings
from peacewatch.server.deps import Exporter, SettingsDep, WriteConn
from peacewatch.server.exports import jobs, service
from peacewatch.server.exports.filters import ExportFilters
from peacewatch.server.exports.formats import FORMATS
from peacewatch.server.hotspots.views import CacheDep

router = APIRouter(prefix="/exports", tags=["exports"])

FormatParam = Annotated[Literal["pdf", "xlsx", "csv", "geojson", "kml", "gpkg"], Path(description="export format")]
LangParam = Annotated[Literal["en", "fr", "ar"], Query(description="language of headers, labels and the PDF")]
BomParam = Annotated[bool, Query(description="CSV only: start with a UTF-8 byte-order mark for spreadsheets")]


def _pdf_map_layers(conn: Connection, me: Principal, *, fmt: str, filters: ExportFilters, lang: str, cache: Any,
                    settings: Settings) -> dict[str, Any]:
    """What the PDF's map draws (place names, the caller's hot-spot hexagons, the base map); nothing for
    other formats. Read in the request's transaction, under the caller's access, before streaming."""
    if fmt != "pdf":
        return {"places": [], "hexagons": [], "background": None}
    return {"places": service.place_names(conn, lang=lang),
            "hexagons": service.hotspot_cells(conn, principal=me, filters=filters, cache=cache),
            # Over the mission's base map (none imported: a plain background).
            "background": background_for(conn, settings)}


# A file download whatever the format: each format's media type, never JSON.
@router.get("/{fmt}", response_class=StreamingResponse, responses={200: {"content": {
    info.media_type: {"schema": {"type": "string", "format": "binary"}} for info in FORMATS.values()}}})
def export(
    fmt: FormatParam,
    request: Request,
    conn: WriteConn,
    me: Exporter,
    cache: CacheDep,
    filters: Annotated[ExportFilters, Query()],
    lang: LangParam = "en",
    bom: BomParam = False,
) -> StreamingResponse:
    """The reports you may see, filtered, as a PDF summary, XLSX, CSV with HXL hashtags, GeoJSON, KML or GeoPackage."""
    layers = _pdf_map_layers(conn, me, fmt=fmt, filters=filters, lang=lang, cache=cache,
                             settings=request.app.state.settings)
    service.audit_export(conn, principal=me, fmt=fmt, filters=filters, lang=lang)
    info = FORMATS[fmt]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%MZ")
    body = service.stream(request.app.state.engine, principal=me, fmt=fmt, filters=filters, lang=lang, bom=bom,
                          **layers)
    return StreamingResponse(
        body,
        media_type=info.media_type,
        headers={"Content-Disposition": f'attachment; filename="peacewatch-{stamp}.{info.extension}"'},
    )


class ExportJobOut(BaseModel):
    """An export job as its owner sees it."""

    id: str
    format: str
    lang: str
    filters: dict[str, str]
    state: Literal["queued", "running", "done", "failed", "interrupted"]
    records_done: int
    records_total: int
    percent: int
    bytes: int
    created_at: str
    updated_at: str
    error: str
    filename: str | None


@router.post("/{fmt}/jobs", status_code=202, response_model=ExportJobOut)
def start_job(
    fmt: FormatParam,
    request: Request,
    after: BackgroundTasks,
    conn: WriteConn,
    me: Exporter,
    settings: SettingsDep,
    cache: CacheDep,
    filters: Annotated[ExportFilters, Query()],
    lang: LangParam = "en",
    bom: BomParam = False,
) -> dict:
    """Prepare the export in the background (for large ones); poll the job, then download its file."""
    layers = _pdf_map_layers(conn, me, fmt=fmt, filters=filters, lang=lang, cache=cache, settings=settings)
    service.audit_export(conn, principal=me, fmt=fmt, filters=filters, lang=lang)
    job, launch = jobs.start(request.app.state.engine, data_dir=settings.data_dir, principal=me, fmt=fmt,
                             filters=filters, lang=lang, bom=bom, **layers)
    after.add_task(launch)  # once this request's transaction has committed
    return job.public()


@router.get("/jobs/{job_id}", response_model=ExportJobOut)
def job_status(job_id: str, me: Exporter, settings: SettingsDep) -> dict:
    """Your export job's state and progress."""
    return jobs.get(settings.data_dir, me, job_id).public()


@router.get("/jobs/{job_id}/file", response_class=FileResponse, responses={200: {"content": {
    info.media_type: {"schema": {"type": "string", "format": "binary"}} for info in FORMATS.values()}}})
def job_file(job_id: str, me: Exporter, settings: SettingsDep) -> FileResponse:
    """Your finished export job's file."""
    job, path = jobs.file_of(settings.data_dir, me, job_id)
    return FileResponse(path, media_type=FORMATS[job.format].media_type, filename=job.filename)
