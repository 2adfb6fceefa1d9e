"""Tests of the duplicates engine (server/duplicates/): limits, sources, scoring, reasons, index vs all pairs."""

from __future__ import annotations

import math
import re
import string
from datetime import datetime, timedelta
from types import MappingProxyType

import h3.api.basic_int as h3
import numpy as np
import pytest

from peacewatch.server.duplicates.engine import (
    DuplicateIndex,
    InvalidReport,
    Rules,
    all_pairs,
    choose_resolution,
    english,
    explain,
    haversine_m,
    report_from_body,
    tokens,
)

from .helpers import BASE_LAT, BASE_LON, BASE_TIME, destination, moved, related, report, scatter

ANY_SCORE = Rules(threshold=0.0)  # to test the hard limits apart from the score


def answers(proposals):
    return {p.pair: p.score for p in proposals}


def test_planted_pair_is_proposed_with_measured_reasons():
    index = DuplicateIndex(related=related)
    assert index.add(report("a")) == []
    [p] = index.add(moved("b", bearing=45, distance_m=740, minutes=35))
    assert (p.report_id, p.other_id, p.pair) == ("b", "a", ("a", "b"))
    assert 0.0 <= p.score <= 1.0
    r = p.reasons
    assert abs(r["distance_m"] - 740) <= 1
    assert r["time_gap_min"] == 35
    assert r["category"] == "same" and r["categories"] == ["attack_on_civilians"]
    assert r["casualties"] == "agree"
    assert r["text_similarity"] == 1.0  # same text
    assert r["sources"] == "contingent" and r["contingents"] == ["NEPBAT", "BANBAT"]
    text = p.explanations
    assert f"{r['distance_m']} m apart" in text
    assert "event times 35 min apart" in text
    assert "same category (attack_on_civilians)" in text
    assert "casualty counts agree" in text
    assert "reported by different contingents (NEPBAT, BANBAT)" in text
    assert english(r)["against"] == []  # nothing argues against this one
    assert p.score >= 0.9


def test_same_source_pairs_are_ignored_other_devices_or_contingents_are_not():
    index = DuplicateIndex(related=related, rules=ANY_SCORE)
    index.add(report("a", device_id="tab-1"))
    # Same contingent, same device: the same source writing twice.
    assert index.add(report("b", device_id="tab-1")) == []
    # Same contingent, device unknown on one side: cannot tell them apart, so not proposed.
    assert index.add(report("c", device_id=None)) == []
    # Same contingent, another device: another source.
    [p] = [p for p in index.add(report("d", device_id="tab-2")) if p.other_id == "a"]
    assert p.reasons["sources"] == "device"
    assert english(p.reasons)["against"] == [
        "both from contingent BANBAT (two devices): a contingent seldom reports one event twice"]
    # Another contingent, even with the same device id and no device at all: another source.
    assert {p.other_id for p in index.add(report("e", contingent="NEPBAT", device_id=None))} == {"a", "b", "c", "d"}


@pytest.mark.parametrize(("distance_m", "expected"), [(1999.0, True), (2000.0 - 1e-3, True), (2001.0, False)])
def test_distance_limit_is_inclusive_at_its_edge(distance_m, expected):
    index = DuplicateIndex(related=related, rules=ANY_SCORE)
    index.add(report("a"))
    for bearing in (0.0, 90.0, 200.0):
        found = index.add(moved(f"b{bearing}", bearing=bearing, distance_m=distance_m))
        assert any(p.other_id == "a" for p in found) is expected


@pytest.mark.parametrize(("offset", "expected"), [(timedelta(hours=6), True), (timedelta(hours=6, seconds=1), False)])
def test_time_limit_is_inclusive_at_its_edge(offset, expected):
    index = DuplicateIndex(related=related, rules=ANY_SCORE)
    index.add(report("a"))
    later = report("b", contingent="NEPBAT", event_time=(BASE_TIME + offset).isoformat())
    earlier = report("c", contingent="NEPBAT", event_time=(BASE_TIME - offset).isoformat())
    assert any(p.other_id == "a" for p in index.add(later)) is expected
    assert any(p.other_id == "a" for p in index.add(earlier)) is expected


