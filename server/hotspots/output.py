"""GeoJSON and CSV of hotspot results: one hexagon per study-area cell.

Features carry the cell's H3 id, its count, Gi* ``z``, ``p`` (the p used for FDR), BH ``q``, the
ArcGIS ``bin`` and, for emerging hotspots, the ``category`` (and coverage-gap flags when given).
Geometry is the H3 boundary as a closed GeoJSON ring in lon/lat order (RFC 7946).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import h3
import h3.api.basic_int as h3i
import numpy as np

__all__ = ["feature_collection", "hexagon", "rows", "write_csv"]


def hexagon(cell: int) -> dict[str, Any]:
    """GeoJSON Polygon of a cell: lon/lat pairs, first point repeated at the end."""
    return {"type": "Polygon", "coordinates": [_rings(np.array([cell], dtype=np.uint64))[0]]}


def _rings(cells: np.ndarray) -> list[list[list[float]]]:
    """Closed lon/lat rings of many cells; rounding and axis swap done once, vectorised.

    Most cells have 6 vertices, pentagons 5, and cells crossing an icosahedron edge up to 10:
    the 6-vertex rings are closed and turned into lists as one (m, 7, 2) array, the others one
    by one.
    """
    bounds = [h3i.cell_to_boundary(c) for c in cells.tolist()]
    sizes = np.fromiter(map(len, bounds), dtype=np.int64, count=len(bounds))
    flat = np.fromiter(
        itertools.chain.from_iterable(itertools.chain.from_iterable(bounds)),
        dtype=np.float64,
        count=2 * int(sizes.sum()),
    )
    # 7 decimals of a degree is ~1 cm: plenty, and it halves the JSON.
    lonlat = np.round(flat.reshape(-1, 2)[:, ::-1], 7)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    out: list[Any] = [None] * sizes.size
    hexagons = np.flatnonzero(sizes == 6)
    if hexagons.size:
        vertices = lonlat[starts[hexagons][:, None] + np.arange(6)]
        closed = np.concatenate([vertices, vertices[:, :1]], axis=1).tolist()
        if hexagons.size == sizes.size:
            return closed
        for i, ring in zip(hexagons.tolist(), closed, strict=True):
            out[i] = ring
    for i in np.flatnonzero(sizes != 6).tolist():
        ring = lonlat[starts[i] : starts[i] + sizes[i]].tolist()
        ring.append(ring[0])
        out[i] = ring
    return out


def _plain(values: Sequence[Any] | np.ndarray) -> list[Any]:
    # numpy -> plain Python (json/pydantic accept them); NaN and inf are not JSON, so None.
    arr = np.asarray(values)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        return [v if np.isfinite(v) else None for v in arr.tolist()]
    return arr.tolist()


def rows(cells: np.ndarray, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> list[dict[str, Any]]:
    """One dict per cell: ``h3`` (string id) then the given per-cell columns."""
    n = cells.size
    for name, values in columns.items():
        if len(values) != n:
            raise ValueError(f"{name}: {len(values)} values for {n} cells")
    names = ["h3", *columns]
    lists = [[h3.int_to_str(c) for c in cells.tolist()], *(_plain(v) for v in columns.values())]
    return [dict(zip(names, values, strict=True)) for values in zip(*lists, strict=True)]


def feature_collection(
    cells: np.ndarray,
    columns: Mapping[str, Sequence[Any] | np.ndarray],
    *,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """GeoJSON FeatureCollection with one hexagon Feature per cell; ``metadata`` goes top-level."""
    props = rows(cells, columns)
    features = [
        {
            "type": "Feature",
            "id": p["h3"],
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": p,
        }
        for ring, p in zip(_rings(cells), props, strict=True)
    ]
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if metadata:
        out["metadata"] = dict(metadata)
    return out


def write_csv(records: Iterable[Mapping[str, Any]], fieldnames: Sequence[str]) -> str:
    """CSV text (header + one line per record) of the same properties as the GeoJSON."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fieldnames), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({k: "" if r.get(k) is None else r.get(k) for k in fieldnames})
    return buf.getvalue()
