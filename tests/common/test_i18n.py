"""Catalogs: every msgid marked in common/ is translated in English and French, placeholders intact."""

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

import peacewatch.common
from peacewatch.common import i18n
from peacewatch.common.errors import MESSAGES, InputError, render
from peacewatch.common.i18n import available_languages, catalog, gettext, is_rtl

COMMON = Path(peacewatch.common.__file__).parent


def used_msgids() -> set[str]:
    found = extract_from_dir(
        str(COMMON), method_map=[("**.py", "python")], keywords={"N_": None, "gettext": None}
    )
    from ui.catalog import ui_msgids  # the tablet app's msgids share these catalogs (tests/ui/catalog.py)

    return {msg for _file, _line, msg, _comments, _context in found if isinstance(msg, str)} | ui_msgids()


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_extraction_finds_the_catalogue():
    ids = used_msgids()
    assert set(MESSAGES.values()) <= ids  # errors.py is really scanned
    assert "Severity" in ids  # and schema.py's form labels


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_msgid_used_in_code_is_translated(lang):
    translations = {m.id: m.string for m in catalog(lang) if m.id}
    missing = sorted(i for i in used_msgids() if not translations.get(i))
    assert not missing, f"{lang} lacks: {missing}"


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_catalogs_have_no_stale_or_fuzzy_entries_and_keep_placeholders(lang):
    used = used_msgids()
    for message in catalog(lang):
        if not message.id:
            continue
        assert message.id in used, f"{lang}: {message.id!r} is no longer used in code"
        assert not message.fuzzy
        if message.string:
            assert placeholders(message.string) == placeholders(message.id), message.id


def test_arabic_is_started():
    translated = [m for m in catalog("ar") if m.id and m.string]
    assert len(translated) >= 40
    assert gettext("Unknown category.", "ar") == "فئة غير معروفة."


def test_validation_messages_differ_in_french():
    for code in MESSAGES:
        assert render(code, "fr", {"limit": 5, "allowed": "a"}) != render(
            code, "en", {"limit": 5, "allowed": "a"}
        ), code


def test_languages_and_direction():
    assert available_languages() == ("en", "ar", "fr")
    assert is_rtl("ar") and is_rtl("ar-SD") and not is_rtl("fr") and not is_rtl("en")
    assert not is_rtl("not a language")


def test_fallbacks():
    assert gettext("Route", "fr_CA") == gettext("Route", "FR") == "Itinéraire"
    assert gettext("Route", "sw") == "Route"  # no catalog: English
    assert gettext("Not in any catalog", "fr") == "Not in any catalog"
    assert gettext("Route", "") == "Route"


def test_broken_translation_placeholder_never_crashes(monkeypatch):
    monkeypatch.setitem(i18n._translations("fr"), MESSAGES["too_large"], "Au plus {limite}.")
    assert render("too_large", "fr", {"limit": 5}) == "Must be at most 5."


def test_input_error_carries_field_code_and_translations():
    err = InputError("lat", "lat_out_of_range")
    assert isinstance(err, ValueError)
    assert (err.field, err.code, err.message) == (
        "lat",
        "lat_out_of_range",
        "Latitude must be between -90 and 90 degrees.",
    )
    assert err.message_for("fr") == "La latitude doit être comprise entre -90 et 90 degrés."
    assert str(err) == "lat: Latitude must be between -90 and 90 degrees."
    assert InputError("x", "invalid", "custom text").message == "custom text"
