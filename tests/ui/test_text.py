"""Translation, Arabic shaping and the font, without a window."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from peacewatch.mobile.ui import text
from peacewatch.mobile.ui.text import FontNotFound, font_path, halign, shape, tr


def test_latin_text_passes_through():
    assert shape("Market attacked (3)") == "Market attacked (3)"
    assert tr("Drafts", "fr") == "Brouillons"


def test_arabic_is_joined_and_in_visual_order():
    shaped = tr("Drafts", "ar")  # المسودات
    assert shaped != "المسودات"
    # Contextual forms come from the Arabic Presentation Forms-B block; visual order puts the
    # first logical letter (alef, isolated/final form) at the right end, i.e. last.
    assert any("\ufe70" <= ch <= "\ufeff" for ch in shaped)
    assert shaped[-1] in ("\ufe8d", "\ufe8e", "ا")
    assert shape("a\nب") .split("\n")[0] == "a"  # lines shaped separately


def test_placeholders_filled_and_a_broken_translation_falls_back(monkeypatch):
    assert tr("Items: {done} of {total}", "fr", done=2, total=5) == "Éléments : 2 sur 5"
    monkeypatch.setattr(text, "gettext", lambda msgid, lang: "Éléments : {fait}")
    assert tr("Items: {done} of {total}", "fr", done=2, total=5) == "Items: 2 of 5"


def test_direction():
    assert halign("ar") == "right" and halign("fr") == "left"


def test_the_font_has_arabic_and_latin_glyphs():
    cmap = TTFont(font_path()).getBestCmap()
    assert all(ord(c) in cmap for c in "Aéب\ufe8e0")


def test_no_font_is_a_clear_error(monkeypatch, tmp_path: Path):
    font_path.cache_clear()
    monkeypatch.setattr(text, "FONT_CANDIDATES", (tmp_path / "none.ttf",))
    monkeypatch.delenv("PEACEWATCH_FONT", raising=False)
    try:
        with pytest.raises(FontNotFound, match="fonts-dejavu-core"):
            font_path()
    finally:
        font_path.cache_clear()


def test_brackets_are_mirrored_in_right_to_left_text():
    # Visual order for a left-to-right renderer: the logical "(...)" must still look like "(...)".
    shaped = tr("Outbox (waiting)", "ar")
    assert shaped.index("(") < shaped.index(")")
    assert shape("المسودات (1)").startswith("(1)")  # the count ends the line, i.e. sits at the left


def test_wrong_placeholder_names_show_the_words_rather_than_crash():
    assert tr("Items: {done} of {total}", "en", done=1) == "Items: {done} of {total}"
