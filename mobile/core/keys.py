"""PIN -> keys: Argon2id derivation, the plaintext header file, and PIN-failure back-off.

The header (``header.json`` next to the database) is the only plaintext the store keeps. It holds
the per-install random salt, the Argon2id parameters tuned for this device (see :func:`calibrate`)
and the failure counter. Nothing in it helps an attacker beyond what Argon2id already costs them.

From the PIN one 32-byte *master* key is derived with Argon2id; HKDF-SHA256 then splits it into
independent subkeys (:func:`subkeys`): one is given raw to SQLCipher (``PRAGMA key = "x'..'"``),
the other is the key-encryption key that wraps each attachment's random data key.

Back-off: each consecutive failure doubles the wait before the next attempt
(``base * 2**(failures-1)``, capped). The counter lives in the header, so restarting the app does
not reset it; after ``wipe_after`` failures the store is destroyed (see ``store.py``). The wait is
measured against wall-clock time because a monotonic clock does not survive a restart.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from peacewatch.mobile.core.errors import InvalidInput

HEADER_NAME = "header.json"
PENDING_HEADER_NAME = "header.json.pending"
HEADER_FORMAT = 1
SALT_BYTES = 16
KEY_BYTES = 32


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters (memory in KiB, as argon2-cffi takes it)."""

    time_cost: int = 3
    memory_cost: int = 64 * 1024
    parallelism: int = 2

    def __post_init__(self) -> None:
        if self.time_cost < 1:
            raise InvalidInput("time_cost", "must be at least 1")
        if self.parallelism < 1:
            raise InvalidInput("parallelism", "must be at least 1")
        if self.memory_cost < 8 * self.parallelism:
            raise InvalidInput("memory_cost", "must be at least 8 KiB per lane")


# Far too cheap for real use; tests pass it so thousands of opens stay fast.
TEST_KDF = KdfParams(time_cost=1, memory_cost=64, parallelism=1)


@dataclass(frozen=True)
class BackoffPolicy:
    """How PIN failures are punished: delays double from ``base_s`` up to ``cap_s``; wipe at ``wipe_after``."""

    base_s: float = 1.0
    cap_s: float = 3600.0
    wipe_after: int = 10

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures."""
        if failures <= 0:
            return 0.0
        # min() before the power would still overflow for huge counts; clamp the exponent.
        return min(self.cap_s, self.base_s * 2 ** min(failures - 1, 60))


@dataclass
class Header:
    """The plaintext header: salt, KDF parameters, failure counter."""

    salt: bytes
    kdf: KdfParams
    failures: int = 0
    last_failure_at: float | None = None
    format: int = HEADER_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": self.format,
                "salt": self.salt.hex(),
                "kdf": asdict(self.kdf),
                "failures": self.failures,
                "last_failure_at": self.last_failure_at,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Header:
        try:
            raw = json.loads(text)
            if raw["format"] != HEADER_FORMAT:
                raise InvalidInput("header.format", f"unsupported header format {raw['format']!r}")
            return cls(
                salt=bytes.fromhex(raw["salt"]),
                kdf=KdfParams(**raw["kdf"]),
                failures=int(raw.get("failures", 0)),
                last_failure_at=raw.get("last_failure_at"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput("header", f"unreadable store header: {exc}") from exc

    @classmethod
    def new(cls, kdf: KdfParams) -> Header:
        return cls(salt=secrets.token_bytes(SALT_BYTES), kdf=kdf)


def read_header(path: Path) -> Header:
    """Read a header file."""
    return Header.from_json(path.read_text(encoding="utf-8"))


def write_header(path: Path, header: Header) -> None:
    """Write a header atomically: temp file, fsync, rename, fsync the directory.

    A torn header would lose the salt and with it every byte of the store, so it is never
    written in place.
    """
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(header.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def validate_pin(pin: str) -> None:
    """Refuse PINs that cannot be right before spending a KDF run on them."""
    if not isinstance(pin, str) or not pin:
        raise InvalidInput("pin", "must be a non-empty string")
    if len(pin) < 4:
        raise InvalidInput("pin", "must have at least 4 characters")


def derive_master(pin: str, salt: bytes, kdf: KdfParams) -> bytes:
    """Argon2id(PIN, salt) -> 32-byte master key."""
    return hash_secret_raw(
        secret=pin.encode("utf-8"),
        salt=salt,
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_cost,
        parallelism=kdf.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


@dataclass(frozen=True)
class Subkeys:
    """Independent keys split from the master key."""

    database: bytes
    attachments_kek: bytes

    def sqlcipher_key(self) -> str:
        """The raw-key form SQLCipher accepts without running its own (slow, redundant) KDF."""
        return f"\"x'{self.database.hex()}'\""


def _hkdf(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)


def subkeys(master: bytes) -> Subkeys:
    """Split the master key with HKDF so a leak of one subkey says nothing about the other."""
    return Subkeys(
        database=_hkdf(master, b"peacewatch/mobile/sqlcipher/v1"),
        attachments_kek=_hkdf(master, b"peacewatch/mobile/attachments-kek/v1"),
    )


def calibrate(
    target_s: float = 0.5,
    *,
    memory_cost: int = 64 * 1024,
    parallelism: int = 2,
    max_time_cost: int = 64,
) -> KdfParams:
    """Pick Argon2id parameters that take about ``target_s`` on this device.

    Memory stays fixed (64 MiB fits a tablet and is what makes GPUs expensive); passes are
    increased until one derivation takes at least the target. Run once at install time.
    """
    salt = secrets.token_bytes(SALT_BYTES)
    time_cost = 1
    while True:
        params = KdfParams(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        start = time.perf_counter()
        derive_master("calibration-pin", salt, params)
        elapsed = time.perf_counter() - start
        if elapsed >= target_s or time_cost >= max_time_cost:
            return params
        # Cost is linear in passes: jump close to the target instead of stepping one at a time.
        time_cost = min(max_time_cost, max(time_cost + 1, int(time_cost * target_s / max(elapsed, 1e-6))))
