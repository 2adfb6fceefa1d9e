"""Alert response times in the PDF summary, read back with pypdf (SQLite and PostgreSQL): minutes
to acknowledge and to first action per rule and contingent, and only alerts the reader may see."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from factories import Mission, report_body, store
from peacewatch.server import clock
from peacewatch.server.alerts.raising import ensure_current
from peacewatch.server.alerts.rules import ensure_defaults
from peacewatch.server.db.engine import WRITE

SEVERE = "Attack on civilians or killing, severity 4 or more"
RESTRICTED = "Restricted case (protection team only)"


def _text(mission: Mission, username: str, **params: str) -> str:
    r = mission.client.get("/api/v1/exports/pdf", params=params, headers=mission.headers(username))
    assert r.status_code == 200, r.text
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(r.content)).pages)


@pytest.fixture
def answered(mission: Mission) -> Mission:
    """A severe ALPHA report acknowledged after 7 min, first action after 12; a restricted case unanswered."""
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)
    store(mission, "patrol_a", report_body(severity=5))
    store(mission, "patrol_a", report_body(kind="hr_concern", category="arbitrary_detention", severity=3,
                                           confidentiality="restricted"))
    ensure_current(mission.engine)
    h = mission.headers("analyst")
    [alert] = mission.client.get("/api/v1/alerts", headers=h).json()["items"]
    clock.advance(timedelta(minutes=7))
    assert mission.client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=h).status_code == 200
    clock.advance(timedelta(minutes=5))
    r = mission.client.post(f"/api/v1/alerts/{alert['id']}/actions", headers=h, json={"kind": "patrol_tasked"})
    assert r.status_code == 201, r.text
    return mission


def test_the_analyst_reads_minutes_per_rule_and_contingent(answered: Mission) -> None:
    text = _text(answered, "analyst")
    section = text.split("Alert response times")[1]
    assert SEVERE in section and "7.0 7.0 12.0 12.0" in section
    assert "ALPHA 1 0 7.0 7.0 12.0 12.0" in section
    assert RESTRICTED not in text  # addressed to the protection team only, and a case the analyst may not read


def test_the_protection_team_also_sees_its_restricted_case_waiting(answered: Mission) -> None:
    section = _text(answered, "protection").split("Alert response times")[1]
    assert SEVERE in section and RESTRICTED in section and "ALPHA 2 1 7.0 7.0 12.0 12.0" in section


def test_a_commander_is_not_told_of_alerts_not_addressed_to_them(answered: Mission) -> None:
    text = _text(answered, "commander_a")
    assert "No alert you may see was raised in the period." in text
    assert SEVERE not in text and RESTRICTED not in text


def test_in_french_and_only_since_the_periods_start(answered: Mission) -> None:
    text = _text(answered, "analyst", lang="fr")
    assert "Délais de réponse aux alertes" in text and "Par règle" in text
    later = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = _text(answered, "analyst", start=later)
    assert "No alert you may see was raised in the period." in text
