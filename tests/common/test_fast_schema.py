"""The compiled fast path gives exactly what the pydantic path gives: the same body, or the same errors.

"The same" is strict: the canonical body's JSON text (so value types, 1 against 1.0, and key order
count, not only ``==``), and every error's field, code, message and parameters. Bodies come from
the generators of ``test_schema.py`` (valid reports of every kind, one bad value per field, random
JSON values), from mutations a tablet or a person could send that pydantic accepts only after
normalising (spaces, offsets, coercions, defaults), and from the synthetic stored records.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic_reports import records

from peacewatch.common.coords import to_mgrs
from peacewatch.common.fast_schema import canonical_body, fast_canonical
from peacewatch.common.schema import ReportValidationError, parse_report, report_to_json
from peacewatch.common.taxonomy import load_taxonomy


def _load_schema_tests() -> Any:
    # The body generators live in test_schema.py; loaded by path under another name because the
    # tests/ folders are not packages (and "common" would name the project's own folder).
    spec = importlib.util.spec_from_file_location("schema_body_strategies", Path(__file__).with_name("test_schema.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_schema_tests = _load_schema_tests()
reports = _schema_tests.reports
put = _schema_tests.put
json_values = _schema_tests.json_values
BAD_VALUES: dict[str, list[Any]] = _schema_tests.BAD_VALUES
BAD_BY_KIND: dict[str, dict[str, list[Any]]] = _schema_tests.BAD_BY_KIND

MANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _exact(body: dict[str, Any]) -> str:
    # JSON text tells apart what == does not: 1 / 1.0 / True, and the order of the keys.
    return json.dumps(body)


def _outcome(path: Callable[[Any], dict[str, Any]], body: Any) -> tuple[str, Any]:
    try:
        return "accepted", _exact(path(body))
    except ReportValidationError as exc:
        return "refused", [(e.field, e.code, e.message, e.params) for e in exc.errors]


def _pydantic(body: Any) -> dict[str, Any]:
    return report_to_json(parse_report(body))


def assert_same(body: Any) -> dict[str, Any] | None:
    """canonical_body answers as the pydantic path does, and the fast path alone never contradicts it."""
    before = copy.deepcopy(body)
    expected = _outcome(_pydantic, body)
    assert _outcome(canonical_body, body) == expected
    fast = fast_canonical(body)
    if fast is not None:
        assert ("accepted", _exact(fast)) == expected
    assert body == before  # neither path changes what it was given
    return fast


# ------------------------------------------------------------------ valid bodies


@MANY
@given(body=reports())
def test_valid_bodies_take_the_fast_path_and_come_out_identical(body: dict[str, Any]) -> None:
    assert assert_same(body) is not None, "a plain valid body fell back to pydantic"
    # ... and as a tablet sends it again: the canonical body itself (lat/lon with mgrs, all defaults)
    assert assert_same(_pydantic(body)) is not None


def _record_bodies() -> list[dict[str, Any]]:
    stored_only = ("review_status", "version_id", "received_at", "in_conflict")
    return [{k: v for k, v in r.items() if k not in stored_only} for r in records(300, seed=11)]


@pytest.mark.parametrize("body", _record_bodies(), ids=lambda b: b["kind"])
def test_stored_style_records_take_the_fast_path(body: dict[str, Any]) -> None:
    assert assert_same(body) is not None


@pytest.mark.parametrize("field", ["id", "event_time"])
def test_a_random_or_clock_default_is_left_to_pydantic(field: str) -> None:
    body = {k: v for k, v in _record_bodies()[0].items() if k != field}
    assert fast_canonical(body) is None
    assert canonical_body(body)[field]  # pydantic filled it in


# ------------------------------------------------------------------ bodies pydantic normalises


SPACES = [" ", "\t", "\n", "\u00a0", "\u3000", "\u2028", "\x85", "\x1c", "\u200b", "\ufeff"]
TEXT_PATHS = ["title", "description", "contingent", "author", "category", "language", "location.place",
              "location.mgrs", "attachments.0.name", "attachments.0.media_type"]


FAMILIES = 14  # the kinds of change below, each a property test of its own so each is drawn often


@st.composite
def normalised_variants(draw: st.DrawFn, choice: int) -> dict[str, Any]:
    """A valid body changed the way a client or a person might: often still valid after normalising."""
    kind = draw(st.sampled_from(["incident", "patrol", "hr_concern"]))
    body: dict[str, Any] = draw(reports(kind))
    if kind == "patrol" and "location" not in body and draw(st.booleans()):
        body["location"] = {"lat": 4.85, "lon": 31.6}
    if choice == 0:  # surrounding or inner whitespace, NUL, a lone surrogate in some text
        path = draw(st.sampled_from(TEXT_PATHS + {"incident": ["perpetrator"], "patrol": ["observations"],
                                                  "hr_concern": ["victims.0.name", "victims.0.description"]}[kind]))
        base = _get(body, path)
        base = base if isinstance(base, str) and base else "x"
        extra = draw(st.sampled_from([*SPACES, "\x00", "\ud800", "é", "\x01"]))
        where = draw(st.sampled_from(["start", "end", "both", "inside"]))
        value = {"start": extra + base, "end": base + extra, "both": extra + base + extra,
                 "inside": base[:1] + extra + base[1:]}[where]
        return put(body, path, value)
    if choice == 1:  # other spellings of the id
        rid = body["id"]
        return put(body, "id", draw(st.sampled_from([rid.upper(), rid.replace("-", ""), "{" + rid + "}",
                                                       f"urn:uuid:{rid}", f" {rid}"])))
    if choice == 2:  # other spellings of a time
        path = draw(st.sampled_from(["event_time", "start_time", "end_time"] if kind == "patrol" else ["event_time"]))
        iso = body[path][:19]
        value = draw(st.sampled_from([iso + "+03:00", iso + "-00:30", iso + ".000000Z", iso + ".5Z", iso + ".123456Z",
                                      iso + "+00:00", iso.replace("T", " ") + "Z", iso.lower() + "z", iso[:16] + "Z",
                                      iso, " " + iso + "Z", iso[:11] + "24:00:00Z", iso[:8] + "31T00:00:00Z",
                                      iso + ".1234567Z", "٢٠٢٦" + iso[4:] + "Z"]))
        return put(body, path, value)
    if choice == 3:  # numbers of the wrong type that pydantic coerces (or refuses)
        path = draw(st.sampled_from(["severity", "casualties.killed", "location.lat", "location.lon",
                                     "location.precision_m", "attachments.0.size"]))
        value = draw(st.sampled_from([2, 2.0, 2.5, "2", True, False, None, 10**20, -0.0, 1e-300]))
        return put(body, path, value)
    if choice == 4:  # booleans pydantic reads from other values
        path = draw(st.sampled_from(["victims.0.consent_to_share"] if kind == "hr_concern" else
                                    ["nil_report"] if kind == "patrol" else ["severity"]))
        return put(body, path, draw(st.sampled_from([1, 0, "true", "no", "yes", 1.0])))
    if choice == 5:  # no confidentiality (a category default), or each level
        body = {k: v for k, v in body.items() if k != "confidentiality"}
        level = draw(st.sampled_from([None, "public", "mission", "restricted", "Mission"]))
        return body if level is None else {**body, "confidentiality": level}
    if choice == 6:  # a category of each kind, restricted ones among them
        code = draw(st.sampled_from([c for c in load_taxonomy().codes]))
        return {**body, "category": code}
    if choice == 7:  # every form of location
        lat, lon = draw(st.floats(-80, 84, allow_nan=False)), draw(st.floats(-180, 180, allow_nan=False))
        pairs = draw(st.integers(0, 5))
        ref = to_mgrs(lat, lon, pairs)
        spaced = f"{ref[:3]} {ref[3:5]} {ref[5:]}".lower()
        location = draw(st.sampled_from([
            {"mgrs": ref}, {"mgrs": spaced}, {"mgrs": ref, "precision_m": 3.0, "source": "gps"},
            {"lat": lat, "lon": lon, "mgrs": ref}, {"lat": lat, "lon": lon, "mgrs": spaced},
            {"lat": lat, "lon": lon, "mgrs": to_mgrs(lat, lon, 5)}, {"lat": lat, "lon": lon, "precision_m": 10**pairs},
            {"lat": lat, "mgrs": ref}, {"lon": lon}, {}, {"lat": lat + 1, "lon": lon, "mgrs": ref},
            {"lat": lat, "lon": lon, "mgrs": ref + "0"}, {"mgrs": "36NUL443"}, {"mgrs": 36},
            {"lat": 0.0, "lon": 31.0}, {"lat": -1e-8, "lon": 31.0}, {"lat": lat, "lon": lon, "source": "radio"},
        ]))
        return {**body, "location": location}
    if choice == 8:  # a patrol that ends before it starts, or at the same time
        if kind != "patrol":
            return body
        return {**body, "end_time": body["start_time"] if draw(st.booleans()) else "1999-01-01T00:00:00Z"}
    if choice == 9:  # unknown fields, at the top and inside
        path = draw(st.sampled_from(["bogus", "location.altitude", "casualties.wounded", "attachments.0.extra"]))
        return put(body, path, 1)
    if choice == 10:  # another kind's fields
        return {**body, **draw(st.sampled_from([{"route": []}, {"victims": []}, {"perpetrator": None},
                                                {"kind": draw(st.sampled_from(["incident", "patrol", "hr_concern"]))}]))}
    if choice == 11:  # nulls where a default would apply
        path = draw(st.sampled_from(["description", "casualties", "attachments", "language", "location",
                                     "title", "confidentiality"]))
        return put(body, path, None)
    if choice == 12:  # attachment fields at their edges
        return put(body, draw(st.sampled_from(["attachments.0.sha256", "attachments.0.name",
                                               "attachments.0.media_type"])),
                   draw(st.sampled_from(["AB" * 32, "ab" * 32 + "\n", "a.jpg\n", " a.jpg", "é.jpg", "image/JPEG",
                                         "x" * 256, "x" * 255])))
    # choice 13: lengths at and past their limits
    path, limit = draw(st.sampled_from([("title", 200), ("contingent", 64), ("author", 64), ("description", 20000)]))
    return put(body, path, "é" * draw(st.sampled_from([limit - 1, limit, limit + 1])))


def _get(body: dict[str, Any], path: str) -> Any:
    node: Any = body
    for part in path.split("."):
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


@pytest.mark.parametrize("choice", range(FAMILIES))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bodies_pydantic_normalises_or_refuses_come_out_identical(choice: int, data: st.DataObject) -> None:
    assert_same(data.draw(normalised_variants(choice)))


def _edge(**over: Any) -> dict[str, Any]:
    body = {k: v for k, v in _record_bodies()[0].items() if k not in over or over[k] is not DROP}
    return body | {k: v for k, v in over.items() if v is not DROP}


DROP = object()
PATROL = next(b for b in _record_bodies() if b["kind"] == "patrol")
HR = next(b for b in _record_bodies() if b["kind"] == "hr_concern")
# Rules the fast path re-implements, each at its edge, so a slip cannot hide behind chance.
EDGES: list[tuple[str, dict[str, Any]]] = [
    ("restricted category, lower level", _edge(category="conflict_related_sexual_violence", confidentiality="mission")),
    ("restricted category, no level", _edge(category="child_recruitment", confidentiality=DROP)),
    ("restricted category, restricted", _edge(category="child_recruitment", confidentiality="restricted")),
    ("category of another kind", _edge(category="patrol_nil")),
    ("zero microseconds", _edge(event_time="2026-11-24T15:30:00.000000Z")),
    ("microseconds", _edge(event_time="2026-11-24T15:30:00.000001Z")),
    ("offset", _edge(event_time="2026-11-24T18:30:00+03:00")),
    ("hour 24", _edge(event_time="2026-11-24T24:00:00Z")),
    ("31 November", _edge(event_time="2026-11-31T10:00:00Z")),
    ("patrol ends before it starts", PATROL | {"end_time": "2000-01-01T00:00:00Z"}),
    ("patrol ends as it starts", PATROL | {"end_time": PATROL["start_time"]}),
    ("mgrs of another square", _edge(location={"lat": 4.85, "lon": 31.6, "mgrs": "36NUL4536"})),
    ("mgrs of its square", _edge(location={"lat": 4.85, "lon": 31.6, "mgrs": "36NUL4436"})),
    ("half a position next to an mgrs", _edge(location={"lat": 4.85, "mgrs": "36NUL4436"})),
    ("mgrs only, spaced", _edge(location={"mgrs": "36n ul 44 36", "place": "Yei"})),
    ("NUL in ASCII text", _edge(title="a\x00b")),
    ("NUL in other text", _edge(title="é\x00b")),
    ("lone surrogate", _edge(description="x\ud800")),
    ("NUL in mgrs", _edge(location={"mgrs": "36NUL\x004436"})),
    ("severity as text", _edge(severity="3")),
    ("severity as float", _edge(severity=3.0)),
    ("severity as bool", _edge(severity=True)),
    ("count as text", HR | {"victims": [{"count": "2"}]}),
    ("consent as text", HR | {"victims": [{"consent_to_share": "true"}]}),
    ("nil_report as 1", PATROL | {"nil_report": 1}),
    ("latitude as text", _edge(location={"lat": "4.85", "lon": 31.6})),
    ("latitude as int", _edge(location={"lat": 4, "lon": 31})),
    ("precision as int", _edge(location={"lat": 4.5, "lon": 31.5, "precision_m": 10})),
    ("upper-case id", _edge(id="7B0E5A53-51F5-4B4E-9A0A-3F7C1E2D4B6A")),
    ("version-1 id", _edge(id="6ba7b810-9dad-11d1-80b4-00c04fd430c8")),
    ("title of spaces", _edge(title="   ")),
    ("padded title", _edge(title=" Village attacked ")),
    ("title with a file separator", _edge(title="\x1cVillage")),
    ("language with a newline", _edge(language="en\n")),
    ("sha256 with a newline", _edge(attachments=[{"sha256": "ab" * 32 + "\n", "size": 1, "media_type": "image/jpeg",
                                                 "name": "a.jpg"}])),
    ("file name with a space", _edge(attachments=[{"sha256": "ab" * 32, "size": 1, "media_type": "image/jpeg",
                                                   "name": " a.jpg"}])),
]


@pytest.mark.parametrize("body", [b for _, b in EDGES], ids=[name for name, _ in EDGES])
def test_rules_at_their_edges_come_out_identical(body: dict[str, Any]) -> None:
    assert_same(body)


# ------------------------------------------------------------------ invalid bodies


CASES = [(kind, path, value) for kind in BAD_BY_KIND for path, values in BAD_VALUES.items() for value in values]
CASES += [(kind, path, value) for kind, table in BAD_BY_KIND.items() for path, values in table.items()
          for value in values]


@pytest.mark.parametrize("kind,path,value", CASES, ids=[f"{k}:{p}:{v!r:.20}" for k, p, v in CASES])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_bad_value_gives_the_same_errors(kind: str, path: str, value: Any, data: st.DataObject) -> None:
    body = put(data.draw(reports(kind)), path, value)
    assert fast_canonical(body) is None
    assert assert_same(body) is None


@MANY
@given(body=reports(), key=st.sampled_from(sorted({p.split(".")[0] for p in BAD_VALUES} | {"route", "victims",
                                                                                             "kind"})),
       value=json_values)
def test_random_values_give_the_same_answer(body: dict[str, Any], key: str, value: Any) -> None:
    assert_same({**body, key: value})


@pytest.mark.parametrize("data", ["{not json", b"\xff", "[1, 2]", 42, None, [], {"title": "x"}, {"kind": "memo"},
                                  {"kind": ["incident"]}, {"kind": {"a": 1}}])
def test_body_level_errors_are_the_same(data: Any) -> None:
    assert _outcome(canonical_body, data) == _outcome(_pydantic, data)
    assert _outcome(canonical_body, data)[0] == "refused"


@SOME
@given(body=reports())
def test_json_text_is_read_as_parse_report_reads_it(body: dict[str, Any]) -> None:
    text = json.dumps(body)
    assert _outcome(canonical_body, text) == _outcome(_pydantic, text)
    assert _outcome(canonical_body, text.encode()) == _outcome(_pydantic, text.encode())


# ------------------------------------------------------------------ the mirror stays a mirror

# What a field's JSON Schema says about the values it takes. Patterns are left out (the two
# libraries spell anchors differently; the bad-value cases above exercise each one) and defaults
# too (the valid-body property omits every optional field in turn and compares the result).
CONSTRAINTS = ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
               "minItems", "maxItems", "enum", "nullable")


def _flatten(schema: dict[str, Any]) -> dict[str, Any]:
    """``{dotted path: constraints}`` for every field, nested ones included (list items as ``*``)."""
    defs = schema.get("$defs", {})
    out: dict[str, Any] = {}

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            node = {**defs[node["$ref"].rsplit("/", 1)[1]], **{k: v for k, v in node.items() if k != "$ref"}}
        if "anyOf" in node:
            branches = [b for b in node["anyOf"] if b != {"type": "null"}]
            assert len(branches) == 1, node
            node = {**resolve(branches[0]), "nullable": len(branches) < len(node["anyOf"])}
        if "const" in node:
            node = {**node, "enum": [node["const"]]}
        return node

    def walk(node: dict[str, Any], path: str) -> None:
        node = resolve(node)
        facts = {k: sorted(node[k]) if k == "enum" else node[k] for k in CONSTRAINTS if k in node}
        if "enum" in facts:
            facts.pop("type", None)  # pydantic adds "string" to a Literal's enum; msgspec does not
        if "properties" in node:
            facts |= {"type": "object", "fields": list(node["properties"]), "required": sorted(node.get("required", []))}
            for name, child in node["properties"].items():
                walk(child, f"{path}.{name}" if path else name)
        if "items" in node:
            walk(node["items"], f"{path}.*")
        out[path or "(body)"] = facts

    walk(schema, "")
    return out


@pytest.mark.parametrize("kind", ["incident", "patrol", "hr_concern"])
def test_the_structs_mirror_the_models_field_for_field(kind: str) -> None:
    """A field or limit changed in schema.py but not in fast_schema.py fails here, not in production."""
    import msgspec

    from peacewatch.common.fast_schema import _STRUCTS
    from peacewatch.common.schema import MODELS

    models = _flatten(MODELS[kind].model_json_schema(mode="validation"))
    structs = _flatten(msgspec.json.schema(_STRUCTS[kind]))
    assert structs == models
