"""Sign-in, sign-out and turning a request's credentials into a ``Principal``.

Two ways to authenticate: ``Authorization: Bearer <token>`` from ``POST /auth/login`` (the
dashboard, scripts), or ``Authorization: Device <credential>`` from enrolment (the tablet, which
acts as the user it was enrolled for). A bearer request may also carry ``X-Device-Credential``.
A revoked device is refused with ``device_revoked`` whichever way it is presented.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, and_, func, insert, select, update

from .. import clock
from ..access import Principal, Role
from ..audit.service import record
from ..db.tables import audit_log, contingents, devices, sessions, users
from ..problems import Code, Problem
from .secrets import digest, new_token, verify_password

DEVICE_HEADER = "x-device-credential"


def _principal(conn: Connection, user_id: int, device_id: str | None = None) -> Principal:
    row = conn.execute(
        select(users.c.id, users.c.username, users.c.role, users.c.contingent_id, users.c.active, contingents.c.code)
        .select_from(users.outerjoin(contingents, users.c.contingent_id == contingents.c.id))
        .where(users.c.id == user_id)
    ).one_or_none()
    if row is None or not row.active:
        raise Problem(Code.NOT_AUTHENTICATED, "this account is disabled or no longer exists")
    return Principal(
        user_id=row.id, username=row.username, role=Role(row.role), contingent_id=row.contingent_id,
        contingent_code=row.code, device_id=device_id,
    )


def principal_for_device(conn: Connection, device_id: str) -> Principal:
    """The user a device acts for, whatever its state: for an administrator re-sending the unsent
    reports of a returned (often revoked or lost) tablet under its own identity."""
    user_id = conn.execute(select(devices.c.user_id).where(devices.c.id == device_id)).scalar()
    if user_id is None:
        raise Problem(Code.NOT_FOUND, f"device {device_id} not found")
    return _principal(conn, int(user_id), device_id)


def recent_failures(conn: Connection, *, action: str, target: str, window: timedelta) -> int:
    since = clock.now() - window
    stmt = select(func.count()).where(
        and_(audit_log.c.action == action, audit_log.c.target == target, audit_log.c.ts >= since)
    )
    return int(conn.execute(stmt).scalar_one())


def check_rate(conn: Connection, *, action: str, target: str, limit: int) -> None:
    """Refuse when ``target`` already failed ``limit`` times in the last minute (brute force)."""
    if recent_failures(conn, action=action, target=target, window=timedelta(minutes=1)) >= limit:
        raise Problem(Code.RATE_LIMITED, "too many failed attempts; wait a minute and try again", retry_after=60)


def login(conn: Connection, *, username: str, password: str, ttl: timedelta, max_failures: int,
          client: str = "") -> tuple[str, Principal]:
    """Check the password; return a new bearer token and who it is for. Failures are audited."""
    check_rate(conn, action="login_failed", target=username, limit=max_failures)
    row = conn.execute(select(users).where(users.c.username == username)).mappings().one_or_none()
    if row is None or not row["active"] or not verify_password(row["password_hash"], password):
        record(conn, action="login_failed", actor=username, target=username, detail={"client": client})
        raise Problem(Code.BAD_CREDENTIALS, "wrong username or password", keep_writes=True)
    token = new_token()
    now = clock.now()
    conn.execute(insert(sessions).values(token_hash=digest(token), user_id=row["id"], created_at=now,
                                         expires_at=now + ttl))
    record(conn, action="login", actor=username, actor_user_id=row["id"], target=username,
           detail={"client": client})
    return token, _principal(conn, row["id"])


def logout(conn: Connection, *, token: str, principal: Principal) -> None:
    conn.execute(update(sessions).where(sessions.c.token_hash == digest(token)).values(revoked_at=clock.now()))
    record(conn, action="logout", actor=principal.username, actor_user_id=principal.user_id,
           target=principal.username)


def _device(conn: Connection, credential: str) -> tuple[str, int]:
    row = conn.execute(
        select(devices.c.id, devices.c.user_id, devices.c.revoked_at, devices.c.lost_at).where(
            devices.c.credential_hash == digest(credential)
        )
    ).one_or_none()
    if row is None:
        raise Problem(Code.NOT_AUTHENTICATED, "unknown device credential; enrol this device again")
    if row.lost_at is not None:
        # Checked first: a lost device is usually revoked too, and must still learn to wipe itself.
        raise Problem(Code.DEVICE_WIPED, "this device was reported lost: it must erase its local data now")
    if row.revoked_at is not None:
        raise Problem(Code.DEVICE_REVOKED, "this device has been revoked by a mission administrator")
    return row.id, row.user_id


def authenticate(conn: Connection, *, authorization: str | None, device_credential: str | None) -> Principal:
    """Resolve the request's credentials, or raise the precise 401."""
    if not authorization:
        raise Problem(Code.NOT_AUTHENTICATED, "sign in first (Authorization: Bearer <token>)")
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    scheme = scheme.lower()
    if scheme == "device" and value:
        device_id, user_id = _device(conn, value)
        return _principal(conn, user_id, device_id)
    if scheme != "bearer" or not value:
        raise Problem(Code.NOT_AUTHENTICATED, "use Authorization: Bearer <token> or Device <credential>")
    device_id = None
    if device_credential:
        device_id, _ = _device(conn, device_credential)
    row = conn.execute(
        select(sessions.c.user_id, sessions.c.expires_at, sessions.c.revoked_at).where(
            sessions.c.token_hash == digest(value)
        )
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        raise Problem(Code.NOT_AUTHENTICATED, "unknown or signed-out token; sign in again")
    if row.expires_at <= clock.now():
        raise Problem(Code.TOKEN_EXPIRED, "your session has expired; sign in again")
    return _principal(conn, row.user_id, device_id)


def principal_for(conn: Connection, username: str) -> Principal:
    """The principal of an active user, for admin commands that act as someone (exports, hotspots)."""
    user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if user_id is None:
        raise Problem(Code.NOT_FOUND, f"user {username} not found", field="as")
    return _principal(conn, user_id)
