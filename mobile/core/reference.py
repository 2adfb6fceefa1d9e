"""Reference data pulled from HQ: place names (English, French, Arabic) and sensitive sites.

Searchable offline by prefix in any of the three languages, ignoring case and diacritics: every
name is normalised (:func:`normalise`) and each of its word-start suffixes is stored in
``place_terms``, so a search is a range scan on that table's primary key
(``term >= q AND term < q || U+10FFFF``). "jub" finds "Juba" and "Mount Juba", "deme" finds
"Dème", "جوب" finds "جُوبا" (harakat dropped, hamza-carrying alef forms folded to bare alef).
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlcipher3

from peacewatch.mobile.core.errors import InvalidInput, NotFound
from peacewatch.mobile.core.store import Store

LANGUAGES = ("en", "fr", "ar")
_MAX = "\U0010ffff"  # sorts after every other code point in SQLite's BINARY (UTF-8 byte) order
# Arabic letters written several ways in place names: fold to one form each.
_ARABIC_FOLD = str.maketrans({"ة": "ه", "ى": "ي", "ـ": None})


def normalise(text: str) -> str:
    """Case-, diacritic- and punctuation-insensitive form used for indexing and for queries."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = stripped.translate(_ARABIC_FOLD).casefold()
    words = "".join(ch if ch.isalnum() else " " for ch in folded).split()
    return " ".join(words)


def terms(name: str) -> set[str]:
    """Every word-start suffix of a normalised name: "Mount Juba" -> {"mount juba", "juba"}."""
    words = normalise(name).split()
    return {" ".join(words[i:]) for i in range(len(words))}


@dataclass(frozen=True)
class Place:
    """A named place or sensitive site (WGS84)."""

    place_id: str
    kind: str | None
    lat: float
    lon: float
    names: dict[str, str]
    sensitive: bool

    def name(self, language: str) -> str:
        """The name in ``language``, falling back to English, French, Arabic."""
        for lang in (language, *LANGUAGES):
            if self.names.get(lang):
                return self.names[lang]
        return self.place_id


