"""Signed webhooks to partner systems: endpoints, the delivery outbox, and delivering with retries.

A delivery is written (``enqueue``) in the same transaction that raised the alert, one per active
endpoint, so a restart loses none. ``deliver_due`` sends those whose time has come: a POST of the
shared view (``share.py``) as JSON, signed ``X-Peacewatch-Signature: t=<unix time>,v1=<hex>``
where hex is HMAC-SHA256 over ``"<t>.<body>"`` with the endpoint's secret (so a receiver can also
refuse replays), and ``X-Peacewatch-Delivery: <id>`` for the receiver to drop a repeat. A 2xx marks
it delivered; anything else is retried with exponential backoff and "equal jitter" (half the
delay fixed, half random) up to ``MAX_ATTEMPTS``, then marked failed; every attempt's status is
kept for the delivery log. A delivery is leased before it is sent so two workers never send it
at once.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Connection, Engine, delete, insert, select, update

from .. import clock
from ..db.engine import WRITE
from ..db.tables import webhook_deliveries, webhook_endpoints
from ..problems import not_found
from .service import iso
from .share import shared_rows, shared_views

MAX_ATTEMPTS = 10
BASE_DELAY_S = 2.0
MAX_DELAY_S = 3600.0
LEASE = timedelta(seconds=60)
BATCH = 20
TIMEOUT_S = 5.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def backoff_s(attempts: int, *, base: float = BASE_DELAY_S, rng: random.Random | None = None) -> float:
    """Delay before attempt ``attempts + 1``: base * 2^(attempts-1), capped, half of it random."""
    delay = min(MAX_DELAY_S, base * (2 ** max(0, attempts - 1)))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


@contextmanager
def http_client(http: httpx.Client | None) -> Iterator[httpx.Client]:
    """The caller's client (tests pass one), or one made for this round and closed after it."""
    if http is not None:
        yield http
        return
    with httpx.Client(timeout=TIMEOUT_S) as client:
        yield client


def post_signed(client: httpx.Client, url: str, secret: str, body: bytes, *, delivery_id: str,
                headers: dict[str, str] | None = None) -> tuple[int | None, str | None]:
    """POST `body` as signed JSON; (HTTP status, None), or (None, the error) if no answer came.

    Shared by every signed delivery to a partner system (alert webhooks, partner sharing's push),
    so a receiver checks one signature scheme."""
    ts = int(clock.now().timestamp())
    sent = {"Content-Type": "application/json", "X-Peacewatch-Delivery": delivery_id,
            "X-Peacewatch-Signature": signature(secret, ts, body)} | (headers or {})
    try:
        return client.post(url, content=body, headers=sent).status_code, None
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


def after_attempt(attempts: int, status: int | None, error: str | None, *, base_delay_s: float = BASE_DELAY_S,
                  max_attempts: int | None = MAX_ATTEMPTS) -> tuple[dict[str, Any], bool]:
    """The delivery row's new values after one more attempt, and whether it was delivered.

    A 2xx is delivered; anything else is retried after `backoff_s`, until `max_attempts` (then
    ``failed``; never, with None: a delivery that must arrive in order is retried indefinitely,
    at most ``MAX_DELAY_S`` apart)."""
    attempts += 1
    values: dict[str, Any] = {"attempts": attempts, "last_status": status, "last_error": error}
    if status is not None and 200 <= status < 300:
        return values | {"status": "delivered", "delivered_at": clock.now()}, True
    if max_attempts is not None and attempts >= max_attempts:
        return values | {"status": "failed"}, False
    return values | {"next_attempt_at": clock.now() + timedelta(seconds=backoff_s(attempts, base=base_delay_s))}, False


def endpoint_out(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "url": row["url"], "active": bool(row["active"]), "created_at": iso(row["created_at"])}


def list_endpoints(conn: Connection) -> dict[str, Any]:
    rows = conn.execute(select(webhook_endpoints).order_by(webhook_endpoints.c.id)).mappings().all()
    return {"items": [endpoint_out(r) for r in rows]}


def create_endpoint(conn: Connection, *, url: str, secret: str) -> dict[str, Any]:
    eid = conn.execute(insert(webhook_endpoints).values(url=url, secret=secret, active=True, created_at=clock.now())
                       .returning(webhook_endpoints.c.id)).scalar_one()
    return endpoint_out(conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.id == eid)).mappings().one())


def deactivate_endpoint(conn: Connection, *, endpoint_id: int) -> dict[str, Any]:
    """Stop sending to an endpoint (its delivery log stays); pending deliveries are dropped."""
    n = conn.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
                     .values(active=False)).rowcount
    if not n:
        raise not_found("webhook endpoint")
    conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id,
                                                  webhook_deliveries.c.status == "pending"))
    return {"id": endpoint_id, "active": False}


