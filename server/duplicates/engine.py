"""The duplicate proposals engine (pure: no database, no web).

Longer than 500 lines because it is being split by concern on the duplicates branch (issue 17, item 1).

Owns the answer to "which reports look like the same event?". Two reports form a candidate pair when

* they come from **different sources**: another contingent, or another device of the same contingent
  (when either device is unknown, only a different contingent counts, because the same contingent
  with an unknown device may well be the same patrol writing twice);
* they are within ``max_distance_m`` (default 2 km, great-circle) of each other, inclusive;
* their event times are at most ``time_window`` apart (default 6 h either way), inclusive;
* their categories are the same or related (``related(code)`` from the taxonomy, taken both ways).

Patrol reports are not events and are not indexed (``Rules.kinds``).

Candidates are found through a spatial-temporal index, never by comparing all pairs: each report sits
in one H3 cell and one time bucket one window wide; a new report looks only at the cells of
``grid_disk(cell, k)`` and the buckets either side of its own. The resolution is the finest whose
smallest hexagon edge is still at least the distance limit, so ``k = 1`` (seven cells) suffices: a point
within ``d`` of a cell lies in its first ring whenever every edge is at least ``d`` long (leaving a
cell through a vertex, the next ring starts one edge further out).

Each surviving pair gets a score in [0, 1]: a weighted sum of closeness in space and time, category
(same > related), casualty counts agreement and text similarity (token Jaccard of title and
description). Pairs at or above ``Rules.threshold`` are proposed, with the measured reasons.
The default weights (distance 0.20, time 0.15, category 0.10, casualties 0.15, text 0.40) and
threshold (0.45) were chosen on the synthetic mission of ``bench/duplicates.py`` (precision 0.994,
recall 0.991 on 200,000 reports); they are a starting point to re-check against a mission's own
confirmed and dismissed proposals, not a law of nature.

``DuplicateIndex.add`` scores one new report against everything indexed so far; ``bulk`` does the same
for many reports at once with a vectorised join, and returns exactly what adding them one by one would.
``all_pairs`` is the reference that compares every pair; tests and the benchmark check the index
against it.
"""

from __future__ import annotations

import gc
import math
import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import h3.api.basic_int as h3  # integer cells: cheaper than strings and they fit numpy int64
import numpy as np

__all__ = [
    "CASUALTY_FIELDS",
    "DEFAULT_THRESHOLD",
    "DuplicateIndex",
    "IndexStats",
    "InvalidReport",
    "Proposal",
    "RelatedFn",
    "Rules",
    "Weights",
    "all_pairs",
    "choose_resolution",
    "explain",
    "haversine_m",
    "normalize_report",
    "report_from_body",
    "tokens",
]

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), the one H3 uses too
CASUALTY_FIELDS: tuple[str, ...] = ("killed", "injured", "abducted", "displaced")
DEFAULT_THRESHOLD = 0.45
RelatedFn = Callable[[str], Iterable[str]]

# H3 hexagon edges shrink to about 0.70 of their resolution's average near the twelve pentagons
# (measured over every pentagon's 6-ring neighbourhood and 20,000 random cells at resolutions 5-8);
# 0.6 keeps a margin so the ring guarantee above holds everywhere on the globe.
_MIN_EDGE_FACTOR = 0.6

# Casualty agreement: code -> (reason word, score component).
_CAS_UNKNOWN, _CAS_AGREE, _CAS_CLOSE, _CAS_DIFFER = 0, 1, 2, 3
_CAS_WORDS = ("unknown", "agree", "close", "differ")
_CAS_VALUES = np.array([0.5, 1.0, 0.6, 0.0])
# Two counts are "close" when they differ by at most this much (absolute or relative to the larger):
# sources estimate crowds differently, but 3 killed vs 30 killed is another event.
_CAS_CLOSE_ABS = 2.0
_CAS_CLOSE_REL = 0.25

_REL_NONE, _REL_RELATED, _REL_SAME = 0, 1, 2

