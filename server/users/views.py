"""Admin routes for contingents and users."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import Admin, Authenticated, ReadConn, SettingsDep, WriteConn
from . import service
from .models import ContingentIn, ContingentOut, UserIn, UserOut

router = APIRouter(tags=["admin"])


@router.get("/contingents", response_model=list[ContingentOut])
def list_contingents(conn: ReadConn, _: Authenticated) -> list[dict]:
    """Every contingent (codes and names are not sensitive)."""
    return service.list_contingents(conn)


@router.post("/admin/contingents", response_model=ContingentOut, status_code=201)
def create_contingent(body: ContingentIn, conn: WriteConn, admin: Admin) -> dict:
    """Add a contingent."""
    return service.create_contingent(conn, code=body.code, name=body.name, country=body.country,
                                     actor=admin.username, actor_user_id=admin.user_id)


@router.get("/admin/users", response_model=list[UserOut])
def list_users(conn: ReadConn, _: Admin) -> list[dict]:
    """Every user with role and contingent."""
    return service.list_users(conn)


@router.post("/admin/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, conn: WriteConn, admin: Admin, settings: SettingsDep) -> dict:
    """Add a user (password hashed with Argon2id; refused if short, common or containing the username)."""
    return service.create_user(conn, username=body.username, password=body.password, role=body.role,
                               contingent=body.contingent, display_name=body.display_name, language=body.language,
                               actor=admin.username, actor_user_id=admin.user_id,
                               password_min_length=settings.password_min_length)


@router.post("/admin/users/{username}/disable", status_code=204)
def disable_user(username: str, conn: WriteConn, admin: Admin) -> None:
    """Disable a user: their tokens and devices stop working at once."""
    service.set_active(conn, username=username, active=False, actor=admin.username, actor_user_id=admin.user_id)
