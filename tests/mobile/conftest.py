"""Fixtures for the mobile core tests: a fresh encrypted store with cheap KDF parameters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from peacewatch.mobile.core.keys import TEST_KDF
from peacewatch.mobile.core.store import Store

PIN = "4711"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    s = Store.create(store_path, PIN, kdf=TEST_KDF)
    yield s
    s.close()


def raw_bytes(directory: Path) -> dict[str, bytes]:
    """Every file under a store directory, as bytes: what someone holding the tablet could read."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}
