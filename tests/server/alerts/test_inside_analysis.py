"""Rules on HQ's current analysis: a report inside a hot spot or a coverage gap raises, one
outside does not (through the API, SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from factories import Mission, report_body, store
from peacewatch.server.alerts import analysis

from .helpers import alerts_of, push

CLUSTER = (1.5667, 30.25)
FAR = (1.95, 30.85)  # ~80 km away, beyond every reported cell
RECENT = datetime.now(UTC) - timedelta(days=3)


def _when(t: datetime) -> datetime:
    return t.replace(microsecond=0)


@pytest.fixture
def hot(mission: Mission, monkeypatch: pytest.MonkeyPatch) -> Mission:
    """A cluster of 20 recent incidents at CLUSTER among 20 scattered ones; no patrol anywhere."""
    monkeypatch.setenv("PEACEWATCH_ALERT_ANALYSIS_MAX_AGE_S", "0")  # recompute at every change
    analysis.forget()
    rng = np.random.default_rng(7)
    for i in range(20):
        store(mission, "patrol_a", report_body(lat=CLUSTER[0] + rng.uniform(-0.0015, 0.0015),
                                               lon=CLUSTER[1] + rng.uniform(-0.0015, 0.0015), severity=2,
                                               event_time=_when(RECENT - timedelta(days=i % 20))))
    for _ in range(20):
        store(mission, "patrol_a", report_body(lat=CLUSTER[0] + rng.uniform(-0.15, 0.15),
                                               lon=CLUSTER[1] + rng.uniform(-0.15, 0.15), severity=2,
                                               event_time=_when(RECENT)))
    return mission


def _rule(mission: Mission, name: str, inside: str) -> None:
    r = mission.client.post("/api/v1/alert-rules", headers=mission.headers("analyst"), json={
        "name": name, "conditions": {"categories": ["looting"], "inside": inside},
        "audience": {"roles": ["hq_analyst"]}})
    assert r.status_code == 201, r.text
    assert r.json()["conditions"]["inside"] == inside


def _raised(mission: Mission, name: str) -> list[str]:
    return [a["reports"][0]["id"] for a in alerts_of(mission, "analyst", limit=500) if a["rule"]["name"] == name]


def test_a_report_inside_a_hot_spot_raises_one_outside_does_not(hot: Mission) -> None:
    _rule(hot, "Looting in a hot spot", "hotspot")
    outside = push(hot, "patrol_a", category="looting", severity=2, lat=FAR[0], lon=FAR[1],
                   event_time=_when(RECENT))
    inside = push(hot, "patrol_a", category="looting", severity=2, lat=CLUSTER[0], lon=CLUSTER[1],
                  event_time=_when(RECENT))
    assert _raised(hot, "Looting in a hot spot") == [inside["id"]]
    assert outside["id"] not in _raised(hot, "Looting in a hot spot")


def test_a_coverage_gap_closes_when_a_patrol_crosses_it(hot: Mission) -> None:
    _rule(hot, "Looting where nobody patrols", "coverage_gap")
    first = push(hot, "patrol_a", category="looting", severity=2, lat=CLUSTER[0], lon=CLUSTER[1],
                 event_time=_when(RECENT))
    assert _raised(hot, "Looting where nobody patrols") == [first["id"]]
    # A patrol through the cluster yesterday: the hot spot is covered, no longer a gap.
    route = [{"lat": CLUSTER[0] - 0.05, "lon": CLUSTER[1]}, {"lat": CLUSTER[0] + 0.05, "lon": CLUSTER[1]}]
    store(hot, "patrol_a", report_body(kind="patrol", lat=CLUSTER[0], lon=CLUSTER[1], route=route,
                                       event_time=_when(datetime.now(UTC) - timedelta(days=1))))
    push(hot, "patrol_a", category="looting", severity=2, lat=CLUSTER[0], lon=CLUSTER[1], event_time=_when(RECENT))
    assert _raised(hot, "Looting where nobody patrols") == [first["id"]]


def test_too_few_reports_for_a_statistic_match_nothing(mission: Mission, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEACEWATCH_ALERT_ANALYSIS_MAX_AGE_S", "0")
    _rule(mission, "Looting in a hot spot", "hotspot")
    push(mission, "patrol_a", category="looting", severity=2, event_time=_when(RECENT))
    assert _raised(mission, "Looting in a hot spot") == []


def test_an_unknown_inside_is_refused_naming_the_field(mission: Mission) -> None:
    r = mission.client.post("/api/v1/alert-rules", headers=mission.headers("analyst"), json={
        "name": "x", "conditions": {"inside": "hot"}, "audience": {"roles": ["hq_analyst"]}})
    assert r.status_code == 422 and r.json()["field"].startswith("conditions.inside"), r.text


def test_the_analysis_is_reused_while_young(hot: Mission, monkeypatch: pytest.MonkeyPatch) -> None:
    """Raising does not recompute the map at every push: one analysis serves until it is old."""
    monkeypatch.setenv("PEACEWATCH_ALERT_ANALYSIS_MAX_AGE_S", "3600")
    calls = []
    real = analysis._compute

    def counting(conn, seq):  # type: ignore[no-untyped-def]
        calls.append(seq)
        return real(conn, seq)

    monkeypatch.setattr(analysis, "_compute", counting)
    analysis.forget()
    _rule(hot, "Looting in a hot spot", "hotspot")
    for _ in range(3):
        push(hot, "patrol_a", category="looting", severity=2, lat=CLUSTER[0], lon=CLUSTER[1],
             event_time=_when(RECENT))
    assert len(_raised(hot, "Looting in a hot spot")) == 3
    assert len(calls) == 1
