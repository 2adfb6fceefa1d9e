"""Routes: enrol a tablet with a one-time code; admins issue codes, list and revoke devices."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Annotated

import segno
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ..deps import Admin, Public, ReadConn, SettingsDep, WriteConn
from . import recovery, service

router = APIRouter(tags=["devices"])


class EnrolRequest(BaseModel):
    code: str = Field(min_length=4, max_length=64, description="The one-time code shown by the administrator")
    label: str = Field(default="", max_length=200, description="A name for this tablet")


class EnrolResponse(BaseModel):
    device_id: str
    credential: str = Field(description="Shown once; send as 'Authorization: Device <credential>'")
    username: str
    role: str = Field(description="The user's role; contingent roles may only report for their own contingent")
    contingent: str | None = Field(description="The user's contingent code (none for HQ roles)")
    photo_metadata: str = Field("strip_except_protection",
                                description="The mission's policy on photo metadata leaving the tablet")
    recovery_public_key: str | None = Field(
        None, description="The mission's recovery public key (PEM): the tablet seals its store keys for it")


class CodeRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)


class CodeResponse(BaseModel):
    code: str
    username: str
    expires_at: str


class DeviceOut(BaseModel):
    id: str
    label: str
    username: str
    enrolled_at: str
    revoked_at: str | None
    last_seen_at: str | None
    revoked: bool
    lost_at: str | None = None
    lost: bool = False


@router.post("/devices/enrol", response_model=EnrolResponse, status_code=201)
def enrol(body: EnrolRequest, request: Request, conn: WriteConn, settings: SettingsDep, _: Public) -> dict:
    """Trade a one-time enrolment code for a device credential (returned once)."""
    client = request.client.host if request.client else ""
    out = service.enrol(conn, code=body.code, label=body.label, client=client,
                        max_failures=settings.login_attempts_per_minute)
    return out | {"recovery_public_key": recovery.public_key_pem(settings.data_dir),
                  "photo_metadata": settings.photo_metadata}


@router.get("/admin/devices", response_model=list[DeviceOut])
def list_devices(conn: ReadConn, _: Admin) -> list[dict]:
    """Every enrolled device with its user, last contact and revocation."""
    return service.list_devices(conn)


@router.post("/admin/devices/codes", response_model=CodeResponse, status_code=201)
def issue_code(body: CodeRequest, conn: WriteConn, settings: SettingsDep, admin: Admin) -> dict:
    """Issue a one-time enrolment code for a user."""
    return service.issue_code(conn, username=body.username,
                              ttl=timedelta(minutes=settings.enrolment_code_ttl_minutes),
                              actor=admin.username, actor_user_id=admin.user_id)


@router.get("/admin/devices/codes/{code}/qr.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def code_qr(code: Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,32}$", description="An enrolment code")],
            request: Request, _: Admin) -> Response:
    """The enrolment code as a QR code PNG (with this server's address) for the tablet's camera."""
    buf = io.BytesIO()
    segno.make(f"peacewatch:enrol?server={str(request.base_url).rstrip('/')}&code={code}", error="m").save(
        buf, kind="png", scale=8)
    return Response(buf.getvalue(), media_type="image/png")


@router.post("/admin/devices/{device_id}/revoke", status_code=204)
def revoke(device_id: str, conn: WriteConn, admin: Admin) -> None:
    """Revoke a lost or captured device."""
    service.revoke(conn, device_id=device_id, actor=admin.username, actor_user_id=admin.user_id)


@router.post("/admin/devices/{device_id}/lost", status_code=204)
def mark_lost(device_id: str, conn: WriteConn, admin: Admin) -> None:
    """Mark a device lost: at its next contact it is told to destroy its keys and local store."""
    service.mark_lost(conn, device_id=device_id, actor=admin.username, actor_user_id=admin.user_id)
