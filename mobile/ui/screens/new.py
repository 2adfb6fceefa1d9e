"""New report: choose incident, patrol or human-rights concern; a draft is saved at once."""

from __future__ import annotations

import uuid

from kivy.app import App
from kivy.properties import NumericProperty
from kivy.uix.screenmanager import Screen

from peacewatch.mobile.core import tasks
from peacewatch.mobile.core.form_model import FormModel


class NewReportScreen(Screen):
    task_id = NumericProperty(0)  # the task this report is for (0: none)

    def prepare(self, task_id: int = 0) -> None:
        self.task_id = task_id

    def create(self, kind: str) -> None:
        app = App.get_running_app()
        session = app.session
        report_id = str(uuid.uuid4())
        fields = FormModel.defaults(kind, lang=app.lang, author=session.setting("username"),
                                    contingent=session.setting("contingent"))
        # Saved before the form opens: even an untouched new report survives a kill.
        session.drafts.save_draft(report_id, kind, fields)
        if self.task_id:
            # Filed for the task once finished (a discarded draft files nothing).
            tasks.draft_for(session.open_store, report_id, int(self.task_id))
            self.task_id = 0
        app.go("form", report_id=report_id)


SCREEN = NewReportScreen
