"""Push delivery to a partner's endpoint: a loopback receiver on 127.0.0.1 (both databases).

The pushed pages carry exactly the pull feed's records, each request signed as the alert webhooks
sign theirs; a refused page is retried with backoff and the next waits for it; every attempt is
audited; a revoked agreement gets nothing more, not even a page already waiting. Most tests stop
the app's push loop and drive `push_due` themselves in bounded loops, with no backoff delay; one
lets the loop deliver on its own.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from loopback import post_receiver
from sqlalchemy import select

from factories import report_body, store
from peacewatch.server import clock
from peacewatch.server.alerts.webhooks import signature
from peacewatch.server.community.protection import mission_key
from peacewatch.server.db.engine import WRITE
from peacewatch.server.db.tables import sharing_agreements, sharing_deliveries
from peacewatch.server.exports.pseudonyms import ensure_key
from peacewatch.server.sharing import feed, push, service

from .conftest import create_agreement, generate, verify

POLICY = {"kinds": ["incident", "patrol"], "categories": ["looting", "armed_clash", "patrol_routine"],
          "confidentiality": ["public", "mission"], "fields": ["severity"], "attachments": True}


class Receiver:
    """Records every POST; answers each with the next status of `statuses` (then 200)."""

    def __init__(self, statuses: tuple[int, ...] = (), on_post: Any = None) -> None:
        self.posts: list[tuple[Message, bytes]] = []
        self.statuses = list(statuses)
        self.on_post = on_post
        self.lock = threading.Lock()

    def __call__(self, headers: Message, body: bytes) -> int:
        with self.lock:
            self.posts.append((headers, body))
            if self.on_post:
                self.on_post(len(self.posts))
            return self.statuses.pop(0) if self.statuses else 200

    def records(self) -> list[dict[str, Any]]:
        return [f for _h, body in self.posts for f in json.loads(body)["features"]]


@pytest.fixture
def quiet(client):
    """The app's push loop stopped: the test drives delivery itself."""
    worker = client.app.state.push_worker
    client.app.state.push_worker = None
    worker.stop()
    return client


def _key(mission) -> bytes:
    return mission_key(mission.client.app.state.settings)


def _set_push(mission, agreement_id: int, url: str | None) -> dict[str, Any]:
    r = mission.client.put(f"/api/v1/sharing/agreements/{agreement_id}/push", json={"url": url},
                           headers=mission.headers("admin"))
    assert r.status_code == 200, r.text
    return r.json()


def _drive(mission, rounds: int = 30) -> None:
    """Build and send until nothing is left to send (a refused page is due again at once)."""
    for _ in range(rounds):  # bounded
        delivered = push.push_due(mission.engine, _key(mission), base_delay_s=0)
        with mission.engine.connect() as conn:
            pending = conn.execute(select(sharing_deliveries.c.id)
                                   .where(sharing_deliveries.c.status == "pending")).first()
        if not delivered and pending is None:
            return


def _audit(mission, action: str) -> list[dict[str, Any]]:
    entries = mission.client.get("/api/v1/audit", params={"action": action, "limit": 500},
                                 headers=mission.headers("admin")).json()["entries"]
    return [e["detail"] if isinstance(e["detail"], dict) else json.loads(e["detail"]) for e in entries]


def _pull_ids(mission, policy: dict[str, Any]) -> list[str]:
    # A write transaction: ensure_key may write the pseudonym key, beside the app's push loop.
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        terms = service.active_terms(conn, service.by_partner(conn, "ohchr"))
        return [r["id"] for r in feed.iter_all(conn, terms.policy, key=ensure_key(conn))]


