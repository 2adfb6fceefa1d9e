"""Test-only command channel: the window tests drive the real app through files in a directory.

Enabled only when ``PEACEWATCH_AUTOMATION`` names a directory. The app polls it on the Kivy clock
(so every command runs on the UI thread, exactly like a touch) for ``<n>.cmd.json`` files, runs
them in name order and answers in ``<n>.out.json`` (written to a temp name, then renamed, so the
test never reads half an answer). Widgets are found by their ``pw_id`` anywhere in the window,
popups included. Commands::

    {"op": "tap", "id": "pin_ok"}                 press and release a button / toggle
    {"op": "type", "id": "field:title", "text": "..."}  focus, then type character by character
    {"op": "clear", "id": "..."}                  empty a text box
    {"op": "state"}                               current screen, the text of every pw_id widget, the
                                                  toggles that are down, the focused text box, and
                                                  errors the app survived
    {"op": "labels"}                              the text of every shown label and button (not text
                                                  boxes: those hold what the user typed), with or
                                                  without a pw_id, popups included
    {"op": "scroll", "id": "...", "y": 0}        scroll the ScrollView around the widget (0 bottom, 1 top)
    {"op": "visible", "id": "..."}                is the widget inside the window and inside the
                                                  visible part of every scroll view around it
    {"op": "screenshot", "path": "/x/y.png"}      the window as PNG
    {"op": "size", "width": 800, "height": 1280}  resize the window
    {"op": "touch", "id": "map_view", "fx": 0.5, "fy": 0.5, "to": [0.6, 0.5]}
                                                  a finger on a widget at a fraction of its size,
                                                  optionally dragged to ``to``, then lifted
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

POLL_S = 0.05
SETTLE_S = 0.25


class CommandError(Exception):
    """A command could not run (no such widget, unknown op); the answer carries the message."""


def walk(widget: Widget) -> Iterator[Widget]:
    yield widget
    for child in widget.children:
        yield from walk(child)


class Automation:
    def __init__(self, app: Any, directory: Path) -> None:
        self.app = app
        self.directory = directory
        self._busy = False
        directory.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        Clock.schedule_interval(self._poll, POLL_S)
        (self.directory / "ready").write_text(str(os.getpid()))

    def _poll(self, dt: float) -> None:
        if self._busy:
            return
        for path in sorted(self.directory.glob("*.cmd.json")):
            name = path.name.removesuffix(".cmd.json")
            try:
                command = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                command = {"op": "invalid", "error": str(exc)}
            path.unlink()
            if command.get("op") == "screenshot":
                # The frame on screen may predate the last tap: let a few frames render first.
                self._busy = True
                Clock.schedule_once(lambda dt, c=command, n=name: self._finish(n, c), SETTLE_S)
                return
            self._finish(name, command)

    def _finish(self, name: str, command: dict[str, Any]) -> None:
        self._busy = False
        try:
            answer = {"ok": True, "result": self.run(command)}
        except Exception as exc:  # noqa: BLE001 - report any failure to the test, keep the app alive
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        tmp = self.directory / f"{name}.out.tmp"
        tmp.write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.directory / f"{name}.out.json")

    def find(self, pw_id: str) -> Widget:
        for root in list(Window.children):
            for widget in walk(root):
                if getattr(widget, "pw_id", None) == pw_id and not widget.disabled:
                    return widget
        raise CommandError(f"no enabled widget with pw_id {pw_id!r} on screen {self.app.root.current!r}")

    @staticmethod
    def _drawn(widget: Widget) -> bool:
        """Not collapsed or transparent, itself or any parent (scrolled-away content counts as drawn)."""
        node: Widget | None = widget
        while node is not None and node is not node.parent:
            if node.opacity == 0 or node.height <= 0:
                return False
            node = node.parent
        return True

    @staticmethod
    def visible(widget: Widget) -> bool:
        """True if the widget's box lies in the window and in the shown part of every ScrollView above it."""
        if widget.opacity == 0 or widget.width <= 0 or widget.height <= 0:
            return False  # collapsed or transparent: nothing to see
        x0, y0 = widget.to_window(widget.x, widget.y)
        x1, y1 = widget.to_window(widget.right, widget.top)
        if x1 <= 0 or y1 <= 0 or x0 >= Window.width or y0 >= Window.height:
            return False
        parent = widget.parent
        while parent is not None and parent is not parent.parent:
            if isinstance(parent, ScrollView):
                px0, py0 = parent.to_window(parent.x, parent.y)
                px1, py1 = parent.to_window(parent.right, parent.top)
                if y1 <= py0 or y0 >= py1 or x1 <= px0 or x0 >= px1:
                    return False
            parent = parent.parent
        return True

    def run(self, command: dict[str, Any]) -> Any:
        op = command.get("op")
        if op == "tap":
            widget = self.find(command["id"])
            widget.trigger_action(duration=0)
            return None
        if op in ("type", "clear"):
            widget = self.find(command["id"])
            if not isinstance(widget, TextInput):
                raise CommandError(f"{command['id']} is not a text box")
            widget.focus = True
            if op == "clear":
                widget.text = ""
                return None
            for char in command["text"]:
                widget.insert_text(char)  # one change per character, as from a keyboard
            return widget.text
        if op == "labels":
            shown = []
            for root in list(Window.children):
                for widget in walk(root):
                    if isinstance(widget, Label) and widget.text and self._drawn(widget):
                        shown.append(widget.text)
            return shown
        if op == "scroll":
            widget = self.find(command["id"])
            while widget is not None and not isinstance(widget, ScrollView):
                widget = widget.parent
            if widget is None:
                raise CommandError(f"{command['id']} is not inside a scroll view")
            widget.scroll_y = float(command["y"])
            return None
        if op == "visible":
            return self.visible(self.find(command["id"]))
        if op == "state":
            texts, down, focused = {}, [], None
            for root in list(Window.children):
                for widget in walk(root):
                    pw_id = getattr(widget, "pw_id", "")
                    if pw_id and pw_id not in texts:
                        texts[pw_id] = getattr(widget, "text", "")
                        if getattr(widget, "state", None) == "down":
                            down.append(pw_id)
                        if isinstance(widget, TextInput) and widget.focus:
                            focused = pw_id
            return {"screen": self.app.root.current, "texts": texts, "down": down, "size": list(Window.size),
                    "focused": focused, "errors": list(self.app.errors)}
        if op == "screenshot":
            target = Path(command["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            written = Window.screenshot(name=str(target.with_suffix("")) + "%(counter)s.png")
            os.replace(written, target)
            return str(target)
        if op == "size":
            Window.size = (int(command["width"]), int(command["height"]))
            return list(Window.size)
        if op == "touch":
            from kivy.tests.common import UnitTestTouch

            widget = self.find(command["id"])

            def at(fx: float, fy: float) -> tuple[float, float]:
                return widget.to_window(widget.x + fx * widget.width, widget.y + fy * widget.height)

            touch = UnitTestTouch(*at(float(command["fx"]), float(command["fy"])))
            touch.touch_down()
            if command.get("to"):
                steps = 8
                (x0, y0), (x1, y1) = touch.pos, at(*command["to"])
                for i in range(1, steps + 1):
                    touch.touch_move(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)
            touch.touch_up()
            return list(touch.pos)
        raise CommandError(f"unknown op {op!r}")
