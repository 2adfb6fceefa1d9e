"""The synthetic mission for duplicate detection: labelled reports with duplicates and hard negatives.

The one generator of duplicate-detection data (the benchmark, the calibration fit and the tests use
it; nothing in the production packages does). A mission of ``events`` events in ``villages`` villages
over ``days`` days, on the real taxonomy's incident categories:

* each event is first reported by a contingent that patrols its village, from one of its devices;
* 30 % of events are also reported by one or two other contingents (2-3 reports in all), each report
  50-800 m and 0-90 min from the first report (two later ones up to 1.6 km and 3 h apart), titles
  paraphrased (another wording of the category, the village named), descriptions written from a
  subset of the event's details plus everyday words, casualty counts equal or off by one, and
  sometimes (15 %) a neighbouring category (one the taxonomy relates);
* 3 % of events are also reported from a second device of the first contingent (a real duplicate
  from one contingent: rare, since a contingent usually reports an event once);
* **hard negatives**: after some events comes a distinct event of the same category in the same
  village, 1-3 km from it and 2-6 h later, often reported by the same contingent on another device,
  its title often worded identically. How often depends on the category (lootings, armed clashes
  and cattle raids come in bursts; killings and abductions less so), as it does in the field.

``Dataset.truth`` is the set of report pairs from different sources that describe one event: what
duplicate proposals should find.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from peacewatch.common.taxonomy import load_taxonomy
from peacewatch.server.duplicates.engine import EARTH_RADIUS_M

EPOCH = datetime(2026, 6, 1, tzinfo=UTC)
MULTI_SHARE = 0.30  # events reported by 2-3 contingents
SAME_CONTINGENT_SHARE = 0.03  # events also reported from another device of the first contingent
NEIGHBOUR_CATEGORY = 0.15  # extra reports filed under a related category
# Share of events followed by a distinct same-category event in the same village (the hard negatives).
BURSTS: dict[str, float] = {
    "looting": 0.35, "armed_clash": 0.35, "cattle_raiding": 0.30, "armed_group_movement": 0.30, "checkpoint": 0.25,
    "arson": 0.25, "attack_on_civilians": 0.20, "demonstration": 0.20, "displacement": 0.15,
}
OTHER_BURST = 0.06
# Relative frequency of the categories (the rest weigh 1).
FREQUENCY: dict[str, float] = {
    "attack_on_civilians": 4, "armed_clash": 3, "looting": 3, "killing": 2, "cattle_raiding": 2, "abduction": 2,
    "displacement": 2, "armed_group_movement": 2, "arson": 2,
}
CONTINGENTS = [f"CONT{i:02d}" for i in range(10)]
DEVICES = 5  # per contingent
MEAN_CASUALTIES = {"killed": 0.8, "injured": 2.0, "abducted": 0.4, "displaced": 6.0}

_TITLES = ("{label} in {village}", "{village}: {lower} reported", "Report of {lower} at {village}",
           "{lower} near {village} market", "{village} - {lower}")
_PERPETRATORS = ("armed youth", "cattle keepers", "militia fighters", "uniformed men", "unknown gunmen",
                 "soldiers", "raiders from the east", "a local gang", "herders", "masked men")
_MEANS = ("on motorbikes", "in a pickup", "on foot", "with AK-47 rifles", "with machetes", "on horseback",
          "in two trucks", "with spears")
_TARGETS = ("the market", "the water point", "the school", "the clinic", "the church", "the cattle camp",
            "the IDP site", "the checkpoint", "the borehole", "the mosque", "the chief's compound")
_TIMES = ("at dawn", "in the morning", "around noon", "in the afternoon", "at dusk", "at night")
_FILLER = ("residents", "said", "community", "leaders", "confirmed", "situation", "tense", "patrol", "visited",
           "area", "calm", "returned", "later", "women", "children", "fled", "bush", "reported", "local",
           "authorities", "informed", "road", "blocked", "people", "gathered", "afterwards", "sources")


@dataclass
class Dataset:
    """Engine inputs, the event each report describes, and the true duplicate pairs."""

    reports: list[dict[str, Any]]
    event_of: list[int]
    source_of: list[tuple[str, str]]
    hard_negatives: set[tuple[str, str]] = field(default_factory=set)  # report pairs of twin events

    @property
    def truth(self) -> set[tuple[str, str]]:
        return true_pairs(self)


def _destination(lat: float, lon: float, bearing: float, distance_m: float) -> tuple[float, float]:
    phi1, lam1, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
    delta = distance_m / EARTH_RADIUS_M
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta))
    lam2 = lam1 + math.atan2(math.sin(theta) * math.sin(delta) * math.cos(phi1),
                             math.cos(delta) - math.sin(phi1) * math.sin(phi2))
    return math.degrees(phi2), math.degrees(lam2)


@dataclass
class _Event:
    category: str
    village: int
    lat: float
    lon: float
    t: float  # seconds since EPOCH
    casualties: dict[str, int]
    details: tuple[str, ...]
    twin_of: int | None = None


def generate(events: int = 1500, villages: int = 40, days: int = 60, seed: int = 1) -> Dataset:
    """A reproducible labelled mission (1,500 events make about 2,000 reports)."""
    # random.Random, not numpy: per-item draws, where numpy's per-call overhead dominates.
    rng = random.Random(seed)
    tax = load_taxonomy()
    cats = [c.code for c in tax.for_kind("incident")]
    cum_weights = list(itertools.accumulate(FREQUENCY.get(c, 1.0) for c in cats))
    names = [f"Village{i:03d}" for i in range(villages)]
    v_lat = [rng.uniform(4.0, 12.0) for _ in range(villages)]
    v_lon = [rng.uniform(24.0, 34.0) for _ in range(villages)]
    # Each village is patrolled by three contingents; its first reports come from them.
    patrols = [rng.sample(range(len(CONTINGENTS)), 3) for _ in range(villages)]

    evs: list[_Event] = []
    while len(evs) < events:
        v = rng.randrange(villages)
        cat = rng.choices(cats, cum_weights=cum_weights)[0]
        lat, lon = _destination(v_lat[v], v_lon[v], rng.uniform(0, 360), 1500 * math.sqrt(rng.random()))
        evs.append(_event(rng, cat, v, lat, lon, float(rng.uniform(0, days * 86400))))
        if len(evs) < events and rng.random() < BURSTS.get(cat, OTHER_BURST):
            # The hard negative: the same kind of event again in the village, 1-3 km and 2-6 h away.
            first = evs[-1]
            tl, tn = _destination(first.lat, first.lon, rng.uniform(0, 360), rng.uniform(1000, 3000))
            twin = _event(rng, cat, v, tl, tn, first.t + rng.uniform(2, 6) * 3600)
            twin.twin_of = len(evs) - 1
            evs.append(twin)

    reports: list[dict[str, Any]] = []
    event_of: list[int] = []
    source_of: list[tuple[str, str]] = []
    by_event: dict[int, list[str]] = {}
    first_contingent: dict[int, int] = {}
    for e, ev in enumerate(evs):
        first_cont = rng.choice(patrols[ev.village])
        if ev.twin_of is not None and rng.random() < 0.6:
            # The same contingent often reports the second event too, from whichever device is out.
            first_cont = first_contingent[ev.twin_of]
        first_contingent[e] = first_cont
        sources = [(CONTINGENTS[first_cont], f"{CONTINGENTS[first_cont]}-d{rng.randrange(DEVICES)}")]
        if rng.random() < MULTI_SHARE:
            others = [c for c in range(len(CONTINGENTS)) if c != first_cont]
            for c in rng.sample(others, rng.randint(1, 2)):
                sources.append((CONTINGENTS[c], f"{CONTINGENTS[c]}-d{rng.randrange(DEVICES)}"))
        if rng.random() < SAME_CONTINGENT_SHARE:
            used = sources[0][1]
            sources.append((sources[0][0], next(f"{sources[0][0]}-d{d}" for d in range(DEVICES)
                                                if f"{sources[0][0]}-d{d}" != used)))
        for k, src in enumerate(sources):
            rid = f"s{seed}-r{len(reports):06d}"
            reports.append(_report(rng, rid, ev, names[ev.village], src, first=k == 0, tax=tax))
            event_of.append(e)
            source_of.append(src)
            by_event.setdefault(e, []).append(rid)
    hard = {tuple(sorted((a, b))) for e, ev in enumerate(evs) if ev.twin_of is not None
            for a in by_event[e] for b in by_event[ev.twin_of]}
    return Dataset(reports, event_of, source_of, hard)  # type: ignore[arg-type]


def _event(rng: random.Random, cat: str, village: int, lat: float, lon: float, t: float) -> _Event:
    counts = {k: _poisson(rng, m) for k, m in MEAN_CASUALTIES.items()}
    details = (rng.choice(_PERPETRATORS), rng.choice(_MEANS), rng.choice(_TARGETS), rng.choice(_TIMES),
               f"{rng.randint(3, 39)} households")
    return _Event(cat, village, lat, lon, t, counts, details)


def _report(rng: random.Random, rid: str, ev: _Event, village: str, source: tuple[str, str], *,
            first: bool, tax: Any) -> dict[str, Any]:
    # The first report is where and when the event was; each other one 50-800 m and 0-90 min from it
    # (so two later reports of one event can be up to 1.6 km and 3 h apart from each other).
    if first:
        lat, lon, t = ev.lat, ev.lon, ev.t
    else:
        lat, lon = _destination(ev.lat, ev.lon, rng.uniform(0, 360), rng.uniform(50, 800))
        t = ev.t + rng.choice((-1, 1)) * rng.uniform(0, 90) * 60
    cat = ev.category
    related = sorted(tax.get(cat).related)
    if not first and related and rng.random() < NEIGHBOUR_CATEGORY:
        cat = rng.choice(related)
    label = tax.label(cat, "en")
    # The twin of an event is often titled exactly like it (the first wording): titles alone mislead.
    wording = 0 if first and ev.twin_of is not None and rng.random() < 0.5 else rng.randrange(len(_TITLES))
    title = _TITLES[wording].format(label=label, lower=label.lower(), village=village)
    title = title[0].upper() + title[1:]
    seen = [ev.details[i] for i in sorted(rng.sample(range(len(ev.details)), rng.randint(2, 4)))]
    words = rng.choices(_FILLER, k=rng.randint(6, 13))
    description = f"{' '.join(words[:4])} {', '.join(seen)}; {' '.join(words[4:])}."
    casualties: dict[str, int] | None = dict(ev.casualties)
    if rng.random() < 0.4:  # off by one on one count
        k = rng.choice(list(casualties))
        casualties[k] = max(0, casualties[k] + rng.choice((-1, 1)))
    if rng.random() < 0.05:
        casualties = None
    return {
        "id": rid, "kind": "incident", "category": cat,
        "event_time": (EPOCH + timedelta(seconds=round(t))).isoformat(),
        "lat": lat, "lon": lon, "contingent": source[0], "device_id": source[1],
        "casualties": casualties, "title": title, "description": description,
    }


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: the means here are small)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def true_pairs(ds: Dataset) -> set[tuple[str, str]]:
    """Pairs of reports of one event from different sources: what should be proposed."""
    members: dict[int, list[int]] = {}
    for i, e in enumerate(ds.event_of):
        members.setdefault(e, []).append(i)
    out: set[tuple[str, str]] = set()
    for rows in members.values():
        for x in range(len(rows)):
            for y in range(x):
                i, j = rows[x], rows[y]
                if ds.source_of[i] != ds.source_of[j]:
                    a, b = ds.reports[i]["id"], ds.reports[j]["id"]
                    out.add((a, b) if a < b else (b, a))
    return out


def related(code: str) -> list[str]:
    """The taxonomy's related categories (what the server uses)."""
    return sorted(load_taxonomy().related(code) - {code})


def main(argv: list[str] | None = None) -> int:
    """Describe one generated mission (``make bench`` runs every bench/*.py; this one only describes)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    args, _other = parser.parse_known_args(argv)  # make bench passes the benchmarks' size flags too
    ds = generate(seed=args.seed)
    events = len(set(ds.event_of))
    multi = len({e for e in ds.event_of if ds.event_of.count(e) > 1})
    print(f"seed {args.seed}: {events:,} events, {len(ds.reports):,} reports, {multi:,} events reported more than once, "
          f"{len(ds.truth):,} true duplicate pairs, {len(ds.hard_negatives):,} hard-negative report pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
