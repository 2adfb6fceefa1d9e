"""One Python + ``.kv`` pair per screen (the kivy showcase habit); ``load_screens`` builds them."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path

from kivy.uix.screenmanager import Screen

HERE = Path(__file__).parent


def load_screens(names: Iterable[str]) -> list[Screen]:
    """Load ``<name>.kv`` and instantiate ``<name>.py``'s ``SCREEN`` class for each name."""
    from peacewatch.mobile.ui.app import load_kv

    screens = []
    for name in names:
        module = importlib.import_module(f"peacewatch.mobile.ui.screens.{name}")
        load_kv(HERE / f"{name}.kv")
        screens.append(module.SCREEN(name=name))
    return screens
