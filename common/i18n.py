"""Translations for everything common/ shows to people: validation messages and form labels.

Catalogs are the gettext ``.po`` files under ``common/locale/<lang>/LC_MESSAGES/peacewatch.po``,
read with Babel at first use (no compiled ``.mo`` files are committed). A msgid is the English
text itself, so English needs no lookup to be right, and a missing translation falls back
to English rather than to an empty string.

Mark a msgid in code with :func:`N_` so ``babel.messages.extract`` (and the catalog test)
can find it; translate at the point of display with :func:`gettext`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

DOMAIN = "peacewatch"
LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LANGUAGE = "en"


def N_(msgid: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``msgid`` for extraction without translating it (translation happens at display)."""
    return msgid


@cache
def available_languages() -> tuple[str, ...]:
    """Language codes that have a catalog, English first, then alphabetical."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return tuple(sorted(found, key=lambda lang: (lang != DEFAULT_LANGUAGE, lang)))


@cache
def catalog(lang: str) -> Catalog:
    """The parsed catalog for ``lang`` (``KeyError`` if there is none)."""
    if lang not in available_languages():
        raise KeyError(lang)
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def _base(lang: str) -> str:
    # "fr_CA", "fr-CA" and "FR" all use the French catalog.
    return lang.replace("-", "_").split("_")[0].lower()


@cache
def _translations(lang: str) -> dict[str, str]:
    # Fuzzy entries are unreviewed machine guesses: gettext ignores them, so do we.
    return {
        str(m.id): str(m.string)
        for m in catalog(lang)
        if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    }


def gettext(msgid: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """``msgid`` translated into ``lang``; the English msgid when there is no translation."""
    base = _base(lang) if lang else DEFAULT_LANGUAGE
    if base not in available_languages():
        return msgid
    return _translations(base).get(msgid, msgid)


def is_rtl(lang: str) -> bool:
    """True when ``lang`` is written right to left (Arabic, Hebrew, Persian, Urdu...)."""
    try:
        return Locale.parse(_base(lang)).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError, TypeError):
        return False
