"""Benchmark of the duplicate proposals engine (server/duplicates/engine.py).

Synthetic mission: events cluster around towns over a few months; an event is reported by one to four
different contingents (location noise up to 1 km and time noise up to 3 h per report around the true
event, category sometimes a related one, casualty counts equal, close or missing, text written
independently from the event's details); some events get a second report from the same device (a
same-source repeat, which must not be proposed). Background events in the same towns make the
coincidental near pairs the score has to reject.

Prints, for the full run: time to propose every duplicate in one ``bulk`` call, precision and recall
at the default threshold, and, on a subset, the all-pairs baseline's time, the ratio, and an
assertion that the index and the baseline give the same proposals with the same scores.

    .venv/bin/python bench/duplicates.py            # 200,000 reports, 5,000-report baseline
    .venv/bin/python bench/duplicates.py --quick    # 20,000 reports, 2,000-report baseline
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from peacewatch.server.duplicates.engine import (
    CASUALTY_FIELDS,
    DEFAULT_THRESHOLD,
    DuplicateIndex,
    Proposal,
    all_pairs,
)

# A small taxonomy of sibling groups: categories in one group are related.
GROUPS: dict[str, list[str]] = {
    "violence": ["attack_on_civilians", "killing", "armed_clash", "shelling"],
    "displacement": ["displacement", "forced_displacement", "return_movement"],
    "deprivation_of_liberty": ["abduction", "arbitrary_detention", "forced_recruitment"],
    "sgbv": ["sexual_violence", "gender_based_violence"],
    "threats": ["threat", "intimidation", "extortion"],
    "armed_groups": ["armed_group_movement", "checkpoint", "roadblock"],
    "property": ["looting", "arson", "cattle_raiding"],
}
GROUP_OF = {c: g for g, cs in GROUPS.items() for c in cs}
CATEGORIES = sorted(GROUP_OF)


def related(code: str) -> list[str]:
    return [c for c in GROUPS[GROUP_OF[code]] if c != code]


EPOCH = datetime(2026, 6, 1, tzinfo=UTC)
SPAN_DAYS = 120
TOWNS = 300
CONTINGENTS = [f"CONT{i:02d}" for i in range(12)]
DEVICES_PER_CONTINGENT = 30
GROUP_SIZES = np.array([1, 2, 3, 4])
GROUP_PROBS = np.array([0.55, 0.25, 0.13, 0.07])
SAME_SOURCE_REPEAT = 0.03  # share of events also re-reported by the same device


@dataclass
class Dataset:
    reports: list[dict[str, Any]]
    event_of: np.ndarray  # event number of each report
    source_of: list[tuple[str, str]]  # (contingent, device) of each report


def _words(rng: np.random.Generator, n: int, length: tuple[int, int]) -> list[str]:
    letters = np.array(list("abcdefghiklmnoprstuvwyz"))
    out: set[str] = set()
    while len(out) < n:
        k = int(rng.integers(*length))
        out.add("".join(rng.choice(letters, k)))
    return sorted(out)


def generate(n_reports: int, seed: int = 7) -> Dataset:
    """A reproducible synthetic mission of ``n_reports`` reports (vectorised: 200k take a few seconds)."""
    rng = np.random.default_rng(seed)
    towns = _words(rng, TOWNS, (5, 9))
    town_lat = rng.uniform(4.0, 12.0, TOWNS)
    town_lon = rng.uniform(24.0, 34.0, TOWNS)
    details_vocab = np.array(_words(rng, 20_000, (6, 11)))
    filler = np.array(_words(rng, 400, (4, 8)))
    cat_words = {c: np.array(_words(rng, 10, (5, 9))) for c in CATEGORIES}

    # Events: enough for n_reports (mean group size ~1.75 plus same-source repeats).
    n_events = n_reports
    town = rng.integers(TOWNS, size=n_events)
    # Events scatter around their town (sigma 3 km), so towns produce coincidental near pairs.
    lat0 = town_lat[town] + rng.normal(0, 3000, n_events) / 111_320
    lon0 = town_lon[town] + rng.normal(0, 3000, n_events) / (111_320 * np.cos(np.radians(town_lat[town])))
    t0 = rng.integers(0, SPAN_DAYS * 86400, n_events)
    category = rng.integers(len(CATEGORIES), size=n_events)
    details = rng.integers(len(details_vocab), size=(n_events, 6))
    truth = np.stack(
        [
            rng.poisson(1.5, n_events),
            rng.poisson(3, n_events),
            rng.poisson(0.5, n_events),
            np.where(rng.random(n_events) < 0.3, rng.poisson(40, n_events), 0),
        ],
        axis=1,
    )
    size = rng.choice(GROUP_SIZES, p=GROUP_PROBS, size=n_events)
    repeat = rng.random(n_events) < SAME_SOURCE_REPEAT

    # Reports: each event's members, then per-report noise, all drawn as arrays.
    event_of: list[int] = []
    source_of: list[tuple[str, str]] = []
    first: list[bool] = []
    for e in range(n_events):
        if len(event_of) >= n_reports:
            break
        conts = rng.choice(len(CONTINGENTS), int(size[e]), replace=False)
        sources = [(CONTINGENTS[c], f"{CONTINGENTS[c]}-dev{int(rng.integers(DEVICES_PER_CONTINGENT))}") for c in conts]
        if repeat[e]:
            sources.append(sources[0])
        for k, src in enumerate(sources):
            event_of.append(e)
            source_of.append(src)
            first.append(k == 0)
    ev = np.array(event_of[:n_reports])
    source_of = source_of[:n_reports]
    n = len(ev)
    # Location noise up to 1 km (uniform over the disk), time noise up to 3 h, per report.
    r = 1000.0 * np.sqrt(rng.random(n))
    a = rng.uniform(0, 2 * np.pi, n)
    lat = lat0[ev] + r * np.sin(a) / 111_320
    lon = lon0[ev] + r * np.cos(a) / (111_320 * np.cos(np.radians(lat0[ev])))
    t = t0[ev] + rng.integers(-3 * 3600, 3 * 3600 + 1, n)
    # The first report keeps the event's category; others use it 70 % of the time, else any of its group.
    cat_names = [CATEGORIES[c] for c in category[ev]]
    variant = (rng.random(n) >= 0.7) & ~np.array(first[:n])
    pick = rng.random(n)
    for i in np.flatnonzero(variant).tolist():
        group = GROUPS[GROUP_OF[cat_names[i]]]
        cat_names[i] = group[int(pick[i] * len(group))]
    # Casualties: 60 % exact, 30 % off by one here and there, 10 % not given.
    roll = rng.random(n)
    cas = truth[ev] + np.where(truth[ev] > 0, rng.integers(-1, 2, size=(n, 4)), 0) * (roll >= 0.6)[:, None]
    seen = np.take_along_axis(details[ev], rng.random((n, 6)).argsort(axis=1)[:, :4], axis=1)
    fill = rng.integers(len(filler), size=(n, 8))
    cw = rng.integers(10, size=(n, 2))

    reports: list[dict[str, Any]] = []
    for i in range(n):
        cat = cat_names[i]
        words = [*details_vocab[seen[i]], *filler[fill[i]], *cat_words[cat][cw[i]]]
        c = cas[i].tolist()
        reports.append(
            {
                "id": f"r{i:07d}",
                "kind": "incident",
                "category": cat,
                "event_time": (EPOCH + timedelta(seconds=int(t[i]))).isoformat(),
                "lat": float(lat[i]),
                "lon": float(lon[i]),
                "contingent": source_of[i][0],
                "device_id": source_of[i][1],
                "casualties": None if roll[i] >= 0.9 else dict(zip(CASUALTY_FIELDS, c, strict=True)),
                "title": f"{cat.replace('_', ' ')} near {towns[int(town[ev[i]])]}",
                "description": " ".join(words),
            }
        )
    return Dataset(reports, ev, source_of)


def true_pairs(ds: Dataset, rows: Iterable[int] | None = None) -> set[tuple[str, str]]:
    """Pairs of reports of one event from different sources: what should be proposed."""
    by_event: dict[int, list[int]] = {}
    for i in range(len(ds.reports)) if rows is None else rows:
        by_event.setdefault(int(ds.event_of[i]), []).append(i)
    out: set[tuple[str, str]] = set()
    for members in by_event.values():
        for x in range(len(members)):
            for y in range(x):
                i, j = members[x], members[y]
                if ds.source_of[i] != ds.source_of[j]:
                    a, b = ds.reports[i]["id"], ds.reports[j]["id"]
                    out.add((a, b) if a < b else (b, a))
    return out


def precision_recall(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float]:
    hit = len(found & truth)
    return (hit / len(found) if found else 1.0), (hit / len(truth) if truth else 1.0)


def answers(proposals: list[Proposal]) -> dict[tuple[str, str], float]:
    return {p.pair: p.score for p in proposals}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 reports, 2,000-report baseline")
    parser.add_argument("--reports", type=int, help="override the number of reports")
    parser.add_argument("--baseline", type=int, help="override the all-pairs subset size")
    args = parser.parse_args(argv)
    n = args.reports or (20_000 if args.quick else 200_000)
    n_base = args.baseline or (2_000 if args.quick else 5_000)
    budget_s = 10.0 * n / 200_000  # the 200k target scaled to the run size

    t0 = time.perf_counter()
    ds = generate(n)
    print(f"generated {n:,} reports ({int(ds.event_of[-1]) + 1:,} events) in {time.perf_counter() - t0:.1f} s")

    index = DuplicateIndex(related=related)
    t0 = time.perf_counter()
    proposals = index.bulk(ds.reports)
    elapsed = time.perf_counter() - t0
    found = set(answers(proposals))
    truth = true_pairs(ds)
    precision, recall = precision_recall(found, truth)
    all_pairs_count = n * (n - 1) // 2
    print(f"index: H3 resolution {index.resolution}, ring {index.ring}, threshold {DEFAULT_THRESHOLD}")
    print(f"bulk:  {len(proposals):,} proposals in {elapsed:.2f} s ({n / elapsed:,.0f} reports/s)")
    print(
        f"       candidate pairs examined {index.stats.comparisons:,} "
        f"= {index.stats.comparisons / all_pairs_count:.2e} of all {all_pairs_count:,} pairs; "
        f"{index.stats.scored:,} within the hard limits"
    )
    print(f"       planted true pairs {len(truth):,}: precision {precision:.4f}, recall {recall:.4f}")

    # Incremental adds of the tail of the data set, for the per-report latency at ingest.
    tail = 1000
    inc = DuplicateIndex(related=related)
    inc.bulk(ds.reports[:-tail])
    t0 = time.perf_counter()
    inc._cell_index()  # the one-off (cell, bucket) dict add() needs after a bulk load
    rebuild = time.perf_counter() - t0
    t0 = time.perf_counter()
    inc_found = [p for r in ds.reports[-tail:] for p in inc.add(r)]
    per_add = (time.perf_counter() - t0) / tail
    tail_bulk = [p for p in proposals if int(p.report_id[1:]) >= n - tail]
    assert answers(inc_found) == answers(tail_bulk), "incremental add differs from bulk"
    print(
        f"add:   {per_add * 1e6:,.0f} us per report against {n - tail:,} indexed (same proposals as bulk; "
        f"one-off index rebuild after the bulk load {rebuild:.2f} s)"
    )

    # All-pairs baseline on a subset (the first reports generated: whole events, so pairs intact).
    subset = ds.reports[:n_base]
    sub_index = DuplicateIndex(related=related)
    t0 = time.perf_counter()
    sub_found = sub_index.bulk(subset)
    t_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    base_found, base_stats = all_pairs(subset, related=related)
    t_base = time.perf_counter() - t0
    assert answers(sub_found) == answers(base_found), "index and all-pairs baseline disagree"
    sub_p, sub_r = precision_recall(set(answers(sub_found)), true_pairs(ds, range(n_base)))
    print(
        f"baseline on {n_base:,} reports: index {t_index * 1000:.0f} ms ({sub_index.stats.comparisons:,} comparisons), "
        f"all pairs {t_base * 1000:.0f} ms ({base_stats.comparisons:,} comparisons): "
        f"same {len(sub_found):,} proposals and scores; all-pairs/index time ratio {t_base / t_index:.1f}x"
    )
    print(f"       subset precision {sub_p:.4f}, recall {sub_r:.4f}")
    print(
        f"       all pairs extrapolated to {n:,} reports: ~{t_base * (n / n_base) ** 2:,.0f} s "
        f"vs index {elapsed:.2f} s (ratio ~{t_base * (n / n_base) ** 2 / elapsed:,.0f}x)"
    )

    ok = elapsed <= budget_s and precision >= 0.95 and recall >= 0.95
    print(f"targets: <= {budget_s:.1f} s, precision >= 0.95, recall >= 0.95: {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