def test_category_same_or_related_only_and_related_read_both_ways():
    index = DuplicateIndex(related=related, rules=ANY_SCORE)
    index.add(report("a", category="attack_on_civilians"))
    index.add(report("l", category="looting", contingent="X"))
    assert index.add(report("u", category="displacement", contingent="NEPBAT")) == []
    [p] = index.add(report("k", category="killing", contingent="NEPBAT"))
    assert p.other_id == "a" and p.reasons["category"] == "related"
    assert p.reasons["categories"] == ["killing", "attack_on_civilians"]
    assert "related categories (killing / attack_on_civilians)" in p.explanations
    # The taxonomy says looting -> arson but not arson -> looting: still related.
    [q] = index.add(report("r", category="arson", contingent="NEPBAT"))
    assert q.other_id == "l" and q.reasons["category"] == "related"


def test_score_prefers_same_category_agreeing_casualties_and_similar_text():
    # 1.2 km and 1 h 40 min apart: far enough that no score is saturated at 1.0.
    base = DuplicateIndex(related=related, rules=ANY_SCORE)
    base.add(report("a"))
    same = base.add(moved("s", 90, 1200, 100))[0].score
    base.remove("s")
    related_cat = base.add(moved("r", 90, 1200, 100, category="killing"))[0].score
    base.remove("r")
    other_counts = base.add(moved("c", 90, 1200, 100, casualties={"killed": 40, "injured": 0}))[0]
    base.remove("c")
    close_counts = base.add(moved("k", 90, 1200, 100, casualties={"killed": 3, "injured": 6}))[0]
    base.remove("k")
    no_counts = base.add(moved("n", 90, 1200, 100, casualties=None))[0]
    base.remove("n")
    other_text = base.add(moved("t", 90, 1200, 100, title="Cattle raid", description="Herders lost cattle"))[0]
    base.remove("t")
    farther = base.add(moved("f", 90, 1700, 100))[0].score
    base.remove("f")
    later = base.add(moved("l", 90, 1200, 220))[0].score
    assert same > related_cat
    assert other_counts.reasons["casualties"] == "differ" and other_counts.score < same
    assert close_counts.reasons["casualties"] == "close" and other_counts.score < close_counts.score < same
    assert no_counts.reasons["casualties"] == "unknown" and other_counts.score < no_counts.score < same
    assert other_text.reasons["text_similarity"] == 0.0 and other_text.score < same
    assert farther < same and later < same
    base.remove("l")
    one_contingent = base.add(moved("o", 90, 1200, 100, contingent="BANBAT"))[0]
    assert one_contingent.reasons["sources"] == "device" and one_contingent.score < same
    assert all(0.0 <= s <= 1.0 for s in (same, related_cat, farther, later))


def test_threshold_filters_weak_pairs():
    strict = DuplicateIndex(related=related)  # default threshold
    strict.add(report("a"))
    unlike = moved("b", 90, 1900, 340, category="killing", casualties={"killed": 30}, title="x", description="")
    assert strict.add(unlike) == []
    assert strict.add(moved("c", 90, 300, 20)) != []


def test_dismissed_pair_is_never_proposed_again():
    index = DuplicateIndex(related=related)
    index.add(report("a"))
    assert index.add(moved("b", 0, 100)) != []
    index.dismiss("b", "a")
    assert index.add(moved("b", 0, 50)) == []  # a new version of b: still not proposed with a
    assert {p.other_id for p in index.add(moved("c", 0, 60, contingent="X"))} == {"a", "b"}


def test_readding_an_id_replaces_it_and_patrols_are_not_indexed():
    index = DuplicateIndex(related=related)
    index.add(report("a"))
    far = destination(BASE_LAT, BASE_LON, 0, 50_000)
    index.add(report("a", lat=far[0], lon=far[1]))  # a's new version moved 50 km away
    assert len(index) == 1
    assert index.add(moved("b", 0, 100)) == []
    assert index.add(moved("p", 0, 100, kind="patrol")) == []
    assert "p" not in index
    assert index.remove("zzz") is False


