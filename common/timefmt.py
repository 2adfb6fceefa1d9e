"""Times: ISO 8601 (what is stored and sent) and the military Date-Time Group (what soldiers read).

Every datetime leaving this module is timezone-aware UTC. A naive time (no ``Z`` and no
offset) is **rejected**, not assumed to be UTC: a tablet's local clock zone is unknown at
HQ, so guessing would silently shift events by hours.

DTG: ``DDHHMM<zone>MONYY``, e.g. ``241530ZNOV26`` = 24 Nov 2026 15:30 UTC. Zone letters
are the military time zones: A-I = UTC+1..+9, K-M = +10..+12 (J is local time and has
no fixed offset, so it is refused), N-Y = UTC-1..-12, Z = UTC. Parsing is
case-insensitive and ignores spaces; the year may be two or four digits.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from peacewatch.common.errors import InputError

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _zone_offsets() -> dict[str, int]:
    zones = {"Z": 0}
    zones.update({letter: i + 1 for i, letter in enumerate("ABCDEFGHI")})
    zones.update({letter: 10 + i for i, letter in enumerate("KLM")})
    zones.update({letter: -(i + 1) for i, letter in enumerate("NOPQRSTUVWXY")})
    return zones


#: military zone letter -> offset from UTC in whole hours
ZONES: dict[str, int] = _zone_offsets()

_DTG = re.compile(r"^(\d{2})(\d{2})(\d{2})([A-Z])([A-Z]{3})(\d{4}|\d{2})$")


class TimeFormatError(InputError):
    """A bad ISO 8601 time, DTG, or zone letter (``field``, ``code``, ``message``)."""


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def _require_aware(dt: datetime, field: str) -> datetime:
    if not isinstance(dt, datetime):
        raise TimeFormatError(field, "bad_datetime")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise TimeFormatError(field, "naive_datetime")
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is past year 9999 in UTC
        raise TimeFormatError(field, "bad_datetime") from None


def to_iso(dt: datetime) -> str:
    """``dt`` as ISO 8601 UTC with ``Z`` (microseconds only when non-zero); naive -> error."""
    text = _require_aware(dt, "time").isoformat()
    return text.removesuffix("+00:00") + "Z"


def parse_iso(text: str, field: str = "time") -> datetime:
    """An aware UTC datetime from ISO 8601 text with ``Z`` or an offset; naive or date-only -> error."""
    if not isinstance(text, str):
        raise TimeFormatError(field, "bad_datetime")
    stripped = text.strip()
    # A bare date parses in fromisoformat but names no time of day: not an event time.
    if "T" not in stripped.upper() and " " not in stripped:
        raise TimeFormatError(field, "bad_datetime")
    try:
        parsed = datetime.fromisoformat(stripped)
    except ValueError:
        raise TimeFormatError(field, "bad_datetime") from None
    return _require_aware(parsed, field)


def to_dtg(dt: datetime, zone: str = "Z") -> str:
    """``dt`` as a DTG in military ``zone`` (``241530ZNOV26``); naive or unknown zone -> error."""
    utc = _require_aware(dt, "time")
    letter = zone.strip().upper() if isinstance(zone, str) else ""
    if letter not in ZONES:
        raise TimeFormatError("zone", "bad_zone")
    local = utc.astimezone(timezone(timedelta(hours=ZONES[letter])))
    return f"{local:%d%H%M}{letter}{MONTHS[local.month - 1]}{local:%y}"


def parse_dtg(text: str, field: str = "dtg") -> datetime:
    """The aware UTC datetime a DTG names (``241530ZNOV26``, ``24 1530 b nov 2026``...)."""
    if not isinstance(text, str):
        raise TimeFormatError(field, "bad_dtg")
    match = _DTG.match(re.sub(r"\s+", "", text).upper())
    if not match:
        raise TimeFormatError(field, "bad_dtg")
    day, hour, minute, letter, month, year = match.groups()
    if letter not in ZONES:
        raise TimeFormatError(field, "bad_zone")
    if month not in MONTHS:
        raise TimeFormatError(field, "bad_dtg")
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    try:
        local = datetime(
            full_year,
            MONTHS.index(month) + 1,
            int(day),
            int(hour),
            int(minute),
            tzinfo=timezone(timedelta(hours=ZONES[letter])),
        )
    except ValueError:  # 31 FEB, hour 24, minute 60...
        raise TimeFormatError(field, "bad_dtg") from None
    return local.astimezone(UTC)
