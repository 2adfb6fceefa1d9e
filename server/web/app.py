"""Mounts the HQ dashboard on the API's FastAPI app: page routers, static assets, page error handling.

Everything the browser loads is served from here: our templates, CSS and scripts under
``/static``, and the front-end libraries that Python packages ship (``vendor.py``) under
``/static/vendor`` -- no CDN, external tiles or web fonts.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from .pages import (
    admin,
    alert_rules,
    auth,
    community,
    exports,
    maps,
    operations,
    overview,
    queues,
    reports,
    sharing,
    tasks,
    webhooks,
)
from .render import TWO_FACTOR_PAGE, page
from .services import PageProblem
from .session import SESSION_COOKIE, LoginRequired, PageForbidden, TwoFactorEnrolmentRequired, login_url
from .vendor import VENDOR

HERE = Path(__file__).parent


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    response = RedirectResponse(login_url(exc.next_url, exc.reason), status_code=303)
    if exc.reason == "expired" or request.cookies.get(SESSION_COOKIE):
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageForbidden)
    return page(request, "error.html", exc.principal, status_code=403, title="Not allowed", message=exc.message)


async def _enrol_first(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TwoFactorEnrolmentRequired)
    return RedirectResponse(TWO_FACTOR_PAGE, status_code=303)


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageProblem)
    p = exc.problem
    return page(request, "error.html", exc.principal, status_code=p.status, title="Could not do this",
                message=p.message, field=p.field)


def mount_web(app: FastAPI) -> None:
    """Add the dashboard's pages and assets to ``app`` (called by ``create_app``)."""
    for module in (auth, overview, reports, operations, tasks, queues, community, maps, exports, admin, sharing,
                   alert_rules, webhooks):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(TwoFactorEnrolmentRequired, _enrol_first)
    app.add_exception_handler(PageProblem, _problem)
    app.mount("/static/app", StaticFiles(directory=HERE / "static"), name="web-static")
    for name, folder in VENDOR.items():
        app.mount(f"/static/vendor/{name}", StaticFiles(directory=folder), name=f"vendor-{name}")
