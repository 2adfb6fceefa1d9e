"""The Kivy app: theme, screens, language, lock, background sync tick and the automation hook.

Screens (``screens/<name>.py`` + ``screens/<name>.kv``): ``pin`` (set up / unlock), ``home``
(drafts, outbox, sent, updated by HQ), ``new`` (choose the kind), ``form`` (the generated report
form), ``detail`` (report with its history, HQ decisions and comments), ``sync``, ``settings`` and
``map`` (the offline base map with HQ's layers; see ``screens/map.py``).
Screens read ``app.lang`` in their ``.kv`` rules, so switching language re-renders every text in
place without a restart; ``app.rtl`` mirrors rows (``widgets.Row``) for Arabic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.logger import Logger
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from peacewatch.common.i18n import is_rtl
from peacewatch.mobile.ui import widgets  # noqa: F401 - registers the widget classes for the .kv files
from peacewatch.mobile.ui.session import Session
from peacewatch.mobile.ui.text import font_path, halign, shape, tr

if TYPE_CHECKING:
    from peacewatch.mobile.ui.background import BackgroundSync

SCREENS = ("pin", "home", "new", "form", "detail", "sync", "settings", "map", "tasks")
SYNC_TICK_S = 5.0


class KeepRunning(ExceptionHandler):
    """A bug behind one button must not close the app and strand the report being typed: log it,
    keep it for the automation channel (window tests fail on it), and carry on."""

    def __init__(self, app: PeacewatchApp) -> None:
        super().__init__()
        self.app = app

    def handle_exception(self, inst: BaseException) -> int:
        if isinstance(inst, KeyboardInterrupt | SystemExit):
            return ExceptionManager.RAISE
        Logger.exception("peacewatch: unexpected error, app kept running")
        self.app.errors.append(f"{type(inst).__name__}: {inst}")
        return ExceptionManager.PASS


class PeacewatchApp(App):
    """The tablet app. ``data_dir`` holds the encrypted store and the language preference."""

    # Kivy's App.name would be derived from the class name; keep the user data folder stable.
    name = "peacewatch"

    lang = StringProperty("en")
    rtl = BooleanProperty(False)
    halign = StringProperty("left")
    sync_progress = ObjectProperty(None, rebind=True)  # a SyncProgress once the store is open

    def __init__(self, data_dir: Path | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = "peacewatch"
        # None: the platform's private app folder (Android's internal storage), known once built.
        self._data_dir = data_dir
        self.session = Session(Path(data_dir or "."))
        self.sync: BackgroundSync | None = None
        self.automation: Any = None
        self.errors: list[str] = []

    # ----- texts ---------------------------------------------------------------------------
    def t(self, msgid: str, lang: str, **params: object) -> str:
        """Translated, shaped text; ``lang`` is passed so ``.kv`` rules re-run when it changes."""
        return tr(msgid, lang, **params)

    @staticmethod
    def shape(text: str) -> str:
        return shape(text)

    def set_language(self, lang: str) -> None:
        self.session.set_language(lang)
        self.rtl = is_rtl(lang)
        self.halign = halign(lang)
        self.lang = lang
        # Screens that build texts in Python (lists, details) redraw; .kv texts follow app.lang.
        hook = getattr(self.root.current_screen, "on_language", None) if self.root else None
        if hook is not None and self.session.store is not None:
            hook()

    # ----- life cycle ----------------------------------------------------------------------
    def build(self) -> ScreenManager:
        if self._data_dir is None:
            self.session = Session(Path(self.user_data_dir))
        LabelBase.register(DEFAULT_FONT, font_path())
        Window.clearcolor = (0, 0, 0, 1)
        ExceptionManager.add_handler(KeepRunning(self))
        lang = self.session.language()
        self.rtl, self.halign, self.lang = is_rtl(lang), halign(lang), lang
        from peacewatch.mobile.ui.screens import load_screens

        # Only the PIN screen before the first frame; the others (and the store, schema and sync
        # modules they import) load behind it (bench/app_start.py measures the difference).
        manager = ScreenManager(transition=NoTransition())
        for screen in load_screens(["pin"]):
            manager.add_widget(screen)
        manager.current = "pin"
        Window.bind(on_flip=self._first_frame)
        Clock.schedule_interval(self._tick, SYNC_TICK_S)
        if os.environ.get("PEACEWATCH_AUTOMATION"):
            from peacewatch.mobile.ui.automation import Automation

            self.automation = Automation(self, Path(os.environ["PEACEWATCH_AUTOMATION"]))
        return manager

    def _first_frame(self, *_: object) -> None:
        """The PIN screen is on screen: load the other screens behind it, on the next frame."""
        Window.unbind(on_flip=self._first_frame)
        Clock.schedule_once(self._load_rest, 0)

    def _load_rest(self, _dt: float) -> None:
        for name in SCREENS:
            self.screen(name)
        if self.automation is not None:
            self.automation.start()  # tests drive the app once every screen exists

    def screen(self, name: str) -> Any:
        """Screen ``name``, loaded (its .py and .kv) the first time it is needed."""
        if not self.root.has_screen(name):
            from peacewatch.mobile.ui.screens import load_screens

            for screen in load_screens([name]):
                self.root.add_widget(screen)
        return self.root.get_screen(name)

    def go(self, name: str, **kwargs: Any) -> None:
        """Show screen ``name``; ``kwargs`` go to its ``prepare``."""
        screen = self.screen(name)
        prepare = getattr(screen, "prepare", None)
        if prepare is not None:
            prepare(**kwargs)
        self.root.current = name

    def unlocked(self) -> None:
        if self.sync is None:
            from peacewatch.mobile.core.sync_client import SyncProgress
            from peacewatch.mobile.ui.background import BackgroundSync

            self.sync_progress = SyncProgress()
            self.sync = BackgroundSync(
                self.session, post=lambda fn: Clock.schedule_once(lambda dt: fn()), on_progress=self._on_sync,
                on_wiped=self.erase_remotely,
            )
        self.go("home")

    def lock(self) -> None:
        self.session.lock()
        self.go("pin")

    def erase_remotely(self) -> None:
        """HQ reported this tablet lost: destroy keys and store now, then show the PIN screen."""
        from peacewatch.mobile.core.remote_wipe import destroy

        destroy(self.session.data_dir, self.session.store_path, self.session.store, reason="remote")
        self.session.store = None
        self.go("pin")

    def quick_delete(self) -> None:
        """Under duress: erase everything without the PIN; the app then looks freshly installed."""
        from peacewatch.mobile.core.remote_wipe import destroy

        destroy(self.session.data_dir, self.session.store_path, self.session.store, reason="quick_delete")
        self.session.store = None
        self.go("pin")

    def on_stop(self) -> None:
        self.session.lock()

    # ----- sync ----------------------------------------------------------------------------
    def _tick(self, dt: float) -> None:
        if self.session.store is None or self.sync is None:
            return
        waiting = self.session.reports.counts().waiting
        self.sync.tick(dt, waiting)

    def start_sync(self) -> None:
        if self.sync is not None and self.session.store is not None:
            self.sync.start()

    def _on_sync(self, progress: Any) -> None:
        self.sync_progress = progress
        if progress.finished and self.root.current == "home":
            self.root.get_screen("home").refresh()


def load_kv(path: Path) -> None:
    """Load a screen's ``.kv`` file once (Builder keeps rules global)."""
    if str(path) not in Builder.files:
        Builder.load_file(str(path))
