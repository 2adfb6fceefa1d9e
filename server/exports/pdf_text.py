"""Fonts and text shaping for the PDF and its charts: Latin, French and Arabic in one font.

reportlab's built-in fonts have no Arabic, and neither reportlab nor matplotlib joins Arabic
letters or orders right-to-left text. So: one TrueType font with Arabic presentation forms
(DejaVu Sans, which matplotlib ships inside its package, so no system font is needed; a Debian
``fonts-dejavu-core`` copy is used when present), and `shape` runs arabic-reshaper (contextual
letter forms) then the Unicode bidi algorithm (python-bidi) to produce text in visual order.
Text without Arabic letters is returned untouched. Charts need none of this: matplotlib (>= 3.11)
lays out Arabic itself, so chart text is passed in logical order.

Paragraphs that wrap need care: shaping a whole paragraph and letting reportlab wrap it would put
the end of an Arabic sentence on the first line. `shape_lines` wraps the logical text first, then
shapes each line.
"""

from __future__ import annotations

import re
import textwrap
from functools import cache
from pathlib import Path

import arabic_reshaper
import matplotlib
from bidi import get_display
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "PeacewatchSans"
FONT_BOLD = "PeacewatchSans-Bold"

__all__ = ["FONT", "FONT_BOLD", "font_path", "has_arabic", "ltr", "register_fonts", "shape", "shape_lines"]

# Arabic, Arabic Supplement, Arabic Extended-A, presentation forms A and B.
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_LRI, _PDI = "\u2066", "\u2069"
_STRIP_ISOLATES = str.maketrans("", "", "\u2066\u2067\u2068\u2069")
_SYSTEM_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


def font_path(bold: bool = False) -> Path:
    """DejaVu Sans (regular or bold): the system copy if installed, else matplotlib's own."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _SYSTEM_DIRS:
        if (folder / name).is_file():
            return folder / name
    bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    if not bundled.is_file():
        raise FileNotFoundError(f"no {name} found (matplotlib's bundled fonts are missing)")
    return bundled


@cache
def register_fonts() -> tuple[str, str]:
    """Register the PDF font family once per process; returns (regular, bold) names."""
    pdfmetrics.registerFont(TTFont(FONT, str(font_path())))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(font_path(bold=True))))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, FONT_BOLD)
    addMapping(FONT, 0, 1, FONT)
    addMapping(FONT, 1, 1, FONT_BOLD)
    return FONT, FONT_BOLD


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(text))


def ltr(text: object) -> str:
    """`text` marked as a left-to-right island (Unicode isolate) for embedding in Arabic: keeps
    ISO dates, coordinates and codes in reading order inside a right-to-left sentence."""
    return f"{_LRI}{text}{_PDI}"


def shape(text: str, rtl: bool = False) -> str:
    """`text` in visual order with joined Arabic letters; base direction right-to-left if `rtl`.

    Text without Arabic letters is left alone even in a right-to-left document: running bidi over
    "4.84, 31.60" would swap the numbers.
    """
    if not text or not has_arabic(text):
        return text.translate(_STRIP_ISOLATES) if text else text
    visual = get_display(arabic_reshaper.reshape(text), base_dir="R" if rtl else "L")
    # The isolates have done their job in the bidi algorithm; the font has no glyph for them.
    return visual.translate(_STRIP_ISOLATES)


def shape_lines(text: str, width: int, rtl: bool = False) -> list[str]:
    """Wrap logical text to about `width` characters, then shape each line (see module doc)."""
    if not text:
        return [""]
    if not has_arabic(text):
        return [text.translate(_STRIP_ISOLATES)]  # reportlab wraps left-to-right text by itself
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width=max(width, 8), break_long_words=False) or [""])
    return [shape(line, rtl) for line in lines]
