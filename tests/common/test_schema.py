"""The report body contract: valid bodies round-trip, and every bad field is named in a ReportValidationError."""

import copy
import json
import math
import uuid
from datetime import UTC, datetime, timedelta

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peacewatch.common.coords import from_mgrs, to_mgrs
from peacewatch.common.schema import (
    AttachmentRef,
    Casualties,
    FieldError,
    HumanRightsConcern,
    IncidentReport,
    Location,
    PatrolReport,
    Person,
    ReportValidationError,
    RoutePoint,
    json_schemas,
    new_report,
    parse_report,
    report_to_json,
)
from peacewatch.common.taxonomy import load_taxonomy
from peacewatch.common.timefmt import parse_iso, to_iso
from peacewatch.common.versioning import version_id

# ------------------------------------------------------------------ strategies for valid bodies


# Text a person could type: no NUL, no lone surrogates, no surrounding spaces (the schema strips them).
def text(min_size=0, max_size=40):
    alphabet = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    return (
        st.text(alphabet, min_size=min_size, max_size=max_size)
        .map(str.strip)
        .filter(lambda t: len(t) >= min_size)
    )


times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
lats = st.floats(-80, 84, allow_nan=False)
lons = st.floats(-180, 180, allow_nan=False)

locations = st.one_of(
    st.fixed_dictionaries({"lat": lats, "lon": lons}),
    st.fixed_dictionaries(
        {"lat": lats, "lon": lons},
        optional={"precision_m": st.floats(0.5, 5000), "source": st.just("gps"), "place": text(1, 30)},
    ),
    st.builds(lambda la, lo, d: {"mgrs": to_mgrs(la, lo, d)}, lats, lons, st.integers(0, 5)),
)
people = st.fixed_dictionaries(
    {},
    optional={
        "sex": st.sampled_from(["female", "male", "other", "unknown"]),
        "age_group": st.sampled_from(["child", "adult", "elderly", "unknown"]),
        "count": st.integers(1, 50),
        "consent_to_share": st.booleans(),
        "name": st.none() | text(1, 30),
        "description": st.none() | text(0, 60),
    },
)
attachments = st.fixed_dictionaries(
    {
        "sha256": st.text("0123456789abcdef", min_size=64, max_size=64),
        "size": st.integers(0, 10**9),
        "media_type": st.sampled_from(["image/jpeg", "audio/ogg", "application/pdf", "video/mp4"]),
        "name": text(1, 30).filter(lambda n: "/" not in n and "\\" not in n and n.isprintable()),
    }
)


@st.composite
def reports(draw, kind=None):
    kind = kind or draw(st.sampled_from(["incident", "patrol", "hr_concern"]))
    category = draw(st.sampled_from(load_taxonomy().for_kind(kind)))
    levels = ["restricted"] if category.is_restricted else ["public", "mission", "restricted"]
    body = {
        "id": str(draw(st.uuids(version=4))),
        "kind": kind,
        "category": category.code,
        "event_time": to_iso(draw(times)),
        "title": draw(text(1, 60)),
        "contingent": draw(st.sampled_from(["BANBAT", "NEPBAT", "RWABATT-2", "Zambia Coy"])),
        "author": draw(text(1, 20)),
    }
    optional = {
        "description": text(0, 200),
        "casualties": st.fixed_dictionaries(
            {}, optional={k: st.integers(0, 1000) for k in ("killed", "injured", "abducted", "displaced")}
        ),
        "confidentiality": st.sampled_from(levels),
        "attachments": st.lists(attachments, max_size=3),
        "language": st.sampled_from(["en", "fr", "ar", "pt-BR"]),
    }
    if kind == "incident":
        body["location"] = draw(locations)
        body["severity"] = draw(st.integers(1, 5))
        optional["perpetrator"] = st.none() | text(1, 40)
    elif kind == "patrol":
        start = draw(times)
        body["patrol_type"] = draw(st.sampled_from(["foot", "vehicle", "air", "river"]))
        body["start_time"] = to_iso(start)
        body["end_time"] = to_iso(start + draw(st.timedeltas(timedelta(0), timedelta(days=3))))
        optional.update(
            location=locations,
            severity=st.integers(1, 5),
            route=st.lists(st.fixed_dictionaries({"lat": lats, "lon": lons}), max_size=5),
            observations=text(0, 100),
            nil_report=st.booleans(),
        )
    else:
        body["location"] = draw(locations)
        body["severity"] = draw(st.integers(1, 5))
        body["victims"] = draw(st.lists(people, min_size=1, max_size=3))
        optional["witnesses"] = st.lists(people, max_size=2)
        optional["alleged_perpetrators"] = st.lists(people, max_size=2)
    for key, strategy in optional.items():
        if draw(st.booleans()):
            body[key] = draw(strategy)
    return body


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PERSON = {"sex": "female", "age_group": "adult", "count": 1, "consent_to_share": False}
ATTACHMENT = {"sha256": "ab" * 32, "size": 10, "media_type": "image/jpeg", "name": "p1.jpg"}


