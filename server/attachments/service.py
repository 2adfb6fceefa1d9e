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

**Content addressing dedupes storage, never possession.** A caller holds a chunk only once it
sent the chunk's bytes (``chunk_holders``), and a file only once it committed it from chunks it
holds (``attachment_holders``). ``missing`` lists every chunk the caller does not hold, stored or
not; a commit needs the caller's own chunks; so neither answers whether someone else has a file,
or its size or type. A chunk already on disk is not written again, and the answer to its upload is
the same as for a new one.

**A reference grants nothing.** Each version's references are kept at the version's own
confidentiality (``version_attachments``), and a reference is legitimate only if its writer holds
the file or could already download it when pushing. A download is allowed only through a
legitimate reference in a version the caller may read (``access.level_clause`` on the version's
level and its report), and is audited as restricted when ANY report or version holding the file
is restricted. Anything else is answered not found, so existence does not leak.

Served bytes are untrusted: inline only for images whose magic bytes are JPEG, PNG or WebP
(``sniff_image``), whatever type was declared; everything else, SVG included, is a download, and
always ``X-Content-Type-Options: nosniff`` (``download_headers``).
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

from sqlalchemy import Connection, Table, and_, exists, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock
from ..access import Principal, level_clause, visible_clause
from ..audit.service import record
from ..db.tables import (
    attachment_holders,
    attachments,
    chunk_holders,
    chunks,
    report_attachments,
    reports,
    version_attachments,
)
from ..problems import Code, Problem, invalid, not_found

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
READ_BLOCK = 64 * 1024
# Errors that mean "the disk (or the quota) is full": answered 507, never 500.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# Images a browser may show inline, recognised by their first bytes (never by the declared type).
MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)

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


def _held(conn: Connection, principal: Principal, hashes: Iterable[str]) -> set[str]:
    """The chunk hashes among ``hashes`` whose bytes ``principal`` sent itself."""
    wanted = list(dict.fromkeys(hashes))
    held: set[str] = set()
    for start in range(0, len(wanted), 500):
        part = wanted[start:start + 500]
        held |= set(conn.execute(select(chunk_holders.c.sha256).where(
            chunk_holders.c.sha256.in_(part), chunk_holders.c.user_id == principal.user_id)).scalars())
    return held


def missing_chunks(conn: Connection, principal: Principal, *, root: Path, hashes: Sequence[str]) -> list[str]:
    """The given chunk hashes the caller has not sent (stored or not), in the order asked, without repeats.

    Another user's copy of a chunk does not count: knowing a hash is not having the bytes.
    """
    for i, h in enumerate(hashes):
        check_sha(h, f"chunks.{i}")
    have = _present(conn, root, hashes) & _held(conn, principal, hashes)
    return [h for h in dict.fromkeys(hashes) if h not in have]


def put_chunk(conn: Connection, principal: Principal, *, root: Path, sha256: str, data: bytes) -> dict[str, Any]:
    """Store one chunk if absent after checking its bytes hash to its name; the caller now holds it.

    ``duplicate`` only when the caller itself sent this chunk before: whether another user did is
    not said (the bytes are simply not written twice).
    """
    check_sha(sha256)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise Problem(Code.HASH_MISMATCH, f"the bytes hash to {actual}, not to the name {sha256}", field="sha256")
    path = chunk_path(root, sha256)
    row = conn.execute(select(chunks.c.size).where(chunks.c.sha256 == sha256)).first()
    mine = bool(_held(conn, principal, [sha256]))
    present = row is not None and path.is_file()
    if not present:
        # The file goes first: a database row never names a chunk that is not fully on disk.
        write_atomically(root, path, data)
        if row is None:
            insert_if_absent(conn, chunks, sha256=sha256, size=len(data), created_at=clock.now())
    insert_if_absent(conn, chunk_holders, sha256=sha256, user_id=principal.user_id)
    return {"sha256": sha256, "size": len(data), "status": DUPLICATE if mine and present else STORED}


def _iter_file(paths: Sequence[Path]) -> Iterator[bytes]:
    for path in paths:
        with path.open("rb") as fh:
            while block := fh.read(READ_BLOCK):
                yield block


def commit(conn: Connection, principal: Principal, *, root: Path, sha256: str, chunk_hashes: Sequence[str],
           size: int, media_type: str) -> dict[str, Any]:
    """Accept a file's manifest once the caller sent every chunk and their concatenation is ``sha256``.

    The answer is built from the caller's own manifest, and is ``duplicate`` only if the caller
    committed this file before: another user's copy changes nothing in it.
    """
    check_sha(sha256)
    mine = conn.execute(select(attachment_holders.c.sha256).where(
        attachment_holders.c.sha256 == sha256, attachment_holders.c.user_id == principal.user_id)).first()
    if mine is not None:
        return {"sha256": sha256, "size": size, "media_type": media_type, "status": DUPLICATE}
    absent = missing_chunks(conn, principal, root=root, hashes=chunk_hashes)
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
    insert_if_absent(conn, attachment_holders, sha256=sha256, user_id=principal.user_id)
    return {"sha256": sha256, "size": size, "media_type": media_type, "status": STORED}


