"""The server's background loop: a daemon thread that runs a few steps when woken.

Every background worker of the server is one ``BackgroundLoop`` (the feed consumers' catch-ups,
alert escalation and webhooks, replies to community callers). It wakes every ``tick_s`` (never,
with ``None``) or when poked; with ``quiet_s`` it then waits for the pokes to pause (at most
``max_delay_s`` after the first), so heavy work never competes with a stream of pushes. A step
that fails is logged and the others still run: everything these loops do is retried on the next
wake-up, and readers never depend on a loop running. ``stop`` wakes the thread and joins it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

Step = tuple[str, Callable[[], object]]  # what it does (for the log), and the call


class BackgroundLoop:
    """A daemon thread running its ``steps`` in order, every ``tick_s`` and whenever poked."""

    def __init__(self, name: str, steps: Sequence[Step], *, tick_s: float | None = None, quiet_s: float = 0.0,
                 max_delay_s: float = 30.0, run_at_start: bool = False) -> None:
        self.name = name
        self.steps = tuple(steps)
        self.tick_s = tick_s
        self.quiet_s = quiet_s
        self.max_delay_s = max_delay_s
        self.run_at_start = run_at_start
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        if self.run_at_start:
            self.poke()  # work stored while the server was down is done at start

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def poke(self) -> None:
        """Something is waiting: run the steps now (or once the pokes pause, with ``quiet_s``)."""
        self._wake.set()

    def run_steps(self) -> None:
        """Run every step once, logging (not raising) a failure."""
        for what, step in self.steps:
            try:
                step()
            except Exception:  # noqa: BLE001 - background work: log; the next wake-up or a reader retries
                log.exception("%s failed; it is retried on the next wake-up", what)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.tick_s)
            self._wake.clear()
            if self.quiet_s:
                self._wait_for_a_pause()
            if self._stop.is_set():
                return
            self.run_steps()

    def _wait_for_a_pause(self) -> None:
        first = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - first < self.max_delay_s:
            if not self._wake.wait(self.quiet_s):
                return
            self._wake.clear()
