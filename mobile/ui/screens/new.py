"""New report: choose incident, patrol or human-rights concern; a draft is saved at once."""

from __future__ import annotations

import uuid

from kivy.app import App
from kivy.uix.screenmanager import Screen

from peacewatch.mobile.core.form_model import FormModel


class NewReportScreen(Screen):
    def create(self, kind: str) -> None:
        app = App.get_running_app()
        session = app.session
        report_id = str(uuid.uuid4())
        fields = FormModel.defaults(kind, lang=app.lang, author=session.setting("username"),
                                    contingent=session.setting("contingent"))
        # Saved before the form opens: even an untouched new report survives a kill.
        session.drafts.save_draft(report_id, kind, fields)
        app.go("form", report_id=report_id)


SCREEN = NewReportScreen
