"""The standard category list (taxonomy) for reports: data in ``taxonomy.json``, checked on load.

The list is versioned (``version``) so exports and the server can say which list a
report was coded against. Each category says which report kinds it applies to, its
default confidentiality (a ``restricted`` default means the schema refuses anything
lower, see ``peacewatch.common.schema``), its labels in en/fr/ar, its related
categories (symmetric: checked on load, so a one-sided edit is caught), and an
optional HXL attribute used by the CSV export.

**The default-confidentiality rule** (one rule for the schema, the server and the tablet): a report
that does not say its confidentiality is ``mission``, or ``restricted`` when its category requires
it. A category's ``public`` level is what it *may* be shared as, never a default: making a report
readable by every contingent is always the author's explicit choice. See
:meth:`Category.initial_confidentiality` and docs/security.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

KINDS = ("incident", "patrol", "hr_concern")
DEFAULT_CONFIDENTIALITY = "mission"  # the level of a report that does not say, unless its category requires more
CONFIDENTIALITY_LEVELS = ("public", "mission", "restricted")  # lowest to highest
LANGUAGES = ("en", "fr", "ar")
TAXONOMY_PATH = Path(__file__).with_name("taxonomy.json")

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_HXL_ATTRIBUTE = re.compile(r"^\+[a-z][a-z0-9_]*$")  # HXL attribute syntax


class TaxonomyError(ValueError):
    """The taxonomy file is malformed (raised on load, never at report time)."""


class UnknownCategory(KeyError):
    """No category has this code."""


@dataclass(frozen=True)
class Category:
    code: str
    labels: Mapping[str, str]
    # Sorted tuples, not sets: the API answers them as lists, and a set's order changes with every
    # interpreter start (string hashing is salted), so the same taxonomy would read differently.
    kinds: tuple[str, ...]
    default_confidentiality: str
    related: tuple[str, ...]
    hxl: str | None = None

    @property
    def is_restricted(self) -> bool:
        return self.default_confidentiality == "restricted"

    @property
    def initial_confidentiality(self) -> str:
        """The level a report of this category gets when it does not say: never wider than ``mission``."""
        return "restricted" if self.is_restricted else DEFAULT_CONFIDENTIALITY


class Taxonomy:
    """An immutable, checked category list; build with :func:`load_taxonomy`."""

    def __init__(self, version: str, categories: list[Category]) -> None:
        self.version = version
        self._by_code = {c.code: c for c in categories}

    @property
    def codes(self) -> tuple[str, ...]:
        """Every category code, in file order (the order forms show them)."""
        return tuple(self._by_code)

    def get(self, code: str) -> Category:
        try:
            return self._by_code[code]
        except (KeyError, TypeError):
            raise UnknownCategory(code) from None

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._by_code

    def for_kind(self, kind: str) -> list[Category]:
        """The categories that apply to ``kind`` (incident, patrol or hr_concern), in file order."""
        if kind not in KINDS:
            raise ValueError(f"unknown report kind {kind!r}; expected one of {', '.join(KINDS)}")
        return [c for c in self._by_code.values() if kind in c.kinds]

    def label(self, code: str, lang: str = "en") -> str:
        """The label in ``lang``; English when that language has none."""
        labels = self.get(code).labels
        base = lang.replace("-", "_").split("_")[0].lower()
        return labels.get(base) or labels["en"]

    def related(self, code: str) -> set[str]:
        """``code`` and the codes related to it (duplicate detection matches within this set)."""
        return {code, *self.get(code).related}

    def is_restricted(self, code: str) -> bool:
        return self.get(code).is_restricted

    def initial_confidentiality(self, code: str) -> str:
        """The default-confidentiality rule for ``code`` (see the module docstring)."""
        return self.get(code).initial_confidentiality


def _category(raw: Any, index: int) -> Category:
    where = f"categories[{index}]"
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{where}: must be an object")
    unknown = set(raw) - {"code", "labels", "kinds", "default_confidentiality", "related", "hxl"}
    if unknown:
        raise TaxonomyError(f"{where}: unknown keys {sorted(unknown)}")
    code = raw.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise TaxonomyError(f"{where}: code must be lower_snake_case, got {code!r}")
    labels = raw.get("labels")
    if not isinstance(labels, dict) or any(
        not isinstance(labels.get(lang), str) or not labels[lang].strip() for lang in LANGUAGES
    ):
        raise TaxonomyError(f"{code}: labels must give non-empty {', '.join(LANGUAGES)}")
    kinds = raw.get("kinds")
    if not isinstance(kinds, list) or not kinds or any(k not in KINDS for k in kinds):
        raise TaxonomyError(f"{code}: kinds must be a non-empty subset of {KINDS}")
    conf = raw.get("default_confidentiality")
    if conf not in CONFIDENTIALITY_LEVELS:
        raise TaxonomyError(f"{code}: default_confidentiality must be one of {CONFIDENTIALITY_LEVELS}")
    related = raw.get("related", [])
    if not isinstance(related, list) or any(not isinstance(r, str) for r in related) or code in related:
        raise TaxonomyError(f"{code}: related must be a list of other category codes")
    hxl = raw.get("hxl")
    if hxl is not None and (not isinstance(hxl, str) or not _HXL_ATTRIBUTE.match(hxl)):
        raise TaxonomyError(f"{code}: hxl must be an HXL attribute such as +attack, got {hxl!r}")
    return Category(
        code=code,
        labels=dict(labels),
        kinds=tuple(sorted(set(kinds))),
        default_confidentiality=conf,
        related=tuple(sorted(set(related))),
        hxl=hxl,
    )


def parse_taxonomy(data: Any) -> Taxonomy:
    """Check and build a taxonomy from its JSON value (raises :class:`TaxonomyError`)."""
    if not isinstance(data, dict) or not isinstance(data.get("version"), str) or not data["version"]:
        raise TaxonomyError("taxonomy must be an object with a non-empty string version")
    raw = data.get("categories")
    if not isinstance(raw, list) or not raw:
        raise TaxonomyError("categories must be a non-empty list")
    categories = [_category(item, i) for i, item in enumerate(raw)]
    by_code: dict[str, Category] = {}
    for cat in categories:
        if cat.code in by_code:
            raise TaxonomyError(f"duplicate category code {cat.code}")
        by_code[cat.code] = cat
    for cat in categories:
        for other in cat.related:
            if other not in by_code:
                raise TaxonomyError(f"{cat.code}: related code {other} is not a category")
            if cat.code not in by_code[other].related:
                raise TaxonomyError(f"related is not symmetric: {cat.code} -> {other} but not back")
    return Taxonomy(data["version"], categories)


@cache
def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The taxonomy from ``path`` (default: the packaged ``taxonomy.json``), parsed once per path."""
    with (path or TAXONOMY_PATH).open(encoding="utf-8") as fh:
        return parse_taxonomy(json.load(fh))
