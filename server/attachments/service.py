"""Content-addressed attachment storage: chunks on disk, manifests in the database, checked reads.

Layout under ``settings.attachments_dir``::

    chunks/ab/abcdef...   one file per chunk, named by the SHA-256 of its bytes (fan-out by 2 hex digits)
    tmp/                  uploads being written; renamed into chunks/ only when complete

A chunk is written to a temporary file, fsynced, then renamed over its final name and the
directory fsynced, so a crash or a full disk never leaves a broken chunk under a real name; on any
write error the temporary file is removed (a full disk answers 507 ``storage_full``). A file is
"committed" by its manifest (ordered chunk hashes, size, media type), accepted only when the chunks'
concatenation hashes to the file's own SHA-256. The file is served by streaming its chunks in
order, so nothing is stored twice.

Reading a file needs read access (``access.visible_clause``) to some report whose body references
it, or having committed it; anything else is answered not found so existence does not leak.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock
from ..access import Principal, visible_clause
from ..audit.service import record
from ..db.tables import attachments, chunks, report_attachments, reports
from ..problems import Code, Problem, invalid, not_found

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
READ_BLOCK = 64 * 1024
# Errors that mean "the disk (or the quota) is full": answered 507, never 500.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# Media types a browser may render inline; anything else is served as a download in a sandbox.
INLINE_PREFIXES = ("image/", "audio/", "video/")
INLINE_DENY = frozenset({"image/svg+xml"})

STORED = "stored"
DUPLICATE = "duplicate"


def check_sha(value: str, field: str = "sha256") -> str:
    """``value`` if it is a lowercase SHA-256 hex digest, else 422 naming ``field`` (no path tricks)."""
    if not SHA256_RE.fullmatch(value):
        raise invalid(field, "must be 64 lowercase hexadecimal characters (a SHA-256)")
    return value


def chunk_path(root: Path, sha256: str) -> Path:
    check_sha(sha256)
    return root / "chunks" / sha256[:2] / sha256


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte (``os.write`` may write fewer than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_atomically(root: Path, final: Path, data: bytes) -> None:
    """Write ``data`` to ``final`` through a fsynced temporary file and a rename; 507 when the disk is full."""
    tmp_dir = root / "tmp"
    try:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="chunk-", suffix=".part")
    except OSError as exc:
        if exc.errno in FULL_ERRNOS:
            raise Problem(Code.STORAGE_FULL, "the server's disk is full; nothing was kept") from None
        raise
    tmp = Path(tmp_name)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in FULL_ERRNOS:
            raise Problem(Code.STORAGE_FULL, "the server's disk is full; nothing was kept") from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def insert_if_absent(conn: Connection, table: Table, **values: Any) -> None:
    """Insert a row unless its primary key exists: two devices uploading the same chunk at once both succeed."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        conn.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - only the two supported backends exist
        conn.execute(insert(table).values(**values))


def _present(conn: Connection, root: Path, hashes: Iterable[str]) -> set[str]:
    """Hashes with both a database row and a file (a row whose file vanished counts as missing)."""
    wanted = list(dict.fromkeys(hashes))
    have: set[str] = set()
    for start in range(0, len(wanted), 500):  # bounded IN lists
        part = wanted[start:start + 500]
        have |= set(conn.execute(select(chunks.c.sha256).where(chunks.c.sha256.in_(part))).scalars())
    return {h for h in have if chunk_path(root, h).is_file()}


def missing_chunks(conn: Connection, *, root: Path, hashes: Sequence[str]) -> list[str]:
    """The given chunk hashes the server does not hold, in the order asked, without repeats."""
    for i, h in enumerate(hashes):
        check_sha(h, f"chunks.{i}")
    have = _present(conn, root, hashes)
    return [h for h in dict.fromkeys(hashes) if h not in have]


