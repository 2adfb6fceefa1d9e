"""Place matching on a test gazetteer with generated misspellings: the right place in the top 3 for
at least 90 % of them, whether given as the coded SMS's place field or inside free text."""

from __future__ import annotations

import random
import unicodedata

import pytest

from peacewatch.server.community import gazetteer
from peacewatch.server.community.sms import parse

from .conftest import add_places

# (fr name, en name or None): eastern DRC places, some with accents and French/English forms.
NAMES: list[tuple[str, str | None]] = [
    ("Bunia", None), ("Béni", "Beni"), ("Butembo", None), ("Mambasa", None), ("Komanda", None), ("Oïcha", "Oicha"),
    ("Eringeti", None), ("Mavivi", None), ("Kasindi", None), ("Lubero", None), ("Djugu", None), ("Fataki", None),
    ("Mongbwalu", None), ("Nizi", None), ("Iga Barrière", "Iga Barriere"), ("Kilo", None), ("Largu", None),
    ("Drodro", None), ("Mahagi", None), ("Irumu", None), ("Nyakunde", None), ("Marabo", None), ("Bogoro", None),
    ("Gety", None), ("Boga", None), ("Tchabi", None), ("Mandima", None), ("Biakato", None), ("Mungbere", None),
    ("Watsa", None), ("Isiro", None), ("Rutshuru", None), ("Kiwanja", None), ("Masisi", None), ("Saké", "Sake"),
    ("Minova", None), ("Walikale", None), ("Pinga", None), ("Kitshanga", None), ("Mweso", None),
    ("Mont Hoyo", "Mount Hoyo"), ("Lac Albert", "Lake Albert"), ("Saint-Joseph de Kalehe", "St Joseph of Kalehe"),
    ("Bunia Nord", "North Bunia"), ("Béni Sud", "South Beni"), ("Île Idjwi", "Idjwi Island"), ("Kamango", None),
    ("Nobili", None), ("Ndalya", None), ("Makeke", None), ("Mutwanga", None), ("Kyondo", None), ("Manguredjipa", None),
    ("Bambu", None), ("Kobu", None), ("Lopa", None), ("Pimbo", None), ("Ngongo", None), ("Tchomia", None),
    ("Kasenyi", None),
]
VARIANTS = [("Mont ", "Mount "), ("Lac ", "Lake "), ("Saint-", "St "), (" Nord", " North"), (" Sud", " South"),
            ("Île ", "Ile "), (" de ", " of ")]
SENTENCES = ["ALERT {} ATT armed men at the market", "hommes armes a {} ce matin", "please help {} village attacked",
             "ALERTE {} PIL pillage des maisons"]


def _strip(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def misspellings(name: str, rng: random.Random) -> list[str]:
    """Transposition, dropped accents, a dropped or doubled letter, and French/English variants."""
    out = []
    letters = [i for i in range(1, len(name) - 1) if name[i].isalpha() and name[i + 1].isalpha()]
    if letters:
        i = rng.choice(letters)
        out.append(name[:i] + name[i + 1] + name[i] + name[i + 2:])  # transposition
        j = rng.choice(letters)
        out.append(name[:j] + name[j + 1:])  # dropped letter
        k = rng.choice(letters)
        out.append(name[:k] + name[k] + name[k:])  # doubled letter
    out.append(_strip(name).lower())  # dropped accents, as typed on a basic phone
    for fr, en in VARIANTS:
        if fr in name:
            out.append(name.replace(fr, en))
    return out


@pytest.fixture
def big_gazetteer(engine) -> dict[str, tuple[dict[str, str], float, float]]:
    places = {}
    for n, (fr, en) in enumerate(NAMES):
        names = {"fr": fr} | ({"en": en} if en and n % 2 == 0 else {})  # half the bilingual places lack the en form
        places[f"p{n:02d}"] = (names, 0.5 + n * 0.02, 29.0 + n * 0.02)
    add_places(engine, places)
    return places


def test_right_place_in_top_3_for_90_percent_of_misspellings(engine, big_gazetteer) -> None:
    rng = random.Random(19)
    hits = total = 0
    misses = []
    with engine.connect() as conn:
        for pid, (names, _lat, _lon) in big_gazetteer.items():
            for typo in misspellings(names["fr"], rng):
                for form in ("field", "text"):
                    if form == "field":
                        top = gazetteer.candidates(conn, text="", place_hint=typo)
                    else:
                        parsed = parse(rng.choice(SENTENCES).format(typo))
                        top = gazetteer.candidates(conn, text=parsed.text if not parsed.coded else parsed.text,
                                                   place_hint=parsed.place_hint)
                    total += 1
                    if pid in [c["place_id"] for c in top[:3]]:
                        hits += 1
                    else:
                        misses.append((form, typo, [c["name"] for c in top]))
    rate = hits / total
    print(f"gazetteer: {hits}/{total} = {rate:.1%} in the top 3")
    assert total >= 400
    assert rate >= 0.90, misses[:20]


def test_scores_are_shown_best_first_and_nothing_for_noise(engine, big_gazetteer) -> None:
    with engine.connect() as conn:
        top = gazetteer.candidates(conn, text="", place_hint="Mambassa")
        assert top[0]["name"] == "Mambasa" and top[0]["score"] >= top[-1]["score"]
        assert len(top) <= 3
        assert gazetteer.candidates(conn, text="", place_hint="qqqqxxxz") == []
