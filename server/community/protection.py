"""Callers' identity at rest: the mission key, AES-GCM encryption of phone numbers and names, the
keyed hash that recognises a number without decrypting it, audited reads, and the retention purge.

The key is 32 random bytes: ``PEACEWATCH_MISSION_KEY`` (base64) if set, else ``mission.key`` in the
data dir, created on first use with owner-only permissions. A ciphertext is ``v1:`` + base64 of
nonce (12 bytes) + AES-GCM output, with the column's name as associated data, so a phone number's
ciphertext cannot be passed off as a name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, update

from .. import clock
from ..access import Permission, Principal
from ..audit.service import record
from ..config import Settings
from ..db.tables import community_alerts, community_outbox

IDENTITY_COLUMNS = ("caller_phone_enc", "caller_name_enc", "caller_relationship_enc")
_PREFIX = "v1:"


def mission_key(settings: Settings) -> bytes:
    """The mission key from the settings, or the data dir's key file (made once)."""
    if settings.mission_key:
        key = base64.b64decode(settings.mission_key)
        if len(key) != 32:
            raise ValueError("PEACEWATCH_MISSION_KEY must be base64 of 32 bytes")
        return key
    path = settings.data_dir / "mission.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once cannot each write a different key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(AESGCM.generate_key(bit_length=256))
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(f"{path} does not hold a 32-byte key")
    return key


def encrypt(key: bytes, value: str | None, *, column: str) -> str | None:
    if value is None or value == "":
        return None
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), column.encode())
    return _PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt(key: bytes, token: str | None, *, column: str) -> str | None:
    if not token:
        return None
    raw = base64.b64decode(token.removeprefix(_PREFIX))
    return AESGCM(key).decrypt(raw[:12], raw[12:], column.encode()).decode()


def caller_key(key: bytes, phone: str) -> str:
    """A keyed hash of a normalised number: the same sender is recognised, the number is not stored."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return hmac.new(key, b"caller:" + digits.encode(), hashlib.sha256).hexdigest()


def read_identity(conn: Connection, principal: Principal, row: Any, *, key: bytes) -> dict[str, Any] | None:
    """The caller's identity if ``principal`` may read it (audited), else ``None``."""
    if not principal.may(Permission.CALLER_IDENTITY):
        return None
    if row["identity_purged_at"] is not None:
        return {"phone": None, "name": None, "relationship": None, "purged": True}
    if not any(row[c] for c in IDENTITY_COLUMNS):
        return {"phone": None, "name": None, "relationship": None, "purged": False}
    record(conn, action="caller_identity_read", actor=principal.username, actor_user_id=principal.user_id,
           target=f"community_alert:{row['id']}", detail={})
    return {"phone": decrypt(key, row["caller_phone_enc"], column="caller_phone_enc"),
            "name": decrypt(key, row["caller_name_enc"], column="caller_name_enc"),
            "relationship": decrypt(key, row["caller_relationship_enc"], column="caller_relationship_enc"),
            "purged": False}


def purge(conn: Connection, *, retention_days: int, actor: str = "cli") -> int:
    """Empty the caller identity of alerts received more than ``retention_days`` ago; the alerts stay."""
    cutoff = clock.now() - timedelta(days=retention_days)
    ids = list(conn.execute(
        update(community_alerts)
        .where(community_alerts.c.received_at < cutoff, community_alerts.c.identity_purged_at.is_(None))
        .values(caller_phone_enc=None, caller_name_enc=None, caller_relationship_enc=None, caller_key=None,
                identity_purged_at=clock.now())
        .returning(community_alerts.c.id)).scalars())
    if ids:
        # An unsent reply still names the number: it can no longer be sent once the identity is gone.
        mine = community_outbox.c.community_alert_id.in_(ids)
        conn.execute(update(community_outbox).where(mine, community_outbox.c.status == "pending")
                     .values(status="purged"))
        conn.execute(update(community_outbox).where(mine).values(to_enc=None))
        record(conn, action="caller_identity_purged", actor=actor, target="community_alerts",
               detail={"count": len(ids), "retention_days": retention_days})
    return len(ids)
