"""version_id: stable, order-insensitive for parents, sensitive to every input."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peacewatch.common.versioning import canonical_json, version_id

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=15,
)
parents_st = st.lists(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), max_size=5, unique=True)


def test_canonical_json_is_sorted_compact_utf8():
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'.encode()


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_version_id_matches_the_contract_by_hand():
    import hashlib

    expected = hashlib.sha256(b'{"body":{"k":1},"device":"dev1","parents":["a","b"]}').hexdigest()
    assert version_id({"k": 1}, ["b", "a"], "dev1") == expected


@settings(max_examples=60, deadline=None)
@given(body=st.dictionaries(st.text(max_size=6), json_values, max_size=5), parents=parents_st, data=st.data())
def test_version_id_stable_and_parent_order_insensitive(body, parents, data):
    shuffled = data.draw(st.permutations(parents))
    first = version_id(body, parents, "device-1")
    assert first == version_id(json.loads(json.dumps(body)), list(shuffled), "device-1")
    assert len(first) == 64 and int(first, 16) >= 0
    assert version_id(body, parents, "device-2") != first
    assert version_id(body, [*parents, "f" * 63], "device-1") != first
    assert version_id({**body, "\x00extra": 1}, parents, "device-1") != first


# ----- the fast path (orjson) writes exactly the standard library's bytes ------------------------
def _stdlib(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [1e-05, 0.0001, 1e-4 * 0.999, 1e15, 1e16, 1e16 + 2, 123456789012345678.0, -0.0, 5e-324, 1.5e308, 0.1 + 0.2])
any_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | floats
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=25,
)
report_like = st.fixed_dictionaries({
    "id": st.uuids().map(str), "kind": st.sampled_from(["incident", "patrol"]),
    "title": st.text(max_size=40), "description": st.text(max_size=200),
    "location": st.fixed_dictionaries({"lat": st.floats(-90, 90), "lon": st.floats(-180, 180),
                                       "precision_m": st.integers(0, 5000) | st.floats(0, 5000)}),
    "casualties": st.dictionaries(st.sampled_from(["killed", "injured", "displaced"]), st.integers(0, 10**6)),
    "severity": st.integers(1, 5), "extra": any_json,
})


def _same_as_stdlib(obj) -> None:
    try:
        expected = _stdlib(obj)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        with pytest.raises(type(exc)):
            canonical_json(obj)
    else:
        assert canonical_json(obj) == expected


@settings(max_examples=400, deadline=None)
@given(obj=any_json)
def test_canonical_json_is_byte_identical_to_the_standard_library(obj):
    _same_as_stdlib(obj)


@settings(max_examples=300, deadline=None)
@given(body=report_like, parents=parents_st)
def test_version_ids_of_report_bodies_with_floats_are_unchanged(body, parents):
    _same_as_stdlib({"body": body, "parents": sorted(parents), "device": "dev-1"})


def test_the_fast_path_is_taken_for_ordinary_bodies(monkeypatch):
    # Without a float that could be written differently, the standard library is not consulted.
    import peacewatch.common.versioning as versioning

    assert versioning.orjson is not None  # a server dependency (pyproject.toml)
    monkeypatch.setattr(versioning, "_stdlib_canonical_json", lambda obj: pytest.fail("slow path taken"))
    body = {"location": {"lat": 1.23456, "lon": 30.5}, "title": "ü 漢字", "n": 2**60, "ok": True}
    assert versioning.canonical_json(body) == _stdlib(body)
