"""Every msgid the app's screens use is translated in English and French; Arabic covers the app too."""

from __future__ import annotations

import string

import pytest
from ui.catalog import ui_msgids

from peacewatch.common.i18n import catalog


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_extraction_sees_python_and_kv():
    ids = ui_msgids()
    assert "Wrong PIN. {remaining} attempts left; wait {seconds} seconds." in ids  # pin.py, N_
    assert "Finish and send" in ids  # form.kv, app.t('...')
    assert "Synchronised." in ids  # background.py


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_every_ui_msgid_is_translated_with_its_placeholders(lang):
    translations = {m.id: m.string for m in catalog(lang) if m.id}
    missing = sorted(i for i in ui_msgids() if not translations.get(i))
    assert not missing, f"{lang} lacks: {missing}"
    for msgid in ui_msgids():
        assert placeholders(translations[msgid]) == placeholders(msgid), (lang, msgid)
