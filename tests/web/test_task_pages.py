"""Task and case follow-up pages (SQLite and PostgreSQL): a task made in one step from a gap on the
map's link, seen on the board by whom it is for, cancelled only by HQ; cases for the protection team."""

from __future__ import annotations

import re

import h3
from fastapi.testclient import TestClient

from factories import PASSWORD, Mission, report_body, store
from tests.web.helpers import csrf_of, sign_in


def test_a_gap_becomes_a_task_on_the_board_of_its_contingent_only(client: TestClient, mission: Mission) -> None:
    cell = h3.latlng_to_cell(1.6, 30.3, 8)
    sign_in(client, "analyst", PASSWORD)
    form = client.get(f"/tasks/new?source_kind=coverage_gap&source_ref={cell}")
    assert form.status_code == 200 and f'value="{cell}"' in form.text and "contingent:ALPHA" in form.text
    made = client.post("/tasks/new", data={"csrf": csrf_of(form.text), "source_kind": "coverage_gap", "source_ref": cell,
                                           "assignee": "contingent:ALPHA", "priority": "urgent",
                                           "window_end": "2026-01-01T10:00", "instructions": "Check the road"})
    assert made.status_code == 303, made.text
    url = made.headers["location"].split("?")[0]
    task_id = int(url.rsplit("/", 1)[1])
    page = client.get(url)
    assert "Patrol the coverage gap" in page.text and 'id="gap-result"' in page.text and "Overdue" in page.text
    board = client.get("/tasks")
    assert re.search(r'data-contingent="ALPHA"><td>ALPHA</td><td class="open">1</td>\s*<td class="overdue late">1</td>',
                     board.text), board.text
    # HQ cancels from the page; a patrol may not.
    client.cookies.clear()
    sign_in(client, "patrol_a", PASSWORD)
    page = client.get(url)
    assert "Check the road" in page.text and 'id="cancel"' not in page.text
    refused = client.post(f"/tasks/{task_id}/events", data={"csrf": csrf_of(page.text), "status": "cancelled"})
    assert refused.status_code == 422 and "status" in refused.text
    noted = client.post(f"/tasks/{task_id}/events", data={"csrf": csrf_of(page.text), "note": "On our way"})
    assert noted.status_code == 303
    assert "On our way" in client.get(url).text
    client.cookies.clear()
    sign_in(client, "commander_b", PASSWORD)
    assert client.get(url).status_code == 404
    assert f'data-task="{task_id}"' not in client.get("/tasks?status=all").text
    client.cookies.clear()
    sign_in(client, "analyst", PASSWORD)
    page = client.get(url)
    assert client.post(f"/tasks/{task_id}/events", data={"csrf": "forged", "status": "cancelled"}).status_code == 403
    done = client.post(f"/tasks/{task_id}/events", data={"csrf": csrf_of(page.text), "status": "cancelled"})
    assert done.status_code == 303
    assert 'data-status="cancelled"' in client.get(url).text


def test_links_make_tasks_from_reports_only_for_those_who_assign(client: TestClient, mission: Mission) -> None:
    body = report_body(title="Shots at the market")
    store(mission, "patrol_a", body)
    sign_in(client, "commander_a", PASSWORD)
    page = client.get(f"/reports/{body['id']}")
    assert f'href="/tasks/new?source_kind=report&amp;source_ref={body["id"]}"' in page.text
    form = client.get(f"/tasks/new?source_kind=report&source_ref={body['id']}")
    assert "contingent:BRAVO" not in form.text  # a commander assigns within their contingent
    bad = client.post("/tasks/new", data={"csrf": csrf_of(form.text), "source_kind": "report",
                                          "source_ref": body["id"], "assignee": ""})
    assert bad.status_code == 422 and "assignee" in bad.text
    client.cookies.clear()
    sign_in(client, "patrol_a", PASSWORD)
    assert 'id="make-task"' not in client.get(f"/reports/{body['id']}").text
    assert client.get("/tasks/new").status_code == 403


def test_case_follow_up_page_is_the_protection_teams(client: TestClient, mission: Mission) -> None:
    case = report_body(kind="hr_concern", category="arbitrary_detention", title="Detained at the checkpoint")
    store(mission, "patrol_a", case)
    sign_in(client, "protection", PASSWORD)
    page = client.get("/cases")
    assert "Detained at the checkpoint" in page.text
    saved = client.post(f"/cases/{case['id']}", data={"csrf": csrf_of(page.text), "case_status": "referred",
                                                      "next_action": "Visit the detainee", "due_date": "2026-01-05",
                                                      "officer": "hr"})
    assert saved.status_code == 303
    page = client.get("/cases")
    assert 'value="Visit the detainee"' in page.text and 'class="late"' in page.text and "Overdue" in page.text
    bad = client.post(f"/cases/{case['id']}", data={"csrf": csrf_of(page.text), "case_status": "lost"})
    assert bad.status_code == 422 and "case_status" in bad.text
    for who in ("analyst", "commander_a"):
        client.cookies.clear()
        sign_in(client, who, PASSWORD)
        assert client.get("/cases").status_code == 403