def test_bulk_equals_adding_one_by_one():
    reports = scatter(400, seed=1)
    one_by_one = DuplicateIndex(related=related)
    incremental = [p for r in reports for p in one_by_one.add(r)]
    at_once = DuplicateIndex(related=related).bulk(reports)
    assert len(incremental) > 50  # the scatter is dense enough to matter
    assert [(p.report_id, p.other_id, p.score, p.reasons) for p in at_once] == [
        (p.report_id, p.other_id, p.score, p.reasons) for p in incremental
    ]
    # Mixed: half in bulk, then the rest one by one, then a second bulk.
    mixed = DuplicateIndex(related=related)
    got = mixed.bulk(reports[:150]) + [p for r in reports[150:300] for p in mixed.add(r)] + mixed.bulk(reports[300:])
    assert answers(got) == answers(incremental)


def test_index_gives_the_all_pairs_answer_without_comparing_all_pairs():
    reports = scatter(600, seed=2, radius_m=20_000, hours=72)
    index = DuplicateIndex(related=related, rules=ANY_SCORE)
    found = index.bulk(reports)
    baseline, base_stats = all_pairs(reports, related=related, rules=ANY_SCORE)
    assert len(found) > 50
    assert answers(found) == answers(baseline)
    assert base_stats.comparisons == 600 * 599 // 2
    # Only neighbouring cells and buckets are looked at: a small fraction of all pairs.
    assert index.stats.comparisons < base_stats.comparisons / 5
    assert index.stats.scored == base_stats.scored


def test_index_is_exact_near_pentagons_antimeridian_and_poles():
    rng = np.random.default_rng(3)
    pentagon = h3.cell_to_latlng(h3.get_pentagons(6)[4])
    centres = [pentagon, (10.0, 179.99), (-30.0, -179.995), (89.98, 0.0)]
    reports = []
    for c, (lat0, lon0) in enumerate(centres):
        for i in range(150):
            lat, lon = destination(lat0, lon0, float(rng.uniform(0, 360)), float(5000 * math.sqrt(rng.random())))
            t = BASE_TIME + timedelta(minutes=int(rng.integers(0, 600)))
            reports.append(report(f"p{c}-{i}", lat=lat, lon=lon, event_time=t.isoformat(), contingent=f"C{i % 3}"))
    found = DuplicateIndex(related=related, rules=ANY_SCORE).bulk(reports)
    baseline, _ = all_pairs(reports, related=related, rules=ANY_SCORE)
    assert len(baseline) > 500
    assert answers(found) == answers(baseline)


@pytest.mark.parametrize("distance_m", [300.0, 2000.0, 15_000.0])
def test_ring_covers_every_point_within_the_distance(distance_m):
    res, k = choose_resolution(distance_m)
    rng = np.random.default_rng(int(distance_m))
    origins = [h3.cell_to_latlng(p) for p in h3.get_pentagons(res)]
    origins += [(float(np.degrees(np.arcsin(rng.uniform(-1, 1)))), float(rng.uniform(-180, 180))) for _ in range(300)]
    for lat, lon in origins:
        disk = set(h3.grid_disk(h3.latlng_to_cell(lat, lon, res), k))
        for bearing in rng.uniform(0, 360, 12):
            far = destination(lat, lon, float(bearing), distance_m)
            assert h3.latlng_to_cell(*far, res) in disk


def test_resolution_for_two_km_is_six_with_one_ring():
    assert choose_resolution(2000.0) == (6, 1)
    assert choose_resolution(2000.0, resolution=8)[1] > 1


def test_haversine_matches_a_known_distance():
    # One degree of latitude on the mean-radius sphere.
    assert haversine_m(np.array([0.0]), np.array([0.0]), np.array([1.0]), np.array([0.0]))[0] == pytest.approx(
        111_195.08, abs=0.1
    )