# Words are runs of letters and digits. ASCII text (most reports) is split with str.translate +
# str.split, several times faster than a regex; other text with the equivalent regex.
_WORD_RE = re.compile(r"[^\W_]+")
_ASCII_SEPARATORS = str.maketrans({c: " " for c in (*string.punctuation, *map(chr, range(32)), chr(127))})
# Function words carry no evidence of "same event"; short lists for the mission languages (English,
# French; Arabic particles are short and rare in the remaining set).
_STOPWORDS = frozenset(
    "a an and are as at be by for from had has have he her his i in into is it its near not of on onto or our "
    "over she that the their them there they this to was we were what when where which while who with about "
    "after before but à au aux avec ce ces d dans de des du elle en est et il ils l la le les leur leurs ne "
    "par pas plus pour qu que qui s sa se ses son sur un une vers été entre après avant".split()
)


class InvalidReport(ValueError):
    """A report the engine cannot use; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each kind of evidence counts in the score; they add up to 1."""

    distance: float = 0.20
    time: float = 0.15
    category: float = 0.10
    casualties: float = 0.15
    text: float = 0.40

    def __post_init__(self) -> None:
        values = (self.distance, self.time, self.category, self.casualties, self.text)
        if any(v < 0 for v in values) or not math.isclose(sum(values), 1.0, abs_tol=1e-9):
            raise ValueError("weights must be non-negative and add up to 1")


@dataclass(frozen=True, slots=True)
class Rules:
    """Limits and scoring of duplicate proposals."""

    max_distance_m: float = 2000.0
    time_window: timedelta = timedelta(hours=6)
    threshold: float = DEFAULT_THRESHOLD
    weights: Weights = field(default_factory=Weights)
    # A related category is weaker evidence than the same one: half the category weight.
    related_category_credit: float = 0.5
    # Two independent write-ups of one event rarely share more than a quarter of their words, so a
    # Jaccard of 0.25 already counts as full text agreement.
    text_saturation: float = 0.25
    kinds: frozenset[str] = frozenset({"incident", "hr_concern"})
    # H3 resolution of the index; None picks it from max_distance_m (see choose_resolution).
    resolution: int | None = None

    def __post_init__(self) -> None:
        if not self.max_distance_m > 0:
            raise ValueError("max_distance_m must be positive")
        if self.time_window <= timedelta(0):
            raise ValueError("time_window must be positive")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError("threshold must be within [0, 1]")
        if not 0.0 <= self.related_category_credit <= 1.0:
            raise ValueError("related_category_credit must be within [0, 1]")
        if not 0.0 < self.text_saturation <= 1.0:
            raise ValueError("text_saturation must be within (0, 1]")
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
        return explain(self.reasons)


@dataclass(slots=True)
class IndexStats:
    """Work done, so tests can prove the index never compares all pairs."""

    comparisons: int = 0  # candidate pairs examined (before the hard limits)
    scored: int = 0  # pairs within every hard limit, hence scored


def explain(reasons: Mapping[str, Any]) -> list[str]:
    """Human-readable sentences for the measured reasons of a proposal."""
    out = [f"{reasons['distance_m']} m apart"]
    minutes = int(reasons["time_gap_min"])
    out.append(f"event times {minutes // 60} h {minutes % 60:02d} min apart" if minutes >= 60 else f"event times {minutes} min apart")
    cats = reasons.get("categories") or []
    if reasons["category"] == "same":
        out.append(f"same category ({cats[0]})" if cats else "same category")
    else:
        out.append(f"related categories ({cats[0]} / {cats[1]})" if len(cats) == 2 else "related categories")
    out.append(
        {
            "agree": "casualty counts agree",
            "close": "casualty counts close",
            "differ": "casualty counts differ",
            "unknown": "casualty counts not comparable",
        }[reasons["casualties"]]
    )
    out.append(f"title and description {round(100 * float(reasons['text_similarity']))} % alike")
    conts = reasons.get("contingents") or []
    if reasons.get("sources") == "contingent" and len(conts) == 2:
        out.append(f"reported by different contingents ({conts[0]}, {conts[1]})")
    else:
        out.append("reported from different devices")
    return out


