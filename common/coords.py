"""Positions: lat/lon (WGS 84 decimal degrees) and MGRS grid references, and parsing what people type.

MGRS conversion is the ``mgrs`` package (NGA GeoTrans). Its ``toLatLon`` already returns
the *centre* of the grid square at every precision, not the south-west corner (checked
against pyproj in the tests: ``36NUL4436`` -> easting 344500, northing 536500), so
:func:`from_mgrs` keeps it and adds the square's size as the precision. One correction:
a square cut by a UTM zone or latitude band edge (zone edges run through South Sudan at
24, 30 and 36 degrees E) has its geometric centre outside the part carrying its name, so
for those we return the centre of the named part; the point then always converts back to
the same reference.

Bad input raises :class:`CoordinateError` (a ``ValueError``) naming the field and a code
from ``peacewatch.common.errors.MESSAGES``.
"""

from __future__ import annotations

import math
import re
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import mgrs as _mgrs
from mgrs.core import MGRSError

from peacewatch.common.errors import InputError

# GeoTrans letters: bands C-X without I and O (UTM), A/B/Y/Z (UPS, the poles);
# 100 km square letters A-Z without I and O.
_UTM_REF = re.compile(r"^(\d{1,2})([C-HJ-NP-X])([A-HJ-NP-Z]{2})(\d*)$")
_UPS_REF = re.compile(r"^([ABYZ])([A-HJ-NP-Z]{2})(\d*)$")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_LATLON = re.compile(rf"^\s*({_NUMBER})\s*(?:,|;|\s)\s*({_NUMBER})\s*$")
_HEMI = re.compile(rf"^\s*({_NUMBER})\s*°?\s*([NSEW])\s*,?\s*({_NUMBER})\s*°?\s*([NSEW])\s*$", re.I)

_converter = _mgrs.MGRS()
# warnings.catch_warnings swaps process-wide state; one lock keeps our own calls from
# interleaving (GeoTrans is fast, so holding it costs microseconds).
_warnings_lock = threading.Lock()


def _geotrans_to_lat_lon(ref: str) -> tuple[float, float, bool]:
    """GeoTrans ``toLatLon`` plus whether it warned (point outside the band the letter names).

    GeoTrans reports "Latitude Warning" as a RuntimeWarning, which pytest (and any
    ``-W error`` deployment) turns into an exception; here it is data, not an error.
    """
    with _warnings_lock, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        lat, lon = _converter.toLatLon(ref)
    return float(lat), float(lon), any(issubclass(w.category, RuntimeWarning) for w in caught)


class CoordinateError(InputError):
    """A bad latitude, longitude, MGRS reference or typed position (``field``, ``code``, ``message``)."""


@dataclass(frozen=True)
class Position:
    """A parsed position: centre lat/lon, how precise (metres, None if unknown), where it came from."""

    lat: float
    lon: float
    precision_m: float | None
    source: Literal["mgrs", "latlon"]
    mgrs: str


def check_lat_lon(lat: float, lon: float) -> tuple[float, float]:
    """``(lat, lon)`` as floats, or :class:`CoordinateError` naming the bad one."""
    for name, value, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CoordinateError(name, "not_a_number")
        if not math.isfinite(value) or not -limit <= value <= limit:
            raise CoordinateError(name, f"{name}_out_of_range")
    return float(lat), float(lon)


def digits_for_precision(precision_m: float | None) -> int:
    """MGRS digit pairs (0-5) for a square no larger than ``precision_m`` (None -> 5, i.e. 1 m)."""
    if precision_m is None or precision_m <= 1:
        return 5
    return max(0, 5 - math.ceil(math.log10(precision_m) - 1e-9))


def to_mgrs(lat: float, lon: float, precision: int = 5) -> str:
    """The MGRS reference of the square containing ``(lat, lon)``, ``precision`` digit pairs (5 = 1 m)."""
    lat, lon = check_lat_lon(lat, lon)
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 5:
        raise CoordinateError("precision", "bad_precision")
    if -2e-7 < lat < 0:
        # GeoTrans rounds the northing of a point a hair south of the equator up to
        # 10 000 km and names a square it then refuses to read back (e.g. 36MUF...).
        # Moving the point at most 2.2 cm south, still in its hemisphere, avoids it.
        lat = -2e-7
    try:
        return str(_converter.toMGRS(lat, lon, MGRSPrecision=precision))
    except MGRSError as exc:  # pragma: no cover - GeoTrans accepts every in-range point
        raise CoordinateError("mgrs", "invalid_mgrs", f"cannot convert: {exc}") from exc