def test_tokens_ascii_fast_path_splits_like_the_regex():
    # Appending " é" sends the same text down the regex path (non-ASCII) and adds only the token "é".
    rng = np.random.default_rng(5)
    alphabet = np.array(list(string.printable))
    for _ in range(2000):
        text = "".join(rng.choice(alphabet, 40))
        assert tokens(text) == tokens(text + " é") - {"é"}
        assert tokens(text) <= frozenset(re.findall(r"[^\W_]+", text.casefold()))


def test_tokens_fold_case_keep_numbers_and_drop_function_words():
    assert tokens("The gunmen KILLED 2 people near the Market; le marché") == frozenset(
        {"gunmen", "killed", "2", "people", "market", "marché"}
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lat": None}, "lat"),
        ({"lat": 91.0}, "lat"),
        ({"lon": float("nan")}, "lon"),
        ({"lon": True}, "lon"),
        ({"id": ""}, "id"),
        ({"category": 5}, "category"),
        ({"contingent": None}, "contingent"),
        ({"event_time": "yesterday"}, "event_time"),
        ({"event_time": "2026-11-24T15:30:00"}, "event_time"),
        ({"casualties": {"killed": -1}}, "casualties.killed"),
        ({"casualties": {"killed": 1.5}}, "casualties.killed"),
        ({"casualties": {"wounded": 1}}, "casualties.wounded"),
        ({"casualties": [1, 2]}, "casualties"),
        ({"device_id": 7}, "device_id"),
        ({"title": 7}, "title"),
    ],
)
def test_bad_input_names_the_field(change, field):
    with pytest.raises(InvalidReport) as err:
        DuplicateIndex(related=related).add(report("a", **change))
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


def test_bulk_refuses_a_repeated_id_and_names_the_report():
    index = DuplicateIndex(related=related)
    with pytest.raises(InvalidReport) as err:
        index.bulk([report("a"), report("b", lat="x")])
    assert err.value.field == "lat" and "report #1" in str(err.value)
    with pytest.raises(InvalidReport) as err:
        index.bulk([report("a"), report("a")])
    assert err.value.field == "id"


def test_event_time_accepts_datetimes_and_offsets():
    index = DuplicateIndex(related=related, rules=ANY_SCORE)
    index.add(report("a", event_time=BASE_TIME))
    # 17:30 at UTC+2 is 15:30 UTC: the same instant.
    [p] = index.add(report("b", contingent="X", event_time=datetime.fromisoformat("2026-11-24T17:30:00+02:00")))
    assert p.reasons["time_gap_min"] == 0


def test_report_from_body_reads_the_contract():
    body = {
        "id": "7b0e",
        "kind": "incident",
        "category": "killing",
        "event_time": "2026-11-24T15:30:00Z",
        "location": {"lat": 4.85, "lon": 31.6, "precision_m": 10, "source": "gps"},
        "title": "t",
        "description": "d",
        "casualties": {"killed": 0, "injured": 2, "abducted": 0, "displaced": 150},
        "contingent": "BANBAT",
        "severity": 3,
    }
    flat = report_from_body(body, device_id="dev-1")
    assert flat["lat"] == 4.85 and flat["lon"] == 31.6 and flat["device_id"] == "dev-1"
    assert DuplicateIndex(related=related).add(flat) == []
    with pytest.raises(InvalidReport) as err:
        report_from_body({"id": "x"})
    assert err.value.field == "location"


def test_rules_refuse_nonsense():
    with pytest.raises(ValueError, match="max_distance_m"):
        Rules(max_distance_m=0)
    with pytest.raises(ValueError, match="threshold"):
        Rules(threshold=1.5)
    with pytest.raises(ValueError, match="time_window"):
        Rules(time_window=timedelta(0))


def test_bulk_checks_fast_and_report_by_report_alike():
    # Plain dicts and any other mapping go through the one validator and come out alike.
    reports = scatter(300, seed=4)
    reports[7]["casualties"] = None
    reports[8]["device_id"] = None
    reports[9]["title"] = None
    reports[10]["event_time"] = BASE_TIME + timedelta(hours=1)
    fast = DuplicateIndex(related=related).bulk(reports)
    careful = DuplicateIndex(related=related).bulk([MappingProxyType(r) for r in reports])
    assert len(fast) > 20
    assert [(p.report_id, p.other_id, p.score, p.reasons) for p in fast] == [
        (p.report_id, p.other_id, p.score, p.reasons) for p in careful
    ]


