"""The hot spots and coverage gaps a rule's ``inside`` condition tests, as currently computed.

``"inside": "hotspot"`` matches a report whose position lies in a hot cell of HQ's current map
(Gi* bin 1 or more: hot at 90 % confidence or more, as the dashboard map draws it);
``"inside": "coverage_gap"`` one in a hot cell (95 %) that no patrol route crossed lately. The
analysis is ``server/hotspots``' with the parameters of the map layers HQ and the tablets see
(``basemaps.layers``): the last ``WINDOW_DAYS`` of incidents and human-rights concerns, H3
resolution 7, the neighbourhood chosen from the data, patrols of the last ``GAP_DAYS`` buffered
by ``GAP_BUFFER_M``. It is computed over what an HQ analyst may read (every contingent, no
restricted case), so a restricted case never shapes an alert addressed to people who may not
read it. Too few reports for a statistic: no cell is hot, the condition matches nothing.

Raising must stay fast, and a hot spot is a property of many reports, not of the one being
matched: the analysis is computed once and reused for ``ANALYSIS_MAX_AGE_S`` seconds while
reports keep arriving (``PEACEWATCH_ALERT_ANALYSIS_MAX_AGE_S``; 0 recomputes whenever a change
arrived), kept per database, and only when a rule with ``inside`` meets a report matching its
other conditions. A report is placed with the H3 cell of its position.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

import h3.api.basic_int as h3i
from sqlalchemy import Connection, Engine

from .. import clock
from ..access import Principal, Role
from ..feed import last_seq
from ..hotspots import service as hotspots
from ..problems import Code, Problem
from ..reports.filters import ReportFilters

WINDOW_DAYS = 90
RESOLUTION = 7
GAP_DAYS = 30
GAP_BUFFER_M = 2000.0
ANALYSIS_MAX_AGE_S = 60.0
MAX_DATABASES = 8

# The mission picture HQ analyses: an analyst's view (user 0 authors nothing, so no restricted case).
HQ_VIEW = Principal(user_id=0, username="alerts", role=Role.HQ_ANALYST, contingent_id=None)


@dataclass(frozen=True)
class Analysis:
    engine: weakref.ref[Engine]  # the database it was computed on (an id alone may be reused)
    seq: int
    at: float  # time.monotonic() when computed
    hot: frozenset[int]
    gaps: frozenset[int]


_lock = threading.Lock()
_current: OrderedDict[tuple[str, int], Analysis] = OrderedDict()


def max_age_s() -> float:
    value = os.environ.get("PEACEWATCH_ALERT_ANALYSIS_MAX_AGE_S")
    try:
        return float(value) if value not in (None, "") else ANALYSIS_MAX_AGE_S
    except ValueError:
        return ANALYSIS_MAX_AGE_S


def _compute(conn: Connection, seq: int) -> Analysis:
    now = clock.now()
    filters = ReportFilters(start=now - timedelta(days=WINDOW_DAYS), end=now + timedelta(minutes=1))
    try:
        hot, gaps = hotspots.hot_and_gap_cells(
            conn, principal=HQ_VIEW, filters=filters, params=hotspots.HotspotParams(resolution=RESOLUTION),
            days=GAP_DAYS, buffer_m=GAP_BUFFER_M, cache=hotspots.HotspotCache(size=1))
    except Problem as exc:
        if exc.code is not Code.INVALID_INPUT:
            raise
        hot = gaps = frozenset()  # too few located reports for a statistic: nothing is hot
    return Analysis(engine=weakref.ref(conn.engine), seq=seq, at=time.monotonic(), hot=hot, gaps=gaps)


def current(conn: Connection) -> Analysis:
    """This database's analysis, recomputed when a change arrived and the last one is older than the limit."""
    key = (str(conn.engine.url), id(conn.engine))
    seq = last_seq(conn)
    with _lock:
        have = _current.get(key)
    fresh = have is not None and have.engine() is conn.engine and have.seq <= seq and (
        have.seq == seq or time.monotonic() - have.at < max_age_s())
    if have is not None and fresh:
        return have
    analysis = _compute(conn, seq)
    with _lock:
        _current[key] = analysis
        _current.move_to_end(key)
        while len(_current) > MAX_DATABASES:
            _current.popitem(last=False)
    return analysis


def inside(conn: Connection, what: str, lat: float, lon: float) -> bool:
    """Whether the point lies in a current hot spot (``what="hotspot"``) or coverage gap."""
    analysis = current(conn)
    cells = analysis.hot if what == "hotspot" else analysis.gaps
    return bool(cells) and h3i.latlng_to_cell(lat, lon, RESOLUTION) in cells


def forget() -> None:
    """Drop every cached analysis (tests)."""
    with _lock:
        _current.clear()
