"""How form values read on screen: kind titles, times (local + DTG) and positions (MGRS + lat/lon).

Pure functions over body values (no widgets), shared by the form and the detail screen. Every word
comes from the catalog; numbers, grid references and times are wrapped by :func:`text.isolate` so
an Arabic line does not reorder them.

A position says how far it can be trusted, and only what is known: a GPS fix its accuracy, a
typed grid reference the size of its square, a typed lat/lon the 1 km grid square it falls in and
no accuracy at all (the number of decimals someone typed is not a measurement).
"""

from __future__ import annotations

from typing import Any

from peacewatch.common.coords import to_mgrs
from peacewatch.common.i18n import N_, gettext
from peacewatch.common.timefmt import TimeFormatError, parse_iso, to_dtg
from peacewatch.mobile.ui.text import isolate

KIND_TITLES = {
    "incident": N_("Incident"),
    "patrol": N_("Patrol"),
    "hr_concern": N_("Human-rights concern"),
}

GPS_ACCURACY = N_("GPS ± {metres} m")
GRID_SQUARE = N_("grid square {metres} m")
IN_SQUARE = N_("in grid square {square}")


def time_display(value: Any) -> str:
    """``2026-11-24 17:30 | 241530ZNOV26`` (local time, then the DTG) for a stored ISO time."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        dt = parse_iso(value, "time")
    except TimeFormatError:
        return value
    return f"{isolate(f'{dt.astimezone():%Y-%m-%d %H:%M}')} | {isolate(to_dtg(dt))}"


def location_display(value: Any, lang: str = "en") -> str:
    """Both forms of a stored location and how far to trust it; empty when not a position yet."""
    if not isinstance(value, dict) or value.get("lat") is None or value.get("lon") is None:
        return ""
    lat, lon = float(value["lat"]), float(value["lon"])
    precision = value.get("precision_m")
    source = value.get("source")
    if source == "latlon" or (source != "gps" and not isinstance(precision, int | float)):
        square = to_mgrs(lat, lon, 2)  # 1 km: where it is, without claiming how exactly
        trust = gettext(IN_SQUARE, lang).format(square=isolate(square))
        grid = square
    else:
        grid = value.get("mgrs") or to_mgrs(lat, lon)
        metres = isolate(f"{precision:g}") if isinstance(precision, int | float) else "?"
        template = GPS_ACCURACY if source == "gps" else GRID_SQUARE
        trust = gettext(template, lang).format(metres=metres)
    return f"{isolate(grid)}  /  {isolate(f'{lat:.5f}, {lon:.5f}')}  ({trust})"


def location_text(value: Any) -> str:
    """What to put back in the location box: the typed grid reference or ``lat, lon``."""
    if not isinstance(value, dict):
        return ""
    if value.get("source") == "mgrs" and value.get("mgrs"):
        return str(value["mgrs"])
    if value.get("lat") is not None and value.get("lon") is not None:
        return f"{value['lat']}, {value['lon']}"
    return str(value.get("mgrs") or "")


def spaced_mgrs(ref: str) -> str:
    """``36NUL4475336243`` -> ``36N UL 44753 36243`` (how people write it)."""
    head = 3 if ref[:2].isdigit() else 2
    zone, square, digits = ref[:head], ref[head:head + 2], ref[head + 2:]
    half = len(digits) // 2
    return " ".join(p for p in (zone, square, digits[:half], digits[half:]) if p)


# Used only before the tablet has pulled any place: Juba, where the demo mission is.
FALLBACK_EXAMPLE = "36N UL 44753 36243"


def grid_example(centre: tuple[float, float] | None) -> str:
    """The form's example grid reference: the middle of the mission's places, so it lies in the
    mission's own grid zone (a patrol copies the pattern, and the zone letters with it)."""
    return FALLBACK_EXAMPLE if centre is None else spaced_mgrs(to_mgrs(*centre))
