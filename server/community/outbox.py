"""Replies to the people who alerted the mission: an outbox delivered through the gateway's
outbound side, with retries and a delivery status per message.

A reply is one of ``TEMPLATES`` in the caller's language (English, French, Arabic), filled with the
alert's reference number and nothing else: never another caller, never a report's content. It is
written in the transaction that caused it (the SMS stored, the alert linked or dismissed), at most
once per (alert, kind); ``deliver_due`` then POSTs ``{"to", "text", "reply_id"}`` to the gateway's
``outbound_url``, signed like the intake (``X-Peacewatch-Signature: sha256=<hex>`` over the body with
the gateway's secret). A 2xx marks it ``sent``; anything else retries with exponential back-off
until ``MAX_ATTEMPTS``, then ``failed``. The purge empties an unsent reply's number (``purged``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock
from ..background_loop import BackgroundLoop
from ..db.engine import WRITE
from ..db.tables import community_alerts, community_gateways, community_outbox
from .protection import decrypt, encrypt
from .signing import sign

MAX_ATTEMPTS = 6
BATCH = 50
LEASE = timedelta(seconds=30)

TEMPLATES: dict[str, dict[str, str]] = {
    "ack": {
        "en": "peacewatch: your alert {ref} was received. A liaison assistant is looking at it.",
        "fr": "peacewatch : votre alerte {ref} a été reçue. Un assistant de liaison l'examine.",
        "ar": "peacewatch: تم استلام بلاغك {ref}. يقوم مساعد الاتصال بمراجعته.",
    },
    "outcome_action": {
        "en": "peacewatch: your alert {ref} was passed to the mission, which is responding. Thank you.",
        "fr": "peacewatch : votre alerte {ref} a été transmise à la mission, qui y répond. Merci.",
        "ar": "peacewatch: تم إحالة بلاغك {ref} إلى البعثة وهي تستجيب له. شكرا لك.",
    },
    "outcome_reviewed": {
        "en": "peacewatch: your alert {ref} has been reviewed. Thank you for alerting the mission.",
        "fr": "peacewatch : votre alerte {ref} a été examinée. Merci d'avoir alerté la mission.",
        "ar": "peacewatch: تمت مراجعة بلاغك {ref}. شكرا لإبلاغك البعثة.",
    },
}


def render(kind: str, language: str, alert_id: int) -> str:
    texts = TEMPLATES[kind]
    return texts.get(language, texts["en"]).format(ref=f"#{alert_id}")


def _insert(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def enqueue_reply(conn: Connection, *, key: bytes, alert_id: int, kind: str) -> int | None:
    """Queue a reply to the alert's sender if it came through a gateway that can send (else ``None``)."""
    row = conn.execute(
        select(community_alerts.c.gateway_id, community_alerts.c.caller_phone_enc,
               community_alerts.c.caller_language, community_gateways.c.outbound_url)
        .select_from(community_alerts.outerjoin(community_gateways,
                                                community_gateways.c.id == community_alerts.c.gateway_id))
        .where(community_alerts.c.id == alert_id)).mappings().one()
    if row["gateway_id"] is None or not row["outbound_url"] or not row["caller_phone_enc"]:
        return None
    # Re-encrypted under the outbox column's name: a ciphertext is bound to its column.
    phone = decrypt(key, row["caller_phone_enc"], column="caller_phone_enc")
    now = clock.now()
    return conn.execute(_insert(conn)(community_outbox).values(
        community_alert_id=alert_id, gateway_id=row["gateway_id"], kind=kind,
        to_enc=encrypt(key, phone, column="to_enc"), text=render(kind, row["caller_language"], alert_id),
        status="pending", attempts=0, next_attempt_at=now, created_at=now,
    ).on_conflict_do_nothing().returning(community_outbox.c.id)).scalar_one_or_none()


def replies_of(conn: Connection, alert_id: int) -> list[dict[str, Any]]:
    """The replies to an alert's sender and their delivery status (no number)."""
    return [{"id": r["id"], "kind": r["kind"], "text": r["text"], "status": r["status"], "attempts": r["attempts"],
             "last_error": r["last_error"], "sent_at": r["sent_at"].isoformat() if r["sent_at"] else None}
            for r in conn.execute(select(community_outbox).where(community_outbox.c.community_alert_id == alert_id)
                                  .order_by(community_outbox.c.id)).mappings()]


def _claim(engine: Engine) -> list[dict[str, Any]]:
    now = clock.now()
    due = (community_outbox.c.status == "pending") & (community_outbox.c.next_attempt_at <= now)
    # Look before locking: the worker ticks every few seconds and almost always finds nothing, and
    # on SQLite a write transaction would queue it behind (and hold up) every writer for nothing.
    with engine.connect() as conn, conn.begin():
        if conn.execute(select(community_outbox.c.id).where(due).limit(1)).first() is None:
            return []
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        rows = conn.execute(
            select(community_outbox, community_gateways.c.outbound_url, community_gateways.c.secret_enc)
            .join(community_gateways, community_gateways.c.id == community_outbox.c.gateway_id)
            .where(due)
            .order_by(community_outbox.c.next_attempt_at, community_outbox.c.id).limit(BATCH)
            .with_for_update(skip_locked=True, of=community_outbox)).mappings().all()
        if rows:
            # Leased, so a second worker does not send the same message while this one tries.
            conn.execute(update(community_outbox).where(community_outbox.c.id.in_([r["id"] for r in rows]))
                         .values(next_attempt_at=now + LEASE))
    return [dict(r) for r in rows]


def deliver_due(engine: Engine, *, key: bytes, client: httpx.Client | None = None) -> int:
    """Send every due reply once; returns how many were delivered now."""
    rows = _claim(engine)
    if not rows:
        return 0
    own = client is None
    http = client or httpx.Client(timeout=10.0)
    sent = 0
    try:
        for r in rows:
            secret = decrypt(key, r["secret_enc"], column="secret_enc") or ""
            body = json.dumps({"to": decrypt(key, r["to_enc"], column="to_enc"), "text": r["text"],
                               "reply_id": r["id"]}, ensure_ascii=False).encode()
            error: str | None = None
            try:
                resp = http.post(r["outbound_url"], content=body, headers={
                    "Content-Type": "application/json", "X-Peacewatch-Signature": sign(secret, body)})
                if not 200 <= resp.status_code < 300:
                    error = f"gateway answered {resp.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
            attempts = r["attempts"] + 1
            with engine.connect().execution_options(**WRITE) as conn, conn.begin():
                if error is None:
                    values: dict[str, Any] = {"status": "sent", "attempts": attempts, "sent_at": clock.now(),
                                              "last_error": None}
                    sent += 1
                elif attempts >= MAX_ATTEMPTS:
                    values = {"status": "failed", "attempts": attempts, "last_error": error}
                else:
                    values = {"attempts": attempts, "last_error": error,
                              "next_attempt_at": clock.now() + timedelta(seconds=5 * 2 ** attempts)}
                conn.execute(update(community_outbox).where(community_outbox.c.id == r["id"],
                                                            community_outbox.c.status == "pending").values(**values))
    finally:
        if own:
            http.close()
    return sent


def reply_worker(engine: Engine, key: bytes, *, tick_s: float = 5.0) -> BackgroundLoop:
    """The app's reply loop: send due replies on every poke and every ``tick_s`` (retries)."""
    return BackgroundLoop("community-replies", [("sending replies to callers", partial(deliver_due, engine, key=key))],
                          tick_s=tick_s)