def incident(**over):
    body = {
        "id": "7b0e5a53-51f5-4b4e-9a0a-3f7c1e2d4b6a",
        "kind": "incident",
        "category": "attack_on_civilians",
        "event_time": "2026-11-24T15:30:00Z",
        "location": {"lat": 4.85, "lon": 31.6, "precision_m": 10, "source": "gps"},
        "title": "Village attacked",
        "description": "Two houses burnt",
        "severity": 3,
        "casualties": {"killed": 0, "injured": 2, "abducted": 0, "displaced": 150},
        "attachments": [ATTACHMENT],
        "contingent": "BANBAT",
        "author": "amina",
        "language": "en",
    }
    body.update(over)
    return body


def errors_of(data):
    with pytest.raises(ReportValidationError) as info:
        parse_report(data)
    assert info.value.errors and all(isinstance(e, FieldError) for e in info.value.errors)
    return info.value.errors


def fields_of(data):
    return {e.field for e in errors_of(data)}


# ------------------------------------------------------------------ the contract example


def test_contract_example_parses_and_serialises_every_field():
    report = parse_report(json.dumps(incident()))
    assert isinstance(report, IncidentReport)
    out = report_to_json(report)
    assert out["event_time"] == "2026-11-24T15:30:00Z"
    assert out["id"] == "7b0e5a53-51f5-4b4e-9a0a-3f7c1e2d4b6a"
    assert out["confidentiality"] == "mission"  # the category's default
    assert set(out["location"]) == {"lat", "lon", "mgrs", "precision_m", "source", "place"}
    assert out["location"]["mgrs"] == "36NUL44753624"  # 10 m precision -> 4 digit pairs
    assert out["perpetrator"] is None
    json.dumps(out)  # JSON-ready
    version_id(out, [], "dev")  # canonical JSON works on it


def test_mgrs_only_location_is_filled_in():
    out = report_to_json(parse_report(incident(location={"mgrs": "36N UL 44 36", "place": "Yei"})))
    loc = out["location"]
    assert (loc["mgrs"], loc["precision_m"], loc["source"], loc["place"]) == (
        "36NUL4436",
        1000.0,
        "mgrs",
        "Yei",
    )
    assert (loc["lat"], loc["lon"]) == pytest.approx(from_mgrs("36NUL4436")[:2])


def test_lat_lon_with_a_matching_mgrs_is_kept_and_a_contradicting_one_refused():
    ok = parse_report(incident(location={"lat": 4.85, "lon": 31.6, "mgrs": "36NUL4436"}))
    assert ok.location.mgrs == "36NUL4436"
    errs = errors_of(incident(location={"lat": 4.85, "lon": 31.6, "mgrs": "36NUL4536"}))
    assert [(e.field, e.code) for e in errs] == [("location.mgrs", "mgrs_mismatch")]


def test_event_time_defaults_to_now_and_offsets_become_utc():
    body = incident(event_time="2026-11-24T18:30:00+03:00")
    assert report_to_json(parse_report(body))["event_time"] == "2026-11-24T15:30:00Z"
    del body["event_time"]
    when = parse_report(body).event_time
    assert when.tzinfo is not None and abs(datetime.now(UTC) - when) < timedelta(seconds=5)


def test_restricted_category_defaults_to_restricted_and_refuses_lower():
    body = incident(category="conflict_related_sexual_violence")
    assert parse_report(body).confidentiality == "restricted"
    for level in ("public", "mission"):
        errs = errors_of({**body, "confidentiality": level})
        assert [(e.field, e.code) for e in errs] == [("confidentiality", "confidentiality_too_low")]
        assert "restreinte" in errs[0].message_for("fr")


