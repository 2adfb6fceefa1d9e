"""The duplicates index: candidate pairs by H3 cell and time bucket, hard limits, scored proposals.

Two reports form a candidate pair when

* they come from **different sources**: another contingent, or another device of the same contingent
  (when either device is unknown, only a different contingent counts, because the same contingent
  with an unknown device may well be the same patrol writing twice);
* they are within ``max_distance_m`` (default 2 km, great-circle) of each other, inclusive;
* their event times are at most ``time_window`` apart (default 6 h either way), inclusive;
* their categories are the same or related (``related(code)`` from the taxonomy, taken both ways).

Patrol reports are not events and are not indexed (``Rules.kinds``).

Candidates are found through a spatial-temporal index, never by comparing all pairs: each report sits
in one H3 cell (``geometry.choose_resolution``) and one time bucket one window wide; a new report
looks only at the cells of ``grid_disk(cell, k)`` and the buckets either side of its own. Reports are
stored as numpy columns so a whole batch is joined and scored at once.

Each surviving pair is scored by the calibrated model of ``scoring`` (a probability that the two are
one event); pairs at or above ``Rules.threshold`` are proposed with their measured evidence
(``reasons``, explained for and against by ``reasons.explain``).

``DuplicateIndex.add`` scores one new report against everything indexed so far; ``bulk`` does the same
for many reports at once with a vectorised join, and returns exactly what adding them one by one would.
``all_pairs`` is the reference that compares every pair; tests and the benchmark check the index
against it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import h3.api.basic_int as h3
import numpy as np

from .geometry import choose_resolution, haversine_m
from .inputs import CASUALTY_FIELDS, Batch, check_reports
from .reasons import english
from .scoring import CAS_WORDS, Evidence, Model, casualty_agreement, jaccard, load_model, tokens

__all__ = ["DEFAULT_THRESHOLD", "DuplicateIndex", "IndexStats", "Proposal", "RelatedFn", "Rules", "all_pairs"]

# The score is a calibrated probability: propose a pair once it is more likely one event than two.
DEFAULT_THRESHOLD = 0.5
RelatedFn = Callable[[str], Iterable[str]]

_REL_NONE, _REL_RELATED, _REL_SAME = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Rules:
    """Hard limits of a candidate pair, and the score at which it is proposed."""

    max_distance_m: float = 2000.0
    time_window: timedelta = timedelta(hours=6)
    threshold: float = DEFAULT_THRESHOLD
    kinds: frozenset[str] = frozenset({"incident", "hr_concern"})
    # H3 resolution of the index; None picks it from max_distance_m (see choose_resolution).
    resolution: int | None = None
    # The scoring parameters; None is the shipped file (scoring.PARAMS_PATH).
    model: Model | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.max_distance_m > 0:
            raise ValueError("max_distance_m must be positive")
        if self.time_window <= timedelta(0):
            raise ValueError("time_window must be positive")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError("threshold must be within [0, 1]")
        if self.resolution is not None and not 0 <= self.resolution <= 15:
            raise ValueError("resolution must be an H3 resolution 0-15")


@dataclass(frozen=True, slots=True)
class Proposal:
    """``report_id`` (the report being added) looks like ``other_id`` (already indexed)."""

    report_id: str
    other_id: str
    score: float
    reasons: dict[str, Any]

    @property
    def pair(self) -> tuple[str, str]:
        """The two ids in sorted order: the same pair whichever arrived first."""
        return (self.report_id, self.other_id) if self.report_id < self.other_id else (self.other_id, self.report_id)

    @property
    def explanations(self) -> list[str]:
        """English sentences, those for the pair first, then those against it."""
        words = english(self.reasons)
        return words["for"] + words["against"]


@dataclass(slots=True)
class IndexStats:
    """Work done, so tests can prove the index never compares all pairs."""

    comparisons: int = 0  # candidate pairs examined (before the hard limits)
    scored: int = 0  # pairs within every hard limit, hence scored


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch allocates its many small objects.

    Everything a batch creates (dicts, lists, strings, frozensets) is acyclic and freed by reference
    counting; left on, the collector re-walks every live object (the caller's reports included) over
    and over, which measured 2-3 times the whole cost of ``bulk`` on 200,000 reports.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Columns:
    """Columnar storage of indexed reports, grown by doubling so appends stay amortised O(1)."""

    def __init__(self) -> None:
        self.n = 0
        self._cap = 0
        self.lat = np.empty(0)
        self.lon = np.empty(0)
        self.t = np.empty(0)
        self.cat = np.empty(0, dtype=np.int32)
        self.cont = np.empty(0, dtype=np.int32)
        self.dev = np.empty(0, dtype=np.int32)
        self.cas = np.empty((0, len(CASUALTY_FIELDS)))
        self.cell = np.empty(0, dtype=np.int64)
        self.bucket = np.empty(0, dtype=np.int64)
        self.alive = np.empty(0, dtype=bool)

    def reserve(self, extra: int) -> None:
        need = self.n + extra
        if need <= self._cap:
            return
        cap = max(1024, self._cap * 2, need)
        for name in ("lat", "lon", "t", "cat", "cont", "dev", "cell", "bucket", "alive"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        cas = np.full((cap, len(CASUALTY_FIELDS)), np.nan)
        cas[: self.n] = self.cas[: self.n]
        self.cas = cas
        self._cap = cap


class DuplicateIndex:
    """Reports indexed by H3 cell and time bucket; proposes duplicates as reports are added."""

    def __init__(self, *, related: RelatedFn, rules: Rules | None = None) -> None:
        self.rules = rules or Rules()
        self.model = self.rules.model or load_model()
        self._related = related
        self.resolution, self.ring = choose_resolution(self.rules.max_distance_m, self.rules.resolution)
        self._window_s = self.rules.time_window.total_seconds()
        self.stats = IndexStats()
        self._cols = _Columns()
        self._ids: list[str] = []
        self._categories: list[str] = []
        self._contingents: list[str] = []
        self._texts: list[str | None] = []
        self._tokens: list[frozenset[str] | None] = []
        self._row_of: dict[str, int] = {}
        self._cat_code: dict[str, int] = {}
        self._cat_rel = np.zeros((0, 0), dtype=np.int8)
        self._cont_code: dict[str, int] = {}
        self._dev_code: dict[str, int] = {}
        # (cell, bucket) -> live rows, for add(); bulk() drops it and the next add() rebuilds it from
        # the columns, because bulk itself joins sorted arrays and never needs the dict.
        self._cells: dict[tuple[int, int], list[int]] | None = {}
        self._disks: dict[int, tuple[int, ...]] = {}
        self._dismissed: set[tuple[str, str]] = set()

    # -- public ------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, report_id: object) -> bool:
        return report_id in self._row_of

    def add(self, report: Mapping[str, Any]) -> list[Proposal]:
        """Index one report (replacing an earlier one with its id); its proposals, best first."""
        batch = check_reports([report], numbered=False)
        self.remove(batch.ids[0])
        if batch.kinds[0] not in self.rules.kinds:
            return []
        cells = self._cell_index()
        row = int(self._append(batch)[0])
        cell, bucket = int(self._cols.cell[row]), int(self._cols.bucket[row])
        candidates = [
            other
            for near in self._disk(cell)
            for b in (bucket - 1, bucket, bucket + 1)
            for other in cells.get((near, b), ())
        ]
        cells.setdefault((cell, bucket), []).append(row)
        self.stats.comparisons += len(candidates)
        if not candidates:
            return []
        return self._evaluate(np.full(len(candidates), row, dtype=np.int64), np.array(candidates, dtype=np.int64))

    def bulk(self, reports: Iterable[Mapping[str, Any]]) -> list[Proposal]:
        """Index many reports; the proposals adding them one by one (in order) would give.

        Ordered by added report (input order), then best score first.
        """
        with _no_cyclic_gc():
            return self._bulk(reports)

    def _bulk(self, reports: Iterable[Mapping[str, Any]]) -> list[Proposal]:
        batch = check_reports(list(reports))
        for rid in batch.ids:
            if rid in self._row_of:
                self.remove(rid)
        if not set(batch.kinds) <= self.rules.kinds:
            kinds = self.rules.kinds
            batch = batch.select([i for i, kind in enumerate(batch.kinds) if kind in kinds])
        if not batch.ids:
            return []
        rows = self._append(batch)
        self._cells = None
        q, t = self._join(rows)
        self.stats.comparisons += len(q)
        return self._evaluate(q, t)

    def remove(self, report_id: str) -> bool:
        """Forget a report (e.g. before re-adding its new version); False when it was not indexed."""
        row = self._row_of.pop(report_id, None)
        if row is None:
            return False
        self._cols.alive[row] = False
        if self._cells is not None:
            self._cells[(int(self._cols.cell[row]), int(self._cols.bucket[row]))].remove(row)
        return True

    def dismiss(self, a: str, b: str) -> None:
        """Never propose this pair again (an analyst said they are different events)."""
        self._dismissed.add((a, b) if a < b else (b, a))

    # -- internals ---------------------------------------------------------------------------------

    def _disk(self, cell: int) -> tuple[int, ...]:
        disk = self._disks.get(cell)
        if disk is None:
            disk = self._disks[cell] = tuple(h3.grid_disk(cell, self.ring))
        return disk

    def _code(self, table: dict[str, int], names: list[str] | None, value: str) -> int:
        code = table.get(value)
        if code is None:
            code = table[value] = len(table)
            if names is not None:
                names.append(value)
        return code

    def _category_code(self, category: str) -> int:
        code = self._cat_code.get(category)
        if code is not None:
            return code
        code = self._code(self._cat_code, self._categories, category)
        rel = np.zeros((code + 1, code + 1), dtype=np.int8)
        rel[:code, :code] = self._cat_rel
        mine = set(self._related(category))
        for other, other_code in self._cat_code.items():
            if other == category:
                value = _REL_SAME
            elif other in mine or category in set(self._related(other)):
                # Taken both ways so a one-sided taxonomy entry still pairs the two.
                value = _REL_RELATED
            else:
                value = _REL_NONE
            rel[code, other_code] = rel[other_code, code] = value
        self._cat_rel = rel
        return code

    def _append(self, batch: Batch) -> np.ndarray:
        cols = self._cols
        n = len(batch.ids)
        cols.reserve(n)
        start, end = cols.n, cols.n + n
        res = self.resolution
        cat_code, cont_code, dev_code = self._cat_code, self._cont_code, self._dev_code
        cols.cat[start:end] = [
            c if (c := cat_code.get(name)) is not None else self._category_code(name) for name in batch.categories
        ]
        cols.cont[start:end] = [
            c if (c := cont_code.get(name)) is not None else self._code(cont_code, self._contingents, name)
            for name in batch.contingents
        ]
        cols.dev[start:end] = [
            -1 if name is None else c if (c := dev_code.get(name)) is not None else self._code(dev_code, None, name)
            for name in batch.devices
        ]
        to_cell = h3.latlng_to_cell
        cols.cell[start:end] = [to_cell(la, lo, res) for la, lo in zip(batch.lat, batch.lon, strict=True)]
        cols.lat[start:end] = batch.lat
        cols.lon[start:end] = batch.lon
        cols.t[start:end] = batch.t
        cols.cas[start:end] = batch.casualties
        cols.bucket[start:end] = np.floor(cols.t[start:end] / self._window_s)
        cols.alive[start:end] = True
        cols.n = end
        self._ids.extend(batch.ids)
        self._texts.extend(batch.texts)
        self._tokens.extend([None] * n)
        self._row_of.update(zip(batch.ids, range(start, end), strict=True))
        return np.arange(start, end, dtype=np.int64)

    def _cell_index(self) -> dict[tuple[int, int], list[int]]:
        if self._cells is None:
            cols = self._cols
            live = np.flatnonzero(cols.alive[: cols.n])
            cells: dict[tuple[int, int], list[int]] = {}
            with _no_cyclic_gc():
                for key in zip(cols.cell[live].tolist(), cols.bucket[live].tolist(), live.tolist(), strict=True):
                    cells.setdefault(key[:2], []).append(key[2])
            self._cells = cells
        return self._cells

    def _join(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (query row, earlier live row) in a neighbouring cell and adjacent time bucket."""
        cols = self._cols
        live = np.flatnonzero(cols.alive[: cols.n])
        cells, cell_rank = np.unique(cols.cell[live], return_inverse=True)
        b_low = int(cols.bucket[live].min()) - 1
        width = int(cols.bucket[live].max()) - b_low + 2  # room for bucket + 1 of the newest
        keys = cell_rank.astype(np.int64) * width + (cols.bucket[live] - b_low)
        order = np.argsort(keys, kind="stable")
        sorted_keys, sorted_rows = keys[order], live[order]

        rank_of = dict(zip(cells.tolist(), range(len(cells)), strict=True))
        q_cells, q_inv = np.unique(cols.cell[rows], return_inverse=True)
        disk_len = 1 + 3 * self.ring * (self.ring + 1)
        neighbours = np.full((len(q_cells), disk_len), -1, dtype=np.int64)
        for i, cell in enumerate(q_cells.tolist()):
            ranks = [rank_of.get(near, -1) for near in self._disk(cell)]
            neighbours[i, : len(ranks)] = ranks

        nb = neighbours[q_inv]  # (queries, disk_len) neighbour cell ranks, -1 where none
        # Buckets b-1, b, b+1 of one cell are consecutive keys: one range per neighbour cell.
        probe = nb * width + (cols.bucket[rows] - b_low)[:, None]
        valid = nb >= 0
        probe_rows = np.broadcast_to(rows[:, None], probe.shape)[valid]
        probe = probe[valid]
        lo = np.searchsorted(sorted_keys, probe - 1, side="left")
        hi = np.searchsorted(sorted_keys, probe + 1, side="right")
        counts = hi - lo
        q = np.repeat(probe_rows, counts)
        # Positions lo..hi-1 of every probe, laid end to end.
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        t = sorted_rows[np.repeat(lo, counts) + offsets]
        earlier = t < q  # each pair once, the later-added report as the query, as add() would
        return q[earlier], t[earlier]

    def _within_limits(self, q: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The candidate pairs within every hard limit, with their distance and time gap."""
        cols, rules = self._cols, self.rules
        dist = haversine_m(cols.lat[q], cols.lon[q], cols.lat[t], cols.lon[t])
        gap = np.abs(cols.t[q] - cols.t[t])
        rel = self._cat_rel[cols.cat[q], cols.cat[t]]
        dq, dt = cols.dev[q], cols.dev[t]
        other_source = (cols.cont[q] != cols.cont[t]) | ((dq != dt) & (dq >= 0) & (dt >= 0))
        ok = (dist <= rules.max_distance_m) & (gap <= self._window_s) & (rel > _REL_NONE) & other_source
        return q[ok], t[ok], dist[ok], gap[ok]

    def _text_similarity(self, q: np.ndarray, t: np.ndarray) -> np.ndarray:
        toks, texts = self._tokens, self._texts
        for row in np.unique(np.concatenate([q, t])).tolist():
            if toks[row] is None:
                toks[row] = tokens(texts[row] or "")
                texts[row] = None  # the tokens are all that is needed from now on
        return np.fromiter(
            (jaccard(toks[a], toks[b]) for a, b in zip(q.tolist(), t.tolist(), strict=True)),  # type: ignore[arg-type]
            dtype=float, count=len(q),
        )

    def _evaluate(self, q: np.ndarray, t: np.ndarray) -> list[Proposal]:
        """Apply the hard limits to candidate pairs, score the rest, propose those over the threshold."""
        cols = self._cols
        q, t, dist, gap = self._within_limits(q, t)
        self.stats.scored += len(q)
        if not len(q):
            return []
        same = self._cat_rel[cols.cat[q], cols.cat[t]] == _REL_SAME
        cats = self._categories
        evidence = Evidence(
            distance_m=dist, gap_s=gap, same_category=same,
            category=[cats[c] if s else None for c, s in zip(cols.cat[q].tolist(), same.tolist(), strict=True)],
            casualties=casualty_agreement(cols.cas[q], cols.cas[t]),
            text=self._text_similarity(q, t),
            same_contingent=cols.cont[q] == cols.cont[t],
        )
        # Rounded so a score reads the same in the API, the database and a re-computation.
        score = np.round(np.clip(self.model.probability(evidence), 0.0, 1.0), 4)
        keep = np.flatnonzero(score >= self.rules.threshold)
        # Added report in order, then best first; ties to the earlier-indexed report, for stable output.
        keep = keep[np.lexsort((t[keep], -score[keep], q[keep]))]
        return self._proposals(q[keep], t[keep], score[keep], evidence, keep)

    def _proposals(self, q: np.ndarray, t: np.ndarray, score: np.ndarray, ev: Evidence,
                   keep: np.ndarray) -> list[Proposal]:
        """The kept pairs as proposals with their measured reasons (dismissed pairs left out)."""
        cols, ids, cats, conts, model = self._cols, self._ids, self._categories, self._contingents, self.model
        kept = Evidence(ev.distance_m[keep], ev.gap_s[keep], ev.same_category[keep],
                        [ev.category[i] for i in keep.tolist()], ev.casualties[keep], ev.text[keep],
                        ev.same_contingent[keep])
        gap_min = np.rint(kept.gap_s / 60).astype(np.int64)
        # Python lists, not numpy scalars, in the per-proposal loop: ten times cheaper to index.
        columns = zip(
            [ids[i] for i in q.tolist()],
            [ids[i] for i in t.tolist()],
            score.tolist(),
            np.rint(kept.distance_m).astype(np.int64).tolist(),
            gap_min.tolist(),
            kept.same_category.tolist(),
            [cats[c] for c in cols.cat[q].tolist()],
            [cats[c] for c in cols.cat[t].tolist()],
            [CAS_WORDS[c] for c in kept.casualties.tolist()],
            np.round(kept.text, 2).tolist(),
            kept.same_contingent.tolist(),
            [conts[c] for c in cols.cont[q].tolist()],
            [conts[c] for c in cols.cont[t].tolist()],
            np.round(model.distinct_share(kept), 2).tolist(),
            np.round(model.duplicates_closer(kept.distance_m), 2).tolist(),
            np.round(model.duplicates_sooner(gap_min.astype(float)), 2).tolist(),
            strict=True,
        )
        dismissed = self._dismissed
        out: list[Proposal] = []
        for ida, idb, sc, dm, gm, sm, ca, cb, cas, tx, sc_cont, coa, cob, distinct, closer, sooner in columns:
            if dismissed and ((ida, idb) if ida < idb else (idb, ida)) in dismissed:
                continue
            out.append(Proposal(report_id=ida, other_id=idb, score=sc, reasons={
                "distance_m": dm,
                "time_gap_min": gm,
                "category": "same" if sm else "related",
                "categories": [ca] if sm else [ca, cb],
                "casualties": cas,
                "text_similarity": tx,
                "sources": "device" if sc_cont else "contingent",
                "contingents": [coa, cob],
                "distinct_share": distinct,
                "duplicates_closer": closer,
                "duplicates_sooner": sooner,
            }))
        return out


def all_pairs(
    reports: Iterable[Mapping[str, Any]], *, related: RelatedFn, rules: Rules | None = None
) -> tuple[list[Proposal], IndexStats]:
    """Reference answer: compare every pair (no spatial index) with the same limits and scoring.

    Quadratic; for checking the index on a few thousand reports, never for production.
    """
    with _no_cyclic_gc():
        index = DuplicateIndex(related=related, rules=rules)
        batch = check_reports(list(reports))
        batch = batch.select([i for i, kind in enumerate(batch.kinds) if kind in index.rules.kinds])
        rows = index._append(batch)
        out: list[Proposal] = []
        for row in rows.tolist():
            if row == 0:
                continue
            index.stats.comparisons += row
            out.extend(index._evaluate(np.full(row, row, dtype=np.int64), np.arange(row, dtype=np.int64)))
        return out, index.stats

