"""Routes: sign in, sign out, who am I, and two-factor (TOTP) enrolment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from ..access import Permission, Principal
from ..deps import Public, ReadConn, SettingsDep, WriteConn, require
from . import service, two_factor
from .models import (
    LoginRequest,
    LoginResponse,
    Me,
    RecoveryCodes,
    TwoFactorConfirm,
    TwoFactorSetup,
    TwoFactorStatus,
)

router = APIRouter(prefix="/auth", tags=["auth"])

# Own sign-in matters: the only routes a session limited to two-factor enrolment may use.
SignIn = Annotated[Principal, Depends(require(Permission.SIGN_IN))]


def me_of(p: Principal) -> Me:
    return Me(user_id=p.user_id, username=p.username, role=p.role.value, contingent=p.contingent_code,
              device_id=p.device_id)


def _bearer(authorization: str | None) -> str:
    return (authorization or "").partition(" ")[2].strip()


@router.post("/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, conn: WriteConn, settings: SettingsDep, _: Public) -> LoginResponse:
    """Exchange a username and password (and, with two-factor on, a code) for a bearer token (expiring).

    Failures are throttled per (username, client address) with growing delays (429 with Retry-After).
    With two-factor on and no ``two_factor_code``, the answer is 401 ``two_factor_required``.
    """
    policy = service.SignInPolicy.of(settings)
    client = request.client.host if request.client else ""
    token, principal = service.login(conn, username=body.username, password=body.password, policy=policy,
                                     client=client, two_factor_code=body.two_factor_code)
    return LoginResponse(token=token, expires_in=int(policy.ttl.total_seconds()), user=me_of(principal),
                         two_factor_enrolment_required=principal.two_factor_pending)


@router.post("/logout", status_code=204)
def logout(conn: WriteConn, me: SignIn,
           authorization: Annotated[str | None, Header(include_in_schema=False)] = None) -> None:
    """End this bearer token's session."""
    service.logout(conn, token=_bearer(authorization), principal=me)


@router.get("/me", response_model=Me)
def whoami(me: SignIn) -> Me:
    """The signed-in user, role, contingent and device."""
    return me_of(me)


@router.get("/two-factor", response_model=TwoFactorStatus)
def two_factor_status(conn: ReadConn, me: SignIn, settings: SettingsDep) -> dict:
    """Whether two-factor sign-in is on for you, required by the mission, and recovery codes left."""
    return two_factor.status(conn, me, require_2fa=settings.require_2fa)


@router.post("/two-factor/setup", response_model=TwoFactorSetup)
def two_factor_setup(conn: WriteConn, me: SignIn) -> dict:
    """Start enrolment: a new TOTP secret, as text, otpauth URI and QR code; on once confirmed."""
    return two_factor.start_enrolment(conn, me)


@router.post("/two-factor/confirm", response_model=RecoveryCodes)
def two_factor_confirm(body: TwoFactorConfirm, conn: WriteConn, me: SignIn,
                       authorization: Annotated[str | None, Header(include_in_schema=False)] = None) -> dict:
    """Turn two-factor sign-in on with a current code; returns ten single-use recovery codes (shown once)."""
    codes = two_factor.confirm_enrolment(conn, me, code=body.code, session_token=_bearer(authorization))
    return {"recovery_codes": codes}
