"""Benchmark of the hotspot engine.

1. Gi* statistics: ``peacewatch.server.hotspots.gistar`` against ``esda.G_Local(y, w, transform="B",
   star=True, permutations=0)`` on the same H3 weights (10k and 100k cells), same run, with the
   z-scores checked equal.
2. End to end: 10k, 100k and 1M synthetic report points with planted clusters -> H3 cells -> study
   area -> weights -> Gi* + exact tails + BH -> GeoJSON dict (and its JSON text), by phase; the
   point-binning baseline is h3's string API called per point.

Run: ``.venv/bin/python bench/hotspots.py`` (``--quick`` for a small run).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from typing import Any

import h3
import h3.api.basic_int as h3i
import numpy as np

from peacewatch.server.hotspots import grid
from peacewatch.server.hotspots.analysis import hotspot_map
from peacewatch.server.hotspots.gistar import gi_star_test, gi_star_z

CENTRE = (4.85, 31.6)


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def patch(n_cells: int) -> np.ndarray:
    # An H3 disk of radius r has 3r(r+1)+1 cells.
    r = int(np.ceil((-3 + np.sqrt(9 + 12 * (n_cells - 1))) / 6))
    return np.unique(np.array(h3i.grid_disk(h3i.latlng_to_cell(*CENTRE, 8), r), dtype=np.uint64))


def bench_statistics(n_cells: int) -> None:
    import esda
    from libpysal.weights import W

    cells = patch(n_cells)
    t_w, wm = timed(lambda: grid.neighbour_matrix(cells, 1))
    rng = np.random.default_rng(0)
    y = rng.poisson(2.0, cells.size).astype(np.float64)
    y[: cells.size // 50] += 6
    off_diagonal = wm.copy()
    off_diagonal.setdiag(0)
    off_diagonal.eliminate_zeros()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_lw, w = timed(lambda: W.from_sparse(off_diagonal.tocsr()))
    t_z, (z, _) = timed(lambda: gi_star_z(y, wm), repeat=5)
    t_full, _ = timed(lambda: gi_star_test(y, wm), repeat=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_esda, g = timed(lambda: esda.G_Local(y, w, transform="B", star=True, permutations=0))
    diff = float(np.max(np.abs(g.Zs - z)))
    print(
        f"  {cells.size:>7} cells | weights (ours) {t_w * 1e3:7.1f} ms | libpysal W build {t_lw * 1e3:7.1f} ms (not timed below)"
    )
    print(
        f"          Gi* z only {t_z * 1e3:7.2f} ms | z+exact p+BH+bins {t_full * 1e3:7.2f} ms | "
        f"esda G_Local {t_esda * 1e3:9.1f} ms | max |dz| {diff:.1e}"
    )
    print(
        f"          ratio esda / ours: z only {t_esda / t_z:7.0f}x, full test {t_esda / t_full:7.0f}x"
        f"  (target >= 50x at 100k cells)"
    )


def synthetic_reports(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform background over ~1 degree plus 8 Gaussian clusters (40 % of reports)."""
    n_bg = int(n * 0.6)
    lat = [rng.uniform(CENTRE[0] - 0.5, CENTRE[0] + 0.5, n_bg)]
    lon = [rng.uniform(CENTRE[1] - 0.5, CENTRE[1] + 0.5, n_bg)]
    centres = rng.uniform(-0.4, 0.4, size=(8, 2))
    per = (n - n_bg) // 8
    for c in centres:
        lat.append(CENTRE[0] + c[0] + rng.normal(0, 0.01, per))
        lon.append(CENTRE[1] + c[1] + rng.normal(0, 0.01, per))
    return np.concatenate(lat), np.concatenate(lon)


def bench_pipeline(n_reports: int) -> None:
    rng = np.random.default_rng(1)
    lat, lon = synthetic_reports(n_reports, rng)
    t_cells, _ = timed(lambda: grid.cells_for_points(lat, lon, 8))
    t_map, hm = timed(lambda: hotspot_map(lat, lon, resolution=8, k=1))
    t_geo, fc = timed(lambda: hm.geojson())
    t_json, text = timed(lambda: json.dumps(fc, separators=(",", ":")))
    # baseline for binning: the string API per point
    t_base, _ = timed(
        lambda: [h3.latlng_to_cell(a, b, 8) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)]
    )
    total = t_map + t_geo
    hot = int((hm.gi.bin >= 2).sum())
    print(
        f"  {lat.size:>8} reports -> {hm.cells.size:>6} cells ({hot} hot at 95 %): points->GeoJSON dict {total:6.2f} s "
        f"(binning {t_cells:.2f} s, rest of Gi* map {t_map - t_cells:.2f} s, features {t_geo:.2f} s), "
        f"+ JSON text {t_json:.2f} s ({len(text) / 1e6:.1f} MB)"
    )
    print(
        f"           binning vs per-point string API {t_base:.2f} s: {t_base / t_cells:.1f}x; "
        f"points->GeoJSON text {total + t_json:.2f} s"
        + ("  (target 1M <= 2 s)" if n_reports >= 1_000_000 else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (10k cells, 10k reports)")
    args = parser.parse_args()
    cell_sizes = [10_000] if args.quick else [10_000, 100_000]
    report_sizes = [10_000] if args.quick else [10_000, 100_000, 1_000_000]
    print("Gi* statistics, ours vs esda.G_Local(transform='B', star=True, permutations=0), same weights:")
    for n in cell_sizes:
        bench_statistics(n)
    print("Report points -> hotspot GeoJSON (resolution 8, k 1):")
    for n in report_sizes:
        bench_pipeline(n)


if __name__ == "__main__":
    main()
