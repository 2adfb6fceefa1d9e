"""Community pages: the hotline log (a call saved as a community alert in one step) and the triage
queue (place candidates with scores, possible duplicates, confirm / link / dismiss).

The forms call ``community.service`` like the API does; the caller's identity is shown only on an
alert's own page, to roles that may read it, and each showing is audited by the service.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from ...access import Permission, Principal
from ...community import duplicates, gazetteer, service
from ...community.models import HotlineIn
from ...community.views import get_key, wake_workers
from ...input_checks import Id64
from ...problems import invalid
from ...users.service import list_contingents
from ..render import category_codes, page
from ..services import WriteTx, as_page
from ..session import CSRF, FormFields, require_page

router = APIRouter(include_in_schema=False, prefix="/community")
CommunityPage = Annotated[Principal, Depends(require_page(Permission.COMMUNITY))]

URGENCY = (5, 4, 3, 2, 1)
HOW_KNOWN = ("saw", "heard", "victim", "told", "unknown")


def _places(conn: Any) -> list[dict[str, Any]]:
    places, _names = gazetteer.load_places(conn)
    return sorted(({"id": p.id, "names": p.names} for p in places.values()),
                  key=lambda p: p["names"].get("en") or p["id"])


def _hotline_in(form: dict[str, str]) -> HotlineIn:
    data: dict[str, Any] = {k: v for k, v in form.items() if k != "csrf" and v != ""}
    if data.get("event_time"):
        # <input type="datetime-local"> has no zone: the hotline works in UTC (the DTG's Z).
        try:
            data["event_time"] = datetime.fromisoformat(data["event_time"]).replace(tzinfo=UTC)
        except ValueError:
            raise invalid("event_time", "not a date and time") from None
    try:
        return HotlineIn.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise invalid(".".join(str(p) for p in err["loc"]) or "form", err["msg"]) from None


@router.get("/hotline")
def hotline_page(request: Request, conn: WriteTx, me: CommunityPage) -> Response:
    """The form a liaison fills while on the phone; the latest alerts waiting in triage below it."""
    with as_page(me):
        queue = service.list_alerts(conn, me, status="triage", limit=10)
    return page(request, "community_hotline.html", me, places=_places(conn), categories=category_codes(),
                urgency=URGENCY, how_known=HOW_KNOWN, queue=queue, done=request.query_params.get("done", ""))


@router.post("/hotline")
def hotline_save(request: Request, background: BackgroundTasks, conn: WriteTx, me: CommunityPage, _csrf: CSRF,
                 form: FormFields) -> Response:
    """Save the call as a community alert (confirmed at once when place and category are chosen)."""
    with as_page(me):
        out = service.log_call(conn, me, key=get_key(request), **_hotline_in(form).model_dump())
    background.add_task(wake_workers, request)
    return RedirectResponse(f"/community/hotline?done={out['id']}", status_code=303)


@router.get("/triage")
def triage_page(request: Request, conn: WriteTx, me: CommunityPage) -> Response:
    """Alerts waiting for a decision, most urgent first, each with its candidates and duplicates."""
    with as_page(me):
        queue = service.list_alerts(conn, me, status="triage", limit=50)
        items = [{"alert": a, "duplicates": duplicates.possible_duplicates(conn, me, service._row(conn, me, a["id"]))}
                 for a in queue["items"]]
    return page(request, "community_triage.html", me, items=items, total=queue["total"], places=_places(conn),
                categories=category_codes(), contingents=list_contingents(conn),
                done=request.query_params.get("done", ""))


@router.get("/alerts/{alert_id}")
def alert_page(alert_id: Id64, request: Request, conn: WriteTx, me: CommunityPage) -> Response:
    """One alert: text, place, decisions, replies and (for liaison and protection) who called."""
    with as_page(me):
        alert = service.get_alert(conn, me, alert_id, key=get_key(request))
    return page(request, "community_alert.html", me, alert=alert)


@router.post("/alerts/{alert_id}/{action}")
def alert_action(alert_id: Id64, action: str, request: Request, background: BackgroundTasks, conn: WriteTx,
                 me: CommunityPage, _csrf: CSRF, form: FormFields) -> Response:
    """Confirm (place, category), link (report or incident) or dismiss (reason) a triaged alert."""
    key = get_key(request)
    with as_page(me):
        if action == "confirm":
            service.confirm(conn, me, key=key, alert_id=alert_id, place_id=form.get("place_id", ""),
                            category=form.get("category", ""), contingent=form.get("contingent") or None,
                            urgency=int(form["urgency"]) if form.get("urgency", "").isdigit() else None)
        elif action == "link":
            target = form.get("target", "").strip()
            kind = form.get("target_kind", "report")
            service.link(conn, me, key=key, alert_id=alert_id, report_id=target if kind == "report" else None,
                         incident_id=target if kind == "incident" else None)
        elif action == "dismiss":
            service.dismiss(conn, me, key=key, alert_id=alert_id, reason=form.get("reason", ""))
        else:
            raise invalid("action", "action must be confirm, link or dismiss")
    background.add_task(wake_workers, request)
    return RedirectResponse(f"/community/triage?done={action}", status_code=303)
