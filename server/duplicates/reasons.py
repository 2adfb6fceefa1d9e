"""The words of a proposal: what argues for the pair being one event, and what argues against.

A proposal stores its measured evidence (``reasons``: distance, time gap, categories, casualties,
text similarity, sources, and what the labelled data say about that distance and gap). ``explain``
turns it into ``Reason`` items, each on a side (``for`` or ``against``) with an English message id
whose ``{placeholders}`` are filled from ``values``; ``render`` fills them in a language, given that
language's ``translate`` (the dashboard's catalogs, whose msgids are these English texts) and category
labels. So the API answers English sentences and the dashboard the visitor's language, from one list.

Proposals stored before the "against" evidence was measured lack those keys: their explanation simply
has fewer sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["MESSAGES", "Reason", "english", "explain", "render"]

Side = Literal["for", "against"]

# Evidence thresholds of the "against" sentences: beyond what nearly every labelled duplicate shows,
# or where at least this share of labelled pairs like this one were two different events.
UNUSUAL_SHARE = 0.95
DISTINCT_SHARE = 0.3
FEW_WORDS = 0.1  # text Jaccard below which the texts share too little to count for the pair

# Every message id explain() can produce (the dashboard's catalogs must translate each).
MESSAGES: tuple[str, ...] = (
    "{distance} m apart",
    "{distance} m apart: farther than {pct} % of labelled duplicates",
    "event times {gap} apart",
    "event times {gap} apart: longer than {pct} % of labelled duplicates",
    "{distance} m and {gap} apart: {pct} % of labelled {category} pairs this close were two different events",
    "{distance} m and {gap} apart: {pct} % of labelled pairs of related categories this close were two "
    "different events",
    "same category ({category})",
    "related categories ({category_a} / {category_b})",
    "casualty counts agree",
    "casualty counts close",
    "casualty counts differ",
    "casualty counts not comparable",
    "title and description {pct} % alike",
    "title and description share few words ({pct} % alike)",
    "reported by different contingents ({contingent_a}, {contingent_b})",
    "both from contingent {contingent} (two devices): a contingent seldom reports one event twice",
    "{hours} h {minutes} min",
    "{minutes} min",
    "at least {gap} apart: analysts found {different} of {decided} such {category} pairs in this mission to be "
    "different events",
    "at least {gap} apart: analysts confirmed {confirmed} of {decided} such {category} pairs in this mission as "
    "one event",
)


@dataclass(frozen=True, slots=True)
class Reason:
    """One sentence of an explanation, before translation."""

    side: Side
    msgid: str
    values: Mapping[str, Any] = field(default_factory=dict)


def _pct(share: float) -> int:
    return round(100 * float(share))


def explain(reasons: Mapping[str, Any], history: Mapping[str, int] | None = None) -> list[Reason]:
    """The sentences for and against a proposal, from its stored ``reasons``.

    ``history`` (``{"decided": n, "different": k}``) is what analysts decided in this mission about
    pairs of the same categories at least this far apart in time (``service`` counts it, among the
    proposals the reader may see); it argues against when at least ``DISTINCT_SHARE`` of them were
    different events, for otherwise.
    """
    out: list[Reason] = []
    distance, gap = int(reasons["distance_m"]), int(reasons["time_gap_min"])
    closer, sooner = reasons.get("duplicates_closer"), reasons.get("duplicates_sooner")
    if closer is not None and closer >= UNUSUAL_SHARE:
        out.append(Reason("against", MESSAGES[1], {"distance": distance, "pct": _pct(closer)}))
    else:
        out.append(Reason("for", MESSAGES[0], {"distance": distance}))
    if sooner is not None and sooner >= UNUSUAL_SHARE:
        out.append(Reason("against", MESSAGES[3], {"gap_min": gap, "pct": _pct(sooner)}))
    else:
        out.append(Reason("for", MESSAGES[2], {"gap_min": gap}))
    cats = reasons.get("categories") or []
    same = reasons["category"] == "same"
    distinct = reasons.get("distinct_share")
    if distinct is not None and distinct >= DISTINCT_SHARE:
        joint = {"distance": distance, "gap_min": gap, "pct": _pct(distinct)}
        if same and cats:
            out.append(Reason("against", MESSAGES[4], joint | {"category": cats[0]}))
        else:
            out.append(Reason("against", MESSAGES[5], joint))
    if history and history.get("decided"):
        decided, different = int(history["decided"]), int(history["different"])
        label = list(cats) or ["?"]  # each category labelled in the reader's language by render()
        if different / decided >= DISTINCT_SHARE:
            out.append(Reason("against", MESSAGES[18], {"gap_min": gap, "different": different, "decided": decided,
                                                         "category": label}))
        else:
            out.append(Reason("for", MESSAGES[19], {"gap_min": gap, "confirmed": decided - different,
                                                     "decided": decided, "category": label}))
    if same:
        out.append(Reason("for", MESSAGES[6], {"category": cats[0] if cats else "?"}))
    else:
        a, b = (cats + ["?", "?"])[:2]
        out.append(Reason("for", MESSAGES[7], {"category_a": a, "category_b": b}))
    out.append({
        "agree": Reason("for", MESSAGES[8]),
        "close": Reason("for", MESSAGES[9]),
        "differ": Reason("against", MESSAGES[10]),
        "unknown": Reason("against", MESSAGES[11]),
    }[reasons["casualties"]])
    text = float(reasons["text_similarity"])
    out.append(Reason("for", MESSAGES[12], {"pct": _pct(text)}) if text >= FEW_WORDS
               else Reason("against", MESSAGES[13], {"pct": _pct(text)}))
    conts = reasons.get("contingents") or ["?", "?"]
    if reasons.get("sources") == "contingent":
        out.append(Reason("for", MESSAGES[14], {"contingent_a": conts[0], "contingent_b": conts[1]}))
    else:
        out.append(Reason("against", MESSAGES[15], {"contingent": conts[0]}))
    return out


def _same(text: str) -> str:
    return text


def render(reason: Reason, translate: Callable[[str], str] = _same,
           category_label: Callable[[str], str] = _same) -> str:
    """The sentence in the language of ``translate`` (English by default), categories labelled."""
    values: dict[str, Any] = {}
    for key, value in reason.values.items():
        if key == "gap_min":
            hours, minutes = divmod(int(value), 60)
            values["gap"] = (translate(MESSAGES[16]).format(hours=hours, minutes=f"{minutes:02d}") if hours
                             else translate(MESSAGES[17]).format(minutes=minutes))
        elif key.startswith("category"):
            names = value if isinstance(value, list | tuple) else [value]
            values[key] = " / ".join(category_label(str(v)) for v in names)
        else:
            values[key] = value
    return translate(reason.msgid).format(**values)


def english(reasons: Mapping[str, Any], history: Mapping[str, int] | None = None) -> dict[str, list[str]]:
    """``{"for": [...], "against": [...]}`` English sentences of a proposal."""
    out: dict[str, list[str]] = {"for": [], "against": []}
    for reason in explain(reasons, history):
        out[reason.side].append(render(reason))
    return out
