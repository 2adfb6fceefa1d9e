"""Pushing reports as a tablet and reading alerts, shared by the alert tests."""

from __future__ import annotations

from typing import Any

from factories import Mission, report_body, version_entry


def push(mission: Mission, username: str, **fields: Any) -> dict[str, Any]:
    """Push one new report from ``username``'s tablet through the API; returns its body."""
    body = report_body(author=username, **fields)
    entry = version_entry(body, mission.device_id(username))
    r = mission.client.post("/api/v1/sync/push", json={"versions": [entry]}, headers=mission.device_headers(username))
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text
    return body


def alerts_of(mission: Mission, username: str, **params: Any) -> list[dict[str, Any]]:
    r = mission.client.get("/api/v1/alerts", params=params, headers=mission.headers(username))
    assert r.status_code == 200, r.text
    return r.json()["items"]
