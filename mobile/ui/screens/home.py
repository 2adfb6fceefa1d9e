"""Home: counts and lists of drafts, the outbox (waiting), sent reports and reports updated by HQ."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import DictProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from peacewatch.common.i18n import N_, gettext
from peacewatch.mobile.core import alerts
from peacewatch.mobile.ui.forms import KIND_TITLES
from peacewatch.mobile.ui.text import shape
from peacewatch.mobile.ui.widgets import Btn

TABS = {
    "drafts": N_("Drafts"),
    "waiting": N_("Outbox (waiting)"),
    "sent": N_("Sent"),
    "updated": N_("Updated by HQ"),
}
REVIEW_TEXT = {
    "verified": N_("verified by HQ"),
    "rejected": N_("rejected by HQ"),
    "unreviewed": N_("not yet reviewed"),
    "needs_information": N_("HQ needs more information"),
}
LIST_LIMIT = 200


class HomeScreen(Screen):
    tab = StringProperty("drafts")
    counts = DictProperty({"drafts": 0, "waiting": 0, "sent": 0, "updated": 0})
    alert_text = StringProperty("")  # the newest unread alert's headline ("" hides the banner)
    alert_id = NumericProperty(0)

    def on_pre_enter(self, *args: object) -> None:
        self.refresh()

    def prepare(self, tab: str | None = None) -> None:
        if tab:
            self.tab = tab

    def on_tab(self, *_: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        app = App.get_running_app()
        if app.session.store is None:
            return
        c = app.session.reports.counts()
        self.counts = {"drafts": c.drafts, "waiting": c.waiting, "sent": c.sent, "updated": c.updated_by_hq}
        self._show_alert(app)
        self._fill(app)

    def _show_alert(self, app: App) -> None:
        unread = alerts.unread(app.session.store)
        self.alert_id = unread[0]["id"] if unread else 0
        more = f"  (+{len(unread) - 1})" if len(unread) > 1 else ""
        self.alert_text = shape(alerts.headline(unread[0]) + more) if unread else ""

    def read_alert(self) -> None:
        """The user opened the banner: this alert is read here; the next one (if any) shows."""
        app = App.get_running_app()
        if self.alert_id and app.session.store is not None:
            alerts.mark_read(app.session.store, int(self.alert_id))
            self._show_alert(app)

    def tab_text(self, tab: str, lang: str, counts: dict[str, int]) -> str:
        # Compose in logical order, then shape once: the count lands at the end in Arabic too.
        return shape(f"{gettext(TABS[tab], lang)} ({counts.get(tab, 0)})")

    def _rows(self, app: App) -> list[tuple[str, str, str]]:
        """(report id, text, target) for the current tab; target is "form" for drafts, "detail" otherwise."""
        lang = app.lang
        if self.tab == "drafts":
            return [
                (d.report_id, shape(f"{gettext(KIND_TITLES[d.kind], lang)} — {d.fields.get('title') or '…'}"
                                    f"  ({d.updated_at[:16].replace('T', ' ')})"), "form")
                for d in app.session.drafts.list_drafts()
            ]
        rows = []
        for r in app.session.reports.latest(LIST_LIMIT):
            if self.tab == "waiting" and r.status not in ("waiting", "rejected"):
                continue
            if self.tab == "sent" and r.status != "sent":
                continue
            if self.tab == "updated" and not r.hq_updated:
                continue
            review = gettext(REVIEW_TEXT[r.review_status], lang) if r.review_status in REVIEW_TEXT else ""
            text = f"{gettext(KIND_TITLES.get(r.kind, r.kind), lang)} — {r.title or '…'}"
            if review:
                text += f"  [{review}]"
            if r.status == "rejected":
                text += f"  [{gettext(N_('refused by the server'), lang)}]"
            rows.append((r.report_id, shape(text), "detail"))
        return rows

    def _fill(self, app: App) -> None:
        box = self.ids.rows
        box.clear_widgets()
        rows = self._rows(app)
        for index, (report_id, text, target) in enumerate(rows):
            button = Btn(text=text, pw_id=f"row_{index}", background_color=(0.15, 0.15, 0.15, 1),
                         color=(1, 1, 1, 1), bold=False, halign=app.halign)
            button.bind(on_release=lambda _b, rid=report_id, tgt=target: self.open(rid, tgt))
            box.add_widget(button)
        self.ids.empty.text = "" if rows else app.t("Nothing here.", app.lang)

    def open(self, report_id: str, target: str) -> None:
        app = App.get_running_app()
        if target == "form":
            app.go("form", report_id=report_id)
        else:
            app.go("detail", report_id=report_id)


SCREEN = HomeScreen
HomeScreen.on_language = HomeScreen.refresh  # type: ignore[attr-defined]
