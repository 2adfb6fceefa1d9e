"""Administration pages: users, contingents, devices (enrol with a QR code, revoke) and the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

import segno
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from ...access import Role
from ...audit import service as audit
from ...basemaps import service as basemaps
from ...basemaps.models import AreaIn
from ...deps import ReadConn, SettingsDep
from ...devices import service as devices
from ...input_checks import INT64_MAX, parse_utc
from ...problems import invalid
from ...users import service as users
from ...users.models import ContingentIn, UserIn
from ..render import page
from ..services import WriteTx, as_page
from ..session import CSRF, AdminPage, FormFields

router = APIRouter(include_in_schema=False, prefix="/admin")

AUDIT_PAGE = 100
M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], data: dict[str, Any]) -> M:
    """``model`` from form data, or a 422 problem naming the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise invalid(".".join(str(p) for p in err["loc"]) or "form", err["msg"]) from None


@router.get("/users")
def users_page(request: Request, conn: ReadConn, me: AdminPage) -> Response:
    return page(request, "admin_users.html", me, users=users.list_users(conn), roles=[r.value for r in Role],
                contingents=users.list_contingents(conn), done=request.query_params.get("done", ""))


@router.post("/users")
def create_user(conn: WriteTx, me: AdminPage, _csrf: CSRF, settings: SettingsDep, username: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
                contingent: Annotated[str, Form()] = "", display_name: Annotated[str, Form()] = "",
                language: Annotated[str, Form()] = "en") -> Response:
    with as_page(me):
        body = _validated(UserIn, {"username": username, "password": password, "role": role,
                                   "contingent": contingent or None, "display_name": display_name,
                                   "language": language})
        users.create_user(conn, username=body.username, password=body.password, role=body.role,
                          contingent=body.contingent, display_name=body.display_name, language=body.language,
                          actor=me.username, actor_user_id=me.user_id,
                          password_min_length=settings.password_min_length)
    return RedirectResponse(f"/admin/users?done=created:{body.username}", status_code=303)


@router.post("/users/{username}/active")
def set_active(username: str, conn: WriteTx, me: AdminPage, _csrf: CSRF,
               active: Annotated[str, Form()] = "") -> Response:
    with as_page(me):
        if active not in ("true", "false"):
            raise invalid("active", "active must be true or false")
        users.set_active(conn, username=username, active=active == "true", actor=me.username,
                         actor_user_id=me.user_id)
    return RedirectResponse(f"/admin/users?done={'enabled' if active == 'true' else 'disabled'}:{username}",
                            status_code=303)


@router.get("/contingents")
def contingents_page(request: Request, conn: ReadConn, me: AdminPage) -> Response:
    return page(request, "admin_contingents.html", me, contingents=users.list_contingents(conn),
                areas={a["contingent"]: a for a in basemaps.list_areas(conn)},
                basemaps=basemaps.list_basemaps(conn), done=request.query_params.get("done", ""))


@router.post("/contingents/area")
def set_area(conn: WriteTx, me: AdminPage, _csrf: CSRF, form: FormFields) -> Response:
    """A contingent's area of responsibility: the part of the base map its tablets carry offline."""
    with as_page(me):
        fields = {k: (form.get(k) or "").strip() for k in ("west", "south", "east", "north")}
        try:
            bounds = [float(fields[k]) for k in ("west", "south", "east", "north")]
        except ValueError:
            bad = next(k for k, v in fields.items() if not _is_number(v))
            raise invalid(bad, "must be a number of degrees") from None
        body = _validated(AreaIn, {"bounds": bounds, "minzoom": form.get("minzoom") or 8,
                                   "maxzoom": form.get("maxzoom") or 15, "max_mb": form.get("max_mb") or 200})
        code = (form.get("contingent") or "").strip()
        basemaps.set_area(conn, contingent=code, bounds=body.bounds, minzoom=body.minzoom, maxzoom=body.maxzoom,
                          max_bytes=int(body.max_mb * 1024 * 1024), actor=me.username, actor_user_id=me.user_id)
    return RedirectResponse(f"/admin/contingents?done=area:{code}", status_code=303)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@router.post("/contingents")
def create_contingent(conn: WriteTx, me: AdminPage, _csrf: CSRF, code: Annotated[str, Form()] = "",
                      name: Annotated[str, Form()] = "", country: Annotated[str, Form()] = "") -> Response:
    with as_page(me):
        body = _validated(ContingentIn, {"code": code.strip().upper(), "name": name.strip(),
                                         "country": country.strip()})
        users.create_contingent(conn, code=body.code, name=body.name, country=body.country, actor=me.username,
                                actor_user_id=me.user_id)
    return RedirectResponse(f"/admin/contingents?done=created:{body.code}", status_code=303)


def _devices_page(request: Request, conn: Any, me: Any, **extra: Any) -> Response:
    return page(request, "admin_devices.html", me, devices=devices.list_devices(conn),
                users=[u for u in users.list_users(conn) if u["active"]],
                done=request.query_params.get("done", ""), **extra)


@router.get("/devices")
def devices_page(request: Request, conn: ReadConn, me: AdminPage) -> Response:
    return _devices_page(request, conn, me)


@router.post("/devices/codes")
def issue_code(request: Request, conn: WriteTx, settings: SettingsDep, me: AdminPage, _csrf: CSRF,
               username: Annotated[str, Form()] = "") -> Response:
    """Issue a one-time enrolment code and show it with its QR code (the tablet scans it)."""
    with as_page(me):
        if not username:
            raise invalid("username", "choose the user the tablet is for")
        issued = devices.issue_code(conn, username=username,
                                    ttl=timedelta(minutes=settings.enrolment_code_ttl_minutes),
                                    actor=me.username, actor_user_id=me.user_id)
    server = str(request.base_url).rstrip("/")
    # An inline SVG data URI: the code never travels in a URL and no extra route serves it.
    qr = segno.make(f"peacewatch:enrol?server={server}&code={issued['code']}", error="m").svg_data_uri(scale=6)
    return _devices_page(request, conn, me, issued=issued, qr=qr)


@router.post("/devices/{device_id}/revoke")
def revoke(device_id: str, conn: WriteTx, me: AdminPage, _csrf: CSRF) -> Response:
    with as_page(me):
        devices.revoke(conn, device_id=device_id, actor=me.username, actor_user_id=me.user_id)
    return RedirectResponse(f"/admin/devices?done=revoked:{device_id}", status_code=303)


def _time(field: str, value: str) -> datetime | None:
    if not value:
        return None
    try:
        # A date or time without zone is UTC; one past the calendar once in UTC is refused.
        return parse_utc(value)
    except ValueError:
        raise invalid(field, f"{field} must be an ISO 8601 date or time between the years 1 and 9999") from None


@router.get("/audit")
def audit_page(request: Request, conn: ReadConn, me: AdminPage, action: str = "", actor: str = "",
               target: str = "", since: str = "", until: str = "",
               after: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0) -> Response:
    """The audit log, oldest first, filterable, paged by the last id seen; with the chain check."""
    with as_page(me):
        entries = audit.query(conn, action=action or None, actor=actor or None, target=target or None,
                              since=_time("since", since), until=_time("until", until), after_id=max(after, 0),
                              limit=AUDIT_PAGE)
    chain = audit.verify(conn)
    return page(request, "admin_audit.html", me, entries=entries, chain=chain,
                form={"action": action, "actor": actor, "target": target, "since": since, "until": until},
                next_after=entries[-1]["id"] if len(entries) == AUDIT_PAGE else None)
