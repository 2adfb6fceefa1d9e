"""Text for people: translated UI strings, right-to-left shaping for Arabic, and the font that has the glyphs.

Kivy's text providers draw code points left to right without joining Arabic letters, so every
string shown in Arabic is first reshaped (contextual letter forms, ``arabic_reshaper``) and then
reordered for display (Unicode bidi algorithm, ``python-bidi``). Strings without right-to-left
characters pass through unchanged, so English and French cost nothing.

The font must have Arabic glyphs under an open licence. DejaVu Sans (Bitstream Vera licence,
Debian ``fonts-dejavu-core``) covers Latin and Arabic in one file, so one ``font_name`` serves every
language; Noto Sans Arabic (OFL, ``fonts-noto-core``) is the fallback. A build that bundles a font
(Android, see ``buildozer.spec``) puts it in ``mobile/ui/fonts/``, which is searched first.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import arabic_reshaper
from bidi.algorithm import get_display  # the pure-Python one: it also mirrors brackets (rule L4)

from peacewatch.common.i18n import gettext, is_rtl

FONT_DIR = Path(__file__).with_name("fonts")
FONT_CANDIDATES: tuple[Path, ...] = (
    FONT_DIR / "DejaVuSans.ttf",
    FONT_DIR / "NotoSansArabic-Regular.ttf",
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
)

# Arabic, Syriac, Thaana, Hebrew and the Arabic presentation forms.
_RTL_CHARS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


class FontNotFound(RuntimeError):
    """No font with Arabic glyphs is installed; the message says which package to install."""


@cache
def font_path() -> str:
    """The first installed font with Arabic glyphs (``PEACEWATCH_FONT`` overrides)."""
    override = os.environ.get("PEACEWATCH_FONT")
    candidates = ((Path(override),) if override else ()) + FONT_CANDIDATES
    for path in candidates:
        if path.is_file():
            return str(path)
    raise FontNotFound(
        "no font with Arabic glyphs found; install the Debian package fonts-dejavu-core "
        f"or put DejaVuSans.ttf in {FONT_DIR}"
    )


def shape(text: str) -> str:
    """``text`` ready for Kivy to draw: Arabic letters joined and the line in visual order."""
    if not text or not _RTL_CHARS.search(text):
        return text
    return "\n".join(get_display(arabic_reshaper.reshape(line)) for line in text.split("\n"))


def tr(msgid: str, lang: str, **params: object) -> str:
    """Translate ``msgid`` into ``lang``, fill ``{placeholders}``, and shape it for display."""
    text = gettext(msgid, lang)
    if params:
        try:
            text = text.format(**params)
        except (KeyError, IndexError, ValueError):
            # A broken translation must not crash the screen: fall back to the English text.
            try:
                text = msgid.format(**params)
            except (KeyError, IndexError, ValueError):
                text = msgid  # a caller passed the wrong names: show the words without the numbers
    return shape(text)


def halign(lang: str) -> str:
    """Where text starts on a line in ``lang``: "right" for right-to-left languages."""
    return "right" if is_rtl(lang) else "left"
