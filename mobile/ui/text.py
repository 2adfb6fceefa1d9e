"""Text for people: translated UI strings, right-to-left shaping for Arabic, and the font that has the glyphs.

Kivy's text providers draw code points left to right without joining Arabic letters, so every
string shown in Arabic is first reshaped (contextual letter forms, ``arabic_reshaper``) and then
reordered for display (Unicode bidi algorithm, ``python-bidi``). Strings without right-to-left
characters pass through unchanged, so English and French cost nothing.

Dates, times, DTGs, grid references and numbers are wrapped with :func:`isolate` (Unicode FSI ...
PDI) where they are composed into a sentence: inside an Arabic line they then keep their own
left-to-right order ("2026-12-02", not "02-12-2026"). python-bidi's Rust engine implements
isolates but not rule L4 (mirrored brackets), so :func:`shape` gives brackets the glyph their
resolved direction needs before reordering (rule N0 on bracket pairs), then drops the marks
(fonts have no glyph for them).

The font must have Arabic glyphs under an open licence. DejaVu Sans (Bitstream Vera licence,
Debian ``fonts-dejavu-core``) covers Latin and Arabic in one file, so one ``font_name`` serves every
language; Noto Sans Arabic (OFL, ``fonts-noto-core``) is the fallback. A build that bundles a font
(Android, see ``buildozer.spec``) puts it in ``mobile/ui/fonts/``, which is searched first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import arabic_reshaper
from bidi import get_display  # the Rust engine: it implements isolates (UBA 6.3), see _mirror_brackets

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
_LTR_CHARS = re.compile("[A-Za-z\u00c0-\u024f]")
FSI, PDI = "\u2068", "\u2069"
_MIRROR = {"(": ")", ")": "(", "[": "]", "]": "[", "{": "}", "}": "{", "<": ">", ">": "<"}
_OPEN = "([{<"


def isolate(text: str) -> str:
    """``text`` as a left-to-right island in any sentence (a date, a DTG, a grid reference, a number)."""
    return f"{FSI}{text}{PDI}" if text else text


def _outside_isolates(text: str) -> list[bool]:
    """For each character: True if it stands outside every FSI ... PDI island."""
    depth, out = 0, []
    for char in text:
        if char == FSI:
            depth += 1
        out.append(depth == 0)
        if char == PDI and depth:
            depth -= 1
    return out


def _mirror_brackets(line: str) -> str:
    """Swap the brackets of a right-to-left line that resolve right-to-left (rule N0), since the
    reordering engine leaves mirroring (rule L4) to the renderer and Kivy's renderer does not."""
    outside = _outside_isolates(line)
    chars = list(line)
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for i, char in enumerate(line):
        if not outside[i]:
            continue
        if char in _OPEN:
            stack.append(i)
        elif char in _MIRROR and stack and _MIRROR[line[stack[-1]]] == char:
            pairs.append((stack.pop(), i))

    def strong(segment: str) -> tuple[bool, bool]:
        return bool(_RTL_CHARS.search(segment)), bool(_LTR_CHARS.search(segment))

    plain = "".join(c if o else " " for c, o in zip(line, outside, strict=True))
    for start, end in pairs:
        has_r, has_l = strong(plain[start + 1:end])
        if not has_r and has_l:
            before_r = [m.start() for m in _RTL_CHARS.finditer(plain[:start])]
            before_l = [m.start() for m in _LTR_CHARS.finditer(plain[:start])]
            if before_l and (not before_r or before_l[-1] > before_r[-1]):
                continue  # left-to-right content after left-to-right context: stays LTR
        chars[start], chars[end] = _MIRROR[line[start]], _MIRROR[line[end]]
    return "".join(chars)


def _drop_marks(text: str) -> str:
    return text.replace(FSI, "").replace(PDI, "")


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


# Shaped text -> what it was shaped from, so a label can re-wrap a long Arabic line itself
# (see logical_of and widgets.Txt). Bounded: labels come and go, texts repeat.
_LOGICAL: dict[str, str] = {}
_LOGICAL_MAX = 4096


def logical_of(shaped: str) -> str | None:
    """The text :func:`shape` made ``shaped`` from, if it reordered it (None otherwise)."""
    return _LOGICAL.get(shaped)


def shape(text: str) -> str:
    """``text`` ready for Kivy to draw: Arabic letters joined and the line in visual order."""
    if not text or not _RTL_CHARS.search(text):
        return _drop_marks(text)
    out = _shape_rtl(text)
    if len(_LOGICAL) >= _LOGICAL_MAX:
        _LOGICAL.clear()
    _LOGICAL[out] = text
    return out


def _shape_rtl(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        if _RTL_CHARS.search(line):
            rtl = _first_strong_is_rtl(line)
            prepared = _mirror_brackets(line) if rtl else line
            lines.append(_drop_marks(get_display(arabic_reshaper.reshape(prepared), base_dir="R" if rtl else "L")))
        else:
            lines.append(_drop_marks(line))
    return "\n".join(lines)


def _first_strong_is_rtl(line: str) -> bool:
    """The paragraph direction (rule P2): the first strong character outside isolates decides."""
    for char, out in zip(line, _outside_isolates(line), strict=True):
        if not out:
            continue
        if _RTL_CHARS.match(char):
            return True
        if _LTR_CHARS.match(char):
            return False
    return True


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


def wrap_shaped(logical: str, fits: Callable[[str], bool]) -> str:
    """Break ``logical`` into lines that ``fits`` (measured shaped), then shape each line.

    Kivy wraps a label's text after it was reordered, so a long right-to-left line would wrap
    with its end on the first line; wrapping the logical text first keeps the reading order."""
    out = []
    for paragraph in logical.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and not fits(shape(candidate)):
                out.append(shape(line))
                line = word
            else:
                line = candidate
        out.append(shape(line))
    return "\n".join(out)
