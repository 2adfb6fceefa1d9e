"""Where a report happened: a GPS fix when the device has one, else a typed MGRS or lat/lon.

Every result is a :class:`Location` in WGS 84 decimal degrees with its source, shaped like the
report body's ``location`` object. Its precision is what is known, never invented: a GPS fix's
accuracy, an MGRS square's size, and none for a typed lat/lon (how many decimals someone typed is
not a measurement). Parsing of typed positions is
``peacewatch.common.coords`` (its ``CoordinateError`` names the bad field and is passed through
for the form to show).

Where GPS fixes come from (plyer, or a simulated provider) and whether one is good enough is
``location_provider``; this module only shapes positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from peacewatch.common import coords


@dataclass(frozen=True)
class Location:
    """A WGS 84 position with its precision (metres) and source ("gps", "mgrs" or "latlon")."""

    lat: float
    lon: float
    precision_m: float | None
    source: str
    mgrs: str
    place: str | None = None

    def as_body(self) -> dict[str, Any]:
        """The report body's ``location`` object."""
        body: dict[str, Any] = {"lat": self.lat, "lon": self.lon, "source": self.source}
        if self.precision_m is not None:
            body["precision_m"] = self.precision_m
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
    """Parse a typed position (MGRS like ``36N UL 44 36`` or ``4.85, 31.6`` / ``4.85N 31.6E``).

    A grid reference carries its square's size; a lat/lon carries no precision at all."""
    position = coords.parse_position(text)
    precision = None if position.precision_m is None else float(position.precision_m)
    return Location(position.lat, position.lon, precision, position.source, position.mgrs, place)


class GpsFacade(Protocol):
    """The part of ``plyer.gps`` used here (a fake one is passed in tests)."""

    def configure(self, on_location: Any, on_status: Any = None) -> None: ...

    def start(self, minTime: int = 1000, minDistance: int = 0) -> None: ...  # noqa: N803 - plyer's names

    def stop(self) -> None: ...
