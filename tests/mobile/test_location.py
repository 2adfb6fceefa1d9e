"""Tests for peacewatch.mobile.core.location: GPS through plyer when present, typed MGRS or lat/lon otherwise."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from peacewatch.common.coords import CoordinateError
from peacewatch.common.schema import parse_report
from peacewatch.mobile.core import location
from tests.mobile.helpers import incident_fields, new_id


class FakeGps:
    """Stands in for plyer.gps: delivers one fix from another thread, as Android does."""

    def __init__(self, fix: dict[str, Any] | None) -> None:
        self.fix = fix
        self.stopped = False
        self.callback: Any = None

    def configure(self, on_location: Any, on_status: Any = None) -> None:
        self.callback = on_location

    def start(self, minTime: int = 1000, minDistance: int = 0) -> None:  # noqa: N803
        if self.fix is not None:
            threading.Timer(0.01, lambda: self.callback(**self.fix)).start()

    def stop(self) -> None:
        self.stopped = True


class NoGps(FakeGps):
    def configure(self, on_location: Any, on_status: Any = None) -> None:
        raise NotImplementedError


def test_gps_fix_is_used_when_the_platform_gives_one() -> None:
    gps = FakeGps({"lat": 4.85, "lon": 31.6, "accuracy": 8.0, "speed": 0})
    fix = location.current_fix(timeout_s=2, gps=gps)
    assert fix is not None and gps.stopped
    assert (fix.lat, fix.lon, fix.precision_m, fix.source) == (4.85, 31.6, 8.0, "gps")


def test_no_fix_in_time_and_no_gps_backend_give_none() -> None:
    silent = FakeGps(None)
    assert location.current_fix(timeout_s=0.05, gps=silent) is None and silent.stopped
    assert location.current_fix(timeout_s=0.05, gps=NoGps(None)) is None


def test_real_plyer_on_desktop_has_no_gps() -> None:
    # plyer has no Linux GPS backend: NotImplementedError must become "type it".
    assert location.current_fix(timeout_s=0.05) is None


def test_typed_mgrs_is_the_square_centre_with_its_size() -> None:
    loc = location.from_typed("36N UL 44 36", place="Juba market")
    assert loc.source == "mgrs" and loc.precision_m == 1000
    assert loc.mgrs == "36NUL4436"
    assert loc.lat == pytest.approx(4.8505, abs=0.01) and loc.lon == pytest.approx(31.59, abs=0.01)


@pytest.mark.parametrize(
    ("text", "lat", "lon", "precision"),
    [
        ("4.85, 31.6", 4.85, 31.6, 11132.0),
        ("4.8512N 31.6047E", 4.8512, 31.6047, 11.1),
        ("-4.5 -31.25", -4.5, -31.25, 11132.0),
    ],
)
def test_typed_lat_lon_precision_follows_the_digits(
    text: str, lat: float, lon: float, precision: float
) -> None:
    loc = location.from_typed(text)
    assert (loc.lat, loc.lon, loc.precision_m, loc.source) == (lat, lon, precision, "latlon")


def test_bad_typed_position_names_the_field() -> None:
    with pytest.raises(CoordinateError) as info:
        location.from_typed("95, 31")
    assert info.value.field == "lat"
    with pytest.raises(CoordinateError):
        location.from_gps(4.0, 200.0, 5)


def test_location_fits_the_report_body() -> None:
    loc = location.from_gps(4.85, 31.6, None, place="Juba")
    assert loc.precision_m == 100.0
    body = {"id": new_id(), "kind": "incident", **incident_fields(location=loc.as_body())}
    parsed = parse_report(body)
    assert parsed.location.source == "gps" and parsed.location.place == "Juba"
