"""Emerging hotspots: a space-time cube of report counts, space-time Gi*, Mann-Kendall, categories.

Follows ArcGIS Pro's Emerging Hot Spot Analysis:

1. Counts per (time step, cell) (:func:`space_time_cube`; steps are UTC days, ISO weeks starting
   Monday, or calendar months).
2. Gi* on every bin of the cube, the neighbourhood of (t, i) being the spatial neighbours of i at
   steps t, t-1, ..., t-``neighbourhood_time_step`` (truncated at the first step). The whole cube is
   one set of observations (global mean and variance over all bins) and one BH family, and the
   exact count tail of :mod:`.gistar` applies unchanged (a bin's neighbourhood is just a larger
   set of cells).
3. Mann-Kendall on each cell's series of Gi* z-scores (:func:`mann_kendall`).
4. Categories by ArcGIS's rules (:func:`categorise`), "significant" meaning the BH bin passes
   ``alpha`` (default 0.05, i.e. |bin| >= 2):

   ========================  =======================================================================
   new                       significant at the final step, never before
   consecutive               an uninterrupted run of >= 2 significant steps ending at the final step,
                             never significant before the run, < 90 % of steps significant
   intensifying              significant in >= 90 % of steps incl. the final, MK trend significant
                             and towards more extreme (up for hot, down for cold)
   persistent                as intensifying but no significant trend
   diminishing               as intensifying but the trend is towards less extreme
   sporadic                  significant at the final step, on-and-off before, < 90 %, never the
                             opposite kind of spot
   oscillating               significant at the final step, the opposite kind at some prior step,
                             < 90 % (takes precedence over new and consecutive)
   historical                not significant at the final step, significant in >= 90 % of steps
   no_pattern                none of the above
   ========================  =======================================================================

   Each category exists for hot and cold spots (``new_hot`` / ``new_cold`` ...). The final step
   decides the kind when the two could both apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy import stats

from .gistar import FDR_LEVELS, GiStarResult, gi_star_test

__all__ = [
    "CATEGORIES",
    "EmergingResult",
    "MannKendall",
    "Step",
    "categorise",
    "emerging_hotspots",
    "mann_kendall",
    "space_time_cube",
    "step_index",
    "step_label",
]

Step = Literal["day", "week", "month"]
STEPS: tuple[str, ...] = ("day", "week", "month")
_PATTERNS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
CATEGORIES: tuple[str, ...] = (
    *(f"{p}_hot" for p in _PATTERNS),
    *(f"{p}_cold" for p in _PATTERNS),
    "no_pattern",
)


def _check_step(step: str) -> str:
    if step not in STEPS:
        raise ValueError(f"step: must be one of {', '.join(STEPS)}, got {step!r}")
    return step


def step_index(times: np.ndarray, step: Step) -> np.ndarray:
    """Integer step number of each UTC ``datetime64`` time (days, Monday weeks or months since 1970)."""
    _check_step(step)
    t = np.asarray(times).astype("datetime64[s]")
    if step == "month":
        return t.astype("datetime64[M]").astype(np.int64)
    days = t.astype("datetime64[D]").astype(np.int64)
    if step == "day":
        return days
    # 1970-01-01 was a Thursday; +3 makes weeks start on Monday (ISO).
    return np.floor_divide(days + 3, 7)


def step_label(index: int, step: Step) -> str:
    """ISO date of the first day of a step number."""
    _check_step(step)
    if step == "month":
        return str(np.datetime64(int(index), "M").astype("datetime64[D]"))
    if step == "day":
        return str(np.datetime64(int(index), "D"))
    return str(np.datetime64(int(index) * 7 - 3, "D"))


def space_time_cube(
    cells: np.ndarray,
    report_cells: np.ndarray,
    report_steps: np.ndarray,
    *,
    first_step: int,
    last_step: int,
) -> np.ndarray:
    """Counts of shape (steps, cells); reports outside the cells or the step range are dropped."""
    if last_step < first_step:
        raise ValueError("end: the time range ends before it starts")
    n_steps = last_step - first_step + 1
    steps = np.asarray(report_steps, dtype=np.int64)
    rc = np.asarray(report_cells, dtype=np.uint64)
    if steps.shape != rc.shape:
        raise ValueError("report_steps: one step per report cell expected")
    idx = np.searchsorted(cells, rc)
    idx_c = np.minimum(idx, max(cells.size - 1, 0))
    keep = (cells.size > 0) & (cells[idx_c] == rc) & (steps >= first_step) & (steps <= last_step)
    flat = (steps[keep] - first_step) * cells.size + idx_c[keep]
    return np.bincount(flat, minlength=n_steps * cells.size).reshape(n_steps, cells.size)


def space_time_weights(
    w: sp.spmatrix | sp.sparray, n_steps: int, neighbourhood_time_step: int
) -> sp.csr_array:
    """Weights over the flattened cube (step-major): W at lags 0..neighbourhood_time_step back."""
    if neighbourhood_time_step < 0:
        raise ValueError("neighbourhood_time_step: must be >= 0")
    lags = min(neighbourhood_time_step, n_steps - 1)
    # time[t, s] = 1 when s in t-lags..t: the current step and the previous ones, never future.
    time = sp.diags_array(
        [np.ones(n_steps - lag) for lag in range(lags + 1)], offsets=[-lag for lag in range(lags + 1)]
    )
    return sp.csr_array(sp.kron(time, sp.csr_array(w), format="csr"))


@dataclass(frozen=True)
class MannKendall:
    """Per-series Mann-Kendall results."""

    s: np.ndarray
    z: np.ndarray
    p: np.ndarray


def mann_kendall(series: np.ndarray, *, continuity: bool = True) -> MannKendall:
    """Mann-Kendall trend test on each row of ``series`` (rows = cells, columns = time steps).

    ``S = sum_{i<j} sign(x_j - x_i)``; ``Var(S) = [n(n-1)(2n+5) - sum_t t(t-1)(2t+5)] / 18`` with
    the tie correction over groups of equal values; ``Z = (S - sign(S)) / sqrt(Var)`` with the
    continuity correction (``continuity=False`` drops it, which is then Kendall's tau-b test of
    ``scipy.stats.kendalltau`` against time); two-sided normal p.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("series: expected a 2-D array (cells x time steps)")
    rows, n = x.shape
    if n < 3:
        raise ValueError("series: the Mann-Kendall test needs at least 3 time steps")
    s = np.zeros(rows, dtype=np.float64)
    for i in range(n - 1):
        s += np.sign(x[:, i + 1 :] - x[:, [i]]).sum(axis=1)
    # Tie groups: runs of equal values in each sorted row, found in one flat pass.
    srt = np.sort(x, axis=1)
    starts = np.ones((rows, n), dtype=bool)
    starts[:, 1:] = srt[:, 1:] != srt[:, :-1]
    flat_starts = np.flatnonzero(starts.ravel())
    lengths = np.diff(np.append(flat_starts, rows * n)).astype(np.float64)
    tie_term = np.bincount(
        flat_starts // n, weights=lengths * (lengths - 1) * (2 * lengths + 5), minlength=rows
    )
    var = (n * (n - 1) * (2 * n + 5) - tie_term) / 18.0
    numerator = s - np.sign(s) if continuity else s
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, numerator / np.sqrt(var), 0.0)
    return MannKendall(s=s, z=z, p=2.0 * stats.norm.sf(np.abs(z)))


