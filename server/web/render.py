"""Rendering dashboard pages: one Jinja2 environment, the navigation a role may see, error pages.

Templates get ``_`` (translate into the visitor's language), ``csrf`` (the token for forms),
``me`` (the principal or ``None``), ``reason_text`` (a duplicate proposal's reason in the
visitor's language), ``nav`` (only the pages the role may open: the same
``Principal.may`` the API uses) and small formatting helpers (category labels, DTG, MGRS).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ...common.coords import to_mgrs
from ...common.taxonomy import UnknownCategory, load_taxonomy
from ...common.timefmt import to_dtg
from ..access import Permission, Principal
from ..duplicates.reasons import render as render_reason
from .i18n import LANGUAGES, direction, request_language, translate
from .session import csrf_token

TEMPLATES = Path(__file__).with_name("templates")

# (path, label msgid, permission): the navigation, filtered per role.
# Where a user the mission requires to use two-factor sign-in enrols (pages/auth.py).
TWO_FACTOR_PAGE = "/account/two-factor"

NAV: tuple[tuple[str, str, Permission], ...] = (
    ("/overview", "Overview", Permission.REVIEW),
    ("/reports", "Reports", Permission.READ_REPORTS),
    ("/operations", "Operations", Permission.READ_REPORTS),
    ("/tasks", "Tasks", Permission.READ_REPORTS),
    ("/cases", "Case follow-up", Permission.CASEWORK),
    ("/duplicates", "Duplicates", Permission.ANALYSE),
    ("/conflicts", "Conflicts", Permission.ANALYSE),
    ("/map", "Map", Permission.REVIEW),
    ("/community/hotline", "Hotline", Permission.COMMUNITY),
    ("/community/triage", "Triage", Permission.COMMUNITY),
    ("/exports", "Exports", Permission.EXPORT),
    ("/admin/users", "Users", Permission.ADMIN),
    ("/admin/contingents", "Contingents", Permission.ADMIN),
    ("/admin/devices", "Devices", Permission.ADMIN),
    ("/admin/audit", "Audit log", Permission.ADMIN),
    ("/admin/sharing", "Sharing agreements", Permission.ADMIN),
    ("/admin/webhooks", "Webhooks", Permission.ADMIN),
    ("/alert-rules", "Alert rules", Permission.ALERT_RULES),
)


def home_for(principal: Principal) -> str:
    """The first page the role may open (admins have no reports to read)."""
    if principal.two_factor_pending:
        return TWO_FACTOR_PAGE
    for path, _label, permission in NAV:
        if principal.may(permission):
            return path
    return "/login"


@cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


@cache
def _taxonomy():  # type: ignore[no-untyped-def]
    return load_taxonomy()


def category_label(code: str | None, lang: str) -> str:
    if not code:
        return ""
    try:
        return _taxonomy().label(code, lang)
    except UnknownCategory:
        return code


def category_codes() -> tuple[str, ...]:
    return _taxonomy().codes


def _when(value: Any) -> str:
    """An ISO timestamp as ``2026-11-24 15:30Z`` (and the DTG in a tooltip-friendly second form)."""
    if not value:
        return ""
    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return dt.strftime("%Y-%m-%d %H:%MZ")


def _dtg(value: Any) -> str:
    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return to_dtg(dt)
    except (ValueError, TypeError):
        return ""


def _mgrs(location: dict[str, Any] | None) -> str:
    if not location or location.get("lat") is None:
        return ""
    try:
        return to_mgrs(float(location["lat"]), float(location["lon"]))
    except (ValueError, TypeError):
        return ""


def page(request: Request, template: str, me: Principal | None, status_code: int = 200,
         **context: Any) -> HTMLResponse:
    """Render ``template`` for this visitor, in their language and direction."""
    lang = request_language(request)

    def _(msgid: str, **values: Any) -> str:
        text = translate(msgid, lang)
        return text.format(**values) if values else text

    nav = [(path, _(label)) for path, label, perm in NAV if me is not None and me.may(perm)]

    def field_label(path: str) -> str:
        """A body field's dotted path (``casualties.killed``) in words of the visitor's language."""
        return " · ".join(_(part) for part in path.split("."))

    html = _env().get_template(template).render(
        request=request, me=me, lang=lang, dir=direction(lang), languages=LANGUAGES, _=_, nav=nav,
        csrf=csrf_token(request), path=request.url.path, category_label=lambda c: category_label(c, lang),
        when=_when, dtg=_dtg, mgrs=_mgrs, may=lambda name: me is not None and me.may(Permission(name)),
        reason_text=lambda reason: render_reason(reason, lambda m: translate(m, lang),
                                                 lambda c: category_label(c, lang)),
        field_label=field_label,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
