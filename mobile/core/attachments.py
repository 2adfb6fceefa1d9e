"""Attachments at rest: streamed AES-GCM encryption, content addressing, chunks for upload.

Each attachment (photo, voice note, video) gets a random 256-bit data key, wrapped with the
store's attachment key-encryption key (an HKDF subkey of the PIN-derived master, see keys.py) and
kept in the encrypted database. On a PIN change only the wrapped keys are rewritten
(:func:`rewrap_keys`); the files stay as they are.

File format (``attachments/<random>.pwa``)::

    b"PWA1" | segment 0 | segment 1 | ... | segment n-1
    segment = nonce (12 bytes, random) | AES-256-GCM(plaintext <= 64 KiB) with its 16-byte tag
    associated data of segment i = big-endian u64 i | u8 (1 if last segment else 0)

Binding the index stops segments being reordered; binding the "last" flag stops truncation at a
segment boundary. Files are processed one segment at a time, so a 50 MB video never sits whole
in memory. Content is addressed by the SHA-256 of the plaintext (what the report body lists and
what the server checks); the on-disk name is random so the directory listing reveals nothing.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import sqlcipher3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from peacewatch.mobile.core import keys
from peacewatch.mobile.core.errors import AttachmentCorrupt, InvalidInput, NotFound, StorageFull
from peacewatch.mobile.core.store import Store

MAGIC = b"PWA1"
SEGMENT_SIZE = 64 * 1024
NONCE_SIZE = 12
TAG_SIZE = 16
UPLOAD_CHUNK_SIZE = 256 * 1024
_KEY_AD = b"peacewatch/attachment-data-key/v1"
_SUFFIX = ".pwa"


@dataclass(frozen=True)
class AttachmentRef:
    """What a report body lists for an attachment."""

    sha256: str
    size: int
    media_type: str
    name: str

    def as_body(self) -> dict[str, object]:
        """The ``attachments[]`` entry of the report body contract."""
        return {"sha256": self.sha256, "size": self.size, "media_type": self.media_type, "name": self.name}


@dataclass(frozen=True)
class Chunk:
    """One upload chunk: its position, the SHA-256 (hex) of its bytes, and the bytes."""

    index: int
    sha256: str
    data: bytes


def wrap_key(kek: bytes, data_key: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_SIZE)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, _KEY_AD)


def unwrap_key(kek: bytes, wrapped: bytes) -> bytes:
    try:
        return AESGCM(kek).decrypt(wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], _KEY_AD)
    except InvalidTag as exc:
        raise AttachmentCorrupt("an attachment key does not unwrap with this PIN's key") from exc


def rewrap_keys(conn: sqlcipher3.Connection, old_kek: bytes, new_kek: bytes) -> int:
    """Re-wrap every attachment data key from ``old_kek`` to ``new_kek`` (inside the caller's transaction)."""
    rows = conn.execute("SELECT sha256, wrapped_key FROM attachments").fetchall()
    for sha, wrapped in rows:
        conn.execute(
            "UPDATE attachments SET wrapped_key = ? WHERE sha256 = ?",
            (wrap_key(new_kek, unwrap_key(old_kek, wrapped)), sha),
        )
    return len(rows)


def _segment_ad(index: int, last: bool) -> bytes:
    return struct.pack(">QB", index, 1 if last else 0)


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    """Read up to ``size`` bytes, looping because pipes and sockets return short reads."""
    parts: list[bytes] = []
    remaining = size
    while remaining:
        piece = stream.read(remaining)
        if not piece:
            break
        parts.append(piece)
        remaining -= len(piece)
    return b"".join(parts)


def _validate_sha(sha256: str) -> str:
    if not isinstance(sha256, str) or len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput("sha256", "must be 64 lower-case hex digits")
    return sha256


class Attachments:
    """Encrypted, content-addressed attachment files of one open store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ----- writing -------------------------------------------------------------------------
    def put_stream(self, stream: BinaryIO, *, media_type: str, name: str) -> AttachmentRef:
        """Encrypt ``stream`` to disk segment by segment; return its content address. Idempotent."""
        if not media_type or "/" not in media_type:
            raise InvalidInput("media_type", "must be a MIME type such as image/jpeg")
        if not name:
            raise InvalidInput("name", "must not be empty")
        directory = self.store.attachments_dir
        directory.mkdir(exist_ok=True)
        file_name = secrets.token_hex(16) + _SUFFIX
        part = directory / (file_name + ".part")
        data_key = AESGCM.generate_key(bit_length=256)
        aead = AESGCM(data_key)
        digest = hashlib.sha256()
        size = 0
        try:
            with open(part, "wb") as out:
                out.write(MAGIC)
                block = _read_exact(stream, SEGMENT_SIZE)
                index = 0
                while True:
                    # Read one segment ahead: only then do we know whether this one is the last.
                    following = _read_exact(stream, SEGMENT_SIZE) if len(block) == SEGMENT_SIZE else b""
                    last = not following
                    digest.update(block)
                    size += len(block)
                    nonce = secrets.token_bytes(NONCE_SIZE)
                    out.write(nonce)
                    out.write(aead.encrypt(nonce, block, _segment_ad(index, last)))
                    if last:
                        break
                    block, index = following, index + 1
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            part.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise StorageFull(f"no room to store attachment {name!r}") from exc
            raise
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        sha = digest.hexdigest()
        ref = AttachmentRef(sha256=sha, size=size, media_type=media_type, name=name)
        if self._row(sha) is not None:
            part.unlink()  # same content already stored: content addressing dedups it
            return self.get(sha)
        final = directory / file_name
        os.replace(part, final)
        keys.fsync_dir(directory)
        try:
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT INTO attachments (sha256, file_name, wrapped_key, size, media_type, name, uploaded, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                    (
                        sha,
                        file_name,
                        wrap_key(self.store.attachments_kek, data_key),
                        size,
                        media_type,
                        name,
                        datetime.now(UTC).isoformat(),
                    ),
                )
        except BaseException:
            final.unlink(missing_ok=True)
            raise
        return ref

    def put_file(
        self, path: str | os.PathLike[str], *, media_type: str, name: str | None = None
    ) -> AttachmentRef:
        """Encrypt a file (e.g. the camera's output) into the store."""
        p = Path(path)
        with open(p, "rb") as fh:
            return self.put_stream(fh, media_type=media_type, name=name or p.name)

    def put_bytes(self, data: bytes, *, media_type: str, name: str) -> AttachmentRef:
        """Encrypt small in-memory content (a thumbnail, a test fixture)."""
        return self.put_stream(io.BytesIO(data), media_type=media_type, name=name)

    # ----- reading -------------------------------------------------------------------------
    def _row(self, sha256: str) -> tuple[str, bytes, int, str, str] | None:
        rows = self.store.query(
            "SELECT file_name, wrapped_key, size, media_type, name FROM attachments WHERE sha256 = ?",
            (_validate_sha(sha256),),
        )
        return rows[0] if rows else None

    def get(self, sha256: str) -> AttachmentRef:
        row = self._row(sha256)
        if row is None:
            raise NotFound(f"no attachment {sha256}")
        return AttachmentRef(sha256=sha256, size=row[2], media_type=row[3], name=row[4])

    def exists(self, sha256: str) -> bool:
        return self._row(sha256) is not None

    def iter_plaintext(self, sha256: str) -> Iterator[bytes]:
        """Decrypt segment by segment; raises AttachmentCorrupt on any tampering or truncation."""
        row = self._row(sha256)
        if row is None:
            raise NotFound(f"no attachment {sha256}")
        file_name, wrapped, size = row[0], row[1], row[2]
        aead = AESGCM(unwrap_key(self.store.attachments_kek, wrapped))
        full = NONCE_SIZE + SEGMENT_SIZE + TAG_SIZE
        digest = hashlib.sha256()
        seen = 0
        with open(self.store.attachments_dir / file_name, "rb") as fh:
            if fh.read(len(MAGIC)) != MAGIC:
                raise AttachmentCorrupt(f"attachment {sha256}: not an attachment file")
            segment = fh.read(full)
            index = 0
            while True:
                following = fh.read(full)
                last = not following
                if len(segment) < NONCE_SIZE + TAG_SIZE:
                    raise AttachmentCorrupt(f"attachment {sha256}: truncated segment {index}")
                try:
                    plain = aead.decrypt(segment[:NONCE_SIZE], segment[NONCE_SIZE:], _segment_ad(index, last))
                except InvalidTag as exc:
                    raise AttachmentCorrupt(
                        f"attachment {sha256}: segment {index} failed authentication"
                    ) from exc
                digest.update(plain)
                seen += len(plain)
                yield plain
                if last:
                    break
                segment, index = following, index + 1
        if seen != size or digest.hexdigest() != sha256:
            raise AttachmentCorrupt(f"attachment {sha256}: content does not match its address")

    def read_bytes(self, sha256: str) -> bytes:
        """The whole plaintext; for small files only (use iter_plaintext for video)."""
        return b"".join(self.iter_plaintext(sha256))

    def iter_chunks(self, sha256: str, chunk_size: int = UPLOAD_CHUNK_SIZE) -> Iterator[Chunk]:
        """Plaintext in ``chunk_size`` pieces with their SHA-256, for the resumable uploader."""
        if chunk_size <= 0:
            raise InvalidInput("chunk_size", "must be positive")
        buffer = bytearray()
        index = 0
        for plain in self.iter_plaintext(sha256):
            buffer += plain
            while len(buffer) >= chunk_size:
                data = bytes(buffer[:chunk_size])
                del buffer[:chunk_size]
                yield Chunk(index, hashlib.sha256(data).hexdigest(), data)
                index += 1
        if buffer or index == 0:
            data = bytes(buffer)
            yield Chunk(index, hashlib.sha256(data).hexdigest(), data)

    # ----- housekeeping --------------------------------------------------------------------
    def mark_uploaded(self, sha256: str) -> None:
        """Record that the server committed this attachment's manifest."""
        with self.store.transaction() as conn:
            cur = conn.execute(
                "UPDATE attachments SET uploaded = 1 WHERE sha256 = ?", (_validate_sha(sha256),)
            )
            if cur.rowcount == 0:
                raise NotFound(f"no attachment {sha256}")

    def sweep_orphans(self) -> int:
        """Delete files no row points to (a crash between writing a file and recording it).

        Call at start-up, before any ``put_*``: a file being written right now has no row yet either.
        """
        directory = self.store.attachments_dir
        if not directory.exists():
            return 0
        known = {row[0] for row in self.store.query("SELECT file_name FROM attachments")}
        removed = 0
        for entry in directory.iterdir():
            if entry.name not in known and (entry.name.endswith(_SUFFIX) or entry.name.endswith(".part")):
                entry.unlink(missing_ok=True)
                removed += 1
        return removed
