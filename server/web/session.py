"""Dashboard sign-in state: the session cookie, CSRF tokens and ``require_page``.

The cookie carries a token of the same ``sessions`` table the API's bearer tokens use (issued by
``auth.service.login``), HttpOnly, SameSite=Strict and Secure (unless ``cookie_secure`` is off for
plain-HTTP development), so its expiry and sign-out work exactly as for the API. A session limited to
two-factor enrolment is sent to the enrolment page from every other page. Every POST form carries a CSRF token derived with HMAC from the session token: it
cannot be forged without the server secret and dies with the session. The sign-in form, posted
before any session exists, is protected the same way by a random pre-sign-in cookie.

``require_page(permission)`` is the page twin of ``deps.require``: it sets the same
``.permission`` attribute (so the every-route-every-role test sees it), sends a signed-out
visitor to the sign-in page and answers a role without the permission with a 403 page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request

from ..access import Permission, Principal
from ..auth.service import authenticate
from ..deps import engine_of, settings_of
from ..problems import Code, Problem

SESSION_COOKIE = "pw_session"
PRELOGIN_COOKIE = "pw_prelogin"
LANG_COOKIE = "pw_lang"


class LoginRequired(Exception):
    """The visitor must sign in (again); ``reason`` says why (``expired``, ``signed_out`` or none)."""

    def __init__(self, next_url: str, reason: str = "") -> None:
        super().__init__(reason)
        self.next_url = next_url
        self.reason = reason


class TwoFactorEnrolmentRequired(Exception):
    """The session may only enrol a second factor (the mission requires one); sent to that page."""


class PageForbidden(Exception):
    """The signed-in role may not open this page or do this action."""

    def __init__(self, principal: Principal | None, message: str) -> None:
        super().__init__(message)
        self.principal = principal
        self.message = message


def _mac(request: Request, purpose: str, value: str) -> str:
    key = settings_of(request).session_secret.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The CSRF token for this visitor's forms (empty when there is nothing to bind it to)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return _mac(request, "csrf", token)
    nonce = getattr(request.state, "prelogin_nonce", None) or request.cookies.get(PRELOGIN_COOKIE)
    return _mac(request, "login", nonce) if nonce else ""


def new_prelogin_nonce(request: Request) -> str:
    """A nonce for the sign-in form's cookie; kept on the request so the form can use it at once."""
    nonce = request.cookies.get(PRELOGIN_COOKIE) or secrets.token_urlsafe(24)
    request.state.prelogin_nonce = nonce
    return nonce


def check_csrf(request: Request, submitted: str) -> None:
    """Refuse a form whose CSRF token does not match this visitor's session (or pre-sign-in cookie)."""
    expected = csrf_token(request)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise PageForbidden(None, "This form has expired or did not come from this dashboard; reload the page "
                                  "and try again.")


def _next_url(request: Request) -> str:
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def login_url(next_url: str, reason: str = "") -> str:
    out = f"/login?next={quote(next_url, safe='')}"
    return out + (f"&reason={reason}" if reason else "")


def current_principal(request: Request) -> Principal | None:
    """Who holds this request's session cookie, or ``None``; raises ``LoginRequired`` when it expired."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        with engine_of(request).connect() as conn, conn.begin():
            return authenticate(conn, authorization=f"Bearer {token}", device_credential=None)
    except Problem as exc:
        reason = "expired" if exc.code is Code.TOKEN_EXPIRED else "signed_out"
        raise LoginRequired(_next_url(request), reason) from None


def require_page(permission: Permission) -> Callable[..., Principal | None]:
    """Dependency declaring a page's permission; returns the signed-in principal (or ``None`` if public)."""
    if permission is Permission.PUBLIC:

        def public_page(request: Request) -> Principal | None:
            try:
                return current_principal(request)
            except LoginRequired:
                return None  # a stale cookie on a public page (sign-in) is just no session

        public_page.permission = permission  # type: ignore[attr-defined]
        return public_page

    def page(request: Request) -> Principal:
        principal = current_principal(request)
        if principal is None:
            raise LoginRequired(_next_url(request))
        if principal.two_factor_pending and not principal.may(permission):
            raise TwoFactorEnrolmentRequired()
        if not principal.may(permission):
            raise PageForbidden(principal, f"The {principal.role.value} role may not open this page.")
        return principal

    page.permission = permission  # type: ignore[attr-defined]
    return page


def csrf_checked(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    """Form dependency: every dashboard POST carries a valid ``csrf`` field."""
    check_csrf(request, csrf)


async def form_fields(request: Request) -> dict[str, str]:
    """Every text field of a posted form (for forms whose field names are data, e.g. conflict fields)."""
    form = await request.form()
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


CSRF = Annotated[None, Depends(csrf_checked)]
FormFields = Annotated[dict[str, str], Depends(form_fields)]
PublicPage = Annotated[Principal | None, Depends(require_page(Permission.PUBLIC))]
SignedIn = Annotated[Principal, Depends(require_page(Permission.AUTHENTICATED))]
OwnSignInPage = Annotated[Principal, Depends(require_page(Permission.SIGN_IN))]
ReaderPage = Annotated[Principal, Depends(require_page(Permission.READ_REPORTS))]
ReviewerPage = Annotated[Principal, Depends(require_page(Permission.REVIEW))]
AnalystPage = Annotated[Principal, Depends(require_page(Permission.ANALYSE))]
ExporterPage = Annotated[Principal, Depends(require_page(Permission.EXPORT))]
AdminPage = Annotated[Principal, Depends(require_page(Permission.ADMIN))]
AlertRulesPage = Annotated[Principal, Depends(require_page(Permission.ALERT_RULES))]
AssignerPage = Annotated[Principal, Depends(require_page(Permission.ASSIGN_TASKS))]
CaseworkPage = Annotated[Principal, Depends(require_page(Permission.CASEWORK))]
