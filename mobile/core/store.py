"""The encrypted local store: one SQLCipher database under sqlite-utils, opened with the PIN.

Layout of a store directory::

    header.json      plaintext: salt, Argon2id parameters, PIN-failure counter (see keys.py)
    store.db         SQLCipher database (+ -wal / -shm while open), every page encrypted
    attachments/     AES-GCM encrypted attachment files with random names (see attachments.py)

Opening derives the key from the PIN, tries it on the database and either returns an open
:class:`Store` or raises :class:`WrongPin` having read nothing; failures back off exponentially and
the store is wiped after too many (``keys.BackoffPolicy``). The connection runs in WAL mode with
``synchronous=FULL`` so a committed transaction survives a crash or power cut.

Every write goes through :meth:`Store.transaction` (``BEGIN IMMEDIATE`` ... ``COMMIT``), which
also turns "disk full" / "file too large" failures into :class:`StorageFull` after rolling back.
sqlite-utils calls made inside it nest as savepoints.

PIN change is crash-safe: the new header is written as ``header.json.pending``; the attachment
keys are re-wrapped and ``PRAGMA rekey`` re-encrypts the database in one SQLite transaction; then
the pending header replaces the old one. If the app dies in between, the next open tries both
headers and finishes (or abandons) the change.
"""

from __future__ import annotations

import hmac
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlcipher3
import sqlite_utils

from peacewatch.mobile.core import keys
from peacewatch.mobile.core.errors import (
    InvalidInput,
    LockedOut,
    NoStore,
    StorageFull,
    StoreLocked,
    StoreWiped,
    WrongPin,
)
from peacewatch.mobile.core.migrations import migrate

DB_NAME = "store.db"
ATTACHMENTS_DIR = "attachments"

# Error names that mean "the device would not take the bytes": SQLITE_FULL for ENOSPC or a short
# write, SQLITE_IOERR_* when write() itself fails (EFBIG under a file-size limit reports as this).
_FULL_ERRORS = ("SQLITE_FULL", "SQLITE_IOERR")


