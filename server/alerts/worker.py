"""The alerts' timed work: escalation and webhook deliveries every ``tick_s``, in a background loop.

Raising follows the feed (``raising.ALERTS``, a feed consumer caught up by the app's feed worker
right after every commit that appended); escalation and webhooks are driven by the clock, so
they run on a tick of their own and continue after a restart from what is stored. Readers catch
up themselves as well (``current_alerts``), so nothing depends on either loop running.
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
    """The app's alert loop: escalate and deliver webhooks every ``tick_s`` (and when poked)."""
    return BackgroundLoop("alerts", [("escalating alerts", partial(escalate, engine)),
                                     ("delivering webhooks", partial(deliver_due, engine))],
                          tick_s=tick_s, run_at_start=True)


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
