"""Tests of server/duplicates/consolidate.py: agreed and disagreeing facts, defaults, overrides."""

from __future__ import annotations

from typing import Any

import pytest

from peacewatch.server.duplicates.consolidate import FACTS, InvalidOverride, Source, consolidate


def body(**overrides: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "incident",
        "category": "attack_on_civilians",
        "event_time": "2026-11-24T15:30:00Z",
        "location": {"lat": 4.85, "lon": 31.6, "place": "Yei"},
        "title": "Attack on Yei market",
        "description": "Gunmen fired at traders.",
        "casualties": {"killed": 2, "injured": 5, "abducted": 0, "displaced": 0},
        "severity": 3,
        "confidentiality": "mission",
        "contingent": "BANBAT",
    }
    out.update(overrides)
    return out


def three() -> list[Source]:
    return [
        Source("a", body()),
        Source(
            "b",
            body(
                event_time="2026-11-24T14:50:00+00:00",
                location={"lat": 4.851, "lon": 31.602, "place": "Yei"},
                casualties={"killed": 3, "injured": 5, "abducted": 0, "displaced": 40},
                severity=4,
                contingent="NEPBAT",
                title="Shooting at market",
            ),
        ),
        Source(
            "c",
            body(
                category="killing",
                event_time="2026-11-24T16:10:00Z",
                location={"lat": 4.86, "lon": 31.61},
                casualties=None,
                confidentiality="restricted",
                contingent="RWABAT",
            ),
        ),
    ]


def test_agreed_and_disagreeing_facts_side_by_side():
    inc = consolidate(three())
    assert inc["sources"] == ["a", "b", "c"]
    facts = inc["facts"]
    # Same across every source that gives it: agreed (c gives no place and no casualties: not a disagreement).
    for fact in ("kind", "place", "casualties.injured", "casualties.abducted", "description"):
        assert facts[fact]["agreed"], fact
        assert fact in inc["agreed"]
    assert facts["place"]["missing"] == ["c"]
    assert facts["casualties.killed"]["by_source"] == {"a": 2, "b": 3, "c": None}
    for fact in ("category", "event_time", "location", "casualties.killed", "casualties.displaced", "severity",
                 "confidentiality", "title"):
        assert not facts[fact]["agreed"], fact
        assert fact in inc["disagreeing"]
    assert facts["category"]["by_source"] == {"a": "attack_on_civilians", "b": "attack_on_civilians", "c": "killing"}
    assert facts["event_time"]["by_source"]["b"] == "2026-11-24T14:50:00Z"


def test_default_values_follow_the_documented_rules():
    values = consolidate(three())["values"]
    assert values["category"] == "attack_on_civilians"  # most frequent
    assert values["event_time"] == "2026-11-24T14:50:00Z"  # earliest
    assert values["location"] == {"lat": 4.851, "lon": 31.602}  # median of each
    assert values["casualties.killed"] == 3 and values["casualties.displaced"] == 40  # highest
    assert values["severity"] == 4  # highest
    assert values["confidentiality"] == "restricted"  # most restrictive
    assert values["title"] == "Attack on Yei market"  # first source's
    assert set(values) == set(FACTS)


def test_close_locations_and_times_count_as_agreed():
    inc = consolidate(
        [
            Source("a", body()),
            Source("b", body(event_time="2026-11-24T15:40:00Z", location={"lat": 4.8505, "lon": 31.6, "place": "Yei"})),
        ]
    )
    assert inc["facts"]["location"]["agreed"] and inc["facts"]["event_time"]["agreed"]
    assert inc["facts"]["location"]["spread_m"] <= 100


def test_ties_go_to_the_first_source_and_median_crosses_the_antimeridian():
    inc = consolidate(
        [
            Source("a", body(category="killing", location={"lat": 1.0, "lon": 179.99})),
            Source("b", body(category="shelling", location={"lat": 1.0, "lon": -179.99})),
        ]
    )
    assert inc["values"]["category"] == "killing"
    assert abs(abs(inc["values"]["location"]["lon"]) - 180.0) < 1e-9


def test_overrides_pick_a_source_or_edit_and_keep_every_source():
    inc = consolidate(
        three(),
        {
            "casualties.killed": {"from": "a"},
            "event_time": {"value": "2026-11-24T17:00:00+02:00"},
            "location": {"value": {"lat": 4.9, "lon": 31.5}},
            "title": {"value": "Attack on Yei market, 24 Nov"},
        },
    )
    v, f = inc["values"], inc["facts"]
    assert v["casualties.killed"] == 2 and f["casualties.killed"]["override"] == {"from": "a"}
    assert f["casualties.killed"]["default"] == 3
    assert v["event_time"] == "2026-11-24T15:00:00Z"
    assert v["location"] == {"lat": 4.9, "lon": 31.5}
    assert v["title"] == "Attack on Yei market, 24 Nov"
    assert f["title"]["by_source"]["b"] == "Shooting at market"  # sources' own values stay visible
    assert inc["sources"] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"colour": {"value": "red"}}, "overrides.colour"),
        ({"severity": {"from": "zz"}}, "overrides.severity"),
        ({"place": {"from": "c"}}, "overrides.place"),  # c gives no place
        ({"severity": {"value": -1}}, "overrides.severity"),
        ({"severity": {"value": True}}, "overrides.severity"),
        ({"event_time": {"value": "2026-11-24T15:00:00"}}, "overrides.event_time"),
        ({"location": {"value": {"lat": 95, "lon": 0}}}, "overrides.location.lat"),
        ({"confidentiality": {"value": "public"}}, "overrides.confidentiality"),
        ({"confidentiality": {"from": "a"}}, "overrides.confidentiality"),  # would widen access
        ({"title": {"value": "x", "from": "a"}}, "overrides.title"),
        ({"title": {"value": "   "}}, "overrides.title"),
    ],
)
def test_bad_overrides_name_the_field(overrides, field):
    with pytest.raises(InvalidOverride) as err:
        consolidate(three(), overrides)
    assert err.value.field == field


def test_no_sources_or_repeated_source_refused():
    with pytest.raises(ValueError, match="at least one"):
        consolidate([])
    with pytest.raises(ValueError, match="twice"):
        consolidate([Source("a", body()), Source("a", body())])
