"""Pushing reports as a tablet and reading alerts, shared by the alert tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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


def read_events(lines: Iterator[str], *, until: Callable[[list[dict[str, Any]]], bool],
                timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """Parse SSE events from a stream's lines (``response.iter_lines()``, kept across calls) until
    ``until(events)``, the stream's end or the timeout (checked as lines arrive; heartbeats and the
    stream's own end bound the wait)."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    deadline = time.monotonic() + timeout_s
    for line in lines:
        if line == "":
            if current:
                events.append(current)
                current = {}
                if until(events):
                    return events
        elif line.startswith(":"):
            current.setdefault("comment", True)
        else:
            key, _, value = line.partition(":")
            current[key] = value[1:] if value.startswith(" ") else value
        if time.monotonic() > deadline:
            break
    return events