def test_other_categories_accept_any_level():
    for level in ("public", "mission", "restricted"):
        assert parse_report(incident(category="looting", confidentiality=level)).confidentiality == level


def test_category_must_exist_and_fit_the_kind():
    assert [e.code for e in errors_of(incident(category="alien_landing"))] == ["unknown_category"]
    assert [e.code for e in errors_of(incident(category="patrol_nil"))] == ["category_not_for_kind"]


def test_patrol_and_hr_concern():
    patrol = new_report(
        "patrol",
        category="patrol_routine",
        title="Route Yei-Morobo",
        contingent="BANBAT",
        author="k",
        patrol_type="vehicle",
        start_time="2026-11-24T06:00:00Z",
        end_time="2026-11-24T06:00:00Z",
        route=[{"lat": 4.1, "lon": 30.7}, {"lat": 4.2, "lon": 30.8}],
        nil_report=True,
    )
    assert isinstance(patrol, PatrolReport) and patrol.location is None and patrol.severity == 1
    errs = errors_of({**report_to_json(patrol), "end_time": "2026-11-24T05:59:59Z"})
    assert [(e.field, e.code) for e in errs] == [("end_time", "end_before_start")]
    hr = new_report(
        "hr_concern",
        category="arbitrary_detention",
        title="Held at checkpoint",
        contingent="NEPBAT",
        author="s",
        location={"lat": 4.1, "lon": 30.7},
        severity=4,
        victims=[PERSON, {**PERSON, "age_group": "child", "count": 3}],
    )
    assert isinstance(hr, HumanRightsConcern) and hr.victims[1].count == 3
    assert uuid.UUID(str(hr.id)).version == 4


def test_fields_of_another_kind_are_refused():
    assert fields_of(incident(route=[])) == {"route"}
    assert fields_of(incident(victims=[PERSON])) == {"victims"}


@pytest.mark.parametrize(
    "data,field,code",
    [
        ("{not json", "", "invalid_json"),
        (b"\xff", "", "invalid_json"),
        ("[1, 2]", "", "not_an_object"),
        (42, "", "not_an_object"),
        ({"title": "x"}, "kind", "required"),
        ({"kind": "memo"}, "kind", "unknown_kind"),
        ({"kind": ["incident"]}, "kind", "unknown_kind"),
    ],
)
def test_body_level_errors(data, field, code):
    assert [(e.field, e.code) for e in errors_of(data)] == [(field, code)]


def test_messages_translate_and_fill_placeholders():
    err = next(e for e in errors_of(incident(severity=9)) if e.field == "severity")
    assert (err.code, err.message) == ("too_large", "Must be at most 5.")
    assert err.message_for("fr") == "Doit être au plus 5."
    assert err.message_for("xx") == err.message
    assert err.as_dict("fr") == {"field": "severity", "code": "too_large", "message": "Doit être au plus 5."}


def test_nul_and_lone_surrogates_are_refused():
    assert fields_of(incident(title="a\x00b")) == {"title"}
    assert fields_of(json.dumps(incident(description="x\ud800"))) == {"description"}


# ------------------------------------------------------------------ properties


@FAST
@given(body=reports())
def test_json_model_json_round_trip(body):
    first = report_to_json(parse_report(body))
    second = report_to_json(parse_report(json.dumps(first)))
    assert first == second
    for key in ("id", "kind", "category", "title", "contingent", "author"):
        assert first[key] == body[key]
    assert parse_iso(first["event_time"]) == parse_iso(body["event_time"])
    assert first["event_time"].endswith("Z")
    given = body.get("location") or {}
    if "lat" in given:  # typed or GPS positions are kept exactly; MGRS-only ones become the square's centre
        assert (first["location"]["lat"], first["location"]["lon"]) == (given["lat"], given["lon"])
    elif given:
        assert first["location"]["mgrs"] == given["mgrs"] and first["location"]["source"] == "mgrs"
    assert version_id(first, [], "d") == version_id(second, [], "d")


