"""The benchmark's synthetic mission as a regression proof of quality (not of speed, which depends on
the machine): precision and recall at the default threshold, and the index equal to all pairs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from peacewatch.server.duplicates.engine import DuplicateIndex, all_pairs

BENCH = Path(__file__).resolve().parents[3] / "bench" / "duplicates.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_duplicates", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_planted_duplicates_found_with_high_precision_and_recall():
    bench = _bench()
    ds = bench.generate(20_000, seed=11)
    proposals = DuplicateIndex(related=bench.related).bulk(ds.reports)
    precision, recall = bench.precision_recall(set(bench.answers(proposals)), bench.true_pairs(ds))
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    subset = ds.reports[:1500]
    found = DuplicateIndex(related=bench.related).bulk(subset)
    baseline, _ = all_pairs(subset, related=bench.related)
    assert bench.answers(found) == bench.answers(baseline) and len(found) > 300
