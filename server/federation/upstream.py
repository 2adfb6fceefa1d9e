"""A sector server as the mission server's client: the tablet's sync client over this server's database.

``SectorStore`` implements the tablets' ``SyncStore`` protocol (``mobile/core/sync_store.py``) on
this server's own tables, so federation is the sync protocol itself, with the tablets' client and
its handling of a link that drops (batches resent, pages repeated, backoff):

* **up**: every version this server's feed holds that did not come down from upstream, in feed
  order, with the device that made it (the mission checks each id against it). A version leaves
  the queue once the mission answered stored or already had (``federation_sent``), so each goes
  up exactly once however often the link cuts; one it refuses for good stays with the reason.
* **files**: every attachment a version it sent references, re-cut into the client's chunks from
  this server's chunk store (the mission checks the whole file's hash), once each.
* **down**: the mission's feed as this sector's credential may read it, applied by
  ``replicate.apply_changes`` together with the cursor, in one transaction.

The mission sees the sector as a principal of role ``sector`` with its own device credential and
its contingents (``peacewatch admin add-sector``); its read and write policy decides, per version.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...common.sync_protocol import PushEntry
from ...mobile.core.sync_store import Waiting
from ...mobile.core.tasks import PendingEvent
from .. import clock
from ..access import Principal, Role
from ..attachments.service import chunk_path
from ..auth.secrets import hash_password
from ..db.engine import WRITE
from ..db.tables import (
    attachments,
    changes,
    contingents,
    federation_files,
    federation_sent,
    meta,
    users,
    version_attachments,
    versions,
)
from ..feed_consumers import run_after_commit
from ..subscriptions import CONSUMERS
from .replicate import UPSTREAM, apply_changes

CURSOR_KEY = "federation.pull_cursor"
SERVICE_USER = "mission-hq"  # who the mission's changes are written as on this server (no sign-in)


def service_principal(engine: Engine) -> Principal:
    """This server's account for what comes down from the mission (made on first use; nobody signs in)."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        row = conn.execute(select(users.c.id).where(users.c.username == SERVICE_USER)).first()
        if row is None:
            user_id = conn.execute(insert(users).values(
                username=SERVICE_USER, display_name="Mission HQ (federation)", role=Role.SECTOR.value,
                password_hash=hash_password(secrets.token_urlsafe(32)), language="en", active=False,
                created_at=clock.now())).inserted_primary_key[0]
        else:
            user_id = row.id
        every = frozenset(conn.execute(select(contingents.c.id)).scalars())
    return Principal(user_id=int(user_id), username=SERVICE_USER, role=Role.SECTOR, contingent_id=None,
                     sector_contingents=every)


@dataclass(frozen=True)
class FileRef:
    """An attachment to upload, as the sync client reads one."""

    sha256: str
    size: int
    media_type: str
    name: str


@dataclass(frozen=True)
class Chunk:
    index: int
    sha256: str
    data: bytes


