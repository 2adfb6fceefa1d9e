"""The form's state without a display: sections, the next field, what blocks finishing, locked fields."""

from __future__ import annotations

import copy
import uuid

import pytest

from peacewatch.mobile.core.form_model import FormModel


def model(kind: str = "incident", *, role: str = "patrol", enrolled: str = "BANBAT",
          fields: dict | None = None) -> tuple[FormModel, list[dict]]:
    saved: list[dict] = []
    start = fields if fields is not None else FormModel.defaults(kind, lang="en", author="banbat.patrol1",
                                                                  contingent="")
    m = FormModel(str(uuid.uuid4()), kind, "en", start, save=lambda f: saved.append(copy.deepcopy(f)),
                  enrolment={"contingent": enrolled} if enrolled else {}, role=role)
    return m, saved


def test_the_contingent_comes_from_the_enrolment_and_is_locked_for_a_patrol():
    m, saved = model()
    assert m.fields["contingent"] == "BANBAT" and saved[-1]["contingent"] == "BANBAT"
    assert m.locked == {"contingent"}
    with pytest.raises(ValueError, match="contingent"):
        m.set_value("contingent", "ALPHA")
    assert "contingent" not in m.order()[:-1]  # shown last, as "reporting for", never blocking
    assert [name for name, _ in m.sections()] == ["essentials", "details", "identity"]
    # A draft typed with another contingent before enrolment takes the enrolled one.
    again, _ = model(fields={"contingent": "ALPHA", "author": "x", "language": "en"})
    assert again.fields["contingent"] == "BANBAT"


def test_hq_roles_may_report_for_another_contingent():
    m, _ = model(role="hq_analyst")
    assert m.locked == frozenset()
    m.set_value("contingent", "ALPHA")
    assert m.fields["contingent"] == "ALPHA"


def test_without_enrolment_nothing_is_locked_and_the_missing_contingent_blocks():
    m, _ = model(enrolled="")
    assert m.locked == frozenset()
    assert "contingent" in dict(m.blocking())


def test_required_fields_come_first_and_the_next_field_follows_the_form_order():
    m, _ = model()
    essentials = dict(m.sections())["essentials"]
    assert all(spec.required for spec in essentials)
    assert [s.name for s in essentials][:2] == ["category", "title"]
    assert m.is_missing("title") and not m.is_missing("event_time")
    assert m.next_field() == "category"
    m.set_value("category", "attack_on_civilians")
    assert m.next_field() == "title"
    m.set_text("title", "Market attacked")
    m.set_text("location", "36N UL 44753 36243")
    m.set_value("severity", 3)
    assert m.next_field() is None and m.can_finish() and m.blocking() == []


def test_blocking_lists_every_problem_in_form_order_touched_or_not():
    m, _ = model()
    m.set_text("location", "36N ZZ")  # touched and wrong
    blocking = dict(m.blocking())
    assert list(blocking) == [n for n in m.order() if n in blocking]
    assert {"category", "title", "location", "severity"} <= set(blocking)
    assert "title" not in m.problems()  # while typing, untouched fields stay quiet...
    assert m.show_all is False  # ...and asking what blocks does not change that


def test_a_gps_fix_stays_a_gps_fix_when_its_text_is_shown_in_the_box():
    m, _ = model()
    gps = {"lat": 4.85, "lon": 31.6, "precision_m": 8.0, "source": "gps", "mgrs": "36NUL4475336243"}
    m.set_gps("location", gps)
    m.set_text("location", "4.85, 31.6")  # the screen puts the fix's text into the box
    assert m.fields["location"]["source"] == "gps" and m.fields["location"]["precision_m"] == 8.0
    m.set_text("location", "4.86, 31.6")  # the user typed another position
    assert m.fields["location"]["source"] == "latlon" and "precision_m" not in m.fields["location"]