def _trailing_run(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True ending at the last step, per cell (flags: steps x cells)."""
    n_steps = flags.shape[0]
    not_flag = ~flags[::-1]
    first_false = np.where(not_flag.any(axis=0), not_flag.argmax(axis=0), n_steps)
    return first_false


def _pattern(
    sig: np.ndarray, opposite: np.ndarray, trend_z: np.ndarray, trend_sig: np.ndarray, towards: int
) -> np.ndarray:
    """Pattern name ('' for none) for one kind of spot; sig/opposite: steps x cells booleans."""
    n_steps = sig.shape[0]
    final = sig[-1]
    ninety = sig.mean(axis=0) >= 0.9
    prior = sig[:-1].any(axis=0)
    run = _trailing_run(sig)
    first_sig = np.where(sig.any(axis=0), sig.argmax(axis=0), n_steps)
    before_run = first_sig < n_steps - run
    opposite_prior = opposite[:-1].any(axis=0)
    strengthening = trend_sig & (np.sign(trend_z) == towards)
    weakening = trend_sig & (np.sign(trend_z) == -towards)
    # np.select takes the first matching condition, so the order is the precedence: the 90 %
    # patterns, then oscillating (a prior opposite spot is the more telling history than "new"),
    # then new, consecutive, sporadic; historical needs a non-significant final step.
    conditions = [
        final & ninety & strengthening,
        final & ninety & weakening,
        final & ninety,
        final & opposite_prior,
        final & ~prior,
        final & (run >= 2) & ~before_run,
        final,
        ~final & ninety,
    ]
    names = [
        "intensifying",
        "diminishing",
        "persistent",
        "oscillating",
        "new",
        "consecutive",
        "sporadic",
        "historical",
    ]
    return np.select(conditions, names, default="")


def categorise(
    bins: np.ndarray, trend: MannKendall, *, alpha: float = 0.05, trend_alpha: float = 0.05
) -> np.ndarray:
    """ArcGIS emerging category of each cell from its Gi* bins (steps x cells) and MK trend."""
    if alpha not in FDR_LEVELS:
        raise ValueError(f"alpha: must be one of {FDR_LEVELS}, got {alpha!r}")
    if not 0 < trend_alpha < 1:
        raise ValueError("trend_alpha: must lie in (0, 1)")
    level = 1 + FDR_LEVELS.index(alpha)
    hot = bins >= level
    cold = bins <= -level
    trend_sig = trend.p <= trend_alpha
    hot_pattern = _pattern(hot, cold, trend.z, trend_sig, +1)
    cold_pattern = _pattern(cold, hot, trend.z, trend_sig, -1)
    # The final step decides the kind: a spot that is cold now is a cold pattern even if it was a
    # hot spot for 90 % of the time; historical patterns apply only when the final step is neither.
    category = np.full(bins.shape[1], "no_pattern", dtype=object)
    for pattern, kind, final in ((hot_pattern, "hot", hot[-1]), (cold_pattern, "cold", cold[-1])):
        chosen = final & (pattern != "")
        category[chosen] = [f"{p}_{kind}" for p in pattern[chosen]]
    for pattern, kind in ((hot_pattern, "hot"), (cold_pattern, "cold")):
        chosen = (category == "no_pattern") & (pattern == "historical")
        category[chosen] = f"historical_{kind}"
    return category.astype(str)


@dataclass(frozen=True)
class EmergingResult:
    """Per-cell emerging-hotspot results, plus the per-bin Gi* of the cube (steps x cells)."""

    cells: np.ndarray
    steps: list[str]  # ISO first day of each step
    counts: np.ndarray  # steps x cells
    gi: GiStarResult  # arrays of shape steps x cells
    trend: MannKendall
    category: np.ndarray


def emerging_hotspots(
    cells: np.ndarray,
    w: sp.spmatrix | sp.sparray,
    report_cells: np.ndarray,
    report_times: np.ndarray | Sequence[np.datetime64],
    *,
    step: Step = "week",
    start: np.datetime64 | None = None,
    end: np.datetime64 | None = None,
    neighbourhood_time_step: int = 1,
    alpha: float = 0.05,
) -> EmergingResult:
    """Emerging hotspot categories of every study-area cell over [start, end] in ``step`` steps."""
    _check_step(step)
    times = np.asarray(report_times).astype("datetime64[s]")
    if times.shape != np.asarray(report_cells).shape:
        raise ValueError("report_times: one time per report expected")
    report_steps = step_index(times, step)
    if start is None or end is None:
        if times.size == 0:
            raise ValueError("start: no reports and no time range given")
    first = int(step_index(np.array([start]), step)[0]) if start is not None else int(report_steps.min())
    last = int(step_index(np.array([end]), step)[0]) if end is not None else int(report_steps.max())
    counts = space_time_cube(cells, report_cells, report_steps, first_step=first, last_step=last)
    n_steps = counts.shape[0]
    if n_steps < 3:
        raise ValueError(f"step: {n_steps} time step(s) in range; emerging hotspots need at least 3")
    wst = space_time_weights(w, n_steps, neighbourhood_time_step)
    flat = gi_star_test(counts.reshape(-1), wst)
    shape = counts.shape
    gi = GiStarResult(
        z=flat.z.reshape(shape),
        p=flat.p.reshape(shape),
        p_normal=flat.p_normal.reshape(shape),
        q=flat.q.reshape(shape),
        bin=flat.bin.reshape(shape),
        cardinality=flat.cardinality.reshape(shape),
    )
    trend = mann_kendall(gi.z.T)
    category = categorise(gi.bin, trend, alpha=alpha)
    return EmergingResult(
        cells=cells,
        steps=[step_label(s, step) for s in range(first, last + 1)],
        counts=counts,
        gi=gi,
        trend=trend,
        category=category,
    )
