"""Routes: sign in, sign out, who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Request

from ..access import Principal
from ..deps import Authenticated, Public, SettingsDep, WriteConn
from . import service
from .models import LoginRequest, LoginResponse, Me

router = APIRouter(prefix="/auth", tags=["auth"])


def me_of(p: Principal) -> Me:
    return Me(user_id=p.user_id, username=p.username, role=p.role.value, contingent=p.contingent_code,
              device_id=p.device_id)


@router.post("/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, conn: WriteConn, settings: SettingsDep, _: Public) -> LoginResponse:
    """Exchange a username and password for a bearer token (expiring)."""
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    client = request.client.host if request.client else ""
    token, principal = service.login(conn, username=body.username, password=body.password, ttl=ttl,
                                     max_failures=settings.login_attempts_per_minute, client=client)
    return LoginResponse(token=token, expires_in=int(ttl.total_seconds()), user=me_of(principal))


@router.post("/logout", status_code=204)
def logout(conn: WriteConn, me: Authenticated,
           authorization: Annotated[str | None, Header(include_in_schema=False)] = None) -> None:
    """End this bearer token's session."""
    token = (authorization or "").partition(" ")[2].strip()
    service.logout(conn, token=token, principal=me)


@router.get("/me", response_model=Me)
def whoami(me: Authenticated) -> Me:
    """The signed-in user, role, contingent and device."""
    return me_of(me)