def normalise_mgrs(ref: str) -> tuple[str, int]:
    """``ref`` without spaces, upper case, zone padded to two digits; and its digit-pair count."""
    if not isinstance(ref, str):
        raise CoordinateError("mgrs", "not_text")
    compact = re.sub(r"\s+", "", ref).upper()
    utm = _UTM_REF.match(compact)
    if utm:
        zone, band, square, digits = utm.groups()
        if not 1 <= int(zone) <= 60:
            raise CoordinateError("mgrs", "invalid_mgrs")
        compact = f"{int(zone):02d}{band}{square}{digits}"
    else:
        ups = _UPS_REF.match(compact)
        if not ups:
            raise CoordinateError("mgrs", "invalid_mgrs")
        digits = ups.group(3)
    if len(digits) % 2 or len(digits) > 10:
        raise CoordinateError("mgrs", "invalid_mgrs")
    return compact, len(digits) // 2


def from_mgrs(ref: str) -> tuple[float, float, float]:
    """``(lat, lon, precision_m)``: the centre of the square ``ref`` names and its size (1 m .. 100 km)."""
    return _square_centre(*normalise_mgrs(ref))


@lru_cache(maxsize=4096)
def _square_centre(compact: str, pairs: int) -> tuple[float, float, float]:
    # Cached: validating a location converts its reference more than once, and reports
    # from one area share squares.
    try:
        lat, lon, warned = _geotrans_to_lat_lon(compact)
    except MGRSError as exc:
        # GeoTrans refuses e.g. a square letter pair that does not exist in that zone and band.
        raise CoordinateError("mgrs", "invalid_mgrs") from exc
    if pairs < 5 and (warned or to_mgrs(lat, lon, pairs) != compact):
        # A square cut by a zone or band edge: its geometric centre lies outside the
        # part that carries this name, so use the centre of the part that does
        # (a finer grid for slivers; GeoTrans's centre if even that finds none).
        for steps in (10, 60):
            part = _centre_of_named_part(compact, pairs, steps)
            if part is not None:
                lat, lon = part
                break
    return float(lat), float(lon), float(10 ** (5 - pairs))


def _centre_of_named_part(compact: str, pairs: int, steps: int) -> tuple[float, float] | None:
    """Mean of a ``steps`` x ``steps`` grid of points of the square that still convert back to ``compact``."""
    prefix, digits = compact[: len(compact) - 2 * pairs], compact[len(compact) - 2 * pairs :]
    size = 10 ** (5 - pairs)
    east0 = int(digits[:pairs] or 0) * size
    north0 = int(digits[pairs:] or 0) * size
    inside: list[tuple[float, float]] = []
    for i in range(steps):
        for j in range(steps):
            east = east0 + int((i + 0.5) * size / steps)
            north = north0 + int((j + 0.5) * size / steps)
            try:
                lat, lon, warned = _geotrans_to_lat_lon(f"{prefix}{east:05d}{north:05d}")
            except MGRSError:
                continue
            if not warned and to_mgrs(lat, lon, pairs) == compact:
                inside.append((lat, lon))
    if not inside:
        return None
    mean = (sum(p[0] for p in inside) / len(inside), sum(p[1] for p in inside) / len(inside))
    if to_mgrs(*mean, pairs) == compact:
        return mean
    return min(inside, key=lambda p: (p[0] - mean[0]) ** 2 + (p[1] - mean[1]) ** 2)


def parse_position(text: str) -> Position:
    """Parse what a person typed: ``4.85, 31.6``, ``4.85N 31.6E`` (either order), or MGRS (spaces allowed)."""
    if not isinstance(text, str) or not text.strip():
        raise CoordinateError("position", "invalid_position")
    plain = _LATLON.match(text)
    if plain:
        lat, lon = check_lat_lon(float(plain.group(1)), float(plain.group(2)))
        return Position(lat, lon, None, "latlon", to_mgrs(lat, lon))
    hemi = _HEMI.match(text)
    if hemi:
        return _from_hemispheres(hemi.groups())
    if re.search(r"\d\s*[A-Za-z]", text) or re.match(r"^\s*[ABYZabyz]", text):
        lat, lon, precision = from_mgrs(text)
        return Position(lat, lon, precision, "mgrs", normalise_mgrs(text)[0])
    raise CoordinateError("position", "invalid_position")


def _from_hemispheres(groups: tuple[str, ...]) -> Position:
    first, first_h, second, second_h = groups
    values: dict[str, float] = {}
    for number, hemi in ((first, first_h.upper()), (second, second_h.upper())):
        value = float(number)
        if value < 0:  # "-4.85S" is contradictory: refuse rather than guess
            raise CoordinateError("position", "invalid_position")
        axis = "lat" if hemi in "NS" else "lon"
        if axis in values:
            raise CoordinateError("position", "invalid_position")
        values[axis] = -value if hemi in "SW" else value
    lat, lon = check_lat_lon(values["lat"], values["lon"])
    return Position(lat, lon, None, "latlon", to_mgrs(lat, lon))
