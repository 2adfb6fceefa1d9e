"""Server configuration: one `Settings` read from the environment (``PEACEWATCH_*``).

Defaults give a working single-laptop server: a SQLite file in ``./data``. Unsafe
settings (a weak token secret) are refused outside development.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(os.environ.get("PEACEWATCH_DATA_DIR") or "./data")


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'peacewatch.db').resolve()}"


class Settings(BaseSettings):
    """Everything the server reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="PEACEWATCH_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    environment: str = "development"
    token_ttl_minutes: int = 12 * 60
    enrolment_code_ttl_minutes: int = 60 * 24
    # What leaves a tablet with a photo (common/media_metadata.py): its EXIF position, time and
    # device only for restricted reports (the protection team verifies with them), or never, or always.
    photo_metadata: Literal["strip_except_protection", "strip_all", "keep_all"] = "strip_except_protection"
    max_body_bytes: int = 8 * 1024 * 1024
    max_chunk_bytes: int = 1024 * 1024
    # Enrolment-code guesses per code-holder a minute (devices); sign-in uses the throttle below.
    login_attempts_per_minute: int = 10
    # Sign-in throttling per (username, client address): this many failures are free, then each
    # further failure doubles the wait before the next attempt from that address, up to the max.
    login_free_failures: int = 5
    login_max_delay_s: int = 15 * 60
    # Passwords: at least this long, and not guessable (zxcvbn score >= 3, never the username).
    password_min_length: int = 10
    # Two-factor (TOTP) sign-in is required for HQ roles and admin when true (PEACEWATCH_REQUIRE_2FA).
    require_2fa: bool = False
    # Session cookies are Secure (sent over HTTPS only) unless this is false: only for a dashboard
    # served over plain HTTP to a browser on another machine during development. Browsers accept
    # Secure cookies from http://localhost and 127.0.0.1, so local development needs no change.
    cookie_secure: bool = True
    secret_key: str = ""
    # Requests inside the app at once (others wait without holding a worker thread); about half
    # the database connection pool, so every admitted request can get its connections.
    max_requests_in_flight: int = 8
    # A sync-only server facing the field network can leave the HQ dashboard off.
    serve_dashboard: bool = True
    # Duplicate proposals are computed in the background once pushes pause for this long (and at
    # the latest after the max delay, so a server never idle still catches up); readers of
    # proposals always catch up first anyway, so the delay never shows.
    proposals_quiet_s: float = 0.5
    proposals_max_delay_s: float = 30.0
    # Alerts are raised once commits pause this long, and at the latest this long after the first:
    # a stream of pushes then raises its alerts in a few chunks (a durable commit each) instead of
    # one per push, at the cost of at most the max delay in an alert's latency (target < 1 s).
    alerts_quiet_s: float = 0.05
    alerts_max_delay_s: float = 0.25
    # Base map import: larger files are refused before anything is copied (server/basemaps).
    max_basemap_bytes: int = 16 * 1024**3
    # A live alert stream ends after this long; the browser's EventSource reconnects by itself with
    # Last-Event-ID, so nothing is missed, and a connection never outlives a revoked session by more.
    alert_stream_max_s: float = 300.0
    # Community alerts: the mission key encrypting callers' identity (base64 of 32 bytes; empty =
    # a key file ``mission.key`` made once in the data dir), how long a caller's identity is kept
    # before the purge empties it (the alert stays), and how many SMS one number may send per hour
    # before the rest are logged as throttled instead of entering triage.
    mission_key: str = ""
    caller_retention_days: int = 90
    sms_per_number_per_hour: int = 10

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = sqlite_url(self.data_dir)
        if self.environment != "development" and len(self.secret_key) < 32:
            raise ValueError("PEACEWATCH_SECRET_KEY must be at least 32 characters outside development")
        return self

    @cached_property
    def session_secret(self) -> str:
        return self.secret_key or secrets.token_hex(32)

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def basemaps_dir(self) -> Path:
        return self.data_dir / "basemaps"
