"""Tests for peacewatch.mobile.core.location: GPS through plyer when present, typed MGRS or lat/lon otherwise."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from peacewatch.common.coords import CoordinateError
from peacewatch.common.schema import parse_report
from peacewatch.mobile.core import location
from peacewatch.mobile.core.location_provider import (
    SIMULATED_ENV,
    PlatformProvider,
    SimulatedProvider,
    Verdict,
    default_provider,
    judge,
)
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
    ticks = iter([100.0, 103.5])
    fix = PlatformProvider(gps, clock=lambda: next(ticks)).fix(timeout_s=2)
    assert fix is not None and gps.stopped
    loc = fix.location
    assert (loc.lat, loc.lon, loc.precision_m, loc.source) == (4.85, 31.6, 8.0, "gps")
    assert (fix.accuracy_m, fix.satellites, fix.age_s) == (8.0, None, 3.5)  # plyer gives no satellites


def test_no_fix_in_time_and_no_gps_backend_give_none() -> None:
    silent = FakeGps(None)
    assert PlatformProvider(silent).fix(timeout_s=0.05) is None and silent.stopped
    assert PlatformProvider(NoGps(None)).fix(timeout_s=0.05) is None


def test_real_plyer_on_desktop_has_no_gps() -> None:
    # plyer has no Linux GPS backend: NotImplementedError must become "type it".
    assert PlatformProvider().fix(timeout_s=0.05) is None


def test_a_fix_is_kept_only_when_its_accuracy_is_known_good_and_fresh() -> None:
    good = SimulatedProvider(4.85, 31.6, 12.0, satellites=9).fix(1)
    assert good is not None and judge(good).ok and good.satellites == 9
    coarse = SimulatedProvider(4.85, 31.6, 120.0).fix(1)
    assert coarse is not None and judge(coarse) == Verdict(False, "too_coarse")
    assert judge(coarse, max_accuracy_m=200).ok  # the user's setting decides
    stale = SimulatedProvider(4.85, 31.6, 5.0, age_s=600).fix(1)
    assert stale is not None and judge(stale).reason == "stale"
    unknown = SimulatedProvider(4.85, 31.6, None).fix(1)
    assert unknown is not None and judge(unknown).reason == "no_accuracy"


def test_the_simulated_provider_reads_its_environment_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIMULATED_ENV, "4.85, 31.6, 80, 4, 2.5")
    provider = default_provider()
    fix = provider.fix(1)
    assert isinstance(provider, SimulatedProvider) and fix is not None
    assert (fix.accuracy_m, fix.satellites, fix.age_s) == (80.0, 4, 2.5)
    with pytest.raises(ValueError, match=SIMULATED_ENV):
        SimulatedProvider.from_text("4.85")
    monkeypatch.delenv(SIMULATED_ENV)
    assert isinstance(default_provider(), PlatformProvider)


def test_typed_mgrs_is_the_square_centre_with_its_size() -> None:
    loc = location.from_typed("36N UL 44 36", place="Juba market")
    assert loc.source == "mgrs" and loc.precision_m == 1000
    assert loc.mgrs == "36NUL4436"
    assert loc.lat == pytest.approx(4.8505, abs=0.01) and loc.lon == pytest.approx(31.59, abs=0.01)


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [("4.85, 31.6", 4.85, 31.6), ("4.8512N 31.6047E", 4.8512, 31.6047), ("-4.5 -31.25", -4.5, -31.25)],
)
def test_typed_lat_lon_claims_no_precision(text: str, lat: float, lon: float) -> None:
    # The number of decimals typed is not an accuracy: none is invented (issue: "± 11.1 m").
    loc = location.from_typed(text)
    assert (loc.lat, loc.lon, loc.precision_m, loc.source) == (lat, lon, None, "latlon")
    assert "precision_m" not in loc.as_body()


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
