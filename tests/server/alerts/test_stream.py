"""The live stream over a real HTTP connection: a push's alert arrives, resumes with Last-Event-ID,
and a principal who may not see an alert never receives it."""

from __future__ import annotations

import json

import httpx
from e2e.live_server import live_server

from .helpers import push, read_events


def _alerts(events: list[dict]) -> list[dict]:
    return [json.loads(e["data"]) for e in events if e.get("event") == "alert"]


def test_a_pushed_severe_report_reaches_the_stream_and_resumes(settings, engine, mission) -> None:
    settings.alert_stream_max_s = 8.0
    with live_server(settings, engine, lifespan="off") as (host, port), \
            httpx.Client(base_url=f"http://{host}:{port}", timeout=10) as http:
        with http.stream("GET", "/api/v1/alerts/stream", headers=mission.headers("analyst")) as resp:
            assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
            lines = resp.iter_lines()
            ready = read_events(lines, until=lambda ev: any(e.get("event") == "ready" for e in ev))
            start = ready[-1]["id"]
            body = push(mission, "patrol_a", severity=5)
            events = read_events(lines, until=lambda ev: bool(_alerts(ev)))
        raised = _alerts(events)[0]
        assert raised["type"] == "raised" and raised["alert"]["reports"][0]["id"] == body["id"]
        event_id = next(e["id"] for e in events if e.get("event") == "alert")
        # Reconnecting from before the event replays exactly what was missed.
        headers = mission.headers("analyst") | {"Last-Event-ID": start}
        with http.stream("GET", "/api/v1/alerts/stream", headers=headers) as resp:
            again = read_events(resp.iter_lines(), until=lambda ev: bool(_alerts(ev)))
        assert [e["id"] for e in again if e.get("event") == "alert"] == [event_id]
        # BRAVO's commander may read none of it: resuming from the start gives nothing but "ready".
        settings.alert_stream_max_s = 1.0
        headers = mission.headers("commander_b") | {"Last-Event-ID": "0"}
        with http.stream("GET", "/api/v1/alerts/stream", headers=headers) as resp:
            events = read_events(resp.iter_lines(), until=lambda ev: False, timeout_s=3)
        assert _alerts(events) == [] and any(e.get("event") == "ready" for e in events)
        assert http.get("/api/v1/alerts/stream").status_code == 401
