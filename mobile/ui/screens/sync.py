"""Sync: one button, progress (items and bytes), what still waits, last success, errors in plain words.

The run happens on a worker thread (``background.BackgroundSync``); this screen only renders the
:class:`SyncProgress` the app receives on the Kivy thread.
"""

from __future__ import annotations

from datetime import datetime

from kivy.app import App
from kivy.uix.screenmanager import Screen

from peacewatch.common.i18n import N_
from peacewatch.mobile.core.sync_client import SyncProgress
from peacewatch.mobile.ui.background import describe
from peacewatch.mobile.ui.text import isolate

FILE_SENDING = N_("{file}: {done} of {total} sent")
FILE_WAITING = N_("{file}: {total}, waiting")


def _kib(n: int) -> str:
    return isolate(f"{n / 1024:.0f} KiB" if n < 10 * 1024 * 1024 else f"{n / 1048576:.1f} MiB")


class SyncScreen(Screen):
    def on_pre_enter(self, *args: object) -> None:
        self.render(App.get_running_app().sync_progress)

    def render(self, p: SyncProgress) -> None:
        app = App.get_running_app()
        lang = app.lang
        if app.session.store is None:
            return
        ids = self.ids
        waiting = app.session.reports.counts().waiting
        ids.s_state.text = describe(p, lang) if p.state != "idle" else app.t("Ready to synchronise.", lang)
        ids.s_items_bar.max = max(1, p.items_total)
        ids.s_items_bar.value = min(p.items_done, p.items_total)
        ids.s_items.text = app.t("Items: {done} of {total}", lang, done=isolate(str(p.items_done)),
                                 total=isolate(str(p.items_total)))
        ids.s_bytes_bar.max = max(1, p.bytes_total)
        ids.s_bytes_bar.value = min(p.bytes_done, p.bytes_total)
        ids.s_bytes.text = app.t("Attachments: {done} of {total}", lang, done=_kib(p.bytes_done), total=_kib(p.bytes_total))
        ids.s_waiting.text = app.t("Waiting: {reports} reports, {attachments} attachments", lang,
                                 reports=waiting if p.state in ("idle", "not_enrolled") else p.reports_waiting,
                                 attachments=p.attachments_waiting)
        last = app.session.setting("last_sync_at")
        if last:
            shown = isolate(datetime.fromisoformat(last).astimezone().strftime("%Y-%m-%d %H:%M"))
            ids.s_last.text = app.t("Last successful sync: {when}", lang, when=shown)
        else:
            ids.s_last.text = app.t("Never synchronised.", lang)
        problems = [f"{r.report_id[:8]}: {r.reason}" for r in p.rejections]
        if p.last_error and p.state not in ("offline",):
            problems.insert(0, p.last_error)
        ids.s_errors.text = "\n".join(problems)
        ids.s_files.text = self._files(app, p)
        ids.sync_now.disabled = app.sync is not None and app.sync.running

    def _files(self, app: App, p: SyncProgress) -> str:
        """Each attachment still to send with its size; the one being sent with its progress."""
        from peacewatch.mobile.core.outbox import Outbox

        lines = []
        for ref in Outbox(app.session.open_store).pending_attachments():
            if p.state == "uploading" and ref.name == p.current_file:
                done = min(ref.size, max(0, p.bytes_done - p.current_file_start))
                lines.append(app.t(FILE_SENDING, app.lang, file=isolate(ref.name), done=_kib(done), total=_kib(ref.size)))
            else:
                lines.append(app.t(FILE_WAITING, app.lang, file=isolate(ref.name), total=_kib(ref.size)))
        return "\n".join(lines)

    def on_language(self) -> None:
        self.render(App.get_running_app().sync_progress)


SCREEN = SyncScreen
