"""The report form: editors built from ``forms.FormModel``'s field specs; every change saves the draft.

No field is written by hand here: each :class:`~peacewatch.mobile.ui.forms.FieldSpec` gets the
editor its ``editor`` kind names. Problems appear under their field in plain words as the user
types (only for fields already touched; every field after pressing "Finish"). GPS comes from plyer
where the platform has it; photo and voice note from plyer's camera and audio, with a file chooser
where those are missing (desktop).
"""

from __future__ import annotations

import json
import mimetypes
import threading
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.filechooser import FileChooserListView
from kivy.uix.gridlayout import GridLayout
from kivy.uix.popup import Popup
from kivy.uix.screenmanager import Screen

from peacewatch.mobile.core.attachments import Attachments
from peacewatch.mobile.core.errors import StorageFull
from peacewatch.mobile.core.location import current_fix
from peacewatch.mobile.ui.forms import (
    KIND_TITLES,
    FieldSpec,
    FormModel,
    location_display,
    location_text,
    time_display,
)
from peacewatch.mobile.ui.widgets import ORANGE, Btn, Field, Row, Toggle, Txt

INLINE_CHOICES = 5  # more options than this open a picker instead of a row of buttons
GPS_TIMEOUT_S = 20.0


class FormScreen(Screen):
    heading = StringProperty("")
    status = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model: FormModel | None = None
        self.texts: dict[str, Field] = {}
        self.displays: dict[str, Txt] = {}
        self.errors: dict[str, Txt] = {}
        self.toggles: dict[str, list[Any]] = {}
        self._discard_armed = False
        App.get_running_app().bind(lang=lambda *_: self._relabel())

    # ----- building ------------------------------------------------------------------------
    def prepare(self, report_id: str) -> None:
        app = App.get_running_app()
        draft = app.session.drafts.load_draft(report_id)
        self.model = FormModel(report_id, draft.kind, app.lang, dict(draft.fields), save=self._save)
        self.status = ""
        self._discard_armed = False
        self.build_fields()

    def _relabel(self) -> None:
        if self.model is not None:
            self.model.set_language(App.get_running_app().lang)
            self.build_fields()

    def build_fields(self) -> None:
        app = App.get_running_app()
        model = self.model
        assert model is not None
        self.heading = app.t(KIND_TITLES[model.kind], app.lang)
        box = self.ids.fields
        box.clear_widgets()
        self.texts, self.displays, self.errors, self.toggles = {}, {}, {}, {}
        for spec in model.specs:
            box.add_widget(self._field_box(spec))
        general = Txt(pw_id="error:", color=ORANGE)
        self.errors[""] = general
        box.add_widget(general)
        self.refresh()

    def _field_box(self, spec: FieldSpec) -> BoxLayout:
        app = App.get_running_app()
        box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=dp(4), padding=(0, dp(6)))
        box.bind(minimum_height=box.setter("height"))
        box.add_widget(Txt(text=app.shape(spec.title + (" *" if spec.required else "")), bold=True,
                           pw_id=f"label:{spec.name}"))
        if spec.description:
            box.add_widget(Txt(text=app.shape(spec.description), font_size="15sp", color=(0.8, 0.8, 0.8, 1)))
        builder = getattr(self, f"_editor_{spec.editor}", self._editor_text)
        builder(spec, box)
        error = Txt(pw_id=f"error:{spec.name}", color=ORANGE, font_size="17sp")
        self.errors[spec.name] = error
        box.add_widget(error)
        return box

    def _bind_text(self, field: Field, spec: FieldSpec, initial: str) -> None:
        field.text = initial
        field.bind(text=lambda _w, text, name=spec.name: self._typed(name, text))
        self.texts[spec.name] = field

    def _editor_text(self, spec: FieldSpec, box: BoxLayout) -> None:
        field = Field(pw_id=f"field:{spec.name}", multiline=spec.editor in ("multiline", "route", "json"))
        value = self.model.fields.get(spec.name) if self.model else None
        if spec.editor == "json" and value is not None and not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False)
        self._bind_text(field, spec, "" if value is None else str(value))
        box.add_widget(field)

    _editor_multiline = _editor_text
    _editor_json = _editor_text

    def _editor_integer(self, spec: FieldSpec, box: BoxLayout) -> None:
        field = Field(pw_id=f"field:{spec.name}", input_filter="int")
        value = self.model.fields.get(spec.name) if self.model else None
        self._bind_text(field, spec, "" if value is None else str(value))
        box.add_widget(field)

    def _editor_number(self, spec: FieldSpec, box: BoxLayout) -> None:
        field = Field(pw_id=f"field:{spec.name}", input_filter="float")
        value = self.model.fields.get(spec.name) if self.model else None
        self._bind_text(field, spec, "" if value is None else str(value))
        box.add_widget(field)

    def _editor_route(self, spec: FieldSpec, box: BoxLayout) -> None:
        field = Field(pw_id=f"field:{spec.name}", multiline=True,
                      hint_text=App.get_running_app().t("One position per line (MGRS or lat, lon)", self.model.lang))
        points = self.model.fields.get(spec.name) or []
        text = "\n".join(f"{p['lat']}, {p['lon']}" for p in points if isinstance(p, dict) and "lat" in p)
        self._bind_text(field, spec, text)
        box.add_widget(field)

    def _editor_datetime(self, spec: FieldSpec, box: BoxLayout) -> None:
        app = App.get_running_app()
        row = Row(size_hint_y=None, height=dp(56))
        field = Field(pw_id=f"field:{spec.name}", hint_text="2026-11-24T15:30Z / 241530ZNOV26")
        self._bind_text(field, spec, str(self.model.fields.get(spec.name) or ""))
        now = Btn(text=app.t("Now", app.lang), size_hint_x=None, width=dp(110), pw_id=f"now:{spec.name}")
        now.bind(on_release=lambda *_: self._set_now(spec.name))
        row.add_widget(field)
        row.add_widget(now)
        box.add_widget(row)
        shown = Txt(pw_id=f"display:{spec.name}", color=(0.75, 0.9, 1, 1))
        self.displays[spec.name] = shown
        box.add_widget(shown)

    def _editor_location(self, spec: FieldSpec, box: BoxLayout) -> None:
        app = App.get_running_app()
        row = Row(size_hint_y=None, height=dp(56))
        field = Field(pw_id=f"field:{spec.name}", hint_text=app.t("MGRS (36N UL 44753 36243) or lat, lon", app.lang))
        self._bind_text(field, spec, location_text(self.model.fields.get(spec.name)))
        gps = Btn(text="GPS", size_hint_x=None, width=dp(110), pw_id=f"gps:{spec.name}")
        gps.bind(on_release=lambda *_: self._gps(spec.name))
        # Pick the position on the offline map (screens/map.py writes it back into this field).
        on_map = Btn(text=app.t("Map", app.lang), size_hint_x=None, width=dp(110), pw_id=f"map:{spec.name}")
        on_map.bind(on_release=lambda *_: app.go("map", pick_for=spec.name))
        row.add_widget(field)
        row.add_widget(gps)
        row.add_widget(on_map)
        box.add_widget(row)
        shown = Txt(pw_id=f"display:{spec.name}", color=(0.75, 0.9, 1, 1))
        self.displays[spec.name] = shown
        box.add_widget(shown)

    def _choice_row(self, spec: FieldSpec, current: Any, on_pick: Any, prefix: str) -> BoxLayout:
        app = App.get_running_app()
        if len(spec.choices) <= INLINE_CHOICES or spec.editor == "scale":
            grid = GridLayout(cols=min(len(spec.choices), 5), size_hint_y=None, spacing=dp(6),
                              orientation="rl-tb" if app.rtl else "lr-tb")
            grid.bind(minimum_height=grid.setter("height"))
            toggles = []
            for value, label in spec.choices:
                toggle = Toggle(text=app.shape(label), value=str(value), pw_id=f"{prefix}={value}",
                                state="down" if current == value else "normal")
                toggle.bind(on_release=lambda t, v=value: on_pick(v))
                toggles.append(toggle)
                grid.add_widget(toggle)
            self.toggles[prefix] = toggles
            return grid
        labels = dict(spec.choices)
        picker = Btn(pw_id=f"pick:{prefix}", text=app.shape(str(labels.get(current, app.t("Choose…", app.lang)))),
                     background_color=(0.0, 0.35, 0.8, 1), color=(1, 1, 1, 1))
        picker.bind(on_release=lambda *_: self._open_picker(spec, on_pick, prefix))
        self.toggles[prefix] = [picker]
        return picker

    def _editor_choice(self, spec: FieldSpec, box: BoxLayout) -> None:
        box.add_widget(self._choice_row(spec, self.model.fields.get(spec.name),
                                        lambda v, n=spec.name: self._pick(n, v), spec.name))

    _editor_scale = _editor_choice

    def _open_picker(self, spec: FieldSpec, on_pick: Any, prefix: str) -> None:
        app = App.get_running_app()
        grid = GridLayout(cols=1, size_hint_y=None, spacing=dp(4))
        grid.bind(minimum_height=grid.setter("height"))
        from kivy.uix.scrollview import ScrollView

        scroll = ScrollView()
        scroll.add_widget(grid)
        popup = Popup(title=app.shape(spec.title), content=scroll, size_hint=(0.9, 0.9), title_size="22sp")
        for value, label in spec.choices:
            button = Btn(text=app.shape(label), pw_id=f"choice:{prefix}={value}", halign=app.halign)
            button.bind(on_release=lambda _b, v=value: (popup.dismiss(), on_pick(v)))
            grid.add_widget(button)
        popup.open()

    def _editor_boolean(self, spec: FieldSpec, box: BoxLayout) -> None:
        app = App.get_running_app()
        on = bool(self.model.fields.get(spec.name, spec.default))
        toggle = Toggle(text=app.t("Yes", app.lang) if on else app.t("No", app.lang), pw_id=f"field:{spec.name}",
                        state="down" if on else "normal")

        def flip(t: Toggle) -> None:
            value = t.state == "down"
            t.text = app.t("Yes", app.lang) if value else app.t("No", app.lang)
            self._pick(spec.name, value)

        toggle.bind(on_release=flip)
        box.add_widget(toggle)

    def _editor_counts(self, spec: FieldSpec, box: BoxLayout) -> None:
        app = App.get_running_app()
        grid = GridLayout(cols=4 if self.width > dp(700) else 2, size_hint_y=None, spacing=dp(6),
                          row_default_height=dp(56), row_force_default=True,
                          orientation="rl-tb" if app.rtl else "lr-tb")
        grid.bind(minimum_height=grid.setter("height"))
        counts = self.model.fields.get(spec.name) or {}
        for part in spec.parts:
            cell = BoxLayout(orientation="vertical", size_hint_y=None, height=dp(56))
            field = Field(pw_id=f"field:{spec.name}.{part.name}", input_filter="int",
                          hint_text=app.shape(part.title))
            value = counts.get(part.name) if isinstance(counts, dict) else None
            field.text = "" if value in (None, 0) else str(value)
            field.bind(text=lambda _w, text, p=part.name: self._typed_part(spec.name, p, text))
            cell.add_widget(field)
            grid.add_widget(Txt(text=app.shape(part.title), height=dp(56)))
            grid.add_widget(cell)
        box.add_widget(grid)

    def _editor_people(self, spec: FieldSpec, box: BoxLayout) -> None:
        app = App.get_running_app()
        people = self.model.fields.get(spec.name) or []
        for index, person in enumerate(people if isinstance(people, list) else []):
            card = BoxLayout(orientation="vertical", size_hint_y=None, spacing=dp(4), padding=dp(6))
            card.bind(minimum_height=card.setter("height"))
            for part in spec.parts:
                prefix = f"{spec.name}.{index}.{part.name}"
                if part.editor == "choice":
                    card.add_widget(Txt(text=app.shape(part.title)))
                    card.add_widget(self._choice_row(
                        part, person.get(part.name, part.default),
                        lambda v, i=index, p=part.name: self._person(spec.name, i, p, v), prefix))
                elif part.editor == "boolean":
                    on = bool(person.get(part.name, part.default))
                    toggle = Toggle(text=app.shape(part.title), pw_id=f"field:{prefix}", state="down" if on else "normal")
                    toggle.bind(on_release=lambda t, i=index, p=part.name: self._person(spec.name, i, p, t.state == "down"))
                    card.add_widget(toggle)
                else:
                    field = Field(pw_id=f"field:{prefix}", hint_text=app.shape(part.title),
                                  input_filter="int" if part.editor == "integer" else None)
                    value = person.get(part.name)
                    field.text = "" if value is None else str(value)
                    field.bind(text=lambda _w, text, i=index, p=part.name: self._person(spec.name, i, p, text or None))
                    card.add_widget(Txt(text=app.shape(part.title)))
                    card.add_widget(field)
            remove = Btn(text=app.t("Remove this person", app.lang), pw_id=f"remove:{spec.name}.{index}",
                         background_color=(0.5, 0.1, 0.1, 1), color=(1, 1, 1, 1))
            remove.bind(on_release=lambda *_, i=index: self._people_changed(lambda: self.model.remove_person(spec.name, i)))
            card.add_widget(remove)
            box.add_widget(card)
        add = Btn(text=app.t("Add a person", app.lang), pw_id=f"add:{spec.name}")
        add.bind(on_release=lambda *_: self._people_changed(lambda: self.model.add_person(spec.name)))
        box.add_widget(add)

    def _editor_attachments(self, spec: FieldSpec, box: BoxLayout) -> None:
        app = App.get_running_app()
        for item in self.model.fields.get(spec.name) or []:
            if isinstance(item, dict):
                box.add_widget(Txt(text=f"• {item.get('name')} ({item.get('size', 0) // 1024} KiB)"))
        row = Row(size_hint_y=None, height=dp(56))
        photo = Btn(text=app.t("Photo", app.lang), pw_id="attach:photo")
        photo.bind(on_release=lambda *_: self._photo(spec.name))
        voice = Btn(text=app.t("Voice note", app.lang), pw_id="attach:voice")
        voice.bind(on_release=lambda *_: self._voice(spec.name))
        choose = Btn(text=app.t("Choose a file", app.lang), pw_id="attach:file")
        choose.bind(on_release=lambda *_: self._choose_file(spec.name))
        for button in (photo, voice, choose):
            row.add_widget(button)
        box.add_widget(row)

    # ----- input ---------------------------------------------------------------------------
    def _save(self, fields: dict[str, Any]) -> None:
        app = App.get_running_app()
        try:
            app.session.drafts.save_draft(self.model.report_id, self.model.kind, fields)
            self.status = app.t("Saved", app.lang)
        except StorageFull:
            self.status = app.t("The tablet is full: this change was NOT saved. Free some space.", app.lang)

    def _typed(self, name: str, text: str) -> None:
        self.model.set_text(name, text)
        self.refresh()

    def _typed_part(self, name: str, part: str, text: str) -> None:
        self.model.set_part(name, part, text)
        self.refresh()

    def _pick(self, name: str, value: Any) -> None:
        self.model.set_value(name, value)
        self.refresh()

    def _person(self, name: str, index: int, part: str, value: Any) -> None:
        self.model.set_person(name, index, part, value)
        self.refresh()

    def _people_changed(self, change: Any) -> None:
        change()
        self.build_fields()

    def _set_now(self, name: str) -> None:
        from peacewatch.common.timefmt import to_iso, utcnow

        self.texts[name].text = to_iso(utcnow().replace(microsecond=0))

    def _gps(self, name: str) -> None:
        app = App.get_running_app()
        self.status = app.t("Waiting for a GPS fix…", app.lang)

        def work() -> None:
            fix = current_fix(GPS_TIMEOUT_S)
            Clock.schedule_once(lambda dt: self._gps_done(name, fix))

        threading.Thread(target=work, name="gps", daemon=True).start()

    def _gps_done(self, name: str, fix: Any) -> None:
        app = App.get_running_app()
        if fix is None:
            self.status = app.t("No GPS here: type the position as MGRS or lat, lon.", app.lang)
            return
        body = fix.as_body()
        body["mgrs"] = fix.mgrs
        self.model.set_gps(name, body)
        field = self.texts[name]
        field.text = location_text(body)
        self.refresh()

    def _add_file(self, name: str, path: str, media_type: str | None = None) -> None:
        app = App.get_running_app()
        media = media_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
        try:
            ref = Attachments(app.session.open_store).put_file(path, media_type=media, name=Path(path).name)
        except (OSError, StorageFull) as exc:
            self.status = app.t("Could not attach the file: {reason}", app.lang, reason=str(exc))
            return
        items = [i for i in self.model.fields.get(name) or [] if i.get("sha256") != ref.sha256]
        self.model.set_value(name, [*items, ref.as_body()])
        self.build_fields()

    def _photo(self, name: str) -> None:
        from plyer import camera

        target = str(App.get_running_app().user_data_dir) + "/photo.jpg"
        try:
            camera.take_picture(filename=target, on_complete=lambda path: Clock.schedule_once(
                lambda dt: self._add_file(name, path, "image/jpeg")))
        except NotImplementedError:  # no camera backend here (desktop): pick a file instead
            self._choose_file(name)

    def _voice(self, name: str) -> None:
        app = App.get_running_app()
        from plyer import audio

        if getattr(self, "_recording", False):
            audio.stop()
            self._recording = False
            self._add_file(name, audio.file_path, "audio/3gpp")
            return
        try:
            audio.file_path = str(app.user_data_dir) + "/voice-note.3gp"
            audio.start()
        except NotImplementedError:  # no recorder backend here (desktop): pick a file instead
            self._choose_file(name)
            return
        self._recording = True
        self.status = app.t("Recording… press Voice note again to stop.", app.lang)

    def _choose_file(self, name: str) -> None:
        app = App.get_running_app()
        chooser = FileChooserListView(path=str(Path.home()))
        content = BoxLayout(orientation="vertical", spacing=dp(6))
        content.add_widget(chooser)
        row = Row(size_hint_y=None, height=dp(56))
        popup = Popup(title=app.t("Choose a file", app.lang), content=content, size_hint=(0.95, 0.95))
        ok = Btn(text=app.t("Attach", app.lang), pw_id="file_ok")
        ok.bind(on_release=lambda *_: (popup.dismiss(), chooser.selection and self._add_file(name, chooser.selection[0])))
        cancel = Btn(text=app.t("Cancel", app.lang), pw_id="file_cancel")
        cancel.bind(on_release=lambda *_: popup.dismiss())
        row.add_widget(ok)
        row.add_widget(cancel)
        content.add_widget(row)
        popup.open()

    # ----- display -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Update the live displays, choice states and problem texts (widgets are kept, focus too)."""
        model = self.model
        if model is None:
            return
        app = App.get_running_app()
        for name, label in self.displays.items():
            value = model.fields.get(name)
            spec = model.by_name[name]
            label.text = time_display(value) if spec.editor == "datetime" else location_display(value)
        for prefix, toggles in self.toggles.items():
            value = self._value_at(prefix)
            for toggle in toggles:
                if isinstance(toggle, Toggle):
                    toggle.state = "down" if toggle.value == str(value) else "normal"
                else:
                    spec = model.by_name.get(prefix)
                    if spec is not None:
                        toggle.text = app.shape(str(dict(spec.choices).get(value, app.t("Choose…", app.lang))))
        problems = model.problems()
        for name, label in self.errors.items():
            label.text = app.shape("\n".join(problems.get(name, [])))

    def _value_at(self, prefix: str) -> Any:
        parts = prefix.split(".")
        value: Any = self.model.fields.get(parts[0])
        if len(parts) == 3 and isinstance(value, list) and int(parts[1]) < len(value):
            return value[int(parts[1])].get(parts[2])
        return value if len(parts) == 1 else None

    def finish(self) -> None:
        app = App.get_running_app()
        result = app.session.reports.finalise(self.model.report_id)
        if not result.ok:
            self.model.show_all_problems()
            self.refresh()
            self.status = app.t("Some fields need attention (marked below).", app.lang)
            return
        app.go("home", tab="waiting")
        app.start_sync()

    def discard(self) -> None:
        app = App.get_running_app()
        if not self._discard_armed:
            # Two taps: a stray touch in a bouncing vehicle must not throw a report away.
            self._discard_armed = True
            self.status = app.t("Tap Delete draft again to delete it.", app.lang)
            return
        app.session.drafts.discard(self.model.report_id)
        app.go("home")


SCREEN = FormScreen