class SectorStore:
    """The ``SyncStore`` protocol over a sector server's database (see the module docstring)."""

    def __init__(self, engine: Engine, attachments_root: Path | None = None) -> None:
        self.engine = engine
        self.attachments_root = attachments_root  # this server's chunk store (None: files stay here)
        self.service = service_principal(engine)

    # ----- up: versions ---------------------------------------------------------------------
    def _unsent(self) -> Any:
        sent = federation_sent.alias("sent")
        return (select(changes.c.seq, versions.c.version_id, versions.c.report_id, versions.c.parents,
                       versions.c.body, versions.c.device_id, versions.c.device_time,
                       users.c.username.label("writer"))
                .select_from(changes.join(versions, versions.c.version_id == changes.c.ref)
                             .join(users, users.c.id == versions.c.author_user_id)
                             .outerjoin(sent, sent.c.version_id == changes.c.ref))
                .where(changes.c.kind == "version", sent.c.version_id.is_(None),
                       or_(changes.c.device_id.is_(None), changes.c.device_id != UPSTREAM)))

    def pending_versions(self, limit: int) -> Sequence[PushEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(self._unsent().order_by(changes.c.seq).limit(limit)).all()
        return [PushEntry(report_id=r.report_id, version_id=r.version_id, parents=list(r.parents), body=r.body,
                          # The key its id was made with: the tablet, or the user of a web edit.
                          device_id=r.device_id or f"user:{r.writer}",
                          device_time=r.device_time) for r in rows]

    def _mark(self, version_ids: list[str], refused: str | None) -> int:
        if not version_ids:
            return 0
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            seqs = dict(conn.execute(select(changes.c.ref, changes.c.seq).where(
                changes.c.kind == "version", changes.c.ref.in_(version_ids))).all())
            rows = [{"version_id": v, "seq": seqs[v], "refused": refused, "sent_at": clock.now()}
                    for v in version_ids if v in seqs]
            if not rows:
                return 0
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            return conn.execute(dialect_insert(federation_sent).values(rows).on_conflict_do_nothing()).rowcount

    def mark_sent(self, version_ids: list[str]) -> int:
        return self._mark(version_ids, None)

    def mark_rejected(self, version_id: str, reason: str) -> None:
        self._mark([version_id], reason)

    def refused(self) -> dict[str, str]:
        """Versions the mission refused for good, with its reason (for the operator)."""
        with self.engine.connect() as conn:
            return dict(conn.execute(select(federation_sent.c.version_id, federation_sent.c.refused)
                                     .where(federation_sent.c.refused.is_not(None))).all())

    # ----- up: attachments ------------------------------------------------------------------
    def pending_attachments(self) -> Sequence[FileRef]:
        """Files this server holds that a version it sent up references, not yet committed upstream."""
        if self.attachments_root is None:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(attachments.c.sha256, attachments.c.size, attachments.c.media_type).distinct()
                .select_from(attachments.join(version_attachments, version_attachments.c.sha256 == attachments.c.sha256)
                             .join(federation_sent, federation_sent.c.version_id == version_attachments.c.version_id)
                             .outerjoin(federation_files, federation_files.c.sha256 == attachments.c.sha256))
                .where(federation_sent.c.refused.is_(None), federation_files.c.sha256.is_(None))
                .order_by(attachments.c.size, attachments.c.sha256)).all()
        return [FileRef(r.sha256, int(r.size), r.media_type, r.sha256[:12]) for r in rows]

    def iter_chunks(self, sha256: str, chunk_size: int) -> Iterator[Chunk]:
        """The file cut as the client asks (the mission checks the whole file's hash on commit)."""
        assert self.attachments_root is not None
        with self.engine.connect() as conn:
            stored = conn.execute(select(attachments.c.chunks).where(attachments.c.sha256 == sha256)).scalar()
        data = b"".join(chunk_path(self.attachments_root, h).read_bytes() for h in stored or [])
        for index, start in enumerate(range(0, len(data), chunk_size)):
            piece = data[start:start + chunk_size]
            yield Chunk(index, hashlib.sha256(piece).hexdigest(), piece)

    def mark_uploaded(self, sha256: str) -> None:
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            conn.execute(dialect_insert(federation_files).values(sha256=sha256, uploaded_at=clock.now())
                         .on_conflict_do_nothing())

    # ----- task events: tasks are the mission's and the sector's own, not federated -----------

    def pending_task_events(self) -> Sequence[PendingEvent]:
        return []

    def task_event_sent(self, event_id: str, task: dict[str, Any] | None) -> None:
        return None

    def task_event_refused(self, event_id: str, reason: str) -> None:
        return None

    # ----- down -------------------------------------------------------------------------------
    def get_cursor(self) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == CURSOR_KEY)).scalar()
        return str(value["seq"]) if isinstance(value, dict) else None

    def apply_pull_page(self, changes_: list[dict[str, Any]], next_cursor: str) -> object:
        with self.engine.connect().execution_options(**WRITE) as conn:
            with conn.begin():
                done = apply_changes(conn, self.service, changes_)
                dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
                stmt = dialect_insert(meta).values(key=CURSOR_KEY, value={"seq": int(next_cursor)})
                conn.execute(stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": stmt.excluded.value}))
        # What came down is derived like any push: the projection (and so the tablets' view) at once.
        run_after_commit(self.engine, CONSUMERS, [])
        return done

    def waiting(self) -> Waiting:
        unsent = self._unsent().subquery()
        with self.engine.connect() as conn:
            n, reports_ = conn.execute(select(func.count(), func.count(func.distinct(unsent.c.report_id)))).one()
        return Waiting(versions=int(n), reports=int(reports_))
