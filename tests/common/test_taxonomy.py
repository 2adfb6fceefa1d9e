"""The taxonomy file is complete and consistent, and the loader refuses broken data."""

import copy
import json

import pytest

from peacewatch.common.taxonomy import (
    KINDS,
    TAXONOMY_PATH,
    TaxonomyError,
    UnknownCategory,
    load_taxonomy,
    parse_taxonomy,
)

REQUIRED = {
    "attack_on_civilians",
    "armed_clash",
    "abduction",
    "conflict_related_sexual_violence",
    "killing",
    "looting",
    "arson",
    "displacement",
    "armed_group_movement",
    "threat_intimidation",
    "explosive_hazard",
    "restriction_of_movement",
    "demonstration",
    "child_recruitment",
    "arbitrary_detention",
    "torture_ill_treatment",
    "cattle_raiding",
    "checkpoint",
    "patrol_routine",
    "patrol_nil",
    "hate_speech",
}


def raw():
    return json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))


def test_required_categories_and_version():
    tax = load_taxonomy()
    assert tax.version == "2026.1"
    assert REQUIRED <= set(tax.codes)
    assert load_taxonomy() is tax  # cached


@pytest.mark.parametrize(
    "code", ["conflict_related_sexual_violence", "child_recruitment", "torture_ill_treatment"]
)
def test_sensitive_categories_are_restricted(code):
    assert load_taxonomy().is_restricted(code)


def test_not_restricted_by_default():
    assert not load_taxonomy().is_restricted("looting")


def test_related_is_symmetric_and_includes_itself():
    tax = load_taxonomy()
    for code in tax.codes:
        assert code in tax.related(code)
        for other in tax.related(code):
            assert code in tax.related(other)
    assert "killing" in tax.related("attack_on_civilians")


def test_every_kind_has_categories_and_labels_in_three_languages():
    tax = load_taxonomy()
    for kind in KINDS:
        assert tax.for_kind(kind)
    assert {c.code for c in tax.for_kind("patrol")} >= {"patrol_routine", "patrol_nil"}
    assert "patrol_nil" not in {c.code for c in tax.for_kind("incident")}
    assert tax.label("armed_clash", "fr") == "Affrontement armé"
    assert tax.label("armed_clash", "ar") != tax.label("armed_clash", "en")
    assert tax.label("armed_clash", "sw") == "Armed clash"  # no Swahili label: English


def test_unknown_code_and_kind():
    with pytest.raises(UnknownCategory):
        load_taxonomy().get("nope")
    with pytest.raises(ValueError):
        load_taxonomy().for_kind("memo")


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["categories"][0]["related"].pop(0),  # one-sided relation
        lambda d: d["categories"].append(copy.deepcopy(d["categories"][0])),  # duplicate code
        lambda d: d["categories"][0]["labels"].pop("fr"),
        lambda d: d["categories"][0].update(kinds=["memo"]),
        lambda d: d["categories"][0].update(default_confidentiality="secret"),
        lambda d: d["categories"][0].update(hxl="attack"),
        lambda d: d["categories"][0].update(related=["no_such_code"]),
        lambda d: d["categories"][0].update(surprise=1),
        lambda d: d.pop("version"),
    ],
)
def test_loader_refuses_broken_data(breakage):
    data = raw()
    parse_taxonomy(data)  # the untouched copy is fine
    breakage(data)
    with pytest.raises(TaxonomyError):
        parse_taxonomy(data)


_DUMP_TAXONOMY = """
import dataclasses, json
from peacewatch.common.taxonomy import load_taxonomy
t = load_taxonomy()
print(json.dumps([dataclasses.asdict(t.get(c)) for c in t.codes], default=list))
"""


def test_lists_keep_one_order_whatever_the_hash_seed():
    """``related`` and ``kinds`` are answered as lists by the API: sorted, never in a set's order."""
    import os
    import subprocess
    import sys

    dumps = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", _DUMP_TAXONOMY], env=env, capture_output=True, text=True,
                             check=True, timeout=60)
        dumps.add(out.stdout)
    assert len(dumps) == 1
    for cat in json.loads(dumps.pop()):
        assert cat["related"] == sorted(cat["related"]) and cat["kinds"] == sorted(cat["kinds"]), cat["code"]
    assert any(len(cat.related) > 1 for cat in (load_taxonomy().get(c) for c in load_taxonomy().codes))
