"""Arabic shaping and ordering for the PDF, and the font that must carry the glyphs."""

from __future__ import annotations

from fontTools.ttLib import TTFont

from peacewatch.server.exports.pdf_text import font_path, has_arabic, ltr, shape, shape_lines

WORD = "التقارير"  # "the reports"


def test_arabic_is_joined_and_reversed_for_display() -> None:
    shaped = shape(WORD, rtl=True)
    assert all("\ufe70" <= ch <= "\ufeff" for ch in shaped)  # contextual presentation forms
    assert shaped[-1] in ("\ufe8d", "\ufe8e")  # the first letter (alef) is drawn rightmost


def test_latin_numbers_and_codes_are_left_alone_in_rtl() -> None:
    assert shape("4.8422, 31.6085", rtl=True) == "4.8422, 31.6085"
    assert not has_arabic("BANBAT 241530ZNOV26")


def test_isolated_dates_keep_their_order_and_the_marks_are_removed() -> None:
    shaped = shape(f"الفترة: {ltr('2026-07-01T00:00:00Z – 2026-08-01T00:00:00Z')}", rtl=True)
    assert "2026-07-01T00:00:00Z – 2026-08-01T00:00:00Z" in shaped
    assert not any(ch in shaped for ch in "\u2066\u2067\u2068\u2069")


def test_wrapped_lines_keep_sentence_order() -> None:
    text = " ".join(["كلمة"] * 6 + ["نهاية"])
    lines = shape_lines(text, width=12, rtl=True)
    assert len(lines) > 1
    # The sentence's last word ends up on the last line, not on the first (as wrapping after
    # reordering would do).
    assert shape("نهاية", rtl=True) in lines[-1]
    assert shape("نهاية", rtl=True) not in lines[0]
    assert shape_lines("plain text that reportlab wraps itself", width=5) == ["plain text that reportlab wraps itself"]


def test_the_font_has_every_shaped_glyph() -> None:
    cmap = TTFont(str(font_path())).getBestCmap()
    shaped = shape("هجوم على المدنيين، اختطاف، نزوح، تجنيد الأطفال", rtl=True)
    missing = {ch for ch in shaped if not ch.isspace() and ord(ch) not in cmap}
    assert not missing
