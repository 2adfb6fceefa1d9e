"""The alert worker: a thread that raises alerts right after each push, escalates and sends webhooks.

Unlike duplicate proposals (computed once pushes pause), alerts are caught up as soon as a push
pokes the worker: the value of an alert is measured in seconds, and matching one chunk of the
feed is cheap. Every ``tick_s`` it also escalates what is due and sends due webhook deliveries,
so both continue after a restart from what is stored. Readers catch up themselves as well
(``current_alerts``), so nothing depends on this thread running.
"""

from __future__ import annotations

import logging
from functools import partial

from fastapi import Request
from sqlalchemy import Engine

from ..background_loop import BackgroundLoop
from ..db.engine import WRITE
from .lifecycle import escalate_due, escalation_pending
from .raising import ensure_current
from .webhooks import deliver_due

log = logging.getLogger(__name__)


def escalate(engine: Engine) -> int:
    """Escalate what is due (one cheap read when nothing is)."""
    with engine.connect() as conn, conn.begin():
        if not escalation_pending(conn):
            return 0
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        return escalate_due(conn)


def alert_worker(engine: Engine, *, tick_s: float = 2.0) -> BackgroundLoop:
    """The app's alert loop: catch up on every poke, escalate and deliver every ``tick_s``."""
    return BackgroundLoop("alerts", [("raising alerts", partial(ensure_current, engine)),
                                     ("escalating alerts", partial(escalate, engine)),
                                     ("delivering webhooks", partial(deliver_due, engine))],
                          tick_s=tick_s, run_at_start=True)


def alerts_waiting(request: Request) -> None:
    """Tell the app's alert worker (if it runs) that versions were stored."""
    worker: BackgroundLoop | None = getattr(request.app.state, "alert_worker", None)
    if worker is not None:
        worker.poke()


def current_alerts(request: Request) -> None:
    """Route dependency: raise and escalate what is due before the route reads alerts.

    A failure is logged and the alerts served as they stand: a bug in matching must not also
    hide the alerts already raised.
    """
    try:
        ensure_current(request.app.state.engine)
        escalate(request.app.state.engine)
    except Exception:  # noqa: BLE001 - see docstring
        log.exception("catching up alerts failed; serving the alerts as they stand")
