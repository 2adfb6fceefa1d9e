"""The session: PIN set-up and unlock, the plaintext language preference, settings in the encrypted store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from peacewatch.mobile.core.errors import InvalidInput, LockedOut, StoreLocked, WrongPin
from peacewatch.mobile.core.sync_client import EnrolResult
from peacewatch.mobile.ui.session import PREFS_NAME, Session


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    monkeypatch.setenv("PEACEWATCH_KDF", "test")


def test_create_unlock_lock(tmp_path: Path):
    s = Session(tmp_path)
    assert not s.has_store()
    with pytest.raises(InvalidInput) as exc:
        s.create("4711", "4712")
    assert exc.value.field == "confirm"
    s.create("4711", "4711")
    s.set_settings(contingent="ALPHA")
    s.lock()
    with pytest.raises(StoreLocked):
        s.setting("contingent")
    with pytest.raises(WrongPin) as wrong:
        s.unlock("0000")
    with pytest.raises(LockedOut):  # the back-off the PIN screen explains
        s.unlock("4711")
    time.sleep(wrong.value.retry_after + 0.05)
    s.unlock("4711")
    assert s.setting("contingent") == "ALPHA"
    s.lock()


def test_settings_are_inside_the_encrypted_store(tmp_path: Path):
    s = Session(tmp_path)
    s.create("4711", "4711")
    s.enrolled(EnrolResult(device_id="dev-1", credential="secret-credential", username="patrol_a"),
               "https://hq.example")
    assert s.open_store.device_id == "dev-1" and s.setting("username") == "patrol_a"
    with pytest.raises(ValueError, match="unknown setting"):
        s.set_settings(colour="red")
    s.lock()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"secret-credential" not in path.read_bytes(), path


def test_language_preference_is_plaintext_and_checked(tmp_path: Path):
    s = Session(tmp_path)
    assert s.language() == "en"
    s.set_language("ar")
    assert Session(tmp_path).language() == "ar"
    with pytest.raises(ValueError, match="language"):
        s.set_language("xx")
    (tmp_path / PREFS_NAME).write_text("{broken", encoding="utf-8")
    assert s.language() == "en"
