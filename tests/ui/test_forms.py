"""The form generated from the shared schema, without a window: specs, input conversion, problems."""

from __future__ import annotations

import copy
import uuid

import pytest

from peacewatch.common.schema import json_schemas, parse_report
from peacewatch.mobile.core.form_model import FormModel, build_form, parse_time
from peacewatch.mobile.ui.forms import grid_example, location_display, location_text, time_display
from peacewatch.mobile.ui.text import shape


def model(kind: str = "incident", lang: str = "en", **kw) -> tuple[FormModel, list[dict]]:
    saved: list[dict] = []
    fields = FormModel.defaults(kind, lang=lang, author="alice", contingent="ALPHA")
    m = FormModel(str(uuid.uuid4()), kind, lang, fields, save=lambda f: saved.append(copy.deepcopy(f)), **kw)
    return m, saved


def test_every_kind_gets_its_editors_from_the_schema():
    editors = {s.name: s.editor for s in build_form("incident", "en")}
    assert editors["category"] == "choice" and editors["location"] == "location"
    assert editors["event_time"] == "datetime" and editors["severity"] == "scale"
    assert editors["casualties"] == "counts" and editors["attachments"] == "attachments"
    assert editors["description"] == "multiline" and editors["perpetrator"] == "text"
    assert not {"id", "kind", "author", "language"} & set(editors)  # filled in by the app
    patrol = {s.name: s.editor for s in build_form("patrol", "en")}
    assert patrol["route"] == "route" and patrol["nil_report"] == "boolean" and patrol["patrol_type"] == "choice"
    hr = {s.name: s for s in build_form("hr_concern", "en")}
    assert hr["victims"].editor == "people" and hr["victims"].required
    person = {p.name: p.editor for p in hr["victims"].parts}
    assert person == {"sex": "choice", "age_group": "choice", "count": "integer", "consent_to_share": "boolean",
                      "name": "text", "description": "multiline"}


def test_a_field_added_to_the_schema_appears_without_ui_code():
    schemas = copy.deepcopy(json_schemas("fr"))
    schemas["incident"]["properties"]["weather"] = {
        "title": "Météo", "type": "string", "enum": ["dry", "rain"], "x-labels": {"dry": "Sec", "rain": "Pluie"},
    }
    schemas["incident"]["properties"]["vehicles_seen"] = {"title": "Véhicules vus", "type": "integer", "minimum": 0}
    specs = {s.name: s for s in build_form("incident", "fr", schemas)}
    assert specs["weather"].editor == "choice" and specs["weather"].choices == (("dry", "Sec"), ("rain", "Pluie"))
    assert specs["vehicles_seen"].editor == "integer" and specs["vehicles_seen"].title == "Véhicules vus"
    assert "weather" not in {s.name for s in build_form("incident", "fr")}  # the copy, not the real schema


def test_labels_follow_the_language():
    fr = {s.name: s for s in build_form("incident", "fr")}
    assert fr["severity"].title == "Gravité"
    assert dict(fr["category"].choices)["attack_on_civilians"] == "Attaque contre des civils"
    m, _ = model(lang="en")
    m.set_language("fr")
    assert m.by_name["severity"].title == "Gravité"


def test_every_change_saves_the_draft_and_a_complete_form_is_a_valid_report():
    m, saved = model()
    m.set_value("category", "attack_on_civilians")
    m.set_text("title", "Market attacked")
    m.set_text("location", "36N UL 44753 36243")
    m.set_value("severity", 3)
    m.set_part("casualties", "injured", "2")
    assert len(saved) == 5 and saved[-1]["casualties"] == {"injured": 2}
    assert m.problems() == {}
    report = parse_report({**m.fields, "id": m.report_id, "kind": "incident"})
    assert report.location.source == "mgrs" and abs(report.location.lat - 4.85) < 1e-3