def _coordinate(value: Any, field: str, limit: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(field, f"not a number: {value!r}") from exc
    if not math.isfinite(number) or abs(number) > limit:
        raise InvalidInput(field, f"must be between -{limit:g} and {limit:g}, got {value!r}")
    return number


def apply_item(conn: sqlcipher3.Connection, item: Any, where: str = "item") -> bool:
    """Apply one reference item as the feed sends it (``GET /reference``'s shape), inside the caller's
    transaction. True if the tablet keeps it: places and sensitive sites given as points, and deletions;
    areas and boundaries are not kept on the tablet yet."""
    if not isinstance(item, dict):
        raise InvalidInput(where, "must be an object")
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise InvalidInput(f"{where}.id", "must be a non-empty string")
    if item.get("deleted"):
        delete_place(conn, item_id)
        return True
    kind = item.get("kind")
    geometry = item.get("geometry")
    if kind not in ("place", "sensitive_site") or not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return False
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise InvalidInput(f"{where}.geometry.coordinates", "must be [lon, lat]")
    properties = item.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidInput(f"{where}.properties", "must be an object")
    upsert_place(
        conn, place_id=item_id, kind=properties.get("kind", kind),
        lat=_coordinate(coordinates[1], f"{where}.geometry.coordinates.1", 90),
        lon=_coordinate(coordinates[0], f"{where}.geometry.coordinates.0", 180),
        names=_names(item.get("names"), f"{where}.names"), sensitive=kind == "sensitive_site",
        extra={k: v for k, v in properties.items() if k != "kind"},
    )
    return True


def _names(names: Any, where: str) -> dict[str, str]:
    if not isinstance(names, dict):
        raise InvalidInput(where, "must be an object with en / fr / ar names")
    clean = {
        lang: names[lang] for lang in LANGUAGES if isinstance(names.get(lang), str) and names[lang].strip()
    }
    if not clean:
        raise InvalidInput(where, "needs at least one of en, fr, ar")
    return clean


def upsert_place(
    conn: sqlcipher3.Connection, *, place_id: str, kind: str | None, lat: float, lon: float,
    names: dict[str, str], sensitive: bool, extra: dict[str, Any],
) -> str:
    """Insert or replace one place and its search terms (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO places (place_id, kind, lat, lon, name_en, name_fr, name_ar, sensitive, extra)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(place_id) DO UPDATE SET kind = excluded.kind, lat = excluded.lat, lon = excluded.lon,"
        " name_en = excluded.name_en, name_fr = excluded.name_fr, name_ar = excluded.name_ar,"
        " sensitive = excluded.sensitive, extra = excluded.extra",
        (
            place_id,
            kind,
            lat,
            lon,
            names.get("en"),
            names.get("fr"),
            names.get("ar"),
            int(sensitive),
            json.dumps(extra, ensure_ascii=False, sort_keys=True),
        ),
    )
    conn.execute("DELETE FROM place_terms WHERE place_id = ?", (place_id,))
    all_terms = set().union(*(terms(name) for name in names.values()))
    conn.executemany(
        "INSERT OR IGNORE INTO place_terms (term, place_id) VALUES (?, ?)", [(t, place_id) for t in all_terms]
    )
    return place_id


def delete_place(conn: sqlcipher3.Connection, place_id: str) -> None:
    """Remove a place and its terms (inside the caller's transaction)."""
    conn.execute("DELETE FROM place_terms WHERE place_id = ?", (place_id,))
    conn.execute("DELETE FROM places WHERE place_id = ?", (place_id,))


_COLUMNS = "p.place_id, p.kind, p.lat, p.lon, p.name_en, p.name_fr, p.name_ar, p.sensitive"


def _place(row: tuple[Any, ...]) -> Place:
    names = {lang: value for lang, value in zip(LANGUAGES, row[4:7], strict=True) if value}
    return Place(row[0], row[1], row[2], row[3], names, bool(row[7]))


class Reference:
    """Read side of the reference data (writes arrive through ``Outbox.apply_pull_page``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def search(self, text: str, *, limit: int = 20, sensitive_only: bool = False) -> list[Place]:
        """Places whose name (any language) has a word starting with ``text``; best matches first."""
        if limit < 1:
            raise InvalidInput("limit", "must be at least 1")
        query = normalise(text)
        if not query:
            return []
        rows = self.store.query(
            f"""
            SELECT {_COLUMNS}, max(t.term = ?) AS exact, min(length(t.term)) AS shortest
            FROM place_terms t JOIN places p ON p.place_id = t.place_id
            WHERE t.term >= ? AND t.term < ? {"AND p.sensitive = 1" if sensitive_only else ""}
            GROUP BY p.place_id
            ORDER BY exact DESC, shortest, p.place_id
            LIMIT ?
            """,
            (query, query, query + _MAX, limit),
        )
        return [_place(row) for row in rows]

    def get(self, place_id: str) -> Place:
        rows = self.store.query(f"SELECT {_COLUMNS} FROM places p WHERE p.place_id = ?", (place_id,))
        if not rows:
            raise NotFound(f"no place {place_id}")
        return _place(rows[0])

    def sensitive_sites(self) -> list[Place]:
        rows = self.store.query(f"SELECT {_COLUMNS} FROM places p WHERE p.sensitive = 1 ORDER BY p.place_id")
        return [_place(row) for row in rows]

    def count(self) -> int:
        return int(self.store.query("SELECT count(*) FROM places")[0][0])

    def centre(self) -> tuple[float, float] | None:
        """The middle of the mission's known places (lat, lon), or None before the first pull.

        The form's example grid reference is taken from here, so it lies in the mission's own
        grid zone rather than somewhere the patrol has never been."""
        row = self.store.query("SELECT avg(lat), avg(lon), count(*) FROM places")[0]
        return None if not row[2] else (float(row[0]), float(row[1]))
