"""Home: drafts, the outbox, sent reports, HQ's updates and requests on them, and the contingent's reports.

HQ's word comes first: "Updated by HQ" lists only the user's own reports, HQ's requests for more
information are a to-do list with a badge in the header (cleared when the user files the edit),
and the reports of others the tablet received go to a separate, paged "Contingent" list. Every
list is paged in SQL (``Reports.listing``), so thousands of pulled reports cost one page.
"""

from __future__ import annotations

from kivy.app import App
from kivy.properties import DictProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from peacewatch.common.i18n import N_, gettext
from peacewatch.mobile.core import alerts, tasks
from peacewatch.mobile.ui.forms import KIND_TITLES
from peacewatch.mobile.ui.text import isolate, shape
from peacewatch.mobile.ui.widgets import Btn

TABS = {
    "drafts": N_("Drafts"),
    "waiting": N_("Outbox (waiting)"),
    "sent": N_("Sent"),
    "updated": N_("Updated by HQ"),
    "todo": N_("HQ requests"),
    "contingent": N_("Contingent"),
}
REVIEW_TEXT = {
    "verified": N_("verified by HQ"),
    "rejected": N_("rejected by HQ"),
    "unreviewed": N_("not yet reviewed"),
    "needs_information": N_("HQ needs more information"),
}
BADGE = N_("HQ asks about {count} of your reports")
PAGE = N_("Page {page} of {pages}")
PAGE_SIZE = 50


class HomeScreen(Screen):
    tab = StringProperty("drafts")
    page = NumericProperty(0)
    counts = DictProperty({tab: 0 for tab in TABS})
    alert_text = StringProperty("")  # the newest unread alert's headline ("" hides the banner)
    alert_id = NumericProperty(0)
    task_count = NumericProperty(0)  # tasks still to do (the "My tasks" button)

    def on_pre_enter(self, *args: object) -> None:
        self.refresh()

    def prepare(self, tab: str | None = None) -> None:
        if tab:
            self.tab = tab

    def on_tab(self, *_: object) -> None:
        self.page = 0
        self.refresh()

    def refresh(self) -> None:
        app = App.get_running_app()
        if app.session.store is None:
            return
        c = app.session.reports.counts()
        self.counts = {"drafts": c.drafts, "waiting": c.waiting, "sent": c.sent, "updated": c.updated_by_hq,
                       "todo": c.todo, "contingent": c.contingent}
        self.task_count = len(tasks.my_tasks(app.session.store))
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
        return shape(f"{gettext(TABS[tab], lang)} ({isolate(str(counts.get(tab, 0)))})")

    def badge_text(self, lang: str, counts: dict[str, int]) -> str:
        todo = counts.get("todo", 0)
        return App.get_running_app().t(BADGE, lang, count=isolate(str(todo))) if todo else ""

    @staticmethod
    def has_todo(counts: dict[str, int]) -> bool:
        # ``counts`` is an argument so the .kv rule re-runs when it changes (a chained
        # ``root.counts.get`` is not observed).
        return counts.get("todo", 0) > 0

    def pages(self) -> int:
        return max(1, -(-self.counts.get(self.tab, 0) // PAGE_SIZE))

    def paged(self, tab: str, counts: dict[str, int]) -> bool:
        """Whether the list needs page buttons (arguments so the .kv rule re-runs when they change)."""
        return tab != "drafts" and counts.get(tab, 0) > PAGE_SIZE

    def turn(self, step: int) -> None:
        self.page = min(max(0, self.page + step), self.pages() - 1)
        self._fill(App.get_running_app())

    def _rows(self, app: App) -> list[tuple[str, str, str]]:
        """(report id, text, target) for the current tab and page; target "form" for drafts, else "detail"."""
        lang = app.lang
        if self.tab == "drafts":
            return [
                (d.report_id, shape(f"{gettext(KIND_TITLES[d.kind], lang)} — {d.fields.get('title') or '…'}"
                                    f"  ({isolate(d.updated_at[:16].replace('T', ' '))})"), "form")
                for d in app.session.drafts.list_drafts()
            ]
        rows = []
        for r in app.session.reports.listing(self.tab, PAGE_SIZE, self.page * PAGE_SIZE):
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
        paged = self.paged(self.tab, self.counts)
        self.ids.page_label.text = (app.t(PAGE, app.lang, page=isolate(str(self.page + 1)),
                                          pages=isolate(str(self.pages()))) if paged else "")
        self.ids.page_prev.disabled = not paged or self.page == 0
        self.ids.page_next.disabled = not paged or self.page >= self.pages() - 1

    def open(self, report_id: str, target: str) -> None:
        app = App.get_running_app()
        if target == "form":
            app.go("form", report_id=report_id)
        else:
            app.go("detail", report_id=report_id)


SCREEN = HomeScreen
HomeScreen.on_language = HomeScreen.refresh  # type: ignore[attr-defined]