def _readable_references(principal: Principal) -> Any:
    """SQL: legitimate references in versions ``principal`` may read (its report now, the version's level)."""
    va = version_attachments
    legitimate = or_(va.c.granted, exists().where(attachment_holders.c.sha256 == va.c.sha256,
                                                   attachment_holders.c.user_id == va.c.writer_user_id))
    return and_(legitimate, visible_clause(principal, reports),
                level_clause(principal, va.c.confidentiality, contingent_id=reports.c.contingent_id,
                             author_user_id=reports.c.author_user_id))


def may_download(conn: Connection, principal: Principal, sha256: str) -> bool:
    """Is there a legitimate reference to ``sha256`` in a version ``principal`` may read?"""
    va = version_attachments
    return conn.execute(select(va.c.version_id).join(reports, reports.c.id == va.c.report_id)
                        .where(va.c.sha256 == sha256, _readable_references(principal)).limit(1)).first() is not None


def link_references(conn: Connection, principal: Principal,
                    refs: Sequence[tuple[str, str, str, Sequence[str]]]) -> None:
    """Record the stored versions' references ``(version_id, report_id, level, [sha256])`` by their writer.

    A reference is granted when the writer holds the file or could already download it; otherwise
    it becomes legitimate only once the writer commits the file from bytes it sent (a tablet pushes
    its report before uploading the photo), and until then it grants nobody anything.
    """
    rows = [(vid, rid, level, sha) for vid, rid, level, shas in refs for sha in dict.fromkeys(shas)]
    if not rows:
        return
    shas = sorted({r[3] for r in rows})
    held = set(conn.execute(select(attachment_holders.c.sha256).where(
        attachment_holders.c.sha256.in_(shas), attachment_holders.c.user_id == principal.user_id)).scalars())
    va = version_attachments
    readable = set(conn.execute(select(va.c.sha256).join(reports, reports.c.id == va.c.report_id)
                                .where(va.c.sha256.in_(shas), _readable_references(principal))).scalars())
    conn.execute(insert(va), [{"version_id": vid, "report_id": rid, "sha256": sha, "confidentiality": level,
                               "writer_user_id": principal.user_id, "granted": sha in held or sha in readable}
                              for vid, rid, level, sha in rows])


def _restricted_holder(conn: Connection, sha256: str) -> bool:
    """Does any report or any version holding the file stand at ``restricted``?"""
    va = version_attachments
    by_version = conn.execute(select(va.c.version_id).where(va.c.sha256 == sha256,
                                                            va.c.confidentiality == "restricted").limit(1)).first()
    by_report = conn.execute(select(reports.c.id).join(va, va.c.report_id == reports.c.id).where(
        va.c.sha256 == sha256, reports.c.confidentiality == "restricted").limit(1)).first()
    legacy = conn.execute(select(reports.c.id).join(report_attachments, report_attachments.c.report_id == reports.c.id)
                          .where(report_attachments.c.sha256 == sha256,
                                 reports.c.confidentiality == "restricted").limit(1)).first()
    return by_version is not None or by_report is not None or legacy is not None


def sniff_image(head: bytes) -> str | None:
    """The image type the first bytes say (JPEG, PNG, WebP), else None: nothing else is shown inline."""
    for magic, media_type in MAGIC:
        if head.startswith(magic):
            return media_type
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


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
    """The committed file if a version the caller may read legitimately references it, else 404."""
    check_sha(sha256)
    row = conn.execute(select(attachments).where(attachments.c.sha256 == sha256)).mappings().one_or_none()
    if row is None or not may_download(conn, principal, sha256):
        raise not_found(f"attachment {sha256}")
    if _restricted_holder(conn, sha256):
        # The file is as sensitive as the most restricted report holding it, whichever one it is read through.
        record(conn, action="restricted_attachment_read", actor=principal.username,
               actor_user_id=principal.user_id, device_id=principal.device_id, target=sha256)
    paths = [chunk_path(root, h) for h in row["chunks"]]
    if not all(p.is_file() for p in paths):
        raise not_found(f"attachment {sha256} (its data is no longer on the server)")
    image = None
    if paths:
        with paths[0].open("rb") as fh:
            image = sniff_image(fh.read(16))
    return Download(sha256, int(row["size"]), image or "application/octet-stream", image is not None, paths)


def download_headers(dl: Download) -> dict[str, str]:
    """Response headers for a download, the same for the API and the dashboard."""
    return {
        "Content-Length": str(dl.size),
        "ETag": f'"{dl.sha256}"',
        "Cache-Control": "private, max-age=31536000, immutable",
        # Uploaded bytes are untrusted: never let them run as a page of this origin, nor be sniffed into one.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline" if dl.inline else f'attachment; filename="{dl.sha256}"',
    }