def test_pages_are_pushed_signed_and_audited(mission, quiet, monkeypatch) -> None:
    monkeypatch.setattr(push, "PAGE", 2)  # several pages from the generated reports
    generate(mission, n=36)
    agreement = create_agreement(mission, **POLICY)
    receiver = Receiver()
    with post_receiver(receiver) as url:
        pushed = _set_push(mission, agreement["id"], url)
        assert pushed["url"] == url and len(pushed["secret"]) >= 32
        _drive(mission)
    records = receiver.records()
    expected = _pull_ids(mission, POLICY)
    assert [r["id"] for r in records] == expected and len(receiver.posts) >= 3
    cursors = []
    for headers, body in receiver.posts:
        t = int(headers["X-Peacewatch-Signature"].split(",")[0].removeprefix("t="))
        assert hmac.compare_digest(headers["X-Peacewatch-Signature"], signature(pushed["secret"], t, body))
        page = json.loads(body)
        assert page["partner"] == "ohchr" and page["agreement_version"] == 1
        assert headers["X-Next-Cursor"] == page["next_cursor"] and headers["X-Peacewatch-Delivery"].startswith("share-")
        cursors.append((int(page["cursor"]), int(page["next_cursor"])))
    # In order and contiguous: each page starts where the previous one ended.
    assert cursors[0][0] == 0 and all(a[1] == b[0] for a, b in zip(cursors, cursors[1:], strict=False))
    # The same records as the pull feed (same code, same columns).
    pulled = mission.client.get("/api/v1/share/ohchr/feed", params={"format": "geojson", "limit": 500},
                                headers=_partner_key(mission, agreement["id"])).json()["features"]
    assert {r["id"]: r["properties"] for r in records} == {f["id"]: f["properties"] for f in pulled}
    audit = _audit(mission, "share_push")
    assert len(audit) == len(receiver.posts) and all(d["delivered"] and d["http_status"] == 200 for d in audit)
    assert sorted(i for d in audit for i in d["reports"]) == sorted(expected)
    described = mission.client.get(f"/api/v1/sharing/agreements/{agreement['id']}",
                                   headers=mission.headers("admin")).json()
    assert described["push"]["cursor"] == cursors[-1][1] and described["push"]["latest"]["status"] == "delivered"
    # Nothing new: nothing more is sent.
    with post_receiver(receiver) as url2:
        assert url2
        _drive(mission)
    assert len(receiver.posts) == len(cursors)


def _partner_key(mission, agreement_id: int) -> dict[str, str]:
    r = mission.client.post(f"/api/v1/sharing/agreements/{agreement_id}/key", headers=mission.headers("admin"))
    return {"X-Partner-Key": r.json()["key"]}


def test_a_refused_page_is_retried_with_backoff_and_audited(mission, quiet) -> None:
    generate(mission, n=12)
    agreement = create_agreement(mission, **POLICY)
    receiver = Receiver(statuses=(500, 503))
    with post_receiver(receiver) as url:
        _set_push(mission, agreement["id"], url)
        # With the real backoff the retry is not due at once: one attempt, then a wait.
        push.push_due(mission.engine, _key(mission))
        assert len(receiver.posts) == 1
        with mission.engine.connect() as conn:
            row = conn.execute(select(sharing_deliveries)).mappings().one()
        assert row["status"] == "pending" and row["attempts"] == 1 and row["last_status"] == 500
        assert row["next_attempt_at"] > clock.now()
        clock.advance(timedelta(seconds=5))  # past the first backoff (1-2 s)
        _drive(mission)
    assert len(receiver.posts) == 3 and receiver.posts[0][1] == receiver.posts[2][1]  # the same page again
    audit = _audit(mission, "share_push")
    assert sorted((d["attempt"], d["delivered"], d["http_status"]) for d in audit) == [
        (1, False, 500), (2, False, 503), (3, True, 200)]
    with mission.engine.connect() as conn:
        assert conn.execute(select(sharing_deliveries.c.status)).scalars().all() == ["delivered"]


def test_an_unreachable_endpoint_is_retried_and_logged(mission, quiet) -> None:
    generate(mission, n=6)
    agreement = create_agreement(mission, **POLICY)
    with post_receiver(Receiver()) as url:
        pass  # closed: nothing listens there any more
    _set_push(mission, agreement["id"], url)
    push.push_due(mission.engine, _key(mission))
    latest = mission.client.get(f"/api/v1/sharing/agreements/{agreement['id']}",
                                headers=mission.headers("admin")).json()["push"]["latest"]
    assert latest["status"] == "pending" and latest["attempts"] == 1 and latest["last_status"] is None
    assert latest["last_error"]
    assert _audit(mission, "share_push")[0]["error"]


