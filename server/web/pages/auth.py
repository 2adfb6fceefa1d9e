"""Sign-in, sign-out, language choice and the home redirect."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ...auth.service import login, logout
from ...deps import SettingsDep
from ...problems import Problem
from ..i18n import LANGUAGES
from ..render import home_for, page
from ..services import WriteTx
from ..session import (
    CSRF,
    LANG_COOKIE,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    PublicPage,
    SignedIn,
    new_prelogin_nonce,
)

router = APIRouter(include_in_schema=False)


def _safe_next(next_url: str) -> str:
    # Only local paths: an open redirect after sign-in would be a phishing aid.
    return next_url if next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url else ""


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.app.state.settings.environment != "development"


@router.get("/")
def home(me: PublicPage) -> RedirectResponse:
    return RedirectResponse(home_for(me) if me else "/login", status_code=303)


def _login_page(request: Request, *, next_url: str, reason: str = "", error: str = "", username: str = "",
                status_code: int = 200) -> Response:
    nonce = new_prelogin_nonce(request)
    response = page(request, "login.html", None, status_code=status_code, next_url=next_url, reason=reason,
                    error=error, username=username)
    response.set_cookie(PRELOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=_secure(request),
                        path="/login", max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request, me: PublicPage, next: str = "", reason: str = "") -> Response:
    if me is not None:
        return RedirectResponse(_safe_next(next) or home_for(me), status_code=303)
    return _login_page(request, next_url=_safe_next(next), reason=reason)


@router.post("/login")
def login_submit(request: Request, conn: WriteTx, settings: SettingsDep, _me: PublicPage, _csrf: CSRF,
                 username: Annotated[str, Form(max_length=64)] = "",
                 password: Annotated[str, Form(max_length=1024)] = "",
                 next: Annotated[str, Form()] = "") -> Response:
    try:
        token, principal = login(conn, username=username, password=password,
                                 ttl=timedelta(minutes=settings.token_ttl_minutes),
                                 max_failures=settings.login_attempts_per_minute,
                                 client=f"web {request.client.host if request.client else ''}")
    except Problem as exc:
        # The failure was audited in this transaction; commit it and show the form again.
        return _login_page(request, next_url=_safe_next(next), error=exc.message, username=username,
                           status_code=exc.status)
    response = RedirectResponse(_safe_next(next) or home_for(principal), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                        path="/", max_age=settings.token_ttl_minutes * 60)
    response.delete_cookie(PRELOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout_submit(request: Request, conn: WriteTx, me: SignedIn, _csrf: CSRF) -> RedirectResponse:
    logout(conn, token=request.cookies[SESSION_COOKIE], principal=me)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def choose_language(code: str, request: Request, _me: PublicPage, next: str = "/") -> RedirectResponse:
    """Remember the interface language (a preference, not a state change worth a CSRF token)."""
    response = RedirectResponse(_safe_next(next) or "/", status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, samesite="lax", secure=_secure(request), path="/",
                            max_age=365 * 24 * 3600)
    return response
