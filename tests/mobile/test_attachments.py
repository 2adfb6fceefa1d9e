"""Tests for peacewatch.mobile.core.attachments: streamed AES-GCM at rest, content addressing, chunks."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from peacewatch.mobile.core.attachments import MAGIC, NONCE_SIZE, SEGMENT_SIZE, TAG_SIZE, Attachments
from peacewatch.mobile.core.errors import AttachmentCorrupt, InvalidInput, NotFound
from peacewatch.mobile.core.store import Store


def _file_of(store: Store, sha: str) -> Path:
    [(name,)] = store.query("SELECT file_name FROM attachments WHERE sha256 = ?", (sha,))
    return store.attachments_dir / name


@pytest.mark.parametrize("size", [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE])
def test_round_trip_at_segment_boundaries(store: Store, size: int) -> None:
    data = os.urandom(size)
    ref = Attachments(store).put_bytes(data, media_type="image/jpeg", name="p.jpg")
    assert ref.sha256 == hashlib.sha256(data).hexdigest() and ref.size == size
    assert Attachments(store).read_bytes(ref.sha256) == data
    segments = max(1, -(-size // SEGMENT_SIZE))
    assert _file_of(store, ref.sha256).stat().st_size == len(MAGIC) + size + segments * (
        NONCE_SIZE + TAG_SIZE
    )


def test_content_addressing_dedups_and_names_reveal_nothing(store: Store) -> None:
    files = Attachments(store)
    a = files.put_bytes(b"same bytes", media_type="image/png", name="a.png")
    b = files.put_bytes(b"same bytes", media_type="image/png", name="b.png")
    assert a.sha256 == b.sha256
    listing = [p.name for p in store.attachments_dir.iterdir()]
    assert len(listing) == 1 and a.sha256 not in listing[0]


def test_iter_chunks_for_the_uploader(store: Store) -> None:
    data = os.urandom(600 * 1024)
    files = Attachments(store)
    ref = files.put_bytes(data, media_type="video/mp4", name="v.mp4")
    chunks = list(files.iter_chunks(ref.sha256))
    assert [c.index for c in chunks] == [0, 1, 2]
    assert [len(c.data) for c in chunks] == [256 * 1024, 256 * 1024, 88 * 1024]
    assert all(c.sha256 == hashlib.sha256(c.data).hexdigest() for c in chunks)
    assert b"".join(c.data for c in chunks) == data
    empty = files.put_bytes(b"", media_type="text/plain", name="e.txt")
    assert [(c.index, c.data) for c in files.iter_chunks(empty.sha256)] == [(0, b"")]
    with pytest.raises(InvalidInput, match="chunk_size"):
        next(files.iter_chunks(ref.sha256, chunk_size=0))


def test_large_file_is_streamed_not_held_in_memory(store: Store) -> None:
    size = 24 * 1024 * 1024

    class Source(io.RawIOBase):
        """Produces ``size`` bytes on demand, like a camera file, without ever holding them."""

        def __init__(self) -> None:
            self.left = size

        def readable(self) -> bool:
            return True

        def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
            n = min(len(buf), self.left, 8192)
            buf[:n] = b"v" * n
            self.left -= n
            return n

    files = Attachments(store)
    tracemalloc.start()
    try:
        ref = files.put_stream(Source(), media_type="video/mp4", name="long.mp4")
        _, peak_write = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        total = sum(len(c.data) for c in files.iter_chunks(ref.sha256))
        _, peak_read = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ref.size == total == size
    assert peak_write < 2 * 1024 * 1024, peak_write
    assert peak_read < 4 * 1024 * 1024, peak_read


def _tamper(path: Path, edit: Callable[[bytearray], bytearray]) -> None:
    path.write_bytes(bytes(edit(bytearray(path.read_bytes()))))


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda b: b[:-1], id="truncated-byte"),
        pytest.param(
            lambda b: b[: len(MAGIC) + NONCE_SIZE + SEGMENT_SIZE + TAG_SIZE], id="truncated-at-segment"
        ),
        pytest.param(
            lambda b: (lambda s, seg: b[:s] + b[s + seg : s + 2 * seg] + b[s : s + seg] + b[s + 2 * seg :])(
                len(MAGIC), NONCE_SIZE + SEGMENT_SIZE + TAG_SIZE
            ),
            id="segments-swapped",
        ),
        pytest.param(lambda b: b[:100] + bytearray([b[100] ^ 1]) + b[101:], id="bit-flipped"),
    ],
)
def test_tampering_is_detected(store: Store, edit: object) -> None:
    files = Attachments(store)
    ref = files.put_bytes(os.urandom(3 * SEGMENT_SIZE + 10), media_type="image/jpeg", name="p.jpg")
    _tamper(_file_of(store, ref.sha256), edit)  # type: ignore[arg-type]
    with pytest.raises(AttachmentCorrupt):
        files.read_bytes(ref.sha256)


def test_unknown_and_malformed_ids(store: Store) -> None:
    files = Attachments(store)
    with pytest.raises(NotFound):
        files.read_bytes("a" * 64)
    with pytest.raises(InvalidInput, match="sha256"):
        files.get("../../etc/passwd")
    with pytest.raises(InvalidInput, match="media_type"):
        files.put_bytes(b"x", media_type="jpeg", name="x")


def test_orphan_files_are_swept(store: Store) -> None:
    files = Attachments(store)
    kept = files.put_bytes(b"keep", media_type="text/plain", name="k.txt")
    (store.attachments_dir / "deadbeef.pwa").write_bytes(b"left by a crash")
    (store.attachments_dir / "cafe.pwa.part").write_bytes(b"half written")
    assert files.sweep_orphans() == 2
    assert files.read_bytes(kept.sha256) == b"keep"
