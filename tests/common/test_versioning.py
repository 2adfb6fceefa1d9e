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
