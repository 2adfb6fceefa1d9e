"""The duplicate proposals engine (pure: no database, no web): one import for its public surface.

It answers "which reports look like the same event?" and is split by concern, like the hotspot engine:

* ``inputs``: what the engine accepts, checked by one validator (``check_reports``);
* ``geometry``: great-circle distance and the H3 resolution that bounds a search;
* ``index``: the columnar index, its join, the hard limits and the proposals (``DuplicateIndex``);
* ``scoring``: the evidence of a pair and the calibrated model that turns it into a probability;
* ``reasons``: the sentences for and against a proposal, in any language the dashboard speaks.
"""

from __future__ import annotations

from .geometry import EARTH_RADIUS_M, choose_resolution, haversine_m
from .index import DEFAULT_THRESHOLD, DuplicateIndex, IndexStats, Proposal, RelatedFn, Rules, all_pairs
from .inputs import CASUALTY_FIELDS, InvalidReport, check_reports, report_from_body
from .reasons import Reason, english, explain, render
from .scoring import Evidence, Model, load_model, tokens

__all__ = [
    "CASUALTY_FIELDS",
    "DEFAULT_THRESHOLD",
    "EARTH_RADIUS_M",
    "DuplicateIndex",
    "Evidence",
    "IndexStats",
    "InvalidReport",
    "Model",
    "Proposal",
    "Reason",
    "RelatedFn",
    "Rules",
    "all_pairs",
    "check_reports",
    "choose_resolution",
    "english",
    "explain",
    "haversine_m",
    "load_model",
    "render",
    "report_from_body",
    "tokens",
]
