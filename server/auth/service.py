"""Sign-in, sign-out and turning a request's credentials into a ``Principal``.

Two ways to authenticate: ``Authorization: Bearer <token>`` from ``POST /auth/login`` (the
dashboard, scripts), or ``Authorization: Device <credential>`` from enrolment (the tablet, which
acts as the user it was enrolled for). A bearer request may also carry ``X-Device-Credential``.
A revoked device is refused with ``device_revoked`` whichever way it is presented.

Sign-in does the same work whether or not the username exists (an Argon2id verification against
a dummy hash), so its timing does not tell which usernames exist; failures are throttled per
(username, client address) with growing delays (``throttle``), never by locking the account; and
a user with two-factor sign-in on must also give a TOTP or recovery code (``two_factor``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from sqlalchemy import Connection, and_, func, insert, select, update

from .. import clock
from ..access import Principal, Role
from ..audit.service import record
from ..db.tables import audit_log, contingents, devices, sector_contingents, sessions, users
from ..problems import Code, Problem
from . import throttle, two_factor
from .secrets import digest, hash_password, new_token, verify_password

# Verified against when the username is unknown or disabled, so every sign-in costs one Argon2id
# verification with the server's parameters (made lazily: the first failing sign-in pays for it).
_dummy_hash: str | None = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    return _dummy_hash


@dataclass(frozen=True)
class SignInPolicy:
    """The sign-in settings (from ``Settings``) that ``login`` applies."""

    ttl: timedelta
    free_failures: int = 5
    max_delay_s: int = 900
    require_2fa: bool = False

    @classmethod
    def of(cls, settings: object) -> SignInPolicy:
        return cls(ttl=timedelta(minutes=settings.token_ttl_minutes),  # type: ignore[attr-defined]
                   free_failures=settings.login_free_failures,  # type: ignore[attr-defined]
                   max_delay_s=settings.login_max_delay_s,  # type: ignore[attr-defined]
                   require_2fa=settings.require_2fa)  # type: ignore[attr-defined]


def _principal(conn: Connection, user_id: int, device_id: str | None = None,
               two_factor_pending: bool = False) -> Principal:
    row = conn.execute(
        select(users.c.id, users.c.username, users.c.role, users.c.contingent_id, users.c.active, contingents.c.code)
        .select_from(users.outerjoin(contingents, users.c.contingent_id == contingents.c.id))
        .where(users.c.id == user_id)
    ).one_or_none()
    if row is None or not row.active:
        raise Problem(Code.NOT_AUTHENTICATED, "this account is disabled or no longer exists")
    role = Role(row.role)
    sector = frozenset(conn.execute(select(sector_contingents.c.contingent_id)
                                    .where(sector_contingents.c.user_id == row.id)).scalars()
                       ) if role == Role.SECTOR else frozenset()
    return Principal(
        user_id=row.id, username=row.username, role=role, contingent_id=row.contingent_id,
        contingent_code=row.code, device_id=device_id, two_factor_pending=two_factor_pending,
        sector_contingents=sector,
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


def login(conn: Connection, *, username: str, password: str, policy: SignInPolicy, client: str = "",
          two_factor_code: str | None = None) -> tuple[str, Principal]:
    """Check the password (and second factor); return a new bearer token and who it is for.

    Failures are audited and counted for (username, client address). The returned principal has
    ``two_factor_pending`` when the mission requires a second factor its user has not enrolled.
    """
    throttle.check(conn, username=username, client=client, free_failures=policy.free_failures,
                   max_delay_s=policy.max_delay_s)
    row = conn.execute(select(users).where(users.c.username == username)).mappings().one_or_none()
    if row is None or not row["active"]:
        verify_password(_dummy(), password)  # the same work as for a real account: no timing oracle
        _fail(conn, username=username, client=client, reason="password")
    if not verify_password(row["password_hash"], password):
        _fail(conn, username=username, client=client, reason="password")
    method = "password"
    if row["totp_secret"] is not None:
        if not two_factor_code:
            raise Problem(Code.TWO_FACTOR_REQUIRED, "enter the code from your authenticator app (or a recovery code)",
                          field="two_factor_code")
        method = two_factor.verify_sign_in_code(conn, user_id=row["id"], secret=row["totp_secret"],
                                                last_step=row["totp_last_step"], code=two_factor_code) or ""
        if not method:
            _fail(conn, username=username, client=client, reason="two_factor_code")
    pending = row["totp_secret"] is None and two_factor.required_for(Role(row["role"]),
                                                                        require_2fa=policy.require_2fa)
    throttle.clear(conn, username=username, client=client)
    token = new_token()
    now = clock.now()
    conn.execute(insert(sessions).values(token_hash=digest(token), user_id=row["id"], created_at=now,
                                         expires_at=now + policy.ttl, two_factor_pending=pending))
    record(conn, action="login", actor=username, actor_user_id=row["id"], target=username,
           detail={"client": client, "method": method, "two_factor_pending": pending})
    return token, _principal(conn, row["id"], two_factor_pending=pending)


def _fail(conn: Connection, *, username: str, client: str, reason: str) -> NoReturn:
    throttle.record_failure(conn, username=username, client=client)
    record(conn, action="login_failed", actor=username, target=username, detail={"client": client, "failed": reason})
    message = "wrong username or password" if reason == "password" else "wrong or already used two-factor code"
    raise Problem(Code.BAD_CREDENTIALS, message, keep_writes=True)


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
        select(sessions.c.user_id, sessions.c.expires_at, sessions.c.revoked_at, sessions.c.two_factor_pending).where(
            sessions.c.token_hash == digest(value)
        )
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        raise Problem(Code.NOT_AUTHENTICATED, "unknown or signed-out token; sign in again")
    if row.expires_at <= clock.now():
        raise Problem(Code.TOKEN_EXPIRED, "your session has expired; sign in again")
    return _principal(conn, row.user_id, device_id, two_factor_pending=bool(row.two_factor_pending))


def principal_for(conn: Connection, username: str) -> Principal:
    """The principal of an active user, for admin commands that act as someone (exports, hotspots)."""
    user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if user_id is None:
        raise Problem(Code.NOT_FOUND, f"user {username} not found", field="as")
    return _principal(conn, user_id)
