"""How likely two candidate reports are the same event: evidence, and a calibrated model of it.

The evidence of a candidate pair (one that passed the index's hard limits) is measured here: distance,
time gap, same or related category, casualty counts agreement, text similarity (token Jaccard of title
and description) and whether both come from one contingent (two of its devices). The score is a
logistic model of that evidence fitted on labelled pairs (``bench/duplicates.py --fit`` writes
``scoring_params.json``), then Platt-recalibrated on other labelled data, so a score is a probability:
of the proposals scored about 0.8, about 80 % are real duplicates (see docs/duplicates.md).

The model weighs distance and time **jointly** (a distance x gap term: a report 1.5 km away is
plausible minutes later, much less so five hours later) and **by category** (each category has its
own intercept and time-gap slope, because how often a second looting follows the first at the same
place within hours differs from how often a second armed clash does). Signs are constrained where
the direction of the evidence is not in doubt (farther, later, disagreeing counts, same contingent
never argue *for* a duplicate), so the fit cannot learn a quirk of the labelled set.

A second, smaller model of the distance, time gap and category alone gives the "why not": the share
of labelled pairs at that distance and gap, of that category, that were two different events.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CAS_AGREE", "CAS_CLOSE", "CAS_DIFFER", "CAS_UNKNOWN", "CAS_WORDS", "FEATURES", "PARAMS_PATH",
    "SPACE_TIME_FEATURES", "Evidence", "Model", "casualty_agreement", "jaccard", "load_model", "tokens",
]

PARAMS_PATH = Path(__file__).with_name("scoring_params.json")

# Casualty agreement codes and the words the reasons use for them.
CAS_UNKNOWN, CAS_AGREE, CAS_CLOSE, CAS_DIFFER = 0, 1, 2, 3
CAS_WORDS = ("unknown", "agree", "close", "differ")
# Two counts are "close" when they differ by at most this much (absolute or relative to the larger):
# sources estimate crowds differently, but 3 killed vs 30 killed is another event.
_CAS_CLOSE_ABS = 2.0
_CAS_CLOSE_REL = 0.25

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

# The model's inputs, in the order of its coefficients (the per-category terms come on top).
FEATURES: tuple[str, ...] = (
    "distance_km", "gap_h", "distance_x_gap", "distance_km2", "gap_h2", "same_category", "casualties_close_or_agree",
    "casualties_agree", "casualties_differ", "text", "text_saturated", "same_contingent",
)
SPACE_TIME_FEATURES: tuple[str, ...] = ("distance_km", "gap_h", "distance_x_gap", "distance_km2", "gap_h2", "same_category")
# The direction each coefficient may take: +1 only for, -1 only against, 0 either (fitting bounds).
SIGNS: dict[str, int] = {
    "distance_km": -1, "gap_h": -1, "distance_x_gap": -1, "distance_km2": -1, "gap_h2": -1, "same_category": 1, "casualties_close_or_agree": 1,
    "casualties_agree": 1, "casualties_differ": -1, "text": 1, "text_saturated": 1, "same_contingent": -1,
}
TEXT_SATURATION = 0.25  # two write-ups of one event rarely share more than a quarter of their words


def tokens(text: str) -> frozenset[str]:
    """The words of a text that can be evidence: letters and digits, case-folded, no function words."""
    text = text.casefold()
    words = text.translate(_ASCII_SEPARATORS).split() if text.isascii() else _WORD_RE.findall(text)
    return frozenset(words).difference(_STOPWORDS)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def casualty_agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair: unknown (no count given on both sides), agree (all equal), close, or differ."""
    both = ~np.isnan(a) & ~np.isnan(b)
    with np.errstate(invalid="ignore"):
        diff = np.abs(a - b)
        tolerance = np.maximum(_CAS_CLOSE_ABS, _CAS_CLOSE_REL * np.fmax(a, b))
        equal = np.where(both, diff == 0, True).all(axis=1)
        close = np.where(both, diff <= tolerance, True).all(axis=1)
    code = np.where(equal, CAS_AGREE, np.where(close, CAS_CLOSE, CAS_DIFFER))
    return np.where(both.any(axis=1), code, CAS_UNKNOWN)


