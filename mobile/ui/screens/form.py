"""The report form screen: renders a :class:`~peacewatch.mobile.core.form_model.FormModel`.

The model decides (sections, which field blocks finishing, which are locked); editor widgets come
from ``ui.editors`` (one builder per editor kind) and GPS, camera, voice and files from
``ui.capture``. This screen lays them out, keeps problems under their fields in the error colour,
and on a blocked finish lists every missing field as a link and brings the first one into view
with the focus on it. Every change saves the draft.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.popup import Popup
from kivy.uix.screenmanager import Screen
from kivy.uix.textinput import TextInput

from peacewatch.common.i18n import N_
from peacewatch.mobile.core import tasks
from peacewatch.mobile.core.errors import StorageFull
from peacewatch.mobile.core.form_model import SECTION_TITLES, FormModel
from peacewatch.mobile.ui.capture import MediaCapture
from peacewatch.mobile.ui.editors import EditorContext, FormWidgets, field_box
from peacewatch.mobile.ui.forms import KIND_TITLES, location_display, time_display
from peacewatch.mobile.ui.widgets import ERROR, Btn, Txt

BLOCKED = N_("This report cannot be sent yet: {count} fields need attention.")
MISSING_HEADING = N_("Still needed (tap to go there):")
PHOTO_POSITION = N_("This photo says it was taken in grid square {grid}. Use this position for the report?")


class FormScreen(Screen):
    heading = StringProperty("")
    status = StringProperty("")
    status_error = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = App.get_running_app()
        self.model: FormModel | None = None
        self.widgets = FormWidgets()
        self.summary: BoxLayout | None = None
        self._discard_armed = False
        self.capture = MediaCapture(self.app, say=self.say, attach=self._attached,
                                    confidentiality=lambda: str((self.model.fields if self.model else {})
                                                                .get("confidentiality", "mission")),
                                    offer_position=self._offer_position)
        self.app.bind(lang=lambda *_: self._relabel())

    def say(self, text: str, error: bool = False) -> None:
        self.status_error = error
        self.status = text

    # ----- building ------------------------------------------------------------------------
    def prepare(self, report_id: str) -> None:
        session = self.app.session
        draft = session.drafts.load_draft(report_id)
        self.model = FormModel(report_id, draft.kind, self.app.lang, dict(draft.fields), save=self._save,
                               enrolment=session.enrolment, role=session.setting("role"))
        self.say("")
        self._discard_armed = False
        self.build_fields()
        self.ids.scroll.scroll_y = 1

    def _relabel(self) -> None:
        # A locked app (PIN screen) has no form to relabel; prepare() builds it in the new language.
        if self.model is not None and self.app.session.store is not None:
            self.model.set_language(self.app.lang)
            self.build_fields()

    def build_fields(self) -> None:
        app, model = self.app, self.model
        assert model is not None
        self.heading = app.t(KIND_TITLES[model.kind], app.lang)
        box = self.ids.fields
        box.clear_widgets()
        self.widgets = FormWidgets()
        self.summary = BoxLayout(orientation="vertical", size_hint_y=None, spacing=dp(4))
        self.summary.bind(minimum_height=self.summary.setter("height"))
        box.add_widget(self.summary)
        ctx = EditorContext(app=app, model=model, widgets=self.widgets, refresh=self.refresh,
                            rebuild=self.build_fields, capture=self.capture, width=self.width)
        for section, specs in model.sections():
            box.add_widget(Txt(text=app.t(SECTION_TITLES[section], app.lang), bold=True, font_size="22sp",
                               color=(1.0, 0.84, 0.0, 1), pw_id=f"section:{section}"))
            for spec in specs:
                box.add_widget(field_box(ctx, spec))
        general = Txt(pw_id="error:", color=ERROR, bold=True)
        self.widgets.errors[""] = general
        box.add_widget(general)
        self.refresh()
        if model.show_all:
            self._fill_summary()

    def _attached(self, name: str, body: dict[str, Any]) -> None:
        assert self.model is not None
        items = [i for i in self.model.fields.get(name) or [] if i.get("sha256") != body["sha256"]]
        self.model.set_value(name, [*items, body])
        self.build_fields()

    def _offer_position(self, lat: float, lon: float) -> None:
        """A photo carries a position: offer it for the report's location (never applied silently)."""
        app, model = self.app, self.model
        if model is None or "location" not in model.by_name:
            return
        from peacewatch.common.coords import to_mgrs
        from peacewatch.mobile.core.location import Location
        from peacewatch.mobile.ui.text import isolate

        grid = to_mgrs(lat, lon, 4)
        content = BoxLayout(orientation="vertical", spacing=dp(8), padding=dp(8))
        content.add_widget(Txt(text=app.t(PHOTO_POSITION, app.lang, grid=isolate(grid)), pw_id="photo_position"))
        row = BoxLayout(size_hint_y=None, height=dp(56), spacing=dp(8))
        popup = Popup(title=app.t("Photo", app.lang), content=content, size_hint=(0.9, 0.5), title_size="22sp")

        def use(*_: object) -> None:
            popup.dismiss()
            # Where the camera was, as the photo says: no accuracy is claimed for it.
            body = Location(lat, lon, None, "latlon", to_mgrs(lat, lon)).as_body()
            model.set_value("location", body)
            self.build_fields()

        yes = Btn(text=app.t("Use this position", app.lang), pw_id="use_photo_position")
        yes.bind(on_release=use)
        no = Btn(text=app.t("Keep the report's position", app.lang), pw_id="keep_position",
                 background_color=(0.3, 0.3, 0.3, 1), color=(1, 1, 1, 1))
        no.bind(on_release=lambda *_: popup.dismiss())
        row.add_widget(yes)
        row.add_widget(no)
        content.add_widget(row)
        popup.open()

    # ----- input ---------------------------------------------------------------------------
    def _save(self, fields: dict[str, Any]) -> None:
        app = self.app
        try:
            app.session.drafts.save_draft(self.model.report_id, self.model.kind, fields)
            self.say(app.t("Saved", app.lang))
        except StorageFull:
            self.say(app.t("The tablet is full: this change was NOT saved. Free some space.", app.lang), True)

    # ----- display -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Update live displays, choice states and problem texts (widgets are kept, focus too)."""
        model, app = self.model, self.app
        if model is None:
            return
        for name, label in self.widgets.displays.items():
            if name.startswith("fix:"):
                continue
            value = model.fields.get(name)
            spec = model.by_name[name]
            shown = time_display(value) if spec.editor == "datetime" else location_display(value, app.lang)
            label.text = app.shape(shown)
        for prefix, toggles in self.widgets.toggles.items():
            value = self._value_at(prefix)
            for toggle in toggles:
                if hasattr(toggle, "value"):
                    toggle.state = "down" if toggle.value == str(value) else "normal"
                else:
                    spec = model.by_name.get(prefix)
                    if spec is not None:
                        toggle.text = app.shape(str(dict(spec.choices).get(value, app.t("Choose…", app.lang))))
        problems = model.problems()
        for name, label in self.widgets.errors.items():
            label.text = app.shape("\n".join(problems.get(name, [])))
        if model.show_all:
            self._fill_summary()

    def _value_at(self, prefix: str) -> Any:
        parts = prefix.split(".")
        value: Any = self.model.fields.get(parts[0])
        if len(parts) == 3 and isinstance(value, list) and int(parts[1]) < len(value):
            return value[int(parts[1])].get(parts[2])
        return value if len(parts) == 1 else None

    def _fill_summary(self) -> None:
        """Every field that blocks finishing, as a link to it (empty once nothing blocks)."""
        app, model, summary = self.app, self.model, self.summary
        if summary is None or model is None:
            return
        summary.clear_widgets()
        blocking = [name for name, _ in model.blocking() if name]
        if not blocking:
            return
        summary.add_widget(Txt(text=app.t(MISSING_HEADING, app.lang), color=ERROR, bold=True, pw_id="missing"))
        for name in blocking:
            link = Btn(text=app.shape(model.by_name[name].title), pw_id=f"goto:{name}", halign=app.halign,
                       background_color=(0.35, 0.05, 0.05, 1), color=(1, 1, 1, 1))
            link.bind(on_release=lambda *_, n=name: self.go_to(n))
            summary.add_widget(link)

    def go_to(self, name: str) -> None:
        """Bring field ``name`` into view and put the focus on it (after the layout settled)."""
        box = self.widgets.boxes.get(name)
        if box is None:
            return

        def scroll(_dt: float) -> None:
            self.ids.scroll.scroll_to(box, padding=dp(12), animate=False)
            target = self.widgets.focusable.get(name)
            if isinstance(target, TextInput):
                target.focus = True

        # Two frames: the summary just grew, and scroll_to needs the final positions.
        Clock.schedule_once(lambda dt: Clock.schedule_once(scroll, 0), 0)

    def finish(self) -> None:
        app, model = self.app, self.model
        assert model is not None
        blocking = model.blocking()
        if not blocking:
            result = app.session.reports.finalise(model.report_id)
            if result.ok:
                tasks.report_finished(app.session.open_store, model.report_id)
                app.go("home", tab="waiting")
                app.start_sync()
                return
        model.show_all_problems()
        self.refresh()
        blocking = model.blocking() or [("", [])]
        self.say(app.t(BLOCKED, app.lang, count=len(blocking)), True)
        first = next((name for name, _ in blocking if name), None)
        if first is not None:
            self.go_to(first)

    def discard(self) -> None:
        app = self.app
        if not self._discard_armed:
            # Two taps: a stray touch in a bouncing vehicle must not throw a report away.
            self._discard_armed = True
            self.say(app.t("Tap Delete draft again to delete it.", app.lang), True)
            return
        app.session.drafts.discard(self.model.report_id)
        app.go("home")


SCREEN = FormScreen
