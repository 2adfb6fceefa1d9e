"""The webhook delivery log in the dashboard: partner endpoints and their recent deliveries.

Administrators only, as the API's ``/alert-webhooks`` routes. Shows each delivery's status,
attempts, last answer or error and times; never a secret (``alerts.webhooks.delivery_log``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...alerts import webhooks
from ...deps import ReadConn
from ..render import page
from ..session import AdminPage

router = APIRouter(include_in_schema=False)


@router.get("/admin/webhooks")
def webhooks_page(request: Request, conn: ReadConn, me: AdminPage) -> Response:
    return page(request, "admin_webhooks.html", me, endpoints=webhooks.delivery_log(conn))
