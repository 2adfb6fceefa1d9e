"""The dashboard's catalogs: every text the templates translate exists in French and Arabic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from peacewatch.server.web import i18n, render

TEMPLATES = Path(render.__file__).with_name("templates")
MSGID = re.compile(r"""_\((?:"([^"]+)"|'([^']+)')""")


def template_msgids() -> set[str]:
    found: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        for a, b in MSGID.findall(path.read_text(encoding="utf-8")):
            found.add(a or b)
    found.discard("decide:")  # a prefix, completed with each decision below
    return found | {f"decide:{d}" for d in ("verified", "rejected", "needs_information")} | {
        label for _path, label, _perm in render.NAV}


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_every_template_text_is_translated(lang: str) -> None:
    missing = sorted(m for m in template_msgids() if i18n.translate(m, lang) == m and not m.startswith("{"))
    # Texts that are the same in both languages (codes, "Format", "Score") are legitimately equal.
    same = {m for m in missing if i18n._catalog(lang).get(m) == m}
    assert [m for m in missing if m not in same] == []


def test_codes_have_english_labels_and_placeholders_survive() -> None:
    assert i18n.translate("needs_information", "en") == "Needs information"
    assert i18n.translate("needs_information", "fr") == "Informations requises"
    assert i18n.translate("not a msgid", "ar") == "not a msgid"
    for lang in ("fr", "ar"):
        for msgid, text in i18n._catalog(lang).items():
            assert set(re.findall(r"\{\w+\}", msgid)) == set(re.findall(r"\{\w+\}", text)), (lang, msgid)


def test_arabic_is_right_to_left() -> None:
    assert i18n.direction("ar") == "rtl" and i18n.direction("fr") == "ltr"


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_every_duplicate_reason_is_translated(lang: str) -> None:
    """The reasons for and against a duplicate proposal are shown in the visitor's language."""
    from peacewatch.server.duplicates.reasons import MESSAGES

    catalog = i18n._catalog(lang)
    assert [m for m in MESSAGES if m not in catalog] == []
    # Units that read the same in French ("{minutes} min") are the only texts left as they are.
    assert {m for m in MESSAGES if catalog[m] == m} <= {"{hours} h {minutes} min", "{minutes} min"}