# ---------------------------------------------------------------------------------------------------
# Input


def report_from_body(body: Mapping[str, Any], *, device_id: str | None = None) -> dict[str, Any]:
    """Adapt a report body (the contract in CONTRIBUTING.md) to the engine's flat input."""
    loc = body.get("location")
    if not isinstance(loc, Mapping):
        raise InvalidReport("location", "an object with lat and lon is required")
    return {
        "id": body.get("id"),
        "kind": body.get("kind"),
        "category": body.get("category"),
        "event_time": body.get("event_time"),
        "lat": loc.get("lat"),
        "lon": loc.get("lon"),
        "contingent": body.get("contingent"),
        "device_id": device_id,
        "casualties": body.get("casualties"),
        "title": body.get("title") or "",
        "description": body.get("description") or "",
    }


def tokens(text: str) -> frozenset[str]:
    """The words of a text that can be evidence: letters and digits, case-folded, no function words."""
    text = text.casefold()
    words = text.translate(_ASCII_SEPARATORS).split() if text.isascii() else _WORD_RE.findall(text)
    return frozenset(words).difference(_STOPWORDS)


@dataclass(frozen=True, slots=True)
class _Normal:
    id: str
    kind: str
    category: str
    t: float  # event time, POSIX seconds
    lat: float
    lon: float
    contingent: str
    device_id: str | None
    casualties: tuple[float, ...]  # NaN where unknown
    text: str  # title and description; tokenised only if the report is ever in a scored pair


def _text(report: Mapping[str, Any], key: str) -> str:
    value = report.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidReport(key, "must be text")
    return value


def _required_str(report: Mapping[str, Any], key: str) -> str:
    value = report.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidReport(key, "a non-empty string is required")
    return value


def _coordinate(report: Mapping[str, Any], key: str, limit: float) -> float:
    value = report.get(key)
    # Checked by type, not isinstance, so that True/False are refused rather than read as 1/0.
    if type(value) is not float and type(value) is not int:
        raise InvalidReport(key, "a number is required")
    if not -limit <= value <= limit:  # also refuses NaN and infinities
        raise InvalidReport(key, f"must be a number within [-{limit:g}, {limit:g}]")
    return float(value)


def _event_time(value: Any) -> float:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidReport("event_time", "an ISO 8601 date-time is required") from None
    if not isinstance(value, datetime):
        raise InvalidReport("event_time", "an ISO 8601 date-time is required")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidReport("event_time", "a time zone (e.g. Z) is required")
    return value.timestamp()


_UNKNOWN_CASUALTIES = (math.nan,) * len(CASUALTY_FIELDS)


def _casualties(value: Any) -> tuple[float, ...]:
    if value is None:
        return _UNKNOWN_CASUALTIES
    if not isinstance(value, Mapping):
        raise InvalidReport("casualties", "an object of counts is required")
    out: list[float] = []
    for name in CASUALTY_FIELDS:
        count = value.get(name)
        if count is None:
            out.append(math.nan)
        elif type(count) is not int or count < 0:
            raise InvalidReport(f"casualties.{name}", "a non-negative whole number is required")
        else:
            out.append(float(count))
    if len(value) > len(CASUALTY_FIELDS) or not value.keys() <= _CASUALTY_KEYS:
        unknown = sorted(set(value) - _CASUALTY_KEYS)
        raise InvalidReport(f"casualties.{unknown[0]}", "is not a casualty count")
    return tuple(out)


_CASUALTY_KEYS = frozenset(CASUALTY_FIELDS)


