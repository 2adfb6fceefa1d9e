"""Create and list contingents and users (used by the admin API and the admin CLI)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..access import CONTINGENT_ROLES, Role
from ..audit.service import record
from ..auth.password_policy import check_password
from ..auth.secrets import hash_password
from ..db.tables import contingents, users
from ..problems import Code, Problem, invalid, not_found


def create_contingent(conn: Connection, *, code: str, name: str, country: str = "", actor: str = "cli",
                      actor_user_id: int | None = None) -> dict[str, Any]:
    """Add a contingent; its code is unique."""
    if conn.execute(select(contingents.c.id).where(contingents.c.code == code)).first():
        raise Problem(Code.CONFLICT, f"contingent {code} already exists", field="code")
    cid = conn.execute(
        insert(contingents).values(code=code, name=name, country=country, created_at=clock.now())
        .returning(contingents.c.id)
    ).scalar_one()
    record(conn, action="contingent_created", actor=actor, actor_user_id=actor_user_id, target=code,
           detail={"name": name, "country": country})
    return {"id": cid, "code": code, "name": name, "country": country}


def list_contingents(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        select(contingents.c.id, contingents.c.code, contingents.c.name, contingents.c.country)
        .order_by(contingents.c.code)).mappings()]


def contingent_id(conn: Connection, code: str, *, field: str = "contingent") -> int:
    cid = conn.execute(select(contingents.c.id).where(contingents.c.code == code)).scalar()
    if cid is None:
        raise invalid(field, f"no contingent with code {code!r}")
    return int(cid)


def create_user(conn: Connection, *, username: str, password: str, role: Role, contingent: str | None,
                display_name: str = "", language: str = "en", actor: str = "cli",
                actor_user_id: int | None = None, password_min_length: int = 10,
                enforce_policy: bool = True) -> dict[str, Any]:
    """Add a user with an Argon2id password hash. Patrols and commanders need a contingent.

    The password policy (``auth.password_policy``) applies unless ``enforce_policy`` is false,
    which only the demo seed does (its one shared password is printed for anyone to use).
    """
    if enforce_policy:
        check_password(password, username=username, display_name=display_name, min_length=password_min_length)
    if role in CONTINGENT_ROLES and not contingent:
        raise invalid("contingent", f"a {role.value} must belong to a contingent")
    cid = contingent_id(conn, contingent) if contingent else None
    try:
        with conn.begin_nested():
            conn.execute(
                insert(users).values(username=username, display_name=display_name or username,
                                     password_hash=hash_password(password), role=role.value, contingent_id=cid,
                                     language=language, active=True, created_at=clock.now())
                .returning(users.c.id)
            ).scalar_one()
    except IntegrityError:
        raise Problem(Code.CONFLICT, f"user {username} already exists", field="username") from None
    record(conn, action="user_created", actor=actor, actor_user_id=actor_user_id, target=username,
           detail={"role": role.value, "contingent": contingent})
    return get_user(conn, username)


def get_user(conn: Connection, username: str) -> dict[str, Any]:
    row = conn.execute(_user_select().where(users.c.username == username)).mappings().one_or_none()
    if row is None:
        raise not_found(f"user {username}")
    return dict(row)


def _user_select():  # type: ignore[no-untyped-def]
    return select(users.c.id, users.c.username, users.c.display_name, users.c.role,
                  contingents.c.code.label("contingent"), users.c.language, users.c.active).select_from(
        users.outerjoin(contingents, users.c.contingent_id == contingents.c.id))


def list_users(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(_user_select().order_by(users.c.username)).mappings()]


def set_active(conn: Connection, *, username: str, active: bool, actor: str, actor_user_id: int | None) -> None:
    get_user(conn, username)
    conn.execute(update(users).where(users.c.username == username).values(active=active))
    record(conn, action="user_enabled" if active else "user_disabled", actor=actor, actor_user_id=actor_user_id,
           target=username)
