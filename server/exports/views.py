"""Route: ``GET /api/v1/exports/{pdf|xlsx|csv|geojson|kml|gpkg}?filters`` streams what the caller may see.

Thin: validate, audit, hand the stream to `service.stream`. The audit entry is written (and
committed) in the request's own transaction before the first byte is sent, so an export that is
started is on record even if the client goes away.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from peacewatch.server.basemaps.mosaic import background_for
from peacewatch.server.deps import Exporter, WriteConn
from peacewatch.server.exports import service
from peacewatch.server.exports.filters import ExportFilters
from peacewatch.server.exports.formats import FORMATS
from peacewatch.server.hotspots.views import CacheDep

router = APIRouter(prefix="/exports", tags=["exports"])

FormatParam = Annotated[Literal["pdf", "xlsx", "csv", "geojson", "kml", "gpkg"], Path(description="export format")]
LangParam = Annotated[Literal["en", "fr", "ar"], Query(description="language of headers, labels and the PDF")]
BomParam = Annotated[bool, Query(description="CSV only: start with a UTF-8 byte-order mark for spreadsheets")]


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
    places = service.place_names(conn, lang=lang) if fmt == "pdf" else []
    hexagons = service.hotspot_cells(conn, principal=me, filters=filters,
                                     cache=cache) if fmt == "pdf" else []
    # The PDF map is drawn over the mission's base map (none imported: a plain background).
    background = background_for(conn, request.app.state.settings) if fmt == "pdf" else None
    service.audit_export(conn, principal=me, fmt=fmt, filters=filters, lang=lang)
    info = FORMATS[fmt]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%MZ")
    body = service.stream(request.app.state.engine, principal=me, fmt=fmt, filters=filters, lang=lang, bom=bom,
                          places=places, hexagons=hexagons, background=background)
    return StreamingResponse(
        body,
        media_type=info.media_type,
        headers={"Content-Disposition": f'attachment; filename="peacewatch-{stamp}.{info.extension}"'},
    )
