"""Signed webhooks: a loopback receiver that checks signatures, fails on purpose, and in the end
has received every delivery exactly once, also across a restart of the server."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from email.message import Message

import pytest
from loopback import post_receiver

from peacewatch.server import clock
from peacewatch.server.alerts import webhooks
from peacewatch.server.alerts.raising import ensure_current

from .helpers import push

SECRET = "partner-shared-secret-0123456789"


class Receiver:
    """Answers 500 to the first ``fail`` requests, then 200; keeps what it accepted by delivery id."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.accepted: dict[str, dict] = {}
        self.accepted_count = 0
        self.bad_signatures = 0
        self.calls = 0
        self.url = ""  # set once served (the fixture)

    def answer(self, headers: Message, body: bytes) -> int:
        self.calls += 1
        parts = dict(p.split("=", 1) for p in headers["X-Peacewatch-Signature"].split(","))
        expected = hmac.new(SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts["v1"]):
            self.bad_signatures += 1
            return 401
        if self.fail > 0:
            self.fail -= 1
            return 500
        self.accepted[headers["X-Peacewatch-Delivery"]] = json.loads(body)
        self.accepted_count += 1
        return 204


@pytest.fixture
def receiver():
    r = Receiver(fail=3)
    with post_receiver(r.answer, "/hook") as r.url:
        yield r


def test_deliveries_are_signed_retried_and_received_exactly_once(client, mission, engine, receiver) -> None:
    h = mission.headers("admin")
    r = client.post("/api/v1/alert-webhooks", json={"url": receiver.url, "secret": SECRET}, headers=h)
    assert r.status_code == 201 and "secret" not in r.json()
    # Stop the app's worker so this test drives every delivery attempt itself.
    client.app.state.alert_worker.stop()
    for severity in (4, 5):
        push(mission, "patrol_a", severity=severity)
    push(mission, "patrol_a", category="abduction", severity=3)  # a rule that is not shareable
    ensure_current(engine)
    # Attempt, fail, wait for the backoff on the server clock, retry: bounded rounds.
    for _ in range(12):
        webhooks.deliver_due(engine)
        clock.advance(timedelta(seconds=30))
        if receiver.accepted_count >= 2 and receiver.fail == 0:
            webhooks.deliver_due(engine)  # nothing is left to send twice
            break
    assert receiver.bad_signatures == 0
    assert receiver.accepted_count == 2 and len(receiver.accepted) == 2
    assert receiver.calls == 2 + 3
    assert {p["severity"] for p in receiver.accepted.values()} == {4, 5}
    log = client.get("/api/v1/alert-webhooks/deliveries", headers=h).json()["items"]
    assert {d["status"] for d in log} == {"delivered"} and sum(d["attempts"] for d in log) == 5


def test_pending_deliveries_survive_a_restart(client, mission, engine, receiver, settings) -> None:
    from fastapi.testclient import TestClient

    from peacewatch.server.app import create_app

    client.post("/api/v1/alert-webhooks", json={"url": receiver.url, "secret": SECRET},
                headers=mission.headers("admin"))
    client.app.state.alert_worker.stop()
    receiver.fail = 0
    push(mission, "patrol_a", severity=5)
    ensure_current(engine)  # raised and queued, not yet sent: then the server "restarts"
    assert receiver.calls == 0
    with TestClient(create_app(settings, engine)):
        for _ in range(100):  # the new server's worker sends it (bounded: 10 s)
            if receiver.accepted_count:
                break
            threading.Event().wait(0.1)
    assert receiver.accepted_count == 1


def test_backoff_grows_with_jitter() -> None:
    import random

    rng = random.Random(1)
    delays = [webhooks.backoff_s(n, base=2.0, rng=rng) for n in range(1, 8)]
    for n, d in enumerate(delays, start=1):
        full = 2.0 * 2 ** (n - 1)
        assert full / 2 <= d <= full
    assert len(set(delays)) == len(delays)


def test_only_admin_manages_webhooks_and_bad_urls_are_refused(client, mission) -> None:
    r = client.post("/api/v1/alert-webhooks", json={"url": "not a url", "secret": SECRET},
                    headers=mission.headers("admin"))
    assert r.status_code == 422 and r.json()["field"] == "url"
    r = client.post("/api/v1/alert-webhooks", json={"url": "http://127.0.0.1:9/x", "secret": "short"},
                    headers=mission.headers("admin"))
    assert r.status_code == 422 and r.json()["field"] == "secret"
    assert client.get("/api/v1/alert-webhooks", headers=mission.headers("analyst")).status_code == 403
    assert client.delete("/api/v1/alert-webhooks/77", headers=mission.headers("admin")).status_code == 404
