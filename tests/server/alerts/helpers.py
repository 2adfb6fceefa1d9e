"""Pushing reports as a tablet and reading alerts, shared by the alert tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine

from factories import Mission, report_body, version_entry
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings


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


@contextmanager
def live_server(settings: Settings, engine: Engine) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port (a real HTTP server, for streams)."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded: 10 s
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
