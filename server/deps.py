"""FastAPI dependencies: the request's database transaction and its principal.

``ReadConn`` and ``WriteConn`` give one transaction per request, committed only if the handler
returns normally, so a refused or failed request writes nothing. Write transactions are
``BEGIN IMMEDIATE`` on SQLite. ``require(permission)`` is how every route declares its policy.

Both catch the feed's ``readers_wait`` consumers up first (the ``reports`` projection), so no
answer is staler than the last acknowledged push; a write transaction that appended to the feed
lets the consumers catch up right after its commit, before the answer goes out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Connection, Engine

from .access import Permission, Principal
from .auth.service import authenticate
from .config import Settings
from .db.engine import WRITE
from .feed import take_appended
from .feed_consumers import ensure_current, run_after_commit
from .problems import Problem, forbidden
from .subscriptions import CONSUMERS, FEED_WORKERS, READERS_WAIT


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


# Dependencies that only look something up are ``async def``: FastAPI runs a plain ``def``
# dependency in its thread pool, and each such hop costs more than the lookup (measured: a push
# request paid for five of them).
async def get_engine(request: Request) -> Engine:
    return engine_of(request)


async def get_settings(request: Request) -> Settings:
    return settings_of(request)


def _transaction(conn: Connection) -> Iterator[Connection]:
    trans = conn.begin()
    try:
        yield conn
    except Problem as exc:
        if exc.keep_writes:
            trans.commit()
        else:
            trans.rollback()
        raise
    except BaseException:
        trans.rollback()
        raise
    else:
        trans.commit()


def read_conn(request: Request) -> Iterator[Connection]:
    engine = engine_of(request)
    ensure_current(engine, *READERS_WAIT)
    with engine.connect() as conn:
        yield from _transaction(conn)


def write_conn(request: Request) -> Iterator[Connection]:
    engine = engine_of(request)
    ensure_current(engine, *READERS_WAIT)
    with engine.connect().execution_options(**WRITE) as conn:
        try:
            yield from _transaction(conn)
        finally:
            # The mark lives on the pooled driver connection: never leave it for the next request.
            appended = take_appended(conn)
    if appended:
        run_after_commit(engine, CONSUMERS, [getattr(request.app.state, name, None) for name in FEED_WORKERS])


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the transaction commits before the response is sent. With the default
# (request scope) FastAPI would answer first and commit after, so a tablet could be told
# "stored" for a version whose commit then failed, and forget it: that would lose data.
ReadConn = Annotated[Connection, Depends(read_conn, scope="function")]
WriteConn = Annotated[Connection, Depends(write_conn, scope="function")]


def _principal(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_device_credential: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    with engine_of(request).connect() as conn, conn.begin():
        return authenticate(conn, authorization=authorization, device_credential=x_device_credential)


def require(permission: Permission) -> Callable[..., Principal | None]:
    """Dependency declaring a route's permission; returns the caller (``None`` for public routes)."""
    if permission is Permission.PUBLIC:

        async def public() -> None:
            return None

        public.permission = permission  # type: ignore[attr-defined]
        return public

    async def dependency(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        if not principal.may(permission):
            raise forbidden(f"the {principal.role.value} role may not do this ({permission.value})")
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


Public = Annotated[None, Depends(require(Permission.PUBLIC))]
Authenticated = Annotated[Principal, Depends(require(Permission.AUTHENTICATED))]
Reader = Annotated[Principal, Depends(require(Permission.READ_REPORTS))]
Submitter = Annotated[Principal, Depends(require(Permission.SUBMIT))]
Reviewer = Annotated[Principal, Depends(require(Permission.REVIEW))]
Analyst = Annotated[Principal, Depends(require(Permission.ANALYSE))]
Exporter = Annotated[Principal, Depends(require(Permission.EXPORT))]
Admin = Annotated[Principal, Depends(require(Permission.ADMIN))]
AlertRuleManager = Annotated[Principal, Depends(require(Permission.ALERT_RULES))]
