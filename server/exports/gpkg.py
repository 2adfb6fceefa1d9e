"""GeoPackage export (OGC GeoPackage 1.x through GDAL, via pyogrio) for QGIS, ArcGIS and GDAL.

One layer, ``reports``, in WGS 84 (EPSG:4326): the geometry of the GeoJSON export (a point, a
patrol's route as a line, or none) and the typed columns of the CSV (`records.COLUMNS`: integers,
reals, booleans, date-times and text, never a nested object that a GIS would turn into a string).
Column names are the stable column keys, so a partner's model does not break when the export
language changes. GDAL writes to a file, so rows are appended in batches to a temporary file and
the finished file is streamed; memory stays bounded by one batch.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import numpy as np
import shapely
from pyogrio.raw import write

from peacewatch.server.exports.geojson import geometry_of
from peacewatch.server.exports.records import COLUMNS, Labels, row_values, utc_naive

__all__ = ["BATCH", "LAYER", "iter_gpkg", "write_gpkg"]

LAYER = "reports"
BATCH = 5000
_READ_SIZE = 1 << 20


def _column(values: list[Any], kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    """One field's values as GDAL wants them, and its NULL mask where the type has no null value."""
    if kind == "datetime":
        return np.array([np.datetime64(utc_naive(v), "ms") if v is not None else np.datetime64("NaT")
                         for v in values], dtype="datetime64[ms]"), None
    if kind in ("int", "bool"):
        mask = np.array([v is None for v in values], dtype=bool)
        dtype = "int64" if kind == "int" else "bool"
        return np.array([0 if v is None else v for v in values], dtype=dtype), mask
    if kind == "float":
        return np.array([np.nan if v is None else float(v) for v in values], dtype="float64"), None
    return np.array([None if v is None else str(v) for v in values], dtype=object), None


def _write_batch(path: str, rows: list[list[Any]], geometries: list[dict[str, Any] | None], *, append: bool) -> None:
    wkb = np.array([shapely.to_wkb(shapely.geometry.shape(g)) if g else None for g in geometries], dtype=object)
    columns = [_column([row[i] for row in rows], c.type) for i, c in enumerate(COLUMNS)]
    write(path, wkb, [data for data, _ in columns], [c.key for c in COLUMNS],
          field_mask=[mask for _, mask in columns], layer=LAYER, driver="GPKG", geometry_type="Unknown",
          crs="EPSG:4326", append=append, encoding="UTF-8")


def write_gpkg(records: Iterable[Mapping[str, Any]], out: IO[bytes], *, lang: str = "en",
               labels: Labels | None = None) -> int:
    """Write the GeoPackage to a binary file object; returns the number of bytes written."""
    written = 0
    for chunk in iter_gpkg(records, lang=lang, labels=labels):
        out.write(chunk)
        written += len(chunk)
    return written


def iter_gpkg(records: Iterable[Mapping[str, Any]], *, lang: str = "en", labels: Labels | None = None) -> Iterator[bytes]:
    """The GeoPackage's bytes, read back from the finished temporary file."""
    labels = labels or Labels(lang)
    handle, path = tempfile.mkstemp(suffix=".gpkg", prefix="peacewatch-export-")
    os.close(handle)
    os.unlink(path)  # GDAL creates the file itself and refuses to overwrite an empty one
    try:
        rows: list[list[Any]] = []
        geometries: list[dict[str, Any] | None] = []
        written_any = False
        for record in records:
            rows.append(row_values(record, labels))
            geometries.append(geometry_of(record))
            if len(rows) >= BATCH:
                _write_batch(path, rows, geometries, append=written_any)
                written_any = True
                rows, geometries = [], []
        if rows or not written_any:
            _write_batch(path, rows, geometries, append=written_any)
        with open(path, "rb") as f:
            while chunk := f.read(_READ_SIZE):
                yield chunk
    finally:
        if os.path.exists(path):
            os.unlink(path)
