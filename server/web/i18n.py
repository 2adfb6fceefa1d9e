"""The dashboard's own translations: ``server/web/locale/<lang>.po`` read with Babel.

The msgid is the English text, so a missing translation shows English rather than nothing; the
English catalog only labels the codes the pages show (``needs_information`` -> "Needs information"). Category and role labels come from ``common`` (taxonomy, i18n).
The visitor's language is the ``pw_lang`` cookie, else the browser's Accept-Language, else English.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from fastapi import Request

from ...common.i18n import is_rtl

CATALOG_DIR = Path(__file__).with_name("locale")
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "ar": "العربية"}
DEFAULT = "en"


@cache
def _catalog(lang: str) -> dict[str, str]:
    path = CATALOG_DIR / f"{lang}.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    # Fuzzy entries are unreviewed guesses; gettext ignores them and so do we.
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}


def translate(msgid: str, lang: str) -> str:
    """``msgid`` in ``lang``; else its English label (codes such as ``needs_information`` have one); else the msgid."""
    return _catalog(lang).get(msgid) or _catalog(DEFAULT).get(msgid, msgid)


def request_language(request: Request) -> str:
    """The language to show this request in (one of ``LANGUAGES``)."""
    chosen = request.cookies.get("pw_lang", "")
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        base = part.split(";")[0].strip().replace("_", "-").split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT


def direction(lang: str) -> str:
    return "rtl" if is_rtl(lang) else "ltr"