@dataclass(frozen=True, slots=True)
class Evidence:
    """The measured evidence of candidate pairs, one array element per pair."""

    distance_m: np.ndarray
    gap_s: np.ndarray
    same_category: np.ndarray  # bool
    category: Sequence[str | None]  # the shared category; None for a pair of related categories
    casualties: np.ndarray  # CAS_* codes
    text: np.ndarray  # token Jaccard in [0, 1]
    same_contingent: np.ndarray  # bool: two devices of one contingent

    def __len__(self) -> int:
        return len(self.distance_m)

    @classmethod
    def from_reasons(cls, reasons: Sequence[Mapping[str, Any]]) -> Evidence:
        """The evidence a proposal's stored reasons record (rounded as stored)."""
        same = np.array([r["category"] == "same" for r in reasons], dtype=bool)
        return cls(
            np.array([float(r["distance_m"]) for r in reasons]),
            np.array([60.0 * float(r["time_gap_min"]) for r in reasons]),
            same,
            [r["categories"][0] if s else None for r, s in zip(reasons, same.tolist(), strict=True)],
            np.array([CAS_WORDS.index(r["casualties"]) for r in reasons], dtype=np.int64),
            np.array([float(r["text_similarity"]) for r in reasons]),
            np.array([r.get("sources") == "device" for r in reasons], dtype=bool),
        )

    def columns(self, names: Sequence[str]) -> np.ndarray:
        """The design matrix of ``names`` (rows: pairs)."""
        d_km, g_h = self.distance_m / 1000.0, self.gap_s / 3600.0
        cas = self.casualties
        every = {
            "distance_km": d_km,
            "gap_h": g_h,
            "distance_x_gap": d_km * g_h,
            "distance_km2": d_km * d_km,
            "gap_h2": g_h * g_h,
            "same_category": self.same_category.astype(float),
            "casualties_close_or_agree": ((cas == CAS_AGREE) | (cas == CAS_CLOSE)).astype(float),
            "casualties_agree": (cas == CAS_AGREE).astype(float),
            "casualties_differ": (cas == CAS_DIFFER).astype(float),
            "text": self.text,
            "text_saturated": np.minimum(1.0, self.text / TEXT_SATURATION),
            "same_contingent": self.same_contingent.astype(float),
        }
        return np.column_stack([every[n] for n in names]) if len(self) else np.zeros((0, len(names)))


@dataclass(frozen=True, slots=True)
class _Logistic:
    """intercept + coef . features + per-category intercept and gap slope."""

    features: tuple[str, ...]
    intercept: float
    coef: np.ndarray
    categories: Mapping[str, tuple[float, float]]  # code -> (intercept, gap_h slope)

    def logit(self, ev: Evidence) -> np.ndarray:
        z = self.intercept + ev.columns(self.features) @ self.coef
        if self.categories and len(ev):
            terms = np.array([self.categories.get(c, (0.0, 0.0)) if c else (0.0, 0.0) for c in ev.category])
            z = z + terms[:, 0] + terms[:, 1] * (ev.gap_s / 3600.0)
        return z

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> _Logistic:
        names = tuple(data["coef"])
        return cls(names, float(data["intercept"]), np.array([float(data["coef"][n]) for n in names]),
                   {c: (float(v["intercept"]), float(v["gap_h"])) for c, v in data.get("categories", {}).items()})


@cache
def _levels(n: int) -> np.ndarray:
    """The quantile levels of ``n`` quantiles (built once: this runs for every added report)."""
    return np.linspace(0.0, 1.0, n)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


@dataclass(frozen=True, slots=True)
class Model:
    """The fitted scoring: full model + Platt recalibration, and the space-time-category model."""

    full: _Logistic
    platt: tuple[float, float]  # calibrated logit = a * logit + b
    space_time: _Logistic
    duplicate_distance_m: np.ndarray  # quantiles 0..100 of true duplicates' distances (labelled set)
    duplicate_gap_min: np.ndarray  # and of their time gaps
    source: Mapping[str, Any]

    def probability(self, ev: Evidence) -> np.ndarray:
        """Calibrated probability that each pair is one event reported twice."""
        a, b = self.platt
        return _sigmoid(a * self.full.logit(ev) + b)

    def distinct_share(self, ev: Evidence) -> np.ndarray:
        """Share of labelled pairs at this distance, gap and category that were two different events."""
        return 1.0 - _sigmoid(self.space_time.logit(ev))

    def duplicates_closer(self, distance_m: np.ndarray) -> np.ndarray:
        """Share of labelled true duplicates that were closer than ``distance_m``."""
        return np.interp(distance_m, self.duplicate_distance_m, _levels(len(self.duplicate_distance_m)))

    def duplicates_sooner(self, gap_min: np.ndarray) -> np.ndarray:
        """Share of labelled true duplicates whose time gap was shorter than ``gap_min``."""
        return np.interp(gap_min, self.duplicate_gap_min, _levels(len(self.duplicate_gap_min)))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        return cls(
            _Logistic.from_json(data["full"]),
            (float(data["platt"][0]), float(data["platt"][1])),
            _Logistic.from_json(data["space_time"]),
            np.array(data["duplicate_distance_m_quantiles"], dtype=float),
            np.array(data["duplicate_gap_min_quantiles"], dtype=float),
            dict(data.get("source", {})),
        )


@cache
def load_model(path: Path = PARAMS_PATH) -> Model:
    """The shipped (or a given) parameters file, read once."""
    return Model.from_json(json.loads(path.read_text(encoding="utf-8")))