def normalize_report(report: Mapping[str, Any]) -> _Normal:
    """Check one engine input and turn it into the engine's internal form."""
    if not isinstance(report, Mapping):
        raise InvalidReport("report", "an object is required")
    device = report.get("device_id")
    if device is not None and (not isinstance(device, str) or not device):
        raise InvalidReport("device_id", "a non-empty string or null is required")
    return _Normal(
        _required_str(report, "id"),
        _required_str(report, "kind"),
        _required_str(report, "category"),
        _event_time(report.get("event_time")),
        _coordinate(report, "lat", 90.0),
        _coordinate(report, "lon", 180.0),
        _required_str(report, "contingent"),
        device,
        _casualties(report.get("casualties")),
        f"{_text(report, 'title')}\n{_text(report, 'description')}",
    )


@dataclass(slots=True)
class _Batch:
    """Checked reports as columns: what the index appends."""

    ids: list[str]
    kinds: list[str]
    categories: list[str]
    t: list[float]
    lat: list[float]
    lon: list[float]
    contingents: list[str]
    devices: list[str | None]
    casualties: list[tuple[float, ...]]
    texts: list[str]

    @classmethod
    def of(cls, recs: Sequence[_Normal]) -> _Batch:
        return cls(
            [r.id for r in recs], [r.kind for r in recs], [r.category for r in recs], [r.t for r in recs],
            [r.lat for r in recs], [r.lon for r in recs], [r.contingent for r in recs],
            [r.device_id for r in recs], [r.casualties for r in recs], [r.text for r in recs],
        )

    def select(self, keep: Sequence[int]) -> _Batch:
        return _Batch(*([column[i] for i in keep] for column in (
            self.ids, self.kinds, self.categories, self.t, self.lat, self.lon, self.contingents, self.devices,
            self.casualties, self.texts)))


def _fast_casualties(value: Any) -> tuple[float, ...]:
    if value is None:
        return _UNKNOWN_CASUALTIES
    if type(value) is not dict or not value.keys() <= _CASUALTY_KEYS:
        raise ValueError
    out = tuple(value.get(name) for name in CASUALTY_FIELDS)
    if any(c is not None and (type(c) is not int or c < 0) for c in out):
        raise ValueError
    return tuple(math.nan if c is None else float(c) for c in out)


def _fast_batch(reports: Sequence[Any]) -> _Batch | None:
    """Check a whole batch column by column (C-speed loops); None if anything is off.

    Only the common, valid case is handled here; on None the caller checks report by report with
    ``normalize_report``, which names the first bad field. Both accept and produce the same values.
    """
    try:
        if not all(type(r) is dict for r in reports):
            return None
        ids, kinds, cats, conts = ([r.get(k) for r in reports] for k in ("id", "kind", "category", "contingent"))
        for column in (ids, kinds, cats, conts):
            if set(map(type, column)) != {str} or not all(map(str.strip, column)):
                return None
        devices = [r.get("device_id") for r in reports]
        if not set(map(type, devices)) <= {str, type(None)} or "" in devices:
            return None
        lat, lon = [r.get("lat") for r in reports], [r.get("lon") for r in reports]
        if not (set(map(type, lat)) | set(map(type, lon))) <= {int, float}:
            return None
        lat_a, lon_a = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
        if not ((np.abs(lat_a) <= 90.0).all() and (np.abs(lon_a) <= 180.0).all()):
            return None
        when = [r.get("event_time") for r in reports]
        if set(map(type, when)) == {str}:
            when = list(map(datetime.fromisoformat, when))
        elif not all(isinstance(w, datetime) for w in when):
            return None
        if any(w.utcoffset() is None for w in when):
            return None
        titles, descs = [r.get("title") for r in reports], [r.get("description") for r in reports]
        if not (set(map(type, titles)) | set(map(type, descs))) <= {str, type(None)}:
            return None
        return _Batch(
            ids, kinds, cats, [w.timestamp() for w in when], lat_a.tolist(), lon_a.tolist(), conts, devices,
            [_fast_casualties(r.get("casualties")) for r in reports],
            [f"{t or ''}\n{d or ''}" for t, d in zip(titles, descs, strict=True)],
        )
    except (ValueError, TypeError, AttributeError, OverflowError):
        return None