def test_problems_appear_next_to_their_field_in_plain_words_and_the_typed_text_is_kept():
    m, saved = model(lang="fr")
    m.set_text("location", "36N ZZ")
    assert m.problems() == {"location": ["Ce n'est pas une référence de carroyage MGRS valide."]}
    assert saved[-1]["location"] == {"mgrs": "36N ZZ"}  # keystrokes kept for after a crash
    m.set_text("event_time", "hier soir")
    assert "241530ZNOV26" in m.problems()["event_time"][0]
    assert saved[-1]["event_time"] == "hier soir"
    m.set_part("casualties", "killed", "x")
    assert m.problems()["casualties"] == ["Saisissez un nombre."]
    assert "title" not in m.problems()  # untouched fields stay quiet while typing...
    m.show_all_problems()
    assert m.problems()["title"] == ["Ce champ est obligatoire."]  # ...until the user tries to finish


def test_restricted_categories_preset_restricted_confidentiality():
    m, _ = model("hr_concern")
    assert m.fields["confidentiality"] == "mission"
    m.set_value("category", "conflict_related_sexual_violence")
    assert m.fields["confidentiality"] == "restricted"


def test_people_with_counts():
    m, saved = model("hr_concern")
    m.add_person("victims")
    m.add_person("victims")
    m.set_person("victims", 1, "count", "12")
    m.set_person("victims", 1, "sex", "female")
    assert saved[-1]["victims"] == [
        {"sex": "unknown", "age_group": "unknown", "count": 1, "consent_to_share": False},
        {"sex": "female", "age_group": "unknown", "count": 12, "consent_to_share": False},
    ]
    m.remove_person("victims", 0)
    assert [p["count"] for p in m.fields["victims"]] == [12]


def test_route_is_typed_one_position_per_line():
    m, _ = model("patrol")
    m.set_text("route", "4.85, 31.6\n36N UL 44753 36243\n")
    assert len(m.fields["route"]) == 2
    m.set_text("route", "4.85, 31.6\nnowhere")
    assert m.problems()["route"][0].startswith("nowhere:")


def test_time_is_shown_local_and_as_dtg_and_typed_either_way():
    assert shape(time_display("2026-11-24T15:30:00Z")).endswith("| 241530ZNOV26")
    assert parse_time("241530ZNOV26") == parse_time("2026-11-24T15:30:00Z")
    assert time_display("not a time") == "not a time"
    m, _ = model()
    assert m.fields["event_time"].endswith("Z")  # defaults to now
    m.set_text("event_time", "241530znov26")
    assert m.fields["event_time"] == "2026-11-24T15:30:00Z"


def test_location_shown_in_both_forms():
    gps = {"lat": 4.85, "lon": 31.6, "precision_m": 10, "source": "gps"}
    shown = shape(location_display(gps))
    assert shown.startswith("36NUL") and "4.85000, 31.60000" in shown and "GPS ± 10 m" in shown
    assert location_display({"mgrs": "36N ZZ"}) == ""
    # Typed lat/lon: the 1 km grid square it falls in, never an accuracy made up from the decimals.
    typed = shape(location_display({"lat": 1.93, "lon": 30.52, "source": "latlon"}))
    assert "±" not in typed and typed.endswith("(in grid square 36NTH2413)")
    square = shape(location_display({"lat": 4.85, "lon": 31.6, "precision_m": 100, "source": "mgrs",
                                     "mgrs": "36NUL447362"}))
    assert square.endswith("(grid square 100 m)")
    assert location_text({"source": "mgrs", "mgrs": "36NUL4475336243", "lat": 4.85, "lon": 31.6}) == "36NUL4475336243"
    assert location_text(gps) == "4.85, 31.6"


@pytest.mark.parametrize("kind", ["incident", "patrol", "hr_concern"])
def test_defaults_fill_author_language_and_times(kind):
    fields = FormModel.defaults(kind, lang="ar", author="alice", contingent="ALPHA")
    assert fields["language"] == "ar" and fields["author"] == "alice" and fields["contingent"] == "ALPHA"
    assert ("start_time" in fields) == (kind == "patrol")


def test_the_example_grid_reference_lies_in_the_mission_area():
    # A mission in eastern DRC (zone 35M), not the South Sudan example the form used to show.
    example = grid_example((-1.68, 29.22))
    assert example.startswith("35M ") and len(example.split()) == 4
    assert example.replace(" ", "") == "35M" + example.split()[1] + "".join(example.split()[2:])
    assert grid_example(None) == "36N UL 44753 36243"  # before the first pull of places
