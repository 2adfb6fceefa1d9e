"""The form's editor widgets: one builder per editor kind a :class:`FieldSpec` names.

The registry :data:`EDITORS` maps each kind (``text``, ``choice``, ``location``...) to the function
that builds its widgets; the screen looks kinds up there (an unknown kind gets a text box). A
builder only creates widgets and wires them to the :class:`~peacewatch.mobile.core.form_model.FormModel`
through an :class:`EditorContext`; what is valid, what is next and what blocks finishing stay in
the model. Widgets the screen refreshes later (text boxes, live displays, toggles, problem labels,
each field's box for scrolling to it) are collected in :class:`FormWidgets`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.popup import Popup
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from peacewatch.common.i18n import N_
from peacewatch.mobile.core.form_model import FieldSpec, FormModel
from peacewatch.mobile.ui.forms import location_text
from peacewatch.mobile.ui.widgets import BLUE, ERROR, Btn, Field, Row, Toggle, Txt

INLINE_CHOICES = 5  # more options than this open a picker instead of a row of buttons
LOCKED_NOTE = N_("Filled from your enrolment.")
REQUIRED_NOTE = N_("Required")


@dataclass
class FormWidgets:
    """The widgets of one built form that the screen updates in place."""

    texts: dict[str, Field] = field(default_factory=dict)
    displays: dict[str, Txt] = field(default_factory=dict)
    errors: dict[str, Txt] = field(default_factory=dict)
    toggles: dict[str, list[Any]] = field(default_factory=dict)
    boxes: dict[str, BoxLayout] = field(default_factory=dict)  # a field's whole block, to scroll to
    focusable: dict[str, Widget] = field(default_factory=dict)  # what gets focus / is shown first


@dataclass
class EditorContext:
    """What a builder needs: the app (texts, direction), the model, and the screen's callbacks."""

    app: Any
    model: FormModel
    widgets: FormWidgets
    refresh: Callable[[], None]  # values changed: update displays and problems
    rebuild: Callable[[], None]  # the set of widgets changed (a person added, a file attached)
    capture: Any  # ui.capture.MediaCapture: GPS, camera, voice, files
    width: float

    def t(self, msgid: str, **params: object) -> str:
        return self.app.t(msgid, self.app.lang, **params)

    def changed(self, change: Callable[[], None]) -> None:
        change()
        self.refresh()


Builder = Callable[[EditorContext, FieldSpec, BoxLayout], None]


def field_box(ctx: EditorContext, spec: FieldSpec) -> BoxLayout:
    """A field's whole block: title (marked when required), description, editor, problem line."""
    app, model = ctx.app, ctx.model
    box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=dp(4), padding=(0, dp(6)))
    box.bind(minimum_height=box.setter("height"))
    title = spec.title + (f"  * ({ctx.t(REQUIRED_NOTE)})" if spec.required else "")
    box.add_widget(Txt(text=app.shape(title), bold=True, pw_id=f"label:{spec.name}"))
    if spec.description:
        box.add_widget(Txt(text=app.shape(spec.description), font_size="15sp", color=(0.8, 0.8, 0.8, 1)))
    if spec.name in model.locked:
        shown = Txt(text=app.shape(str(model.fields.get(spec.name, ""))), pw_id=f"field:{spec.name}",
                    font_size="20sp")
        box.add_widget(shown)
        box.add_widget(Txt(text=ctx.t(LOCKED_NOTE), font_size="15sp", color=(0.8, 0.8, 0.8, 1)))
    else:
        EDITORS.get(spec.editor, text_editor)(ctx, spec, box)
    error = Txt(pw_id=f"error:{spec.name}", color=ERROR, font_size="17sp", bold=True)
    ctx.widgets.errors[spec.name] = error
    box.add_widget(error)
    ctx.widgets.boxes[spec.name] = box
    return box