# One bad value per field, by dotted path. Containers named in the path are created if the
# generated report lacks them, so every case really reaches its field.
BAD_VALUES = {
    "id": ["not-a-uuid", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", 5],
    "category": ["nope", 5, None],
    "event_time": ["2026-11-24T15:30:00", "yesterday", 1700000000, None],
    "title": ["", "   ", "x" * 201, 5, None],
    "description": [5, "x" * 20001],
    "casualties": ["many", [1]],
    "casualties.killed": [-1, "x", 1.5],
    "casualties.injured": [-1],
    "casualties.abducted": [None],
    "casualties.displaced": [10**8],
    "casualties.wounded": [1],
    "severity": [0, 6, "high", None],
    "confidentiality": ["secret", 1],
    "attachments": ["photo.jpg", [1] * 101],
    "attachments.0.sha256": ["AB" * 32, "ab" * 31, 5],
    "attachments.0.size": [-1, "big"],
    "attachments.0.media_type": ["jpeg", "IMAGE/JPEG"],
    "attachments.0.name": ["a/b.jpg", "", "x\x01"],
    "attachments.0.extra": [1],
    "contingent": ["", 7, "x" * 65],
    "author": ["", None],
    "language": ["English", "e", 3],
    "bogus": [1],
    "location.lat": [91, -90.5, "north", float("nan")],
    "location.lon": [181, float("inf"), []],
    "location.mgrs": ["36NUL443", "hello", 5],
    "location.precision_m": [0, -1, 10**6],
    "location.source": ["radio"],
    "location.place": [5, "p" * 201],
    "location.altitude": [100],
}
BAD_BY_KIND = {
    "incident": {"location": ["here", None, {}], "perpetrator": [5, "x" * 201]},
    "patrol": {
        "patrol_type": ["boat", None],
        "start_time": ["x", "2026-01-01T00:00:00"],
        "end_time": ["1999", 5],
        "route": ["a-b", {"lat": 1}],
        "route.0": [1, "x"],
        "route.0.lat": [95],
        "route.0.lon": ["e"],
        "route.0.alt": [1],
        "observations": [5],
        "nil_report": ["perhaps", 2],
        "location": ["here"],
    },
    "hr_concern": {
        "location": [None],
        "victims": [[], "none"],
        "victims.0.sex": ["x"],
        "victims.0.age_group": ["baby"],
        "victims.0.count": [0, -3, "two"],
        "victims.0.consent_to_share": ["maybe"],
        "victims.0.name": [5],
        "victims.0.description": ["d" * 2001],
        "witnesses": [5],
        "witnesses.0.age_group": ["teen"],
        "alleged_perpetrators.0.sex": [None],
        "alleged_perpetrators.0.tribe": ["x"],
    },
}
TEMPLATES = {
    "attachments": ATTACHMENT,
    "route": {"lat": 1.0, "lon": 2.0},
    "victims": PERSON,
    "witnesses": PERSON,
    "alleged_perpetrators": PERSON,
    "casualties": {},
    "location": {"lat": 1.0, "lon": 2.0},
}


def put(body, path, value):
    """Set ``value`` at dotted ``path`` in a copy of ``body``, creating the containers on the way."""
    body = copy.deepcopy(body)
    parts = path.split(".")
    node, i = body, 0
    while i < len(parts) - 1:
        part, nxt = parts[i], parts[i + 1]
        if nxt.isdigit():
            if not isinstance(node.get(part), list) or not node[part]:
                node[part] = [copy.deepcopy(TEMPLATES[part])]
            if i + 1 == len(parts) - 1:  # the list item itself is replaced
                node, i = node[part], i + 1
            else:
                node, i = node[part][int(nxt)], i + 2
        else:
            if not isinstance(node.get(part), dict):
                node[part] = copy.deepcopy(TEMPLATES[part])
            node, i = node[part], i + 1
    last = parts[-1]
    node[int(last) if last.isdigit() else last] = value
    return body


CASES = [
    (kind, path, value) for kind in BAD_BY_KIND for path, values in BAD_VALUES.items() for value in values
]
CASES += [
    (kind, path, value)
    for kind, table in BAD_BY_KIND.items()
    for path, values in table.items()
    for value in values
]
CASES += [
    ("incident", "location", {"lon": 3.0}),
    ("hr_concern", "location", {"lat": 3.0}),
    ("patrol", "location", {"place": "Yei"}),
]


def expected_field(path, value):
    """The field the error must name: a location missing one coordinate names that coordinate."""
    if path == "location" and isinstance(value, dict):
        return "location.lat" if "lat" not in value else "location.lon"
    return path


@pytest.mark.parametrize("kind,path,value", CASES, ids=[f"{k}:{p}:{v!r:.20}" for k, p, v in CASES])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_bad_field_is_named(kind, path, value, data):
    body = put(data.draw(reports(kind)), path, value)
    fields = fields_of(body)
    assert expected_field(path, value) in fields, fields


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@FAST
@given(
    body=reports(),
    key=st.sampled_from(sorted({p.split(".")[0] for p in BAD_VALUES} | {"route", "victims"})),
    value=json_values,
)
def test_random_values_never_raise_anything_else(body, key, value):
    try:
        parse_report({**body, key: value})
    except ReportValidationError as exc:
        assert all(e.field and e.code and e.message for e in exc.errors)


# ------------------------------------------------------------------ JSON Schemas


def test_json_schemas_one_per_kind_with_category_enum_and_labels():
    schemas = json_schemas()
    assert set(schemas) == {"incident", "patrol", "hr_concern"}
    tax = load_taxonomy()
    for kind, schema in schemas.items():
        category = schema["properties"]["category"]
        assert category["enum"] == [c.code for c in tax.for_kind(kind)]
        assert set(category["x-labels"]) == set(category["enum"])
        assert schema["additionalProperties"] is False
        assert schema["x-taxonomy-version"] == tax.version
        assert schema["properties"]["title"]["title"] == "Title"
    assert "patrol_nil" not in schemas["incident"]["properties"]["category"]["enum"]
    assert {"start_time", "end_time", "patrol_type"} <= set(schemas["patrol"]["required"])
    assert "victims" in schemas["hr_concern"]["required"]


def test_json_schemas_translate_titles_choices_and_labels():
    fr = json_schemas("fr")["hr_concern"]
    assert fr["properties"]["severity"]["title"] == "Gravité"
    assert fr["properties"]["category"]["x-labels"]["abduction"] == "Enlèvement"
    person = fr["$defs"]["Person"]["properties"]["age_group"]
    assert person["x-labels"]["child"] == "Enfant"
    assert (
        json_schemas("en")["hr_concern"]["properties"]["severity"]["title"] == "Severity"
    )  # cache not mutated


def test_json_schema_accepts_what_the_model_produces():
    """The published JSON Schema (the forms and other clients check bodies with it) agrees with the model."""
    schemas = json_schemas()
    body = report_to_json(parse_report(incident()))
    jsonschema_rs.validate(schemas["incident"], body)
    # ... and refuses what the model refuses, so the check above can fail.
    assert not jsonschema_rs.is_valid(schemas["incident"], body | {"severity": 9})
    assert not jsonschema_rs.is_valid(schemas["incident"], {k: v for k, v in body.items() if k != "title"})


def test_new_report_refuses_unknown_kind():
    with pytest.raises(ReportValidationError):
        new_report("memo", title="x")


def test_nan_location_is_named():
    assert "location.lat" in fields_of(incident(location={"lat": math.nan, "lon": 1.0}))


NESTED = {
    "location": Location,
    "casualties": Casualties,
    "attachments.0": AttachmentRef,
    "route.0": RoutePoint,
    "victims.0": Person,
}


@pytest.mark.parametrize("kind", ["incident", "patrol", "hr_concern"])
def test_the_bad_value_table_covers_every_field(kind):
    """A field added to the schema without a bad-value case above fails here."""
    covered = set(BAD_VALUES) | set(BAD_BY_KIND[kind])
    model = {"incident": IncidentReport, "patrol": PatrolReport, "hr_concern": HumanRightsConcern}[kind]
    top = set(model.model_fields) - {"kind"}  # kind: test_body_level_errors
    assert top <= {p.split(".")[0] for p in covered}, top - {p.split(".")[0] for p in covered}
    for prefix, nested in NESTED.items():
        if prefix.split(".")[0] in model.model_fields:
            missing = {f"{prefix}.{name}" for name in nested.model_fields} - covered
            assert not missing, missing
