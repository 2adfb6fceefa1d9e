"""The live alert stream: Server-Sent Events of every alert change the caller may see.

Events come from ``alert_events`` in id order; the SSE event id is that row id, so a client that
reconnects with ``Last-Event-ID`` (browsers do it themselves) gets exactly what it missed. Each
event carries the alert as the caller sees it at send time (``service.alerts_out`` under
``visible_alerts``): an event about an alert the caller may not see is skipped, never sent in
part. The generator polls the log (``POLL_S``) on threads of its own; where the app's background
loops do not run (an embedded app) it first catches alerts up with the feed itself. sse-starlette sends a comment
line as heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson
from fastapi import Request
from sqlalchemy import Engine, func, select

from ..access import Principal
from ..db.tables import alert_events
from .raising import ensure_current
from .service import alerts_out, visible_rows
from .worker import escalate

log = logging.getLogger(__name__)

POLL_S = 0.2
HEARTBEAT_S = 15
PAGE = 200
# The streams' database reads get threads of their own: sharing the default pool (which runs every
# sync route) would queue an alert behind a burst of pushes and pulls, seconds under 50 tablets.
_LIMITER: anyio.CapacityLimiter | None = None


def _limiter() -> anyio.CapacityLimiter:
    global _LIMITER
    if _LIMITER is None:
        _LIMITER = anyio.CapacityLimiter(8)
    return _LIMITER


def last_event_id(engine: Engine) -> int:
    with engine.connect() as conn, conn.begin():
        return int(conn.execute(select(func.coalesce(func.max(alert_events.c.id), 0))).scalar_one())


def events_after(engine: Engine, principal: Principal, after: int) -> tuple[list[dict[str, Any]], int]:
    """The caller's events after ``after`` (at most ``PAGE`` examined) and the last id examined."""
    with engine.connect() as conn, conn.begin():
        rows = conn.execute(select(alert_events).where(alert_events.c.id > after)
                            .order_by(alert_events.c.id).limit(PAGE)).mappings().all()
        if not rows:
            return [], after
        visible = {r["id"]: r for r in visible_rows(conn, principal, sorted({e["alert_id"] for e in rows}))}
        rendered = {a["id"]: a for a in alerts_out(conn, list(visible.values()))}
    out = [{"id": str(e["id"]), "event": "alert",
            "data": orjson.dumps({"type": e["type"], "alert": rendered[e["alert_id"]]}).decode()}
           for e in rows if e["alert_id"] in rendered]
    return out, int(rows[-1]["id"])


def parse_last_event_id(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


async def alert_events_for(request: Request, principal: Principal, *,
                           after: int | None) -> AsyncIterator[dict[str, Any]]:
    """Yield SSE events for ``principal`` from ``after`` (None: only what happens from now on).

    Ends after the settings' ``alert_stream_max_s``; the client reconnects with Last-Event-ID.
    """
    engine: Engine = request.app.state.engine
    deadline = time.monotonic() + request.app.state.settings.alert_stream_max_s
    limiter = _limiter()
    cursor = after if after is not None else await anyio.to_thread.run_sync(last_event_id, engine, limiter=limiter)
    # The first message tells the client where it stands, so even an idle stream can be resumed.
    yield {"event": "ready", "id": str(cursor), "data": "{}"}
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return
        if any(getattr(request.app.state, name, None) is None for name in ("feed_worker", "alert_worker")):
            # No loops in this process (an embedded app): the stream raises what is due itself.
            await anyio.to_thread.run_sync(_catch_up, engine, limiter=limiter)
        events, cursor = await anyio.to_thread.run_sync(events_after, engine, principal, cursor, limiter=limiter)
        for event in events:
            yield event
        if not events:
            await asyncio.sleep(POLL_S)


def _catch_up(engine: Engine) -> None:
    # A failure in matching must not end the stream of the alerts already raised: log, go on.
    try:
        ensure_current(engine)
        escalate(engine)
    except Exception:  # noqa: BLE001 - see above
        log.exception("catching up alerts failed; streaming the alerts as they stand")
