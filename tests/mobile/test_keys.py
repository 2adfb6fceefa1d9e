"""Tests for peacewatch.mobile.core.keys: derivation, subkeys, header file, back-off, calibration."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from peacewatch.mobile.core import keys
from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.keys import TEST_KDF, BackoffPolicy, Header, KdfParams


def test_derivation_depends_on_pin_salt_and_params() -> None:
    salt = b"s" * 16
    base = keys.derive_master("1234", salt, TEST_KDF)
    assert len(base) == 32
    assert keys.derive_master("1234", salt, TEST_KDF) == base
    assert keys.derive_master("1235", salt, TEST_KDF) != base
    assert keys.derive_master("1234", b"t" * 16, TEST_KDF) != base
    assert keys.derive_master("1234", salt, KdfParams(time_cost=2, memory_cost=64, parallelism=1)) != base


def test_subkeys_are_independent_and_sqlcipher_key_is_raw_hex() -> None:
    sub = keys.subkeys(b"\x01" * 32)
    assert sub.database != sub.attachments_kek
    assert len(sub.database) == len(sub.attachments_kek) == 32
    assert sub.sqlcipher_key() == f"\"x'{sub.database.hex()}'\""


def test_header_round_trip_and_atomic_write(tmp_path: Path) -> None:
    header = Header.new(TEST_KDF)
    header.failures, header.last_failure_at = 3, 123.5
    path = tmp_path / keys.HEADER_NAME
    keys.write_header(path, header)
    again = keys.read_header(path)
    assert (again.salt, again.kdf, again.failures, again.last_failure_at) == (header.salt, TEST_KDF, 3, 123.5)
    assert not (tmp_path / (keys.HEADER_NAME + ".tmp")).exists()


def test_unreadable_header_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / keys.HEADER_NAME
    path.write_text('{"format": 1, "salt": "zz"}')
    with pytest.raises(InvalidInput, match="header"):
        keys.read_header(path)


def test_backoff_doubles_and_caps() -> None:
    policy = BackoffPolicy(base_s=2, cap_s=30, wipe_after=10)
    assert [policy.delay_after(n) for n in range(7)] == [0, 2, 4, 8, 16, 30, 30]
    assert policy.delay_after(10_000) == 30


@pytest.mark.parametrize("pin", ["", "12", None])
def test_bad_pins_are_refused_by_name(pin: object) -> None:
    with pytest.raises(InvalidInput, match="pin"):
        keys.validate_pin(pin)  # type: ignore[arg-type]


def test_bad_kdf_params_name_the_field() -> None:
    with pytest.raises(InvalidInput, match="time_cost"):
        KdfParams(time_cost=0)


def test_calibrate_reaches_the_target() -> None:
    params = keys.calibrate(0.05, memory_cost=4 * 1024, parallelism=1)
    start = time.perf_counter()
    keys.derive_master("1234", b"x" * 16, params)
    # Timing on a shared CI box is noisy: require the right order of magnitude only.
    assert time.perf_counter() - start >= 0.02
    assert params.memory_cost == 4 * 1024