def _bind_text(ctx: EditorContext, text_box: Field, spec: FieldSpec, initial: str) -> None:
    text_box.text = initial
    text_box.bind(text=lambda _w, text, name=spec.name: ctx.changed(lambda: ctx.model.set_text(name, text)))
    ctx.widgets.texts[spec.name] = text_box
    ctx.widgets.focusable.setdefault(spec.name, text_box)


def text_editor(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    text_box = Field(pw_id=f"field:{spec.name}", multiline=spec.editor in ("multiline", "json"))
    value = ctx.model.fields.get(spec.name)
    if spec.editor == "json" and value is not None and not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    _bind_text(ctx, text_box, spec, "" if value is None else str(value))
    box.add_widget(text_box)


def number_editor(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    text_box = Field(pw_id=f"field:{spec.name}", input_filter="int" if spec.editor == "integer" else "float")
    value = ctx.model.fields.get(spec.name)
    _bind_text(ctx, text_box, spec, "" if value is None else str(value))
    box.add_widget(text_box)


def route_editor(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    text_box = Field(pw_id=f"field:{spec.name}", multiline=True,
                     hint_text=ctx.t("One position per line (MGRS or lat, lon)"))
    points = ctx.model.fields.get(spec.name) or []
    text = "\n".join(f"{p['lat']}, {p['lon']}" for p in points if isinstance(p, dict) and "lat" in p)
    _bind_text(ctx, text_box, spec, text)
    box.add_widget(text_box)


def _display(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    shown = Txt(pw_id=f"display:{spec.name}", color=(0.75, 0.9, 1, 1))
    ctx.widgets.displays[spec.name] = shown
    box.add_widget(shown)


def datetime_editor(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    row = Row(size_hint_y=None, height=dp(56))
    text_box = Field(pw_id=f"field:{spec.name}", hint_text="2026-11-24T15:30Z / 241530ZNOV26")
    _bind_text(ctx, text_box, spec, str(ctx.model.fields.get(spec.name) or ""))
    now = Btn(text=ctx.t("Now"), size_hint_x=None, width=dp(110), pw_id=f"now:{spec.name}")

    def set_now(*_: object) -> None:
        from peacewatch.common.timefmt import to_iso, utcnow

        text_box.text = to_iso(utcnow().replace(microsecond=0))

    now.bind(on_release=set_now)
    row.add_widget(text_box)
    row.add_widget(now)
    box.add_widget(row)
    _display(ctx, spec, box)


def location_editor(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    row = Row(size_hint_y=None, height=dp(56))
    example = ctx.capture.grid_example()
    text_box = Field(pw_id=f"field:{spec.name}", hint_text=ctx.t("MGRS ({example}) or lat, lon", example=example))
    _bind_text(ctx, text_box, spec, location_text(ctx.model.fields.get(spec.name)))
    gps = Btn(text="GPS", size_hint_x=None, width=dp(110), pw_id=f"gps:{spec.name}")

    def got_fix(body: dict[str, Any]) -> None:
        ctx.model.set_gps(spec.name, body)
        text_box.text = location_text(body)  # set_text keeps the GPS body: see FormModel.set_text
        ctx.refresh()

    gps.bind(on_release=lambda *_: ctx.capture.gps(got_fix))
    # Pick the position on the offline map (screens/map.py writes it back into this field).
    on_map = Btn(text=ctx.t("Map"), size_hint_x=None, width=dp(110), pw_id=f"map:{spec.name}")
    on_map.bind(on_release=lambda *_: ctx.app.go("map", pick_for=spec.name))
    row.add_widget(text_box)
    row.add_widget(gps)
    row.add_widget(on_map)
    box.add_widget(row)
    _display(ctx, spec, box)
    fix = Txt(pw_id=f"fix:{spec.name}", color=(0.75, 0.9, 1, 1), font_size="16sp")
    ctx.widgets.displays[f"fix:{spec.name}"] = fix
    box.add_widget(fix)


def choice_row(ctx: EditorContext, spec: FieldSpec, current: Any, on_pick: Callable[[Any], None],
               prefix: str) -> Widget:
    """Buttons for a short list (or a scale), a picker for a long one."""
    app = ctx.app
    if len(spec.choices) <= INLINE_CHOICES or spec.editor == "scale":
        grid = GridLayout(cols=min(len(spec.choices), 5), size_hint_y=None, spacing=dp(6),
                          orientation="rl-tb" if app.rtl else "lr-tb")
        grid.bind(minimum_height=grid.setter("height"))
        toggles = []
        for value, label in spec.choices:
            toggle = Toggle(text=app.shape(label), value=str(value), pw_id=f"{prefix}={value}",
                            state="down" if current == value else "normal")
            toggle.bind(on_release=lambda _t, v=value: on_pick(v))
            toggles.append(toggle)
            grid.add_widget(toggle)
        ctx.widgets.toggles[prefix] = toggles
        ctx.widgets.focusable.setdefault(prefix, grid)
        return grid
    labels = dict(spec.choices)
    picker = Btn(pw_id=f"pick:{prefix}", text=app.shape(str(labels.get(current, ctx.t("Choose…")))),
                 background_color=BLUE, color=(1, 1, 1, 1))
    picker.bind(on_release=lambda *_: open_picker(ctx, spec, on_pick, prefix))
    ctx.widgets.toggles[prefix] = [picker]
    ctx.widgets.focusable.setdefault(prefix, picker)
    return picker


def open_picker(ctx: EditorContext, spec: FieldSpec, on_pick: Callable[[Any], None], prefix: str) -> None:
    app = ctx.app
    grid = GridLayout(cols=1, size_hint_y=None, spacing=dp(4))
    grid.bind(minimum_height=grid.setter("height"))
    scroll = ScrollView()
    scroll.add_widget(grid)
    popup = Popup(title=app.shape(spec.title), content=scroll, size_hint=(0.9, 0.9), title_size="22sp")
    for value, label in spec.choices:
        button = Btn(text=app.shape(label), pw_id=f"choice:{prefix}={value}", halign=app.halign)
        button.bind(on_release=lambda _b, v=value: (popup.dismiss(), on_pick(v)))
        grid.add_widget(button)
    popup.open()


def choice_editor(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    box.add_widget(choice_row(ctx, spec, ctx.model.fields.get(spec.name),
                              lambda v: ctx.changed(lambda: ctx.model.set_value(spec.name, v)), spec.name))


def boolean_editor(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    on = bool(ctx.model.fields.get(spec.name, spec.default))
    toggle = Toggle(text=ctx.t("Yes") if on else ctx.t("No"), pw_id=f"field:{spec.name}",
                    state="down" if on else "normal")

    def flip(t: Toggle) -> None:
        value = t.state == "down"
        t.text = ctx.t("Yes") if value else ctx.t("No")
        ctx.changed(lambda: ctx.model.set_value(spec.name, value))

    toggle.bind(on_release=flip)
    box.add_widget(toggle)


def counts_editor(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    app = ctx.app
    grid = GridLayout(cols=4 if ctx.width > dp(700) else 2, size_hint_y=None, spacing=dp(6),
                      row_default_height=dp(56), row_force_default=True,
                      orientation="rl-tb" if app.rtl else "lr-tb")
    grid.bind(minimum_height=grid.setter("height"))
    counts = ctx.model.fields.get(spec.name) or {}
    for part in spec.parts:
        cell = BoxLayout(orientation="vertical", size_hint_y=None, height=dp(56))
        text_box = Field(pw_id=f"field:{spec.name}.{part.name}", input_filter="int", hint_text=app.shape(part.title))
        value = counts.get(part.name) if isinstance(counts, dict) else None
        text_box.text = "" if value in (None, 0) else str(value)
        text_box.bind(text=lambda _w, text, p=part.name: ctx.changed(lambda: ctx.model.set_part(spec.name, p, text)))
        ctx.widgets.focusable.setdefault(spec.name, text_box)
        cell.add_widget(text_box)
        grid.add_widget(Txt(text=app.shape(part.title), height=dp(56)))
        grid.add_widget(cell)
    box.add_widget(grid)


def people_editor(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    app, model = ctx.app, ctx.model
    people = model.fields.get(spec.name) or []
    for index, person in enumerate(people if isinstance(people, list) else []):
        card = BoxLayout(orientation="vertical", size_hint_y=None, spacing=dp(4), padding=dp(6))
        card.bind(minimum_height=card.setter("height"))
        for part in spec.parts:
            prefix = f"{spec.name}.{index}.{part.name}"

            def set_part(value: Any, i: int = index, p: str = part.name) -> None:
                ctx.changed(lambda: model.set_person(spec.name, i, p, value))

            if part.editor == "choice":
                card.add_widget(Txt(text=app.shape(part.title)))
                card.add_widget(choice_row(ctx, part, person.get(part.name, part.default), set_part, prefix))
            elif part.editor == "boolean":
                on = bool(person.get(part.name, part.default))
                toggle = Toggle(text=app.shape(part.title), pw_id=f"field:{prefix}", state="down" if on else "normal")
                toggle.bind(on_release=lambda t, f=set_part: f(t.state == "down"))
                card.add_widget(toggle)
            else:
                text_box = Field(pw_id=f"field:{prefix}", hint_text=app.shape(part.title),
                                 input_filter="int" if part.editor == "integer" else None)
                value = person.get(part.name)
                text_box.text = "" if value is None else str(value)
                text_box.bind(text=lambda _w, text, f=set_part: f(text or None))
                card.add_widget(Txt(text=app.shape(part.title)))
                card.add_widget(text_box)
        remove = Btn(text=ctx.t("Remove this person"), pw_id=f"remove:{spec.name}.{index}",
                     background_color=(0.5, 0.1, 0.1, 1), color=(1, 1, 1, 1))
        remove.bind(on_release=lambda *_, i=index: (model.remove_person(spec.name, i), ctx.rebuild()))
        card.add_widget(remove)
        box.add_widget(card)
    add = Btn(text=ctx.t("Add a person"), pw_id=f"add:{spec.name}")
    add.bind(on_release=lambda *_: (model.add_person(spec.name), ctx.rebuild()))
    ctx.widgets.focusable.setdefault(spec.name, add)
    box.add_widget(add)


def attachments_editor(ctx: EditorContext, spec: FieldSpec, box: BoxLayout) -> None:
    for index, item in enumerate(ctx.model.fields.get(spec.name) or []):
        if isinstance(item, dict):
            line = ctx.capture.describe_attachment(item)
            box.add_widget(Txt(text=line, pw_id=f"attachment:{index}"))
    row = Row(size_hint_y=None, height=dp(56))
    for key, label, action in (("photo", N_("Photo"), ctx.capture.photo), ("video", N_("Video"), ctx.capture.video),
                               ("voice", N_("Voice note"), ctx.capture.voice),
                               ("file", N_("Choose a file"), ctx.capture.choose_file)):
        button = Btn(text=ctx.t(label), pw_id=f"attach:{key}")
        button.bind(on_release=lambda *_, act=action: act(spec.name))
        row.add_widget(button)
    ctx.widgets.focusable.setdefault(spec.name, row)
    box.add_widget(row)


EDITORS: dict[str, Builder] = {
    "text": text_editor,
    "multiline": text_editor,
    "json": text_editor,
    "integer": number_editor,
    "number": number_editor,
    "route": route_editor,
    "datetime": datetime_editor,
    "location": location_editor,
    "choice": choice_editor,
    "scale": choice_editor,
    "boolean": boolean_editor,
    "counts": counts_editor,
    "people": people_editor,
    "attachments": attachments_editor,
}