def test_a_hard_negative_is_not_proposed_and_its_explanation_says_why_not():
    # Same category, title and counts; 1.2 km and 2 h 10 min apart: more likely a second event.
    index = DuplicateIndex(related=related, rules=ANY_SCORE)
    index.add(report("a", category="looting"))
    [p] = index.add(moved("b", 90, 1200, 130, category="looting"))
    assert p.score < 0.9 and p.reasons["distinct_share"] >= 0.5
    against = english(p.reasons)["against"]
    assert against[0] == "1200 m apart: farther than 99 % of labelled duplicates"
    assert against[1].startswith("event times 2 h 10 min apart: longer than ")
    assert against[2] == (f"1200 m and 2 h 10 min apart: {round(100 * p.reasons['distinct_share'])} % of labelled "
                          "looting pairs this close were two different events")
    # Five hours apart it is not proposed at all.
    strict = DuplicateIndex(related=related)
    strict.add(report("a", category="looting"))
    assert strict.add(moved("b", 90, 1200, 300, category="looting")) == []


def test_time_gap_weighs_differently_by_category():
    """The fitted model has per-category terms: at one distance and gap, lootings (which come in
    bursts) are more often two events than killings."""
    from peacewatch.server.duplicates.engine import Evidence, load_model

    cats = ["looting", "killing", "abduction"]
    ev = Evidence(np.full(3, 1200.0), np.full(3, 2.5 * 3600), np.ones(3, dtype=bool), cats,
                  np.ones(3, dtype=np.int64), np.full(3, 0.3), np.zeros(3, dtype=bool))
    distinct = dict(zip(cats, load_model().distinct_share(ev).tolist(), strict=True))
    assert distinct["looting"] > distinct["killing"] + 0.03 and distinct["looting"] > distinct["abduction"] + 0.03


def test_reasons_render_in_another_language():
    from peacewatch.server.duplicates.engine import Reason, render

    french = {"event times {gap} apart": "heures des faits à {gap} d'écart", "{hours} h {minutes} min": "{hours} h {minutes}"}
    reason = Reason("for", "event times {gap} apart", {"gap_min": 130})
    assert render(reason) == "event times 2 h 10 min apart"
    assert render(reason, lambda m: french.get(m, m)) == "heures des faits à 2 h 10 d'écart"
    labelled = render(Reason("for", "same category ({category})", {"category": "looting"}), category_label=str.upper)
    assert labelled == "same category (LOOTING)"
    # The mission's decisions about pairs like this one, each category labelled.
    [history] = [r for r in explain(REASONS_2H, {"decided": 4, "different": 1}) if "analysts" in r.msgid]
    assert history.side == "for"
    assert render(history, category_label=str.upper) == (
        "at least 2 h 10 min apart: analysts confirmed 3 of 4 such KILLING / ATTACK_ON_CIVILIANS pairs in this "
        "mission as one event")
    [history] = [r for r in explain(REASONS_2H, {"decided": 4, "different": 2}) if "analysts" in r.msgid]
    assert history.side == "against"


REASONS_2H = {"distance_m": 420, "time_gap_min": 130, "category": "related", "categories": ["killing", "attack_on_civilians"],
              "casualties": "close", "text_similarity": 0.31, "sources": "contingent", "contingents": ["NEPBAT", "BANBAT"]}


def test_reasons_stored_before_the_against_evidence_still_explain():
    old = {"distance_m": 420, "time_gap_min": 75, "category": "related", "categories": ["killing", "attack_on_civilians"],
           "casualties": "close", "text_similarity": 0.31, "sources": "contingent", "contingents": ["NEPBAT", "BANBAT"]}
    words = english(old)
    assert words["for"][:2] == ["420 m apart", "event times 1 h 15 min apart"]
    assert "related categories (killing / attack_on_civilians)" in words["for"] and words["against"] == []
