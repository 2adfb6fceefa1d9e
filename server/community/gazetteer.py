"""Where is it? Place names in a community alert's text matched against the mission's gazetteer.

The gazetteer is the reference data's ``place`` items (their English, French and Arabic names)
plus the alternate spellings admins add (``community_place_aliases``). Names and text are folded
(case, accents, punctuation) before rapidfuzz compares them: ``WRatio`` for a place given on its
own (the coded SMS's place field) and ``partial_ratio`` over the words of free text, so "attaque
pres de Mambasa hier" still finds Mambasa. The liaison sees the top candidates with their scores
and confirms one; nothing is placed without that confirmation.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..access import Principal
from ..audit.service import record
from ..db.tables import community_place_aliases, reference_items
from ..problems import Code, Problem, invalid, not_found

TOP = 3
MIN_SCORE = 60.0  # below this a candidate is noise; the liaison can still pick any place by hand


def fold(text: str) -> str:
    """Lower case, accents dropped, punctuation to spaces: "Béni-Sud" and "beni sud" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return utils.default_process(stripped)


@dataclass(frozen=True)
class Place:
    id: str
    names: dict[str, str]
    lat: float
    lon: float


_CACHE: dict[tuple[str, tuple[Any, ...]], tuple[dict[str, Place], list[tuple[str, str]]]] = {}


def _version(conn: Connection) -> tuple[Any, ...]:
    """What changes whenever a place or alias is added, edited or removed (one cheap query)."""
    # The newest edit time too: a database emptied and refilled can repeat a count and a sequence.
    places = conn.execute(select(func.count(), func.max(reference_items.c.seq), func.max(reference_items.c.updated_at))
                          .where(reference_items.c.kind == "place")).one()
    aliases = conn.execute(select(func.count(), func.max(community_place_aliases.c.id),
                                  func.max(community_place_aliases.c.created_at))).one()
    return (*places, *aliases)


def load_places(conn: Connection) -> tuple[dict[str, Place], list[tuple[str, str]]]:
    """Every place, and (folded name, place id) for each of its names and aliases.

    Folding every name costs more than matching, so the folded gazetteer is kept per database and
    rebuilt when a place or alias changes (an SMS intake would otherwise refold it per message).
    """
    cache_key = (str(conn.engine.url), _version(conn))
    cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached
    loaded = _load(conn)
    _CACHE.clear()  # one version per process is enough: older ones are stale
    _CACHE[cache_key] = loaded
    return loaded


def _load(conn: Connection) -> tuple[dict[str, Place], list[tuple[str, str]]]:
    places: dict[str, Place] = {}
    names: list[tuple[str, str]] = []
    for row in conn.execute(select(reference_items.c.id, reference_items.c.names, reference_items.c.geometry)
                            .where(reference_items.c.kind == "place")).mappings():
        lon, lat = row["geometry"]["coordinates"][:2]
        places[row["id"]] = Place(row["id"], dict(row["names"]), float(lat), float(lon))
        names.extend((fold(n), row["id"]) for n in set(row["names"].values()) if n)
    for ref_id, alias in conn.execute(select(community_place_aliases.c.reference_id, community_place_aliases.c.name)):
        if ref_id in places:
            names.append((fold(alias), ref_id))
    return places, [(n, pid) for n, pid in names if n]


def candidates(conn: Connection, *, text: str, place_hint: str = "", limit: int = TOP) -> list[dict[str, Any]]:
    """The best places for this alert, best first: ``[{"place_id", "name", "score"}]``.

    A place hint (the coded message's place field, or what the liaison typed) is compared whole;
    free text is searched for the place name anywhere in it. Each place appears once, with the
    best score any of its names reached.
    """
    places, names = load_places(conn)
    if not names:
        return []
    choices = [n for n, _ in names]
    best: dict[str, float] = {}
    queries: list[tuple[str, Any]] = []
    if place_hint.strip():
        queries.append((fold(place_hint), fuzz.WRatio))
    if text.strip():
        queries.append((fold(text), fuzz.partial_ratio))
    for query, scorer in queries:
        if not query:
            continue
        for _name, score, index in process.extract(query, choices, scorer=scorer, processor=None,
                                                   limit=limit * 4, score_cutoff=MIN_SCORE):
            pid = names[index][1]
            best[pid] = max(best.get(pid, 0.0), float(score))
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"place_id": pid, "name": places[pid].names.get("en") or next(iter(places[pid].names.values()), pid),
             "names": places[pid].names, "score": round(score, 1)} for pid, score in ranked]


def get_place(conn: Connection, place_id: str) -> Place:
    row = conn.execute(select(reference_items.c.id, reference_items.c.names, reference_items.c.geometry)
                       .where(reference_items.c.id == place_id, reference_items.c.kind == "place")).mappings().first()
    if row is None:
        raise invalid("place_id", f"no gazetteer place {place_id!r}")
    lon, lat = row["geometry"]["coordinates"][:2]
    return Place(row["id"], dict(row["names"]), float(lat), float(lon))


def add_alias(conn: Connection, principal: Principal, *, place_id: str, name: str) -> dict[str, Any]:
    """Add an alternate spelling of a place (admins), matched from now on."""
    if conn.execute(select(reference_items.c.id).where(reference_items.c.id == place_id,
                                                       reference_items.c.kind == "place")).first() is None:
        raise not_found("place")
    name = name.strip()
    if not name or not fold(name):
        raise invalid("name", "an alternate spelling needs at least one letter or digit")
    try:
        with conn.begin_nested():
            conn.execute(insert(community_place_aliases).values(reference_id=place_id, name=name,
                                                                created_at=clock.now()))
    except IntegrityError:
        raise Problem(Code.CONFLICT, f"{name!r} is already a spelling of {place_id}", field="name") from None
    record(conn, action="place_alias_added", actor=principal.username, actor_user_id=principal.user_id,
           target=place_id, detail={"name": name})
    return {"place_id": place_id, "name": name}


def aliases(conn: Connection, place_id: str) -> list[str]:
    return list(conn.execute(select(community_place_aliases.c.name)
                             .where(community_place_aliases.c.reference_id == place_id)
                             .order_by(community_place_aliases.c.name)).scalars())
