"""Where a report happened: a GPS fix when the device has one, else a typed MGRS or lat/lon.

Every result is a :class:`Location` in WGS 84 decimal degrees with a precision in metres and its
source, shaped like the report body's ``location`` object. Parsing of typed positions is
``peacewatch.common.coords`` (its ``CoordinateError`` names the bad field and is passed through
for the form to show).

GPS goes through plyer. On desktop Linux plyer has no GPS backend and raises
``NotImplementedError``: :func:`current_fix` then returns ``None`` and the form asks for a typed
position. :func:`current_fix` blocks up to ``timeout_s``; call it from a worker thread, never the
UI thread.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from peacewatch.common import coords

# Metres per degree of latitude (and of longitude at the equator): turns typed decimals into a precision.
_METRES_PER_DEGREE = 111_320.0
_DECIMALS = re.compile(r"\d+(?:\.(\d*))?")


@dataclass(frozen=True)
class Location:
    """A WGS 84 position with its precision (metres) and source ("gps", "mgrs" or "latlon")."""

    lat: float
    lon: float
    precision_m: float
    source: str
    mgrs: str
    place: str | None = None

    def as_body(self) -> dict[str, Any]:
        """The report body's ``location`` object."""
        body: dict[str, Any] = {
            "lat": self.lat,
            "lon": self.lon,
            "precision_m": self.precision_m,
            "source": self.source,
        }
        if self.place:
            body["place"] = self.place
        return body


def from_gps(lat: float, lon: float, accuracy_m: float | None, place: str | None = None) -> Location:
    """A fix as reported by the platform; accuracy unknown or nonsensical counts as 100 m."""
    lat, lon = coords.check_lat_lon(lat, lon)
    precision = float(accuracy_m) if accuracy_m is not None and accuracy_m > 0 else 100.0
    return Location(
        lat, lon, precision, "gps", coords.to_mgrs(lat, lon, coords.digits_for_precision(precision)), place
    )


def from_typed(text: str, place: str | None = None) -> Location:
    """Parse a typed position (MGRS like ``36N UL 44 36`` or ``4.85, 31.6`` / ``4.85N 31.6E``)."""
    position = coords.parse_position(text)
    precision = position.precision_m
    if precision is None:
        precision = _typed_precision(text)
    return Location(position.lat, position.lon, float(precision), position.source, position.mgrs, place)


def _typed_precision(text: str) -> float:
    """Precision implied by the fewest decimals typed: "4.85, 31.6" -> 1 decimal -> about 11 km."""
    decimals = [len(m.group(1) or "") for m in _DECIMALS.finditer(text)]
    fewest = min(decimals) if decimals else 0
    return max(1.0, round(_METRES_PER_DEGREE / 10**fewest, 1))


class GpsFacade(Protocol):
    """The part of ``plyer.gps`` used here (a fake one is passed in tests)."""

    def configure(self, on_location: Any, on_status: Any = None) -> None: ...

    def start(self, minTime: int = 1000, minDistance: int = 0) -> None: ...  # noqa: N803 - plyer's names

    def stop(self) -> None: ...


def current_fix(timeout_s: float = 15.0, gps: GpsFacade | None = None) -> Location | None:
    """The first GPS fix within ``timeout_s``, or None if there is no GPS or no fix came."""
    if gps is None:
        try:
            from plyer import gps as plyer_gps
        except ImportError:
            return None
        gps = plyer_gps
    got = threading.Event()
    fix: dict[str, Any] = {}

    def on_location(**kwargs: Any) -> None:
        if not got.is_set() and "lat" in kwargs and "lon" in kwargs:
            fix.update(kwargs)
            got.set()

    try:
        gps.configure(on_location=on_location)
        gps.start(minTime=1000, minDistance=0)
    except NotImplementedError:
        return None  # desktop: no GPS backend in plyer
    try:
        got.wait(timeout_s)
    finally:
        gps.stop()
    if not got.is_set():
        return None
    return from_gps(float(fix["lat"]), float(fix["lon"]), fix.get("accuracy"))
