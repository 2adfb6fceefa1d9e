"""Push delivery: each new page of a partner's feed POSTed, signed, to the partner's endpoint.

An agreement with an endpoint (``service.set_push``) has its feed pushed from ``push_cursor``, one
page at a time and in order: `enqueue_due` builds the next page (by ``feed.page``, the pull feed's
code, rendered as its GeoJSON) into a ``sharing_deliveries`` row only when the previous one is no
longer pending; `deliver_due` sends due rows and, once the partner answers 2xx, moves
``push_cursor`` to the page's end. The request is the alert webhooks' (``alerts.webhooks``): JSON,
``X-Peacewatch-Signature: t=<unix time>,v1=<HMAC-SHA256 hex of "<t>.<body>">`` with the
agreement's push secret, ``X-Peacewatch-Delivery: share-<id>`` to drop a repeat; the same
backoff. A page is retried until it arrives (at most an hour apart): the pages after it cannot
go first, and the partner would otherwise miss it.

Every attempt is audited as ``share_push``, with what it carried and its outcome, as the pull
feed audits each page. Before each send the agreement is read again: a page of a revoked
agreement, of an older version, or for an endpoint since changed is cancelled, not sent (revoking
also cancels waiting pages in its own transaction). A send already on the wire when a revocation
commits still arrives; none starts after.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, and_, exists, insert, select, update

from peacewatch.server import clock
from peacewatch.server.alerts.webhooks import LEASE, MAX_DELAY_S, after_attempt, http_client, post_signed
from peacewatch.server.background_loop import BackgroundLoop
from peacewatch.server.community.protection import decrypt
from peacewatch.server.db.engine import WRITE
from peacewatch.server.db.tables import sharing_agreements as agreements_t
from peacewatch.server.db.tables import sharing_deliveries as deliveries_t
from peacewatch.server.exports.pseudonyms import ensure_key
from peacewatch.server.problems import Problem
from peacewatch.server.sharing import feed, service

log = logging.getLogger(__name__)

PAGE = 100  # reports per pushed page: a partner's receiver need not take 500 at once
BATCH = 20
ROUNDS = 20  # pages per agreement per wake-up at most, so one large backlog cannot hold the loop
BASE_DELAY_S = 2.0


def _waiting(engine: Engine) -> list[int]:
    """Agreements with an endpoint, not revoked, no page pending, and a new page to send.

    A read transaction: the loop asks every tick, and a write transaction each time would hold up
    the tablets' pushes on SQLite."""
    pending = exists().where(deliveries_t.c.agreement_id == agreements_t.c.id, deliveries_t.c.status == "pending")
    out = []
    with engine.connect() as conn, conn.begin():
        rows = conn.execute(select(agreements_t.c.id, agreements_t.c.push_cursor).where(
            agreements_t.c.push_url.is_not(None), agreements_t.c.revoked.is_(False), ~pending)
            .order_by(agreements_t.c.id)).all()
        for agreement_id, cursor in rows:
            try:
                terms = service.active_terms(conn, agreement_id)
            except Problem:  # awaiting approval: nothing goes
                continue
            if feed.has_next(conn, terms.policy, cursor=int(cursor)):
                out.append(int(agreement_id))
    return out


def enqueue_due(engine: Engine) -> int:
    """Build the next page for every agreement whose previous page is delivered; how many were built."""
    built = 0
    for agreement_id in _waiting(engine):
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            # Locked, so two workers cannot build the same page twice (PostgreSQL; SQLite's
            # write transaction is already exclusive).
            row = conn.execute(select(agreements_t).where(agreements_t.c.id == agreement_id)
                               .with_for_update()).mappings().one()
            pending = conn.execute(select(deliveries_t.c.id).where(deliveries_t.c.agreement_id == agreement_id,
                                                                   deliveries_t.c.status == "pending")).first()
            if pending is not None or not row["push_url"]:
                continue
            try:
                terms = service.active_terms(conn, agreement_id)
            except Problem:  # revoked or awaiting approval: nothing goes
                continue
            cursor = int(row["push_cursor"])
            p = feed.page(conn, terms.policy, key=ensure_key(conn), cursor=cursor, limit=PAGE)
            if not p.records:
                continue
            url = f"/api/v1/share/{terms.partner}/attachments/{{sha256}}"
            payload = json.loads(feed.render_geojson(p, attachment_url=url)) | {
                "partner": terms.partner, "agreement_version": terms.version, "cursor": str(cursor)}
            now = clock.now()
            conn.execute(insert(deliveries_t).values(
                agreement_id=agreement_id, version=terms.version, cursor=cursor, next_cursor=p.next_cursor,
                payload=payload, status="pending", attempts=0, next_attempt_at=now, created_at=now))
            built += 1
    return built