def deliveries(conn: Connection, *, endpoint_id: int | None = None, limit: int = 100) -> dict[str, Any]:
    """The delivery log, newest first."""
    stmt = select(webhook_deliveries).order_by(webhook_deliveries.c.id.desc()).limit(limit)
    if endpoint_id is not None:
        stmt = stmt.where(webhook_deliveries.c.endpoint_id == endpoint_id)
    return {"items": [{"id": r["id"], "endpoint_id": r["endpoint_id"], "event_id": r["event_id"],
                       "alert_id": r["payload"].get("alert_id"), "status": r["status"], "attempts": r["attempts"],
                       "last_status": r["last_status"], "last_error": r["last_error"],
                       "next_attempt_at": iso(r["next_attempt_at"]), "delivered_at": iso(r["delivered_at"])}
                      for r in conn.execute(stmt).mappings()]}


def enqueue(conn: Connection, raised: Mapping[int, int]) -> int:
    """Queue the shared view of shareable alerts (alert id -> its "raised" event id) for every
    active endpoint, in the raising transaction; returns how many deliveries were queued."""
    endpoints = conn.execute(select(webhook_endpoints.c.id).where(webhook_endpoints.c.active)).scalars().all()
    rows = shared_rows(conn, alert_ids=list(raised), limit=len(raised)) if endpoints and raised else []
    if not rows:
        return 0
    now = clock.now()
    queued = [{"endpoint_id": eid, "event_id": raised[view["alert_id"]],
               "payload": {"type": "alert.raised", "event_id": raised[view["alert_id"]]} | view,
               "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
              for view in sorted(shared_views(conn, rows), key=lambda v: v["alert_id"])  # in raising order
              for eid in endpoints]
    conn.execute(insert(webhook_deliveries), queued)
    return len(queued)


def _claim(engine: Engine) -> list[dict[str, Any]]:
    now = clock.now()
    # A read first: the worker asks every tick, and a write transaction each time would queue
    # behind (and hold up) the pushes on SQLite.
    with engine.connect() as conn, conn.begin():
        if conn.execute(select(webhook_deliveries.c.id).where(webhook_deliveries.c.status == "pending",
                                                             webhook_deliveries.c.next_attempt_at <= now)
                        .limit(1)).first() is None:
            return []
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        rows = conn.execute(
            select(webhook_deliveries, webhook_endpoints.c.url, webhook_endpoints.c.secret)
            .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
            .where(webhook_deliveries.c.status == "pending", webhook_deliveries.c.next_attempt_at <= now)
            .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id).limit(BATCH)
            .with_for_update(skip_locked=True, of=webhook_deliveries)
        ).mappings().all()
        if rows:
            conn.execute(update(webhook_deliveries).where(webhook_deliveries.c.id.in_([r["id"] for r in rows]))
                         .values(next_attempt_at=now + LEASE))
    return [dict(r) for r in rows]


def deliver_due(engine: Engine, *, http: httpx.Client | None = None, base_delay_s: float = BASE_DELAY_S) -> int:
    """Send every delivery that is due; returns how many were delivered now."""
    rows = _claim(engine)
    if not rows:
        return 0
    delivered = 0
    with http_client(http) as client:
        for row in rows:
            status, error = post_signed(client, row["url"], row["secret"], orjson.dumps(row["payload"]),
                                        delivery_id=str(row["id"]))
            values, ok = after_attempt(row["attempts"], status, error, base_delay_s=base_delay_s)
            delivered += ok
            with engine.connect().execution_options(**WRITE) as conn, conn.begin():
                conn.execute(update(webhook_deliveries).where(webhook_deliveries.c.id == row["id"]).values(**values))
    return delivered


def shown_url(url: str) -> str:
    """An endpoint's address as the log shows it: no user, password or query (they may hold a token)."""
    parts = httpx.URL(url)
    return str(parts.copy_with(username=None, password=None, query=None, fragment=None)) + (
        "?…" if parts.query else "")


def delivery_log(conn: Connection, *, per_endpoint: int = 20) -> list[dict[str, Any]]:
    """Every endpoint with its latest deliveries (newest first), for the dashboard's log page.

    No secret is shown: not the signing secret, nor a credential in the address, nor the secret
    should an error message repeat it.
    """
    out = []
    for ep in conn.execute(select(webhook_endpoints).order_by(webhook_endpoints.c.id)).mappings().all():
        rows = conn.execute(select(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == ep["id"])
                            .order_by(webhook_deliveries.c.id.desc()).limit(per_endpoint)).mappings().all()
        hidden = [s for s in (ep["secret"], httpx.URL(ep["url"]).password, httpx.URL(ep["url"]).query.decode())
                  if s]

        def masked(text: str | None, hidden: list[str] = hidden) -> str | None:
            for secret in hidden:
                text = text.replace(secret, "•••") if text else text
            return text

        out.append({"id": ep["id"], "url": shown_url(ep["url"]), "active": bool(ep["active"]),
                    "created_at": iso(ep["created_at"]),
                    "deliveries": [{"id": r["id"], "alert_id": r["payload"].get("alert_id"), "status": r["status"],
                                    "attempts": r["attempts"], "last_status": r["last_status"],
                                    "last_error": masked(r["last_error"]), "created_at": iso(r["created_at"]),
                                    "next_attempt_at": iso(r["next_attempt_at"]),
                                    "delivered_at": iso(r["delivered_at"])} for r in rows]})
    return out
