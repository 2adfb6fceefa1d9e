"""Fixtures shared by the window tests: an Xvfb display large enough for either orientation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ui.driver import xvfb


@pytest.fixture
def display() -> Iterator[str]:
    with xvfb(1280, 1280) as name:
        yield name
