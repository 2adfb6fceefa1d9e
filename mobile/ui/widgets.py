"""The app's building blocks: big, high-contrast, mirror-aware widgets with a test id (``pw_id``).

Every control is at least 56 dp tall (field gloves, a moving vehicle); text is white or black on
saturated backgrounds (readable in sunlight). ``Row`` reverses its children in right-to-left
languages, which mirrors every horizontal layout without per-screen code. ``pw_id`` names a widget
for the automation channel the window tests drive (see ``automation.py``).
"""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.textinput import TextInput
from kivy.uix.togglebutton import ToggleButton

TOUCH = 56  # dp: above the 48 dp minimum touch target

BLACK = (0.0, 0.0, 0.0, 1)
WHITE = (1.0, 1.0, 1.0, 1)
YELLOW = (1.0, 0.84, 0.0, 1)
BLUE = (0.0, 0.35, 0.8, 1)
ORANGE = (1.0, 0.62, 0.25, 1)
# Problems: a red that reads as "wrong" on black (contrast 5.6:1), never the green of "Saved".
ERROR = (1.0, 0.36, 0.36, 1)
OK_GREEN = (0.6, 1.0, 0.6, 1)
GREY = (0.25, 0.25, 0.25, 1)


class Row(BoxLayout):
    """A horizontal box whose children run right to left when the app's language does."""

    mirrored = BooleanProperty(False)

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("orientation", "horizontal")
        kwargs.setdefault("spacing", dp(8))
        super().__init__(**kwargs)
        app = App.get_running_app()
        if app is not None:
            app.bind(rtl=lambda *_: self.apply_direction())

    def on_kv_post(self, base_widget: object) -> None:
        self.apply_direction()

    def add_widget(self, widget, *args, **kwargs):  # type: ignore[no-untyped-def]
        # Keep new children in reading order: add them as if unmirrored, then mirror again.
        was = self.mirrored
        if was:
            self.children.reverse()
            self.mirrored = False
        super().add_widget(widget, *args, **kwargs)
        if was:
            self.apply_direction()

    def apply_direction(self) -> None:
        app = App.get_running_app()
        want = bool(app and getattr(app, "rtl", False))
        if want != self.mirrored:
            self.children.reverse()
            self.mirrored = want
            self._trigger_layout()


class Btn(Button):
    pw_id = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("height", dp(TOUCH))
        kwargs.setdefault("background_normal", "")
        kwargs.setdefault("background_color", YELLOW)
        kwargs.setdefault("color", BLACK)
        kwargs.setdefault("bold", True)
        kwargs.setdefault("font_size", "20sp")
        super().__init__(**kwargs)
        self.bind(width=lambda *_: setattr(self, "text_size", (self.width - dp(12), None)))
        self.halign = "center"


class Toggle(ToggleButton):
    """A choice: blue when chosen, grey otherwise."""

    pw_id = StringProperty("")
    value = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("height", dp(TOUCH))
        kwargs.setdefault("background_normal", "")
        kwargs.setdefault("background_down", "")
        kwargs.setdefault("font_size", "18sp")
        super().__init__(**kwargs)
        self.bind(state=self._paint)
        self._paint()

    def _paint(self, *_: object) -> None:
        self.background_color = BLUE if self.state == "down" else GREY
        self.color = WHITE


class Txt(Label):
    """A wrapping label aligned for the app's language."""

    pw_id = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("height", dp(28))  # empty labels never get a texture to size from
        kwargs.setdefault("font_size", "18sp")
        kwargs.setdefault("color", WHITE)
        super().__init__(**kwargs)
        app = App.get_running_app()
        if app is not None and "halign" not in kwargs:
            self.halign = app.halign
            app.bind(halign=self._follow)
        self.valign = "middle"
        self.bind(width=self._wrap, texture_size=self._fit)
        self._wrap()

    def _follow(self, _app: object, value: str) -> None:
        # Centred titles stay centred; only start-aligned text follows the reading direction.
        if self.halign in ("left", "right"):
            self.halign = value

    def _wrap(self, *_: object) -> None:
        self.text_size = (self.width, None)
        self._wrap_rtl()

    def on_text(self, *_: object) -> None:
        if getattr(self, "_rewrapping", False):
            return
        from peacewatch.mobile.ui.text import logical_of

        self._logical = logical_of(self.text)  # None unless shape() reordered it
        if self._logical is not None:
            # Not from inside this dispatch: Label's own observer would then hand the text being
            # dispatched (the unwrapped one) to the renderer after us. Before the next frame.
            Clock.schedule_once(lambda _dt: self._wrap_rtl(), -1)

    def _wrap_rtl(self) -> None:
        """Wrap a long right-to-left text before reordering it (see text.wrap_shaped); again when
        the width changes (a rotated tablet)."""
        logical = getattr(self, "_logical", None)
        if logical is None or self.width <= 1:
            return
        from peacewatch.mobile.ui.text import shape, wrap_shaped

        label = getattr(self, "_label", None)  # Label makes it in its own __init__, after setting text
        if label is None:
            return
        limit = self.width - dp(2)
        whole = shape(logical)
        fits = "\n" not in logical and label.get_extents(whole)[0] <= limit
        wrapped = whole if fits else wrap_shaped(logical, lambda line: label.get_extents(line)[0] <= limit)
        if wrapped != self.text:
            self._rewrapping = True
            try:
                self.text = wrapped
            finally:
                self._rewrapping = False

    def _fit(self, *_: object) -> None:
        self.height = max(dp(28), self.texture_size[1] + dp(6))


class Field(TextInput):
    """A text box, black on white, one line unless ``multiline``."""

    pw_id = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("size_hint_y", None)
        multiline = bool(kwargs.get("multiline", False))
        kwargs.setdefault("multiline", multiline)
        kwargs.setdefault("height", dp(TOUCH * 2.5 if multiline else TOUCH))
        kwargs.setdefault("font_size", "20sp")
        kwargs.setdefault("write_tab", False)
        kwargs.setdefault("background_color", WHITE)
        kwargs.setdefault("foreground_color", BLACK)
        kwargs.setdefault("padding", [dp(10), dp(14), dp(10), dp(10)])
        super().__init__(**kwargs)
