"""My tasks: what HQ or the commander asked of this user or their contingent, and acting on it offline.

The list is ``mobile.core.tasks.my_tasks`` (active first, urgent first, soonest due first); a tap
shows one task's instructions, place, time window and history, with its actions. Every action is
an event kept on the tablet and sent at the next sync; the list shows it at once.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from peacewatch.common import coords
from peacewatch.common.i18n import N_, gettext
from peacewatch.mobile.core import tasks
from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.ui.screens.detail import when
from peacewatch.mobile.ui.text import isolate, shape
from peacewatch.mobile.ui.widgets import ORANGE, Btn, Txt

STATUS_TEXT = {
    "open": N_("new"), "accepted": N_("accepted"), "started": N_("started"), "done": N_("done"),
    "cannot_do": N_("cannot be done"), "cancelled": N_("withdrawn by HQ"),
}
PRIORITY_TEXT = {"urgent": N_("Urgent"), "high": N_("High"), "normal": N_("Normal"), "low": N_("Low")}
KIND_TEXT = {"patrol": N_("Patrol"), "verify": N_("Verify"), "follow_up": N_("Follow up"), "other": N_("Other")}
ACTED = {"accepted": N_("Accepted."), "started": N_("Started."), "done": N_("Marked done."),
         "cannot_do": N_("Marked as not possible.")}


class TasksScreen(Screen):
    task_id = NumericProperty(0)  # the task shown below the list (0: none)
    message = StringProperty("")
    message_is_error = BooleanProperty(False)

    def prepare(self, task_id: int = 0) -> None:
        self.task_id = task_id
        self.message = ""
        self.show()

    def on_pre_enter(self, *args: object) -> None:
        self.show()

    def _say(self, text: str, error: bool = False) -> None:
        self.message, self.message_is_error = text, error

    def _line(self, task: dict[str, Any], lang: str) -> str:
        status = gettext(STATUS_TEXT.get(task["local_status"], task["local_status"]), lang)
        due = f" · {App.get_running_app().t('due', lang)} {when(task.get('window_end'))}" if task.get("window_end") else ""
        waiting = " ·  ↑" if task.get("unsent") else ""
        return shape(f"{gettext(PRIORITY_TEXT.get(task.get('priority', ''), ''), lang)} · {task['title']} "
                     f"— {status}{due}{waiting}")

    def show(self) -> None:
        app = App.get_running_app()
        lang, store = app.lang, app.session.open_store
        listing = tasks.my_tasks(store)
        box = self.ids.listbox
        box.clear_widgets()
        for i, task in enumerate(listing):
            urgent = task.get("priority") in ("urgent", "high")
            box.add_widget(Btn(text=self._line(task, lang), pw_id=f"task_{i}", height=dp(64),
                               background_color=(0.75, 0.2, 0.1, 1) if urgent else (0.2, 0.3, 0.5, 1),
                               color=(1, 1, 1, 1), on_release=lambda _b, tid=task["id"]: self.select(tid)))
        if not listing:
            box.add_widget(Txt(text=app.t("No task for you. HQ's tasks arrive when you sync.", lang),
                               pw_id="tasks_none"))
        self._show_detail(lang)

    def select(self, task_id: int) -> None:
        self.task_id = task_id
        self.message = ""
        self.ids.note.text = ""
        self.show()

    def _show_detail(self, lang: str) -> None:
        app = App.get_running_app()
        box = self.ids.detail
        box.clear_widgets()
        task = tasks.get(app.session.open_store, int(self.task_id)) if self.task_id else None
        if task is None:
            self.task_id = 0
            return

        def line(text: str, **kw: Any) -> None:
            box.add_widget(Txt(text=text, **kw))

        kind = gettext(KIND_TEXT.get(task.get("kind", ""), task.get("kind", "")), lang)
        line(shape(f"{kind}: {task['title']}"), bold=True, font_size="22sp", pw_id="task_title")
        status = gettext(STATUS_TEXT.get(task["local_status"], task["local_status"]), lang)
        line(app.t("Status: {status}", lang, status=status), pw_id="task_status",
             color=ORANGE if task["local_status"] == "cannot_do" else (1, 1, 1, 1))
        if task.get("instructions"):
            line(shape(task["instructions"]), pw_id="task_instructions")
        if task.get("lat") is not None and task.get("lon") is not None:
            line(app.t("Where: {place}", lang, place=isolate(coords.to_mgrs(task["lat"], task["lon"], 4))),
                 pw_id="task_place")
        if task.get("window_start") or task.get("window_end"):
            line(app.t("When: {start} to {end}", lang, start=when(task.get("window_start")) or "—",
                       end=when(task.get("window_end")) or "—"), pw_id="task_window")
        for i, event in enumerate(task.get("events") or []):
            said = gettext(STATUS_TEXT.get(event.get("status") or "", ""), lang) if event.get("status") else ""
            note = f" — {event['note']}" if event.get("note") else ""
            filed = f" ({app.t('report filed', lang)})" if event.get("report_id") else ""
            line(shape(f"{when(event.get('received_at'))}  {isolate(str(event.get('by')))}: {said}{filed}{note}"),
                 pw_id=f"task_event_{i}")

    def act(self, status: str) -> None:
        app = App.get_running_app()
        try:
            tasks.record(app.session.open_store, int(self.task_id), status=status, note=self.ids.note.text)
        except InvalidInput as exc:
            reason = app.t("Say why the task cannot be done.", app.lang) if exc.field == "note" else str(exc)
            self._say(reason, True)
            return
        self.ids.note.text = ""
        self._say(app.t(ACTED[status], app.lang))
        self.show()
        app.start_sync()

    def file_report(self) -> None:
        app = App.get_running_app()
        app.go("new", task_id=int(self.task_id))

    def show_on_map(self) -> None:
        app = App.get_running_app()
        task = tasks.get(app.session.open_store, int(self.task_id))
        app.go("map")
        if task and task.get("lat") is not None:
            app.root.get_screen("map").ids.mapview.centre_on(task["lat"], task["lon"])


SCREEN = TasksScreen
TasksScreen.on_language = TasksScreen.show  # type: ignore[attr-defined]
