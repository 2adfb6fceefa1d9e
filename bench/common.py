"""Benchmark of the shared report schema (common/): what one report body costs the server and the app.

For N synthetic bodies (incidents with lat/lon, incidents with MGRS only, patrols with routes,
human-rights concerns with people) it times, per report:

* ``parse``: ``parse_report`` on the JSON text (validation, taxonomy, MGRS, times);
* ``serialise``: ``report_to_json`` of the parsed model;
* ``version_id``: canonical JSON + SHA-256 of the serialised body;
* ``mgrs``: ``to_mgrs`` + ``from_mgrs`` of one position (uncached squares).

Baseline measured in the same run: ``json.loads`` + ``canonical_json`` of the same text, the least
any server must do with a body. The ratio says how many times that floor the full validation costs.

    .venv/bin/python bench/common.py            # 20,000 reports
    .venv/bin/python bench/common.py --quick    # 2,000 reports
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from peacewatch.common.coords import from_mgrs, to_mgrs
from peacewatch.common.schema import parse_report, report_to_json
from peacewatch.common.taxonomy import load_taxonomy
from peacewatch.common.versioning import canonical_json, version_id

PERSON = {"sex": "female", "age_group": "adult", "count": 2, "consent_to_share": False, "name": "A. B."}


def body(rng: random.Random, i: int) -> dict[str, Any]:
    kind = ("incident", "incident", "patrol", "hr_concern")[i % 4]
    category = rng.choice(load_taxonomy().for_kind(kind))
    lat, lon = rng.uniform(3.5, 12.0), rng.uniform(24.0, 35.9)  # South Sudan
    location: dict[str, Any] = {
        "lat": lat,
        "lon": lon,
        "precision_m": rng.choice([5, 10, 30]),
        "source": "gps",
    }
    if i % 8 == 1:
        location = {"mgrs": to_mgrs(lat, lon, rng.randint(2, 5))}
    out: dict[str, Any] = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "kind": kind,
        "category": category.code,
        "event_time": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:30:00Z",
        "location": location,
        "title": f"Report {i}",
        "description": "Residents reported armed men near the market. " * rng.randint(1, 10),
        "severity": rng.randint(1, 5),
        "casualties": {"killed": rng.randint(0, 3), "injured": rng.randint(0, 9)},
        "attachments": [
            {
                "sha256": f"{rng.getrandbits(256):064x}",
                "size": 1000,
                "media_type": "image/jpeg",
                "name": "p.jpg",
            }
        ],
        "contingent": rng.choice(["BANBAT", "NEPBAT", "RWABATT"]),
        "author": f"user{i % 50}",
    }
    if category.is_restricted:
        out["confidentiality"] = "restricted"
    if kind == "patrol":
        out.update(
            patrol_type="vehicle",
            start_time="2026-11-24T06:00:00Z",
            end_time="2026-11-24T09:00:00Z",
            route=[{"lat": lat + k / 1000, "lon": lon} for k in range(20)],
            nil_report=False,
        )
    if kind == "hr_concern":
        out.update(victims=[PERSON] * 2, witnesses=[PERSON])
    return out


def per_item(label: str, items: list[Any], fn: Callable[[Any], Any]) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    micro = (time.perf_counter() - start) / len(items) * 1e6
    print(f"  {label:<34} {micro:9.1f} µs/report")
    return micro


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2,000 reports instead of 20,000")
    n = 2_000 if parser.parse_args().quick else 20_000
    rng = random.Random(42)
    texts = [json.dumps(body(rng, i)) for i in range(n)]
    print(f"{n} report bodies, mean {sum(map(len, texts)) / n:.0f} bytes of JSON")
    floor = per_item("baseline: json.loads+canonical_json", texts, lambda t: canonical_json(json.loads(t)))
    models = [parse_report(t) for t in texts[:50]]  # warm caches (taxonomy, schemas)
    parse = per_item("parse_report", texts, parse_report)
    models = [parse_report(t) for t in texts]
    serialise = per_item("report_to_json", models, report_to_json)
    bodies = [report_to_json(m) for m in models]
    vid = per_item("version_id", bodies, lambda b: version_id(b, ["a" * 64], "device-1"))
    points = [(rng.uniform(-79, 83), rng.uniform(-179, 179)) for _ in range(n)]
    mgrs = per_item("to_mgrs+from_mgrs (new squares)", points, lambda p: from_mgrs(to_mgrs(p[0], p[1])))
    total = parse + serialise + vid
    print("ratios against the baseline (same run):")
    print(f"  parse_report         {parse / floor:6.1f}x")
    print(f"  parse+serialise+id   {total / floor:6.1f}x   -> {1e6 / total:,.0f} reports/s on one core")
    print(f"  MGRS round trip      {mgrs / floor:6.1f}x")


if __name__ == "__main__":
    main()
