"""Enrol, list and revoke devices.

An administrator issues a one-time code for a user (printed, and as a QR code PNG for the tablet's
camera); the tablet trades it once for a device credential, which the server keeps only as a hash.
A code is single-use and expires. Revoking a device makes every later request with its credential
fail with ``device_revoked``; its local data stays encrypted on the tablet.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import segno
from sqlalchemy import Connection, Engine, insert, select, update

from .. import clock
from ..audit.service import record
from ..auth.secrets import digest, new_enrolment_code, new_token, normalise_code
from ..auth.service import check_rate
from ..db.engine import WRITE
from ..db.tables import contingents, devices, enrolment_codes, users
from ..problems import Code, Problem, not_found
from ..users.service import get_user


def issue_code(conn: Connection, *, username: str, ttl: timedelta, actor: str = "cli",
               actor_user_id: int | None = None) -> dict[str, Any]:
    """A new one-time enrolment code for ``username``."""
    user = get_user(conn, username)
    code = new_enrolment_code()
    now = clock.now()
    conn.execute(insert(enrolment_codes).values(code_hash=digest(code), user_id=user["id"], created_by=actor_user_id,
                                                created_at=now, expires_at=now + ttl))
    record(conn, action="enrolment_code_issued", actor=actor, actor_user_id=actor_user_id, target=username,
           detail={"expires_at": (now + ttl).isoformat()})
    return {"code": code, "username": username, "expires_at": (now + ttl).isoformat()}


def write_qr_png(code: str, server_url: str, path: Path) -> Path:
    """The code (and server address) as a QR code PNG for the tablet to scan."""
    path.parent.mkdir(parents=True, exist_ok=True)
    segno.make(f"peacewatch:enrol?server={server_url}&code={code}", error="m").save(str(path), scale=8)
    return path


def enrol(conn: Connection, *, code: str, label: str, client: str, max_failures: int) -> dict[str, Any]:
    """Trade a valid one-time code for a device id and credential (returned once, stored hashed)."""
    check_rate(conn, action="enrolment_failed", target=client, limit=max_failures)
    row = conn.execute(select(enrolment_codes).where(enrolment_codes.c.code_hash == digest(normalise_code(code)))
                       ).mappings().one_or_none()
    if row is None or row["used_at"] is not None or row["expires_at"] <= clock.now():
        record(conn, action="enrolment_failed", actor="", target=client,
               detail={"reason": "unknown" if row is None else ("used" if row["used_at"] else "expired")})
        raise Problem(Code.ENROLMENT_CODE_INVALID, "this enrolment code is unknown, already used or expired",
                      field="code", keep_writes=True)
    device_id = str(uuid.uuid4())
    credential = new_token()
    now = clock.now()
    conn.execute(insert(devices).values(id=device_id, user_id=row["user_id"], label=label,
                                        credential_hash=digest(credential), enrolled_at=now))
    conn.execute(update(enrolment_codes).where(enrolment_codes.c.code_hash == row["code_hash"])
                 .values(used_at=now, device_id=device_id))
    user = conn.execute(
        select(users.c.username, users.c.role, contingents.c.code)
        .select_from(users.outerjoin(contingents, users.c.contingent_id == contingents.c.id))
        .where(users.c.id == row["user_id"])
    ).one()
    username = user.username
    record(conn, action="device_enrolled", actor=username, actor_user_id=row["user_id"], device_id=device_id,
           target=device_id, detail={"label": label, "client": client})
    # The tablet fills (and, for contingent roles, locks) the report's contingent from this answer.
    return {"device_id": device_id, "credential": credential, "username": username, "role": user.role,
            "contingent": user.code}


def revoke(conn: Connection, *, device_id: str, actor: str = "cli", actor_user_id: int | None = None) -> None:
    """Revoke a device: from now on its credential is refused with ``device_revoked``."""
    row = conn.execute(select(devices.c.revoked_at).where(devices.c.id == device_id)).one_or_none()
    if row is None:
        raise not_found(f"device {device_id}")
    if row.revoked_at is None:
        conn.execute(update(devices).where(devices.c.id == device_id).values(revoked_at=clock.now()))
    record(conn, action="device_revoked", actor=actor, actor_user_id=actor_user_id, target=device_id)


def mark_lost(conn: Connection, *, device_id: str, actor: str = "cli", actor_user_id: int | None = None) -> None:
    """Mark a device lost: its next request is answered ``device_wiped`` so it destroys its keys and
    store; it is revoked too, so the credential is useless whatever the tablet does."""
    row = conn.execute(select(devices.c.lost_at, devices.c.revoked_at).where(devices.c.id == device_id)).one_or_none()
    if row is None:
        raise not_found(f"device {device_id}")
    now = clock.now()
    if row.lost_at is None:
        conn.execute(update(devices).where(devices.c.id == device_id)
                     .values(lost_at=now, revoked_at=row.revoked_at or now))
    record(conn, action="device_marked_lost", actor=actor, actor_user_id=actor_user_id, target=device_id)


def touch(conn: Connection, device_id: str) -> None:
    conn.execute(update(devices).where(devices.c.id == device_id).values(last_seen_at=clock.now()))


def note_seen(engine: Engine, device_id: str, *, every: timedelta = timedelta(minutes=1)) -> None:
    """Record that a device was seen (a pull), at most once per ``every``, in its own transaction.

    A pull only reads; writing its last-seen time inside the pull's transaction would queue every
    pull behind every push for the write lock.
    """
    now = clock.now()
    stale = now - every
    # This process's own memory first: a tablet pulls page after page, and asking the database
    # each time cost a connection and a query per pull.
    noted = _noted.get(device_id)
    if noted is not None and stale < noted <= now:
        return
    with engine.connect() as conn:
        seen = conn.execute(select(devices.c.last_seen_at).where(devices.c.id == device_id)).scalar()
    if seen is None or seen <= stale:
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            touch(conn, device_id)
        seen = now
    if len(_noted) > 100_000:  # bounded whatever happens: forgetting only costs a query
        _noted.clear()
    _noted[device_id] = seen


# Device id (a random UUID, unique across databases) -> the last-seen time this process last
# read or wrote for it.
_noted: dict[str, datetime] = {}


def list_devices(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(devices.c.id, devices.c.label, users.c.username, devices.c.enrolled_at, devices.c.revoked_at,
               devices.c.last_seen_at, devices.c.lost_at).select_from(devices.join(users, devices.c.user_id == users.c.id))
        .order_by(devices.c.enrolled_at)
    ).mappings()
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
        | {"revoked": r["revoked_at"] is not None, "lost": r["lost_at"] is not None}
        for r in rows
    ]