# ---------------------------------------------------------------------------------------------------
# Geometry


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres, element-wise (degrees in)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _min_edge_m(resolution: int) -> float:
    return _MIN_EDGE_FACTOR * h3.average_hexagon_edge_length(resolution, "m")


def choose_resolution(max_distance_m: float, resolution: int | None = None) -> tuple[int, int]:
    """(H3 resolution, ring k) such that grid_disk(cell, k) holds every point within the distance.

    Without a given resolution: the finest one whose smallest edge is at least the distance, so k = 1
    (for 2 km: resolution 6, edges ~3.7 km on average, seven cells of ~36 km2 searched).
    """
    if resolution is None:
        resolution = next((r for r in range(15, -1, -1) if _min_edge_m(r) >= max_distance_m), 0)
    return resolution, max(1, math.ceil(max_distance_m / _min_edge_m(resolution)))


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


# ---------------------------------------------------------------------------------------------------
# The index


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
        rec = normalize_report(report)
        self.remove(rec.id)
        if rec.kind not in self.rules.kinds:
            return []
        cells = self._cell_index()
        row = int(self._append(_Batch.of([rec]))[0])
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
        reports = list(reports)
        batch = _fast_batch(reports)
        if batch is None:
            recs: list[_Normal] = []
            for i, report in enumerate(reports):
                try:
                    recs.append(normalize_report(report))
                except InvalidReport as exc:
                    raise InvalidReport(exc.field, f"report #{i}: {exc.message}") from None
            batch = _Batch.of(recs)
        if len(set(batch.ids)) != len(batch.ids):
            seen: set[str] = set()
            for i, rid in enumerate(batch.ids):
                if rid in seen:
                    raise InvalidReport("id", f"report #{i}: id {rid} appears twice in one batch")
                seen.add(rid)
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

    def _append(self, batch: _Batch) -> np.ndarray:
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

    def _evaluate(self, q: np.ndarray, t: np.ndarray) -> list[Proposal]:
        """Apply the hard limits to candidate pairs, score the rest, propose those over the threshold."""
        cols, rules, w = self._cols, self.rules, self.rules.weights
        dist = haversine_m(cols.lat[q], cols.lon[q], cols.lat[t], cols.lon[t])
        gap = np.abs(cols.t[q] - cols.t[t])
        rel = self._cat_rel[cols.cat[q], cols.cat[t]]
        dq, dt = cols.dev[q], cols.dev[t]
        other_contingent = cols.cont[q] != cols.cont[t]
        other_source = other_contingent | ((dq != dt) & (dq >= 0) & (dt >= 0))
        ok = (dist <= rules.max_distance_m) & (gap <= self._window_s) & (rel > _REL_NONE) & other_source
        q, t, dist, gap, rel, other_contingent = q[ok], t[ok], dist[ok], gap[ok], rel[ok], other_contingent[ok]
        self.stats.scored += len(q)
        if not len(q):
            return []

        cas_code = _casualty_agreement(cols.cas[q], cols.cas[t])
        toks, texts = self._tokens, self._texts
        for row in np.unique(np.concatenate([q, t])).tolist():
            if toks[row] is None:
                toks[row] = tokens(texts[row] or "")
                texts[row] = None  # the tokens are all that is needed from now on
        text = np.fromiter(
            (_jaccard(toks[a], toks[b]) for a, b in zip(q.tolist(), t.tolist(), strict=True)), dtype=float, count=len(q)
        )
        score = (
            w.distance * (1.0 - dist / rules.max_distance_m)
            + w.time * (1.0 - gap / self._window_s)
            + w.category * np.where(rel == _REL_SAME, 1.0, rules.related_category_credit)
            + w.casualties * _CAS_VALUES[cas_code]
            + w.text * np.minimum(1.0, text / rules.text_saturation)
        )
        # Rounded so a score reads the same in the API, the database and a re-computation.
        score = np.round(np.clip(score, 0.0, 1.0), 4)
        keep = np.flatnonzero(score >= rules.threshold)
        # Added report in order, then best first; ties to the earlier-indexed report, for stable output.
        keep = keep[np.lexsort((t[keep], -score[keep], q[keep]))]
        q, t, ids = q[keep], t[keep], self._ids
        cats, conts = self._categories, self._contingents
        same = (rel[keep] == _REL_SAME).tolist()
        # Python lists, not numpy scalars, in the per-proposal loop: ten times cheaper to index.
        columns = zip(
            [ids[i] for i in q.tolist()],
            [ids[i] for i in t.tolist()],
            score[keep].tolist(),
            np.rint(dist[keep]).astype(np.int64).tolist(),
            np.rint(gap[keep] / 60).astype(np.int64).tolist(),
            same,
            [cats[c] for c in cols.cat[q].tolist()],
            [cats[c] for c in cols.cat[t].tolist()],
            [_CAS_WORDS[c] for c in cas_code[keep].tolist()],
            np.round(text[keep], 2).tolist(),
            other_contingent[keep].tolist(),
            [conts[c] for c in cols.cont[q].tolist()],
            [conts[c] for c in cols.cont[t].tolist()],
            strict=True,
        )
        dismissed = self._dismissed
        out: list[Proposal] = []
        for ida, idb, sc, dm, gm, sm, ca, cb, cas, tx, oc, coa, cob in columns:
            if dismissed and ((ida, idb) if ida < idb else (idb, ida)) in dismissed:
                continue
            out.append(
                Proposal(
                    report_id=ida,
                    other_id=idb,
                    score=sc,
                    reasons={
                        "distance_m": dm,
                        "time_gap_min": gm,
                        "category": "same" if sm else "related",
                        "categories": [ca] if sm else [ca, cb],
                        "casualties": cas,
                        "text_similarity": tx,
                        "sources": "contingent" if oc else "device",
                        "contingents": [coa, cob],
                    },
                )
            )
        return out


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _casualty_agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair: unknown (no count given on both sides), agree (all equal), close, or differ."""
    both = ~np.isnan(a) & ~np.isnan(b)
    with np.errstate(invalid="ignore"):
        diff = np.abs(a - b)
        tolerance = np.maximum(_CAS_CLOSE_ABS, _CAS_CLOSE_REL * np.fmax(a, b))
        equal = np.where(both, diff == 0, True).all(axis=1)
        close = np.where(both, diff <= tolerance, True).all(axis=1)
    code = np.where(equal, _CAS_AGREE, np.where(close, _CAS_CLOSE, _CAS_DIFFER))
    return np.where(both.any(axis=1), code, _CAS_UNKNOWN)


def all_pairs(
    reports: Iterable[Mapping[str, Any]], *, related: RelatedFn, rules: Rules | None = None
) -> tuple[list[Proposal], IndexStats]:
    """Reference answer: compare every pair (no spatial index) with the same limits and scoring.

    Quadratic; for checking the index on a few thousand reports, never for production.
    """
    with _no_cyclic_gc():
        return _all_pairs(reports, related=related, rules=rules)


def _all_pairs(
    reports: Iterable[Mapping[str, Any]], *, related: RelatedFn, rules: Rules | None
) -> tuple[list[Proposal], IndexStats]:
    index = DuplicateIndex(related=related, rules=rules)
    recs = [normalize_report(r) for r in reports]
    recs = [r for r in recs if r.kind in index.rules.kinds]
    if len({r.id for r in recs}) != len(recs):
        raise InvalidReport("id", "ids must be unique")
    rows = index._append(_Batch.of(recs))
    out: list[Proposal] = []
    for row in rows.tolist():
        if row == 0:
            continue
        earlier = np.arange(row, dtype=np.int64)
        index.stats.comparisons += row
        out.extend(index._evaluate(np.full(row, row, dtype=np.int64), earlier))
    return out, index.stats
