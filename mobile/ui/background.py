"""Sync off the UI thread: one worker thread per run, progress handed back through a ``post`` callable.

The app passes ``post=lambda fn: Clock.schedule_once(lambda dt: fn())`` so background work reaches
the widgets only on the Kivy thread (the electrum habit); tests pass a plain list appender. The
automatic sync is a bounded poll: when something waits and no run is going, try; after a run that
found no link, wait longer (doubling up to ``max_interval``) so a tablet without a link does not
keep its radio busy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from peacewatch.common.i18n import N_
from peacewatch.mobile.core.sync_client import LocalStore, SyncClient, SyncProgress
from peacewatch.mobile.ui.session import Session
from peacewatch.mobile.ui.text import tr

STATE_TEXT = {
    "idle": N_("Not synchronised yet."),
    "pushing": N_("Sending reports…"),
    "pulling": N_("Receiving changes from HQ…"),
    "uploading": N_("Sending attachments…"),
    "done": N_("Synchronised."),
    "offline": N_("No connection — {waiting} reports waiting."),
    "revoked": N_("This tablet was revoked by HQ; ask an administrator to enrol it again."),
    "unauthorised": N_("The server did not accept this tablet's credential; enrol it again."),
    "failed": N_("Synchronisation failed — {waiting} reports waiting."),
    "not_enrolled": N_("Enrol this tablet in Settings before synchronising."),
    "wiped": N_("HQ reported this tablet lost: its reports were erased."),
}


def describe(progress: SyncProgress, lang: str) -> str:
    """The sync state in plain words in ``lang``."""
    return tr(STATE_TEXT.get(progress.state, STATE_TEXT["failed"]), lang, waiting=progress.reports_waiting)


class BackgroundSync:
    """Runs :class:`SyncClient` on a worker thread; at most one run at a time."""

    def __init__(
        self,
        session: Session,
        *,
        post: Callable[[Callable[[], None]], None],
        on_progress: Callable[[SyncProgress], None],
        session_factory: Callable[[], Any] = requests.Session,
        min_interval: float = 15.0,
        max_interval: float = 300.0,
        client_options: dict[str, Any] | None = None,
        on_wiped: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.post = post
        self.on_progress = on_progress
        # HQ's "device_wiped" answer: the app destroys the store on its own thread (core/remote_wipe.py).
        self.on_wiped = on_wiped
        self.session_factory = session_factory
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.interval = min_interval
        self.client_options = {"max_failures": 3, "backoff_cap": 5.0, **(client_options or {})}
        self._since_last = 0.0
        self._thread: threading.Thread | None = None
        self._client: SyncClient | None = None
        self._client_key: tuple[str, str] | None = None
        self.last: SyncProgress = SyncProgress()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _make_client(self) -> SyncClient | None:
        url, credential = self.session.setting("server_url"), self.session.setting("credential")
        if not url or not credential:
            return None
        ca = self.session.setting("ca_path")
        if self._client is None or self._client_key != (url, credential):
            # Keep one client across runs: its link tuning and revoked state carry over.
            self._client = SyncClient(
                self.session_factory(), url, credential, LocalStore(self.session.open_store),
                verify=ca or True, on_progress=self._progress, **self.client_options,
            )
            self._client_key = (url, credential)
        return self._client

    def start(self) -> bool:
        """Start a run now unless one is going; False if not started (running, or not enrolled)."""
        if self.running:
            return False
        client = self._make_client()
        if client is None:
            self._progress(SyncProgress(state="not_enrolled"))
            return False
        self._thread = threading.Thread(target=self._run, args=(client,), name="sync", daemon=True)
        self._thread.start()
        return True

    def _run(self, client: SyncClient) -> None:
        try:
            final = client.run()
        except Exception as exc:  # noqa: BLE001 - the worker must never die silently
            final = SyncProgress(state="failed", last_error=str(exc))
            self._progress(final)
        if final.state == "wiped" and self.on_wiped is not None:
            self._client = None
            self.post(self.on_wiped)
            return
        if final.state == "done":
            self.interval = self.min_interval
            stamp = (final.last_success_at or datetime.now(UTC)).isoformat()
            self.post(lambda: self.session.set_settings(last_sync_at=stamp) if self.session.store else None)
            self._refresh_map_layers(client)
        else:
            self.interval = min(self.max_interval, self.interval * 2)

    def _refresh_map_layers(self, client: SyncClient) -> None:
        """HQ's hot spots and coverage gaps for the tablet's area follow every successful sync."""
        from peacewatch.mobile.core.tiles import refresh_layers

        store = self.session.store
        if store is not None and self._client_key is not None:
            url, credential = self._client_key
            refresh_layers(store, self.session_factory(), url, credential,
                           verify=self.session.setting("ca_path") or True)

    def _progress(self, progress: SyncProgress) -> None:
        self.last = progress
        self.post(lambda: self.on_progress(progress))

    def tick(self, dt: float, waiting: int) -> bool:
        """Called every ``dt`` seconds by the app clock; starts a run when due. True if it started one."""
        self._since_last += dt
        if self.running or waiting == 0 or self._since_last < self.interval:
            return False
        self._since_last = 0.0
        return self.start()