def put_chunk(conn: Connection, *, root: Path, sha256: str, data: bytes) -> dict[str, Any]:
    """Store one chunk if absent after checking its bytes hash to its name."""
    check_sha(sha256)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise Problem(Code.HASH_MISMATCH, f"the bytes hash to {actual}, not to the name {sha256}", field="sha256")
    path = chunk_path(root, sha256)
    row = conn.execute(select(chunks.c.size).where(chunks.c.sha256 == sha256)).first()
    if row is not None and path.is_file():
        return {"sha256": sha256, "size": len(data), "status": DUPLICATE}
    # The file goes first: a database row never names a chunk that is not fully on disk.
    write_atomically(root, path, data)
    if row is None:
        insert_if_absent(conn, chunks, sha256=sha256, size=len(data), created_at=clock.now())
    return {"sha256": sha256, "size": len(data), "status": STORED}


def _iter_file(paths: Sequence[Path]) -> Iterator[bytes]:
    for path in paths:
        with path.open("rb") as fh:
            while block := fh.read(READ_BLOCK):
                yield block


def commit(conn: Connection, principal: Principal, *, root: Path, sha256: str, chunk_hashes: Sequence[str],
           size: int, media_type: str) -> dict[str, Any]:
    """Accept a file's manifest once its chunks are all here and their concatenation is ``sha256``."""
    check_sha(sha256)
    existing = conn.execute(select(attachments).where(attachments.c.sha256 == sha256)).mappings().one_or_none()
    if existing is not None:
        return {"sha256": sha256, "size": existing["size"], "media_type": existing["media_type"],
                "status": DUPLICATE}
    absent = missing_chunks(conn, root=root, hashes=chunk_hashes)
    if absent:
        raise Problem(Code.INVALID_INPUT, f"chunks: {len(absent)} chunk(s) are not on the server; upload them first",
                      field="chunks", missing=absent)
    digest = hashlib.sha256()
    total = 0
    for block in _iter_file([chunk_path(root, h) for h in chunk_hashes]):
        digest.update(block)
        total += len(block)
    if total != size:
        raise Problem(Code.HASH_MISMATCH, f"the chunks add up to {total} bytes, not {size}", field="size")
    if digest.hexdigest() != sha256:
        raise Problem(Code.HASH_MISMATCH, f"the chunks concatenated hash to {digest.hexdigest()}, not {sha256}",
                      field="sha256")
    insert_if_absent(conn, attachments, sha256=sha256, size=size, media_type=media_type,
                     chunks=list(chunk_hashes), uploaded_by=principal.user_id, created_at=clock.now())
    return {"sha256": sha256, "size": size, "media_type": media_type, "status": STORED}


@dataclass(frozen=True)
class Download:
    """What a permitted reader gets: the chunk files in order and how to label the bytes."""

    sha256: str
    size: int
    media_type: str
    inline: bool
    paths: list[Path]

    def iter_bytes(self) -> Iterator[bytes]:
        return _iter_file(self.paths)


def open_download(conn: Connection, principal: Principal, *, root: Path, sha256: str) -> Download:
    """The committed file if the caller may read a report referencing it (or committed it), else 404."""
    check_sha(sha256)
    row = conn.execute(select(attachments).where(attachments.c.sha256 == sha256)).mappings().one_or_none()
    if row is None:
        raise not_found(f"attachment {sha256}")
    levels = set(conn.execute(
        select(reports.c.confidentiality)
        .join(report_attachments, report_attachments.c.report_id == reports.c.id)
        .where(report_attachments.c.sha256 == sha256, visible_clause(principal, reports))
    ).scalars())
    if not levels and row["uploaded_by"] != principal.user_id:
        raise not_found(f"attachment {sha256}")
    if levels == {"restricted"}:
        # Reading restricted content is always on the record (as for report reads).
        record(conn, action="restricted_attachment_read", actor=principal.username,
               actor_user_id=principal.user_id, device_id=principal.device_id, target=sha256)
    paths = [chunk_path(root, h) for h in row["chunks"]]
    if not all(p.is_file() for p in paths):
        raise not_found(f"attachment {sha256} (its data is no longer on the server)")
    media_type = row["media_type"]
    inline = media_type.startswith(INLINE_PREFIXES) and media_type not in INLINE_DENY
    return Download(sha256, int(row["size"]), media_type, inline, paths)
