"""SMS intake from gateways: who may post, which payload shapes are understood, and storing each
message exactly once, throttled per sender.

A gateway is registered by an administrator (``peacewatch admin add-gateway NAME``), which prints
its secret once. Each request names the gateway (``X-Peacewatch-Gateway``) and signs the raw body
(``signing.HEADER``); an unknown gateway or a wrong signature is a 401 and nothing is stored.

Payload shapes (``normalise``):

| shape | content type | from | text | message id | received at |
| --- | --- | --- | --- | --- | --- |
| peacewatch | JSON | ``from`` | ``text`` | ``message_id`` | ``received_at`` |
| RapidPro/TextIt external channel | form | ``from`` | ``text`` | ``id`` | ``date`` |
| Android SMS-gateway app webhook | JSON | ``payload.phoneNumber`` | ``payload.message`` | ``payload.messageId`` | ``payload.receivedAt`` |

A message id seen before from the same gateway is answered as a duplicate with the alert it made
(stored once); different content under the same id is a 409. A sender over
``sms_per_number_per_hour`` is still logged (``throttled``) but does not enter triage or get replies.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..audit.service import record
from ..db.tables import community_alerts, community_gateways
from ..problems import Code, Problem, invalid
from . import outbox, sms
from .protection import caller_key, decrypt, encrypt
from .service import insert_alert
from .signing import valid

MAX_FIELD = 200


def add_gateway(conn: Connection, *, name: str, key: bytes, outbound_url: str | None = None,
                actor: str = "cli") -> dict[str, Any]:
    """Register a gateway; returns its secret (shown once, kept only encrypted)."""
    name = name.strip()
    if not name or len(name) > 64:
        raise invalid("name", "a gateway name is 1 to 64 characters")
    if outbound_url and not outbound_url.startswith(("http://", "https://")):
        raise invalid("outbound_url", "must be an http(s) URL")
    secret = secrets.token_urlsafe(32)
    try:
        with conn.begin_nested():
            gid = conn.execute(insert(community_gateways).values(
                name=name, secret_enc=encrypt(key, secret, column="secret_enc"), outbound_url=outbound_url,
                created_at=clock.now()).returning(community_gateways.c.id)).scalar_one()
    except IntegrityError:
        raise Problem(Code.CONFLICT, f"gateway {name} already exists", field="name") from None
    record(conn, action="sms_gateway_added", actor=actor, target=name, detail={"outbound": bool(outbound_url)})
    return {"id": gid, "name": name, "secret": secret, "outbound_url": outbound_url}


def authenticate_gateway(conn: Connection, *, key: bytes, name: str | None, body: bytes,
                         signature: str | None) -> dict[str, Any]:
    """The gateway that signed this body, else 401 (the same answer for unknown name and bad signature)."""
    row = conn.execute(select(community_gateways).where(community_gateways.c.name == (name or ""))
                       ).mappings().one_or_none() if name else None
    if row is None or not valid(decrypt(key, row["secret_enc"], column="secret_enc") or "", body, signature):
        raise Problem(Code.NOT_AUTHENTICATED, "unknown gateway or bad signature")
    return dict(row)


def _parse_time(value: Any, field: str) -> datetime:
    if value in (None, ""):
        return clock.now()
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise invalid(field, "must be an ISO 8601 date-time") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def normalise(body: bytes, content_type: str) -> dict[str, Any]:
    """The message's ``from``, ``text``, ``message_id`` and ``received_at`` from any understood shape."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        raw: dict[str, Any] = {"from": form.get("from"), "text": form.get("text"),
                               "message_id": form.get("id") or form.get("message_id"),
                               "received_at": form.get("date") or form.get("received_at")}
        names = {"message_id": "id", "received_at": "date"}
    else:
        try:
            data = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise Problem(Code.INVALID_JSON, "the request body is not valid JSON", field="body") from None
        if not isinstance(data, dict):
            raise invalid("body", "expected a JSON object")
        if isinstance(data.get("payload"), dict) and "phoneNumber" in data["payload"]:
            p = data["payload"]
            raw = {"from": p.get("phoneNumber"), "text": p.get("message"), "message_id": p.get("messageId"),
                   "received_at": p.get("receivedAt")}
            names = {"from": "payload.phoneNumber", "text": "payload.message", "message_id": "payload.messageId",
                     "received_at": "payload.receivedAt"}
        else:
            raw = {k: data.get(k) for k in ("from", "text", "message_id", "received_at")}
            names = {}
    for field in ("from", "message_id"):
        value = raw.get(field)
        if not isinstance(value, str | int) or not str(value).strip() or len(str(value)) > MAX_FIELD:
            raise invalid(names.get(field, field), f"required, 1 to {MAX_FIELD} characters")
        raw[field] = str(value).strip()
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid(names.get("text", "text"), "the message is empty")
    if len(text) > sms.MAX_TEXT:
        raise invalid(names.get("text", "text"), f"longer than {sms.MAX_TEXT} characters")
    raw["text"] = text.strip()
    if not any(ch.isdigit() for ch in raw["from"]):
        raise invalid(names.get("from", "from"), "not a phone number")
    raw["received_at"] = _parse_time(raw.get("received_at"), names.get("received_at", "received_at"))
    return raw


def receive_sms(conn: Connection, *, key: bytes, gateway: dict[str, Any], message: dict[str, Any],
                per_hour: int) -> dict[str, Any]:
    """Store one SMS as a community alert (once per message id), throttled per sender."""
    ckey = caller_key(key, message["from"])
    parsed = sms.parse(message["text"])
    stored_text = parsed.text or message["text"]
    seen = conn.execute(select(community_alerts.c.id, community_alerts.c.caller_key, community_alerts.c.text)
                        .where(community_alerts.c.gateway_id == gateway["id"],
                               community_alerts.c.message_id == message["message_id"])).first()
    if seen is not None:
        if seen.text != stored_text or (seen.caller_key and seen.caller_key != ckey):
            raise Problem(Code.CONFLICT, "a different message was already received under this message id",
                          field="message_id")
        return {"status": "duplicate", "alert_id": seen.id}
    since = clock.now() - timedelta(hours=1)
    recent = conn.execute(select(func.count()).select_from(community_alerts)
                          .where(community_alerts.c.caller_key == ckey,
                                 community_alerts.c.received_at >= since)).scalar_one()
    throttled = recent >= per_hour
    language = "fr" if message["text"].split()[0].lower() in ("alerte", "alarme") else "en"
    if any("\u0600" <= ch <= "\u06ff" for ch in message["text"]):
        language = "ar"
    try:
        with conn.begin_nested():
            alert_id = insert_alert(
                conn, key=key, source="sms", text=stored_text, place_hint=parsed.place_hint,
                category=parsed.category, phone=message["from"], language=language, gateway_id=gateway["id"],
                message_id=message["message_id"], throttled=throttled, received_at=clock.now(), ckey=ckey,
                event_time=message["received_at"])
    except IntegrityError:
        # The same message id committed by a concurrent request between our look-up and insert.
        seen_id = conn.execute(select(community_alerts.c.id).where(
            community_alerts.c.gateway_id == gateway["id"],
            community_alerts.c.message_id == message["message_id"])).scalar_one()
        return {"status": "duplicate", "alert_id": seen_id}
    reply = None if throttled else outbox.enqueue_reply(conn, key=key, alert_id=alert_id, kind="ack")
    return {"status": "throttled" if throttled else "stored", "alert_id": alert_id, "coded": parsed.coded,
            "reply_queued": reply is not None}