def _claim(engine: Engine) -> list[dict[str, Any]]:
    now = clock.now()
    due = and_(deliveries_t.c.status == "pending", deliveries_t.c.next_attempt_at <= now)
    with engine.connect() as conn, conn.begin():
        if conn.execute(select(deliveries_t.c.id).where(due).limit(1)).first() is None:
            return []
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        rows = conn.execute(select(deliveries_t).where(due)
                            .order_by(deliveries_t.c.next_attempt_at, deliveries_t.c.id).limit(BATCH)
                            .with_for_update(skip_locked=True)).mappings().all()
        if rows:  # leased: another worker does not send them meanwhile
            conn.execute(update(deliveries_t).where(deliveries_t.c.id.in_([r["id"] for r in rows]))
                         .values(next_attempt_at=now + LEASE))
    return [dict(r) for r in rows]


def _still_due(engine: Engine, row: dict[str, Any], key: bytes) -> tuple[service.Partner, str, str] | None:
    """The agreement's terms, endpoint and secret if this page may still go; else it is cancelled."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        agreement = conn.execute(select(agreements_t).where(agreements_t.c.id == row["agreement_id"])).mappings().one()
        status = conn.execute(select(deliveries_t.c.status).where(deliveries_t.c.id == row["id"])).scalar_one()
        try:
            terms = service.active_terms(conn, row["agreement_id"])
        except Problem:
            terms = None
        url, secret = agreement["push_url"], decrypt(key, agreement["push_secret_enc"],
                                                     column=service.PUSH_SECRET_COLUMN)
        if (status == "pending" and terms is not None and terms.version == row["version"] and url and secret):
            return terms, url, secret
        conn.execute(update(deliveries_t).where(deliveries_t.c.id == row["id"], deliveries_t.c.status == "pending")
                     .values(status="cancelled"))
        return None


def deliver_due(engine: Engine, key: bytes, *, http: httpx.Client | None = None,
                base_delay_s: float = BASE_DELAY_S) -> int:
    """Send every page that is due; how many were delivered now."""
    rows = _claim(engine)
    if not rows:
        return 0
    delivered = 0
    with http_client(http) as client:
        for row in rows:
            current = _still_due(engine, row, key)
            if current is None:
                continue
            terms, url, secret = current
            status, error = post_signed(client, url, secret, orjson.dumps(row["payload"]),
                                        delivery_id=f"share-{row['id']}",
                                        headers={"X-Next-Cursor": str(row["next_cursor"]),
                                                 "X-Agreement-Version": str(row["version"])})
            values, ok = after_attempt(row["attempts"], status, error, base_delay_s=base_delay_s, max_attempts=None)
            if not ok:  # in order, so never given up: but at most an hour apart
                values["next_attempt_at"] = min(values["next_attempt_at"],
                                                clock.now() + timedelta(seconds=MAX_DELAY_S))
            delivered += ok
            features = row["payload"].get("features") or []
            with engine.connect().execution_options(**WRITE) as conn, conn.begin():
                conn.execute(update(deliveries_t).where(deliveries_t.c.id == row["id"]).values(**values))
                if ok:  # only forward: a page delivered late after a newer one must not move it back
                    conn.execute(update(agreements_t).where(agreements_t.c.id == row["agreement_id"],
                                                            agreements_t.c.push_cursor < row["next_cursor"])
                                 .values(push_cursor=row["next_cursor"]))
                service.audit_delivery(
                    conn, terms, action="share_push", fmt="geojson", cursor=row["cursor"],
                    next_cursor=row["next_cursor"], report_ids=[f["id"] for f in features],
                    attachments=sorted({u.rsplit("/", 1)[-1] for f in features
                                        for u in f["properties"].get("attachment_urls") or ()}),
                    extra={"delivery_id": row["id"], "attempt": values["attempts"], "delivered": ok,
                           "http_status": status, "error": error})
    return delivered


def push_due(engine: Engine, key: bytes, *, http: httpx.Client | None = None,
             base_delay_s: float = BASE_DELAY_S) -> int:
    """Build and send pages until nothing more is due (at most `ROUNDS` rounds); pages delivered."""
    total = 0
    for _ in range(ROUNDS):
        enqueue_due(engine)
        delivered = deliver_due(engine, key, http=http, base_delay_s=base_delay_s)
        total += delivered
        if not delivered:
            break
    return total


def push_worker(engine: Engine, key: bytes, *, tick_s: float = 5.0) -> BackgroundLoop:
    """The app's push loop: new pages and retries every `tick_s` (and when poked)."""
    return BackgroundLoop("sharing-push", [("pushing partner feeds", partial(push_due, engine, key))],
                          tick_s=tick_s, run_at_start=True)
