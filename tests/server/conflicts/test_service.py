"""The field-by-field diff of conflicting heads (pure functions)."""

from __future__ import annotations

from peacewatch.server.conflicts.service import field_diff, flatten


def test_flatten_gives_dotted_paths_and_keeps_lists_whole() -> None:
    body = {"a": 1, "casualties": {"killed": 2, "injured": 0}, "route": [{"lat": 1}], "empty": {}}
    assert flatten(body) == {"a": 1, "casualties.killed": 2, "casualties.injured": 0, "route": [{"lat": 1}],
                             "empty": {}}


def test_field_diff_lists_only_differing_fields_with_every_heads_value() -> None:
    heads = [
        {"version_id": "v1", "body": {"t": "x", "c": {"k": 3}, "only_here": True, "same": [1, 2]}},
        {"version_id": "v2", "body": {"t": "x", "c": {"k": 5}, "same": [1, 2]}},
        {"version_id": "v3", "body": {"t": "y", "c": {"k": 5}, "same": [1, 2]}},
    ]
    assert field_diff(heads) == [
        {"field": "c.k", "values": {"v1": 3, "v2": 5, "v3": 5}},
        {"field": "only_here", "values": {"v1": True, "v2": None, "v3": None}},
        {"field": "t", "values": {"v1": "x", "v2": "x", "v3": "y"}},
    ]


def test_field_diff_tells_a_missing_field_from_an_explicit_null_and_type_changes() -> None:
    heads = [{"version_id": "a", "body": {"p": None, "n": 1}}, {"version_id": "b", "body": {"n": 1.5}}]
    assert field_diff(heads) == [{"field": "n", "values": {"a": 1, "b": 1.5}},
                                 {"field": "p", "values": {"a": None, "b": None}}]