def is_storage_full(exc: BaseException) -> bool:
    """True if an sqlcipher3 error means the write could not reach the disk."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return any(name.startswith(prefix) for prefix in _FULL_ERRORS)


class Store:
    """An open, decrypted store. Create with :meth:`create` or :meth:`open`; close when done."""

    def __init__(self, path: Path, conn: sqlcipher3.Connection, subkeys: keys.Subkeys, header: keys.Header):
        self.path = path
        self._conn: sqlcipher3.Connection | None = conn
        self._subkeys = subkeys
        self._header = header
        # One connection shared by the UI and the sync thread: serialise every use of it.
        self.lock = threading.RLock()
        self.db = sqlite_utils.Database(conn, execute_plugins=False)

    # ----- opening -------------------------------------------------------------------------
    @staticmethod
    def exists(path: str | os.PathLike[str]) -> bool:
        """True if a store (header and database) exists at ``path``."""
        p = Path(path)
        return (p / keys.HEADER_NAME).exists() and (p / DB_NAME).exists()

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        pin: str,
        *,
        kdf: keys.KdfParams | None = None,
    ) -> Store:
        """Create a new store protected by ``pin``. ``kdf=None`` calibrates to ~0.5 s on this device."""
        keys.validate_pin(pin)
        p = Path(path)
        if (p / DB_NAME).exists():
            raise InvalidInput("path", f"a store already exists at {p}")
        p.mkdir(parents=True, exist_ok=True)
        (p / ATTACHMENTS_DIR).mkdir(exist_ok=True)
        header = keys.Header.new(kdf or keys.calibrate())
        keys.write_header(p / keys.HEADER_NAME, header)
        sub = keys.subkeys(keys.derive_master(pin, header.salt, header.kdf))
        conn = _connect(p / DB_NAME, sub)
        store = cls(p, conn, sub, header)
        store._initialise()
        with store.transaction() as c:
            c.execute("INSERT INTO meta (key, value) VALUES ('device_id', ?)", (str(uuid.uuid4()),))
        return store

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        pin: str,
        *,
        policy: keys.BackoffPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Store:
        """Open the store with ``pin``; raise WrongPin / LockedOut / StoreWiped / NoStore."""
        policy = policy or keys.BackoffPolicy()
        p = Path(path)
        if not cls.exists(p):
            raise NoStore(f"no store at {p}")
        keys.validate_pin(pin)
        header_path = p / keys.HEADER_NAME
        header = keys.read_header(header_path)
        now = clock()
        if header.failures and header.last_failure_at is not None:
            wait = header.last_failure_at + policy.delay_after(header.failures) - now
            if wait > 0:
                raise LockedOut(wait)

        had_failures = header.failures > 0
        candidates = [(header_path, header)]
        pending_path = p / keys.PENDING_HEADER_NAME
        if pending_path.exists():
            candidates.append((pending_path, keys.read_header(pending_path)))
        for source, candidate in candidates:
            sub = keys.subkeys(keys.derive_master(pin, candidate.salt, candidate.kdf))
            conn = _try_connect(p / DB_NAME, sub)
            if conn is None:
                continue
            if source == pending_path:
                # A PIN change committed the rekey but died before swapping headers: finish it.
                os.replace(pending_path, header_path)
                keys.fsync_dir(p)
            elif pending_path.exists():
                # The PIN change never reached its rekey: the pending header is stale.
                pending_path.unlink()
            candidate.failures, candidate.last_failure_at = 0, None
            if had_failures:
                keys.write_header(header_path, candidate)
            store = cls(p, conn, sub, candidate)
            store._initialise()
            return store

        header.failures += 1
        header.last_failure_at = now
        if header.failures >= policy.wipe_after:
            wipe(p)
            raise StoreWiped(header.failures)
        keys.write_header(header_path, header)
        raise WrongPin(
            header.failures, policy.wipe_after - header.failures, policy.delay_after(header.failures)
        )

    @classmethod
    def open_with_keys(cls, path: str | os.PathLike[str], subkeys: keys.Subkeys) -> Store:
        """Open with the store keys themselves (recovery with the mission key; no PIN, no back-off)."""
        p = Path(path)
        if not cls.exists(p):
            raise NoStore(f"no store at {p}")
        conn = _try_connect(p / DB_NAME, subkeys)
        if conn is None:
            raise InvalidInput("subkeys", "these keys do not open this store")
        store = cls(p, conn, subkeys, keys.read_header(p / keys.HEADER_NAME))
        store._initialise()
        return store

    def seal_for_recovery(self, public_pem: str) -> None:
        """Seal this store's keys for the mission's recovery key (see recovery.py); kept for PIN changes."""
        from peacewatch.mobile.core import recovery  # recovery imports store

        recovery.seal(self.path, self._subkeys, public_pem)
        with self.transaction() as conn:
            self.set_meta(conn, recovery.META_KEY, public_pem)

    def _initialise(self) -> None:
        conn = self.conn
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        # Keep temporary tables and sort spills in memory, never in a temp file.
        conn.execute("PRAGMA temp_store=MEMORY")
        with self.lock:
            try:
                migrate(self.db)
            except sqlcipher3.Error as exc:
                if is_storage_full(exc):
                    raise StorageFull(f"could not upgrade the local store: {exc}") from exc
                raise

    # ----- using ---------------------------------------------------------------------------
    @property
    def conn(self) -> sqlcipher3.Connection:
        if self._conn is None:
            raise StoreLocked("the store is closed")
        return self._conn

    @property
    def attachments_dir(self) -> Path:
        return self.path / ATTACHMENTS_DIR

    @property
    def attachments_kek(self) -> bytes:
        if self._conn is None:
            raise StoreLocked("the store is closed")
        return self._subkeys.attachments_kek

    @property
    def device_id(self) -> str:
        """This install's device id: part of every local version id (see versioning.version_id)."""
        return str(self.get_meta("device_id"))

    def get_meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, conn: sqlcipher3.Connection, key: str, value: str) -> None:
        """Set a meta value; call inside :meth:`transaction` (``conn`` is what it yields)."""
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @contextmanager
    def transaction(self) -> Iterator[sqlcipher3.Connection]:
        """One ``BEGIN IMMEDIATE`` write transaction; rolls back on error, StorageFull when the disk says no."""
        with self.lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlcipher3.Error as exc:
                if is_storage_full(exc):
                    raise StorageFull(f"the device refused the write; nothing was changed ({exc})") from exc
                raise

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query under the store lock and return all rows."""
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``'s verdict ("ok" when the database is sound)."""
        return "\n".join(row[0] for row in self.query("PRAGMA integrity_check"))

    # ----- PIN change ----------------------------------------------------------------------
    def change_pin(self, old_pin: str, new_pin: str, *, kdf: keys.KdfParams | None = None) -> None:
        """Re-key the database and re-wrap every attachment key under ``new_pin``."""
        keys.validate_pin(new_pin)
        keys.validate_pin(old_pin)
        old_sub = keys.subkeys(keys.derive_master(old_pin, self._header.salt, self._header.kdf))
        if not hmac.compare_digest(old_sub.database, self._subkeys.database):
            raise InvalidInput("old_pin", "is not the current PIN")
        new_header = keys.Header.new(kdf or self._header.kdf)
        new_sub = keys.subkeys(keys.derive_master(new_pin, new_header.salt, new_header.kdf))
        pending = self.path / keys.PENDING_HEADER_NAME
        keys.write_header(pending, new_header)
        from peacewatch.mobile.core.attachments import rewrap_keys  # attachments imports store

        with self.lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                rewrap_keys(conn, self._subkeys.attachments_kek, new_sub.attachments_kek)
                # rekey rewrites every page and commits the open transaction with it, so the
                # re-wrapped keys and the new database key become durable together.
                conn.execute(f"PRAGMA rekey = {new_sub.sqlcipher_key()}")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                pending.unlink(missing_ok=True)
                if isinstance(exc, sqlcipher3.Error) and is_storage_full(exc):
                    raise StorageFull(f"could not change the PIN: {exc}") from exc
                raise
            if conn.in_transaction:
                conn.execute("COMMIT")  # rekey leaves an empty transaction open behind it
            self._subkeys, self._header = new_sub, new_header
            self._promote_pending_header()
        public_pem = self.get_meta("recovery_public_key")
        if public_pem:
            # The sealed copy must follow the new keys, or recovery would open nothing.
            from peacewatch.mobile.core import recovery  # recovery imports store

            recovery.seal(self.path, new_sub, public_pem)

    def _promote_pending_header(self) -> None:
        os.replace(self.path / keys.PENDING_HEADER_NAME, self.path / keys.HEADER_NAME)
        keys.fsync_dir(self.path)

    def close(self) -> None:
        """Checkpoint and close; the keys are dropped with the connection."""
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(db_path: Path, sub: keys.Subkeys) -> sqlcipher3.Connection:
    # isolation_level=None: no implicit BEGINs; Store.transaction and sqlite-utils' savepoints
    # decide where transactions start and end.
    conn = sqlcipher3.connect(str(db_path), isolation_level=None, check_same_thread=False)
    # SQLCipher logs each failed page decryption to stderr; a wrong PIN is not worth a log line.
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = {sub.sqlcipher_key()}")
    return conn


def _try_connect(db_path: Path, sub: keys.Subkeys) -> sqlcipher3.Connection | None:
    """Open with this key, or None if the key does not decrypt page 1 (SQLITE_NOTADB)."""
    conn = _connect(db_path, sub)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        conn.close()
        return None
    return conn


def wipe(path: str | os.PathLike[str]) -> None:
    """Destroy a store. The header goes first: without its salt the data is undecryptable even with the PIN."""
    p = Path(path)
    for name in (keys.HEADER_NAME, keys.PENDING_HEADER_NAME, "recovery.json"):
        (p / name).unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        (p / (DB_NAME + suffix)).unlink(missing_ok=True)
    shutil.rmtree(p / ATTACHMENTS_DIR, ignore_errors=True)
