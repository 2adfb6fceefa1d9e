"""Destroying a tablet's data: when HQ reports it lost (remote wipe) and on the user's quick delete.

What is destroyed, in this order (the first step alone already makes the rest unreadable):

1. the key material: the header (its salt is half of every key, see ``keys.py``) and the store
   keys sealed for the mission's recovery key are overwritten with random bytes, flushed, deleted;
2. the store: the SQLCipher database (+ WAL/SHM), every encrypted attachment;
3. the plaintext leftovers of capture (a photo or voice note the platform wrote before it was
   encrypted into the store).

The language preference stays (it says nothing about any report). A remote wipe leaves a small
marker so the PIN screen can tell the user why the tablet is empty; a quick delete (under duress)
leaves none, so the app looks freshly installed. Flash storage may keep old blocks of deleted
files: that is why the keys go first — without them those blocks are ciphertext (docs/security.md).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peacewatch.mobile.core.store import Store

MARKER_NAME = "wiped.json"
# Written by the camera/recorder outside the store before encryption (ui/capture.py).
CAPTURE_LEFTOVERS = ("photo.jpg", "photo.png", "video.mp4", "voice-note.3gp")


def _shred(path: Path) -> None:
    """Overwrite a small file with random bytes and fsync before deleting it."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with open(path, "r+b") as fh:
        fh.write(secrets.token_bytes(max(size, 1)))
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()


def destroy(data_dir: Path, store_dir: Path, store: Store | None = None, *, reason: str) -> None:
    """Erase everything readable about reports from ``data_dir`` (``reason``: "remote" or "quick_delete")."""
    # Imported here: the PIN screen asks was_wiped_remotely() before its first frame, without the store.
    from peacewatch.mobile.core import keys
    from peacewatch.mobile.core.recovery import RECOVERY_NAME
    from peacewatch.mobile.core.store import wipe

    if store is not None:
        store.close()
    for name in (keys.HEADER_NAME, keys.PENDING_HEADER_NAME, RECOVERY_NAME):
        _shred(store_dir / name)
    wipe(store_dir)
    shutil.rmtree(store_dir, ignore_errors=True)
    for name in CAPTURE_LEFTOVERS:
        _shred(data_dir / name)
    if reason == "remote":
        marker = data_dir / MARKER_NAME
        marker.write_text(json.dumps({"wiped_at": datetime.now(UTC).isoformat(), "reason": reason}), encoding="utf-8")
    keys.fsync_dir(data_dir)


def was_wiped_remotely(data_dir: Path) -> bool:
    return (data_dir / MARKER_NAME).exists()


def forget_marker(data_dir: Path) -> None:
    """The user saw the message and set a new PIN: the tablet starts afresh."""
    (data_dir / MARKER_NAME).unlink(missing_ok=True)
