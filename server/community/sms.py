"""Reading an SMS: a coded message ``ALERT <place> <category code> <free text>`` or free text.

Keywords are English and French (``ALERT``, ``ALERTE``, ``ALRT``); the category code is a short
code from ``CODES`` (English or French) or a taxonomy code. A place may be several words: the
code is found as the first word after the keyword that is a known code, and the words before it
are the place. A message starting with the keyword but without a known code keeps its words as
free text with the first one as the place hint. Anything else is free text whose place is found
by the gazetteer matcher.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...common.taxonomy import load_taxonomy

KEYWORDS = frozenset({"alert", "alerte", "alrt", "alarm", "alarme"})

# Short codes a villager can type, English and French, onto the taxonomy.
CODES: dict[str, str] = {
    "att": "attack_on_civilians", "attack": "attack_on_civilians", "attaque": "attack_on_civilians",
    "cla": "armed_clash", "clash": "armed_clash", "aff": "armed_clash", "combat": "armed_clash",
    "abd": "abduction", "enl": "abduction", "kid": "abduction",
    "kil": "killing", "meu": "killing", "tue": "killing",
    "loo": "looting", "pil": "looting",
    "ars": "arson", "fire": "arson", "feu": "arson", "inc": "arson",
    "dis": "displacement", "dep": "displacement",
    "mov": "armed_group_movement", "grp": "armed_group_movement",
    "thr": "threat_intimidation", "men": "threat_intimidation",
    "exp": "explosive_hazard", "min": "explosive_hazard",
    "cat": "cattle_raiding", "bet": "cattle_raiding",
    "sv": "conflict_related_sexual_violence", "vs": "conflict_related_sexual_violence",
    "cpt": "checkpoint", "bar": "checkpoint",
    "dem": "demonstration", "man": "demonstration",
    "rec": "child_recruitment",
}

MAX_TEXT = 1600  # ten concatenated SMS; longer is not a phone's message


@dataclass(frozen=True)
class ParsedSms:
    coded: bool
    place_hint: str
    category: str | None
    text: str


def _category(word: str) -> str | None:
    w = word.lower().strip(".,;:!")
    if w in CODES:
        return CODES[w]
    return w if w in load_taxonomy().codes else None


def parse(text: str) -> ParsedSms:
    """Split an SMS into place hint, category and free text (never fails on a non-empty text)."""
    words = text.split()
    if not words or words[0].lower().strip(".,;:!") not in KEYWORDS:
        return ParsedSms(coded=False, place_hint="", category=None, text=" ".join(words))
    rest = words[1:]
    for i, word in enumerate(rest[:5]):  # a place name is a few words at most
        category = _category(word)
        if category is not None and i > 0:
            return ParsedSms(coded=True, place_hint=" ".join(rest[:i]), category=category,
                             text=" ".join(rest[i + 1:]))
    return ParsedSms(coded=True, place_hint=rest[0] if rest else "", category=None, text=" ".join(rest[1:]))
