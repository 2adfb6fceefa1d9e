"""Tests for peacewatch.mobile.core.reference: offline prefix search in English, French and Arabic."""

from __future__ import annotations

import pytest

from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.outbox import Outbox
from peacewatch.mobile.core.reference import Reference, normalise, terms
from peacewatch.mobile.core.store import Store
from tests.mobile.helpers import place_change, place_deleted

PLACES = [
    place_change("juba", kind="town", lat=4.85, lon=31.58, names={"en": "Juba", "fr": "Djouba", "ar": "جُوبا"}),
    place_change("mount-juba", kind="hill", lat=4.9, lon=31.5,
                 names={"en": "Mount Juba", "fr": "Mont Djouba", "ar": "جبل جوبا"}),
    place_change("deme", kind="village", lat=5.1, lon=30.2, names={"en": "Deme", "fr": "Dème-Église", "ar": "ديمة"}),
    place_change("poc-1", kind="protection_site", item_kind="sensitive_site", lat=4.82, lon=31.55,
                 names={"en": "PoC Site 1", "fr": "Site de protection 1", "ar": "موقع الحماية ١"}),
    place_change("abyei", kind="town", lat=9.6, lon=28.43, names={"en": "Abyei", "fr": "Abyei", "ar": "أبيي"}),
]


@pytest.fixture
def reference(store: Store) -> Reference:
    Outbox(store).apply_pull_page(PLACES, "r1")
    return Reference(store)


def _ids(places: list) -> list[str]:
    return [p.place_id for p in places]


def test_normalise_folds_case_diacritics_and_arabic_forms() -> None:
    assert normalise("  Dème-ÉGLISE ") == "deme eglise"
    assert normalise("جُوبا") == normalise("جوبا")
    assert normalise("أبيي") == normalise("ابيي") == normalise("إبيي")
    assert normalise("ديمة") == normalise("ديمه")
    assert terms("Mount Juba") == {"mount juba", "juba"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("jub", ["juba", "mount-juba"]),  # exact word start first, then the longer name
        ("JUBA", ["juba", "mount-juba"]),
        ("djou", ["juba", "mount-juba"]),
        ("mont dj", ["mount-juba"]),
        ("deme", ["deme"]),
        ("église", ["deme"]),
        ("eglise", ["deme"]),
        ("جوب", ["juba", "mount-juba"]),
        ("جُو", ["juba", "mount-juba"]),
        ("ابي", ["abyei"]),
        ("ديمه", ["deme"]),
        ("site de", ["poc-1"]),
        ("xyz", []),
        ("  ", []),
    ],
)
def test_prefix_search_in_three_languages(reference: Reference, query: str, expected: list[str]) -> None:
    assert _ids(reference.search(query)) == expected


def test_sensitive_sites_and_names(reference: Reference) -> None:
    assert _ids(reference.sensitive_sites()) == ["poc-1"]
    assert _ids(reference.search("p", sensitive_only=True)) == ["poc-1"]
    juba = reference.get("juba")
    assert (juba.name("fr"), juba.name("ar"), juba.name("sw")) == ("Djouba", "جُوبا", "Juba")
    assert reference.search("jub", limit=1)[0].place_id == "juba"
    with pytest.raises(InvalidInput, match="limit"):
        reference.search("jub", limit=0)


def test_update_replaces_terms_and_delete_removes(store: Store, reference: Reference) -> None:
    outbox = Outbox(store)
    outbox.apply_pull_page(
        [place_change("deme", kind="village", lat=5.1, lon=30.2, names={"en": "New Deme"}, seq=20)],
        "r2",
    )
    assert _ids(reference.search("église")) == []
    assert _ids(reference.search("new")) == ["deme"]
    outbox.apply_pull_page([place_deleted("deme")], "r3")
    assert _ids(reference.search("deme")) == []
    assert reference.count() == len(PLACES) - 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (place_change("x", lat=91, lon=0, names={"en": "X"}), "changes[0].item.geometry.coordinates.1"),
        (place_change("x", lat=0, lon="east", names={"en": "X"}), "changes[0].item.geometry.coordinates.0"),
        (place_change("x", lat=0, lon=0, names={"sw": "X"}), "changes[0].item.names"),
        (place_change("", lat=0, lon=0, names={"en": "X"}), "changes[0].item.id"),
        ({"seq": 1, "kind": "reference", "item": "juba"}, "changes[0].item"),
    ],
)
def test_bad_place_names_the_field(store: Store, change: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Outbox(store).apply_pull_page([change], "r9")
    assert info.value.field == field
