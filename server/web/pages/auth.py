"""Sign-in (with the optional two-factor code), two-factor enrolment, sign-out, language, home redirect."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ...auth import two_factor
from ...auth.service import SignInPolicy, login, logout
from ...deps import ReadConn, SettingsDep
from ...problems import Problem
from ..i18n import LANGUAGES
from ..render import TWO_FACTOR_PAGE, home_for, page
from ..services import WriteTx, as_page
from ..session import (
    CSRF,
    LANG_COOKIE,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    OwnSignInPage,
    PublicPage,
    SignedIn,
    new_prelogin_nonce,
)

router = APIRouter(include_in_schema=False)


def _safe_next(next_url: str) -> str:
    # Only local paths: an open redirect after sign-in would be a phishing aid.
    return next_url if next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url else ""


def _secure(request: Request) -> bool:
    # Secure by default; only PEACEWATCH_COOKIE_SECURE=false (plain-HTTP development) turns it off.
    return request.url.scheme == "https" or request.app.state.settings.cookie_secure


@router.get("/")
def home(me: PublicPage) -> RedirectResponse:
    return RedirectResponse(home_for(me) if me else "/login", status_code=303)


def _login_page(request: Request, *, next_url: str, reason: str = "", error: str = "", username: str = "",
                status_code: int = 200, ask_code: bool = False) -> Response:
    nonce = new_prelogin_nonce(request)
    response = page(request, "login.html", None, status_code=status_code, next_url=next_url, reason=reason,
                    error=error, username=username, ask_code=ask_code)
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
                 two_factor_code: Annotated[str, Form(max_length=64)] = "",
                 next: Annotated[str, Form()] = "") -> Response:
    policy = SignInPolicy.of(settings)
    try:
        # The same throttle key as the API's (username, address): the form is no way around it.
        token, principal = login(conn, username=username, password=password, policy=policy,
                                 client=request.client.host if request.client else "",
                                 two_factor_code=two_factor_code or None)
    except Problem as exc:
        # The failure was audited in this transaction; commit it and show the form again.
        return _login_page(request, next_url=_safe_next(next), error=exc.message, username=username,
                           status_code=exc.status, ask_code=exc.code.value == "two_factor_required"
                           or bool(two_factor_code))
    target = TWO_FACTOR_PAGE if principal.two_factor_pending else (_safe_next(next) or home_for(principal))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                        path="/", max_age=int(policy.ttl.total_seconds()))
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


@router.get(TWO_FACTOR_PAGE)
def two_factor_page(request: Request, conn: ReadConn, me: OwnSignInPage, settings: SettingsDep) -> Response:
    """Two-factor status; a button to start enrolment (the QR code is shown by the setup step)."""
    return page(request, "two_factor.html", me, state=two_factor.status(conn, me, require_2fa=settings.require_2fa))


@router.post(TWO_FACTOR_PAGE + "/setup")
def two_factor_setup(request: Request, conn: WriteTx, me: OwnSignInPage, _csrf: CSRF,
                     settings: SettingsDep) -> Response:
    with as_page(me):
        setup = two_factor.start_enrolment(conn, me)
    return page(request, "two_factor.html", me, setup=setup,
                state=two_factor.status(conn, me, require_2fa=settings.require_2fa))


@router.post(TWO_FACTOR_PAGE + "/confirm")
def two_factor_confirm(request: Request, conn: WriteTx, me: OwnSignInPage, _csrf: CSRF, settings: SettingsDep,
                       code: Annotated[str, Form(max_length=16)] = "") -> Response:
    with as_page(me):
        codes = two_factor.confirm_enrolment(conn, me, code=code, session_token=request.cookies.get(SESSION_COOKIE))
    # The page is rendered for the session as it is now: no longer limited to enrolment.
    return page(request, "two_factor.html", replace(me, two_factor_pending=False), recovery_codes=codes,
                state=two_factor.status(conn, me, require_2fa=settings.require_2fa))
