"""Report detail: the newest content, HQ's review decisions and comments, and the version history."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from peacewatch.common.i18n import N_, gettext
from peacewatch.mobile.core.form_model import build_form
from peacewatch.mobile.ui.forms import KIND_TITLES, location_display, time_display
from peacewatch.mobile.ui.screens.home import REVIEW_TEXT
from peacewatch.mobile.ui.text import isolate, shape
from peacewatch.mobile.ui.widgets import ORANGE, Txt

STATE_TEXT = {
    "pending": N_("waiting to be sent"),
    "sent": N_("sent"),
    "rejected": N_("refused by the server"),
    "remote": N_("received from HQ"),
}


def when(stamp: str | None) -> str:
    """``2026-12-02 10:30`` from an ISO time stamp, isolated so an Arabic line keeps it in order."""
    return isolate((stamp or "")[:16].replace("T", " "))


class DetailScreen(Screen):
    report_id = StringProperty("")

    def prepare(self, report_id: str) -> None:
        self.report_id = report_id
        App.get_running_app().session.reports.mark_seen(report_id)
        self.show()

    def on_pre_enter(self, *args: object) -> None:
        if self.report_id:
            self.show()

    def show(self) -> None:
        app = App.get_running_app()
        lang, reports = app.lang, app.session.reports
        box = self.ids.body
        box.clear_widgets()
        summary = reports.get(self.report_id)
        heads = reports.heads(self.report_id)
        body = heads[-1].body if heads else {}
        # Each line is composed in logical order and shaped once, so mixed Arabic/Latin lines read right.
        self.ids.heading.text = shape(f"{gettext(KIND_TITLES.get(summary.kind, summary.kind), lang)} — {summary.title or ''}")

        def line(text: str, **kw: object) -> None:
            box.add_widget(Txt(text=text, **kw))

        if summary.in_conflict:
            line(app.t("Two different edits of this report exist: open it to merge them.", lang), color=ORANGE)
        for spec in build_form(summary.kind, lang):
            value = body.get(spec.name)
            if value in (None, "", [], {}):
                continue
            if spec.editor == "datetime":
                shown = time_display(value)
            elif spec.editor == "location":
                shown = location_display(value, lang)
            elif spec.editor == "choice":
                shown = str(dict(spec.choices).get(value, value))
            elif spec.editor == "counts":
                titles = {p.name: p.title for p in spec.parts}
                shown = ", ".join(f"{titles.get(k, k)}: {isolate(str(v))}" for k, v in value.items() if v)
            elif spec.editor in ("people", "attachments", "route"):
                shown = isolate(str(len(value)))
            elif spec.editor in ("scale", "integer", "number"):
                shown = isolate(str(value))
            else:
                shown = str(value)
            if shown:
                line(app.shape(f"{spec.title}: {shown}"), pw_id=f"detail:{spec.name}")
        line(app.t("Review by HQ", lang), bold=True, font_size="22sp")
        reviews = reports.reviews(self.report_id)
        for index, review in enumerate(reviews):
            status = gettext(REVIEW_TEXT.get(review["status"], review["status"]), lang)
            note = f" — {review['comment']}" if review.get("comment") else ""
            line(shape(f"{when(review['at'])}  {isolate(str(review['by']))}: {status}{note}"), pw_id=f"review_{index}")
        for index, comment in enumerate(reports.comments(self.report_id)):
            line(shape(f"{when(comment['at'])}  {isolate(str(comment['by']))}: {comment['text']}"),
                 pw_id=f"comment_{index}")
        if not reviews:
            line(app.t("not yet reviewed", lang), pw_id="review_none")
        line(app.t("History", lang), bold=True, font_size="22sp")
        for version in reports.versions(self.report_id):
            state = gettext(STATE_TEXT.get(version.state, version.state), lang)
            reason = f" — {version.reject_reason}" if version.reject_reason else ""
            line(shape(f"{when(version.created_at)}  {isolate(version.version_id[:10])}  {state}{reason}"))

    def edit(self) -> None:
        app = App.get_running_app()
        app.session.reports.start_edit(self.report_id)
        app.go("form", report_id=self.report_id)


SCREEN = DetailScreen
DetailScreen.on_language = DetailScreen.show  # type: ignore[attr-defined]
