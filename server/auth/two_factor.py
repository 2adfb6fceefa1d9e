"""TOTP two-factor sign-in (RFC 6238, via pyotp) and its single-use recovery codes.

Enrolment is two steps so a typo cannot lock anyone out: ``start_enrolment`` keeps a new secret
as *pending* and returns it with an ``otpauth://`` URI and its QR code; ``confirm_enrolment``
activates it only once a code from it is entered, and returns ten recovery codes, shown once and
stored as SHA-256 (they are random, ~59 bits each). A sign-in code is a current TOTP code (one
step of clock drift allowed each way; a step already used is refused, so an observed code cannot
be replayed) or an unused recovery code, which is then spent.

A mission can require two-factor sign-in for HQ roles and admin (``PEACEWATCH_REQUIRE_2FA``);
such a user signing in with a password only gets a session that may do nothing but enrol.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

import pyotp
import segno
from sqlalchemy import Connection, delete, func, insert, select, update

from .. import clock
from ..access import HQ_ROLES, Principal, Role
from ..audit.service import record
from ..db.tables import recovery_codes, sessions, users
from ..problems import Code, Problem, invalid, not_found
from .secrets import CODE_ALPHABET, digest, normalise_code

ISSUER = "peacewatch"
RECOVERY_CODES = 10
STEP_S = 30
#: Roles a mission can require two-factor sign-in for.
REQUIRABLE_ROLES = HQ_ROLES | {Role.ADMIN}


def required_for(role: Role, *, require_2fa: bool) -> bool:
    return require_2fa and role in REQUIRABLE_ROLES


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side), if not used before."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int(clock.now().timestamp()) // STEP_S
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_S), code) and (last_step is None or step > last_step):
            return step
    return None


def verify_sign_in_code(conn: Connection, *, user_id: int, secret: str, last_step: int | None, code: str) -> str | None:
    """Check a TOTP or recovery code for a user with two-factor on; spend it. Returns which kind, or None."""
    cleaned = "".join(code.split())
    step = _matching_step(secret, cleaned, last_step)
    if step is not None:
        conn.execute(update(users).where(users.c.id == user_id).values(totp_last_step=step))
        return "totp"
    # Single use: the update only matches an unused code, so two racing sign-ins cannot both spend it.
    spent = conn.execute(update(recovery_codes).where(
        recovery_codes.c.user_id == user_id, recovery_codes.c.code_hash == digest(normalise_code(cleaned)),
        recovery_codes.c.used_at.is_(None)).values(used_at=clock.now())).rowcount
    return "recovery_code" if spent == 1 else None


def _user(conn: Connection, user_id: int) -> Any:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().one_or_none()
    if row is None:
        raise not_found("user")
    return row


def status(conn: Connection, principal: Principal, *, require_2fa: bool) -> dict[str, Any]:
    row = _user(conn, principal.user_id)
    left = conn.execute(select(func.count()).select_from(recovery_codes).where(
        recovery_codes.c.user_id == principal.user_id, recovery_codes.c.used_at.is_(None))).scalar_one()
    return {"enabled": row["totp_secret"] is not None, "required": required_for(principal.role, require_2fa=require_2fa),
            "enrolment_pending": row["totp_pending_secret"] is not None, "recovery_codes_left": int(left)}


def start_enrolment(conn: Connection, principal: Principal) -> dict[str, Any]:
    """A new pending secret, its otpauth URI and QR code (SVG data URI) for an authenticator app."""
    if _user(conn, principal.user_id)["totp_secret"] is not None:
        raise Problem(Code.CONFLICT, "two-factor sign-in is already on; an administrator can reset it")
    secret = pyotp.random_base32()
    conn.execute(update(users).where(users.c.id == principal.user_id).values(totp_pending_secret=secret))
    uri = pyotp.TOTP(secret).provisioning_uri(name=principal.username, issuer_name=ISSUER)
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": segno.make(uri, error="m").svg_data_uri(scale=4)}


def confirm_enrolment(conn: Connection, principal: Principal, *, code: str, session_token: str | None) -> list[str]:
    """Turn the pending secret on when ``code`` matches it; returns the recovery codes (shown once)."""
    row = _user(conn, principal.user_id)
    secret = row["totp_pending_secret"]
    if secret is None:
        raise Problem(Code.CONFLICT, "start two-factor enrolment first", field="code")
    step = _matching_step(secret, "".join(code.split()), None)
    if step is None:
        raise invalid("code", "this is not the current code of the new authenticator entry; check the phone's clock")
    conn.execute(update(users).where(users.c.id == principal.user_id).values(
        totp_secret=secret, totp_pending_secret=None, totp_last_step=step))
    conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == principal.user_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    now = clock.now()
    conn.execute(insert(recovery_codes), [{"user_id": principal.user_id, "code_hash": digest(c), "created_at": now}
                                          for c in codes])
    if session_token:
        # This session proved the second factor just now; it is no longer limited to enrolment.
        conn.execute(update(sessions).where(sessions.c.token_hash == digest(session_token),
                                            sessions.c.user_id == principal.user_id).values(two_factor_pending=False))
    record(conn, action="two_factor_enabled", actor=principal.username, actor_user_id=principal.user_id,
           target=principal.username)
    return codes


def reset(conn: Connection, *, username: str, actor: str = "cli", actor_user_id: int | None = None) -> None:
    """Turn two-factor off for a user who lost their phone and codes (admin CLI); they enrol again."""
    user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if user_id is None:
        raise not_found(f"user {username}")
    conn.execute(update(users).where(users.c.id == user_id).values(
        totp_secret=None, totp_pending_secret=None, totp_last_step=None))
    conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
    # Sessions opened with the old factor end too: whoever holds the phone is signed out.
    conn.execute(update(sessions).where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
                 .values(revoked_at=clock.now()))
    record(conn, action="two_factor_reset", actor=actor, actor_user_id=actor_user_id, target=username)
