"""Where positions come from, and whether one is good enough to keep.

A :class:`LocationProvider` answers :meth:`~LocationProvider.fix` with a :class:`Fix`: the position
plus what a patrol needs to judge it — accuracy in metres, satellites in use where the platform
tells (``None`` otherwise), and the fix's age in seconds. Two providers:

- :class:`PlatformProvider`: the device's GPS through plyer (Android); ``None`` where plyer has no
  backend (a desktop), so the form asks for a typed position instead.
- :class:`SimulatedProvider`: a fixed fix, for tests and for running the app on a desktop
  (``PEACEWATCH_SIMULATED_GPS="lat,lon,accuracy_m[,satellites[,age_s]]"``).

:func:`judge` applies the user's setting "accept a fix only better than N m" (default 50 m): a
fix whose accuracy is unknown, worse than N, or stale is refused with the reason, never silently
kept. Providers block; call them from a worker thread, never the UI thread.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from peacewatch.mobile.core.location import GpsFacade, Location, from_gps

DEFAULT_MAX_ACCURACY_M = 50.0
MAX_FIX_AGE_S = 120.0  # an older fix says where the tablet was, not where it is
SIMULATED_ENV = "PEACEWATCH_SIMULATED_GPS"


@dataclass(frozen=True)
class Fix:
    """One position from a provider and what it says about its own quality."""

    location: Location
    accuracy_m: float | None
    satellites: int | None = None
    age_s: float = 0.0


class LocationProvider(Protocol):
    """Anything that can be asked for the current position."""

    def fix(self, timeout_s: float) -> Fix | None:
        """The current fix within ``timeout_s``, or None (no GPS here, or no fix came)."""
        ...


@dataclass(frozen=True)
class Verdict:
    """Whether a fix is kept: ``ok``, else ``reason`` in {"no_accuracy", "too_coarse", "stale"}."""

    ok: bool
    reason: str = ""


def judge(fix: Fix, max_accuracy_m: float = DEFAULT_MAX_ACCURACY_M, max_age_s: float = MAX_FIX_AGE_S) -> Verdict:
    """Keep a fix only if its accuracy is known and better than ``max_accuracy_m`` and it is fresh."""
    if fix.accuracy_m is None:
        return Verdict(False, "no_accuracy")
    if fix.accuracy_m >= max_accuracy_m:
        return Verdict(False, "too_coarse")
    if fix.age_s > max_age_s:
        return Verdict(False, "stale")
    return Verdict(True)


class SimulatedProvider:
    """Always answers the same fix (tests, desktops without GPS)."""

    def __init__(self, lat: float, lon: float, accuracy_m: float | None, satellites: int | None = None,
                 age_s: float = 0.0) -> None:
        self.lat, self.lon, self.accuracy_m = lat, lon, accuracy_m
        self.satellites, self.age_s = satellites, age_s

    @classmethod
    def from_text(cls, text: str) -> SimulatedProvider:
        """``"lat,lon,accuracy_m[,satellites[,age_s]]"`` (the environment variable's form)."""
        parts = [p.strip() for p in text.split(",")]
        if not 3 <= len(parts) <= 5:
            raise ValueError(f"{SIMULATED_ENV}: expected lat,lon,accuracy_m[,satellites[,age_s]], got {text!r}")
        lat, lon, accuracy = float(parts[0]), float(parts[1]), float(parts[2])
        satellites = int(parts[3]) if len(parts) > 3 and parts[3] else None
        age = float(parts[4]) if len(parts) > 4 and parts[4] else 0.0
        return cls(lat, lon, accuracy, satellites, age)

    def fix(self, timeout_s: float) -> Fix | None:
        location = from_gps(self.lat, self.lon, self.accuracy_m)
        return Fix(location, self.accuracy_m, self.satellites, self.age_s)


class PlatformProvider:
    """The device's GPS through plyer (or a facade with plyer's shape, in tests)."""

    def __init__(self, gps: GpsFacade | None = None, clock: Any = time.monotonic) -> None:
        self._gps = gps
        self._clock = clock

    def fix(self, timeout_s: float) -> Fix | None:
        gps = self._gps
        if gps is None:
            try:
                from plyer import gps as plyer_gps  # a platform library: absent on most desktops
            except ImportError:
                return None
            gps = plyer_gps
        got = threading.Event()
        seen: dict[str, Any] = {}

        def on_location(**kwargs: Any) -> None:
            if not got.is_set() and "lat" in kwargs and "lon" in kwargs:
                seen.update(kwargs, received=self._clock())
                got.set()

        def on_status(stype: str = "", status: Any = None, **_: Any) -> None:
            # Android reports "provider-status" with the satellites in use on some devices.
            if isinstance(status, dict) and isinstance(status.get("satellites"), int):
                seen["satellites"] = status["satellites"]

        try:
            gps.configure(on_location=on_location, on_status=on_status)
            gps.start(minTime=1000, minDistance=0)
        except NotImplementedError:
            return None  # no GPS backend in plyer here (desktop)
        try:
            got.wait(timeout_s)
        finally:
            gps.stop()
        if not got.is_set():
            return None
        accuracy = seen.get("accuracy")
        accuracy_m = float(accuracy) if isinstance(accuracy, int | float) and accuracy > 0 else None
        location = from_gps(float(seen["lat"]), float(seen["lon"]), accuracy_m)
        return Fix(location, accuracy_m, seen.get("satellites"), max(0.0, self._clock() - seen["received"]))


def default_provider() -> LocationProvider:
    """The simulated provider when ``PEACEWATCH_SIMULATED_GPS`` is set, else the platform's GPS."""
    text = os.environ.get(SIMULATED_ENV)
    return SimulatedProvider.from_text(text) if text else PlatformProvider()
