"""The alert worker: a thread that raises alerts right after each push, escalates and sends webhooks.

Unlike duplicate proposals (computed once pushes pause), alerts are caught up as soon as a push
pokes the worker: the value of an alert is measured in seconds, and matching one chunk of the
feed is cheap. Every ``tick_s`` it also escalates what is due and sends due webhook deliveries,
so both continue after a restart from what is stored. Readers catch up themselves as well
(``current_alerts``), so nothing depends on this thread running.
"""

from __future__ import annotations

import logging
import threading

from fastapi import Request
from sqlalchemy import Engine

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


class AlertWorker:
    """A daemon thread: catch up on every poke, escalate and deliver every ``tick_s``."""

    def __init__(self, engine: Engine, *, tick_s: float = 2.0) -> None:
        self.engine = engine
        self.tick_s = tick_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
        self._thread.start()
        self.poke()  # versions stored while the server was down are matched at start

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def poke(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.tick_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            for what, step in (("raising alerts", ensure_current), ("escalating alerts", escalate),
                               ("delivering webhooks", deliver_due)):
                try:
                    step(self.engine)
                except Exception:  # noqa: BLE001 - derived work: log; the next tick or reader retries
                    log.exception("%s failed; it is retried on the next tick", what)


def alerts_waiting(request: Request) -> None:
    """Tell the app's alert worker (if it runs) that versions were stored."""
    worker: AlertWorker | None = getattr(request.app.state, "alert_worker", None)
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
