"""The exports page: the reports table's filters plus a format and a language, and the download itself.

The download goes through ``exports.service`` exactly as ``GET /api/v1/exports/{fmt}`` does: the
same records and redaction, the audit entry, place names and hotspot hexagons on the PDF's map,
and a stream with its own read transaction, so a large export is never held in memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from ...deps import ReadConn
from ...exports import service
from ...exports.filters import ExportFilters
from ...exports.formats import FORMATS
from ...problems import invalid
from ...users.service import list_contingents
from ..i18n import LANGUAGES
from ..render import category_codes, page
from ..services import WriteTx, as_page
from ..session import ExporterPage
from .reports import filter_query, filters_from

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
    body = service.stream(request.app.state.engine, principal=me, fmt=format, filters=filters, lang=lang,
                          bom=format == "csv", places=places, hexagons=hexagons)
    return StreamingResponse(body, media_type=spec.media_type,
                             headers={"Content-Disposition": f'attachment; filename="peacewatch-{stamp}.{spec.extension}"'})
