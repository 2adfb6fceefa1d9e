"""The export formats by name: media type, file extension and one uniform way to render bytes.

The API and the CLI both go through `render`, so a format behaves the same whichever asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from peacewatch.server.exports.filters import ExportFilters
from peacewatch.server.exports.records import Labels

FormatName = Literal["pdf", "xlsx", "csv", "geojson", "kml", "gpkg"]

__all__ = ["FORMATS", "ExportFormat", "FormatName", "render"]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    media_type: str
    extension: str


FORMATS: dict[str, ExportFormat] = {
    "pdf": ExportFormat("pdf", "application/pdf", "pdf"),
    "xlsx": ExportFormat("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    # RFC 4180 registers text/csv; header=present tells readers row 1 is not data.
    "csv": ExportFormat("csv", "text/csv; charset=utf-8; header=present", "csv"),
    "geojson": ExportFormat("geojson", "application/geo+json", "geojson"),
    "kml": ExportFormat("kml", "application/vnd.google-earth.kml+xml", "kml"),
    # OGC's registered media type for GeoPackage (a SQLite file).
    "gpkg": ExportFormat("gpkg", "application/geopackage+sqlite3", "gpkg"),
}


def render(
    fmt: str,
    records: Iterable[Mapping[str, Any]],
    *,
    lang: str = "en",
    filters: ExportFilters | None = None,
    places: Sequence[Mapping[str, Any]] = (),
    hexagons: Sequence[Mapping[str, Any]] = (),
    bom: bool = False,
    labels: Labels | None = None,
    background: Any = None,
    response: Mapping[str, Any] | None = None,
) -> Iterator[bytes]:
    """The export's bytes in chunks. Options a format has no use for are ignored by it."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    labels = labels or Labels(lang)
    # Writers are imported on use: the PDF's matplotlib and reportlab cost a second of start-up
    # that the server and every other CLI command should not pay.
    if fmt == "csv":
        from peacewatch.server.exports.csv_hxl import iter_csv

        return (chunk.encode("utf-8") for chunk in iter_csv(records, labels=labels, bom=bom))
    if fmt == "geojson":
        from peacewatch.server.exports.geojson import iter_geojson

        return (chunk.encode("utf-8") for chunk in iter_geojson(records, labels=labels))
    if fmt == "kml":
        from peacewatch.server.exports.kml import iter_kml

        return (chunk.encode("utf-8") for chunk in iter_kml(records, labels=labels))
    if fmt == "gpkg":
        from peacewatch.server.exports.gpkg import iter_gpkg

        return iter_gpkg(records, labels=labels)
    if fmt == "xlsx":
        from peacewatch.server.exports.xlsx import iter_xlsx

        return iter_xlsx(records, labels=labels, filters=filters)
    from peacewatch.server.exports.pdf import iter_pdf

    return iter_pdf(records, labels=labels, filters=filters, places=places, hexagons=hexagons, background=background,
                    response=response)