def test_revoking_stops_delivery_at_once(mission, quiet) -> None:
    generate(mission, n=12)
    agreement = create_agreement(mission, **POLICY)

    def revoke_on_first(n: int) -> None:
        if n == 1:  # revoked while the first attempt is on the wire
            with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                service.revoke(conn, "cli", agreement["id"])

    receiver = Receiver(statuses=(500,), on_post=revoke_on_first)
    with post_receiver(receiver) as url:
        _set_push(mission, agreement["id"], url)
        _drive(mission)
        # A new report after the revocation is not pushed either.
        late = report_body(category="looting", confidentiality="public")
        store(mission, "patrol_a", late)
        verify(mission, late["id"])
        _drive(mission)
    assert len(receiver.posts) == 1
    with mission.engine.connect() as conn:
        assert conn.execute(select(sharing_deliveries.c.status)).scalars().all() == ["cancelled"]
    assert len(_audit(mission, "share_push")) == 1


def test_a_page_of_an_older_version_is_not_sent(mission, quiet) -> None:
    generate(mission, n=12)
    agreement = create_agreement(mission, **POLICY)
    receiver = Receiver(statuses=(500,))
    with post_receiver(receiver) as url:
        _set_push(mission, agreement["id"], url)
        push.push_due(mission.engine, _key(mission))  # one failed attempt, page pending
        r = mission.client.put(f"/api/v1/sharing/agreements/{agreement['id']}", headers=mission.headers("admin"),
                               json={"policy": POLICY | {"fields": []}})
        assert r.status_code == 200
        _drive(mission)
    pages = [json.loads(b) for _h, b in receiver.posts]
    assert [p["agreement_version"] for p in pages] == [1, 2]
    assert all("severity" not in f["properties"] for f in pages[1]["features"])


def test_the_app_loop_delivers_on_its_own(mission) -> None:
    generate(mission, n=12)
    agreement = create_agreement(mission, **POLICY)
    receiver = Receiver()
    with post_receiver(receiver) as url:
        _set_push(mission, agreement["id"], url)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(receiver.records()) < len(_pull_ids(mission, POLICY)):
            time.sleep(0.1)
    assert [r["id"] for r in receiver.records()] == _pull_ids(mission, POLICY)


def test_bad_push_input_names_the_field(mission, quiet) -> None:
    agreement = create_agreement(mission, **POLICY)
    for body in ({"url": "ftp://example.org/in"}, {"url": "not a url"}, {}, {"url": "https://x.org/" + "a" * 2000}):
        r = mission.client.put(f"/api/v1/sharing/agreements/{agreement['id']}/push", json=body,
                               headers=mission.headers("admin"))
        assert r.status_code == 422 and r.json()["field"] == "url", (body, r.text)
    assert mission.client.put("/api/v1/sharing/agreements/999/push", json={"url": "https://x.org/in"},
                              headers=mission.headers("admin")).status_code == 404
    mission.client.post(f"/api/v1/sharing/agreements/{agreement['id']}/revoke", headers=mission.headers("admin"))
    r = mission.client.put(f"/api/v1/sharing/agreements/{agreement['id']}/push", json={"url": "https://x.org/in"},
                           headers=mission.headers("admin"))
    assert r.status_code == 409


def test_turning_push_off_keeps_the_cursor(mission, quiet) -> None:
    generate(mission, n=6)
    agreement = create_agreement(mission, **POLICY)
    receiver = Receiver()
    with post_receiver(receiver) as url:
        _set_push(mission, agreement["id"], url)
        _drive(mission)
    off = _set_push(mission, agreement["id"], None)
    assert off["url"] is None and off["secret"] is None
    with mission.engine.connect() as conn:
        row = conn.execute(select(sharing_agreements)).mappings().one()
    assert row["push_url"] is None and row["push_secret_enc"] is None and row["push_cursor"] > 0
    assert mission.client.get(f"/api/v1/sharing/agreements/{agreement['id']}",
                              headers=mission.headers("admin")).json()["push"] is None
