"""The outbox and the pull side: the store API the sync client (``sync_client.py``) is written against.

Push (tablet -> server)::

    outbox.pending_count()                         # how many versions wait (progress display)
    batch = outbox.pending_versions(limit=50)      # PushEntry (common.sync_protocol), oldest first
    # POST {"versions": batch}; then, per the answer:
    outbox.mark_sent([ids the server answered "stored" or "duplicate"])
    outbox.mark_rejected(version_id, reason)       # for each refused for good
    # anything unanswered (link dropped) stays pending and is sent again: the server dedups by id

Attachments::

    for ref in outbox.pending_attachments():        # referenced by a local version, not yet uploaded
        for chunk in Attachments(store).iter_chunks(ref.sha256):   # Chunk(index, sha256, data), 256 KiB
            ...                                     # ask which chunk hashes the server lacks, send those
        Attachments(store).mark_uploaded(ref.sha256) # after the server committed the manifest

Pull (server -> tablet)::

    cursor = outbox.get_cursor()                    # None before the first pull; opaque string
    page = GET /sync/pull?since=cursor
    outbox.apply_pull_page(page["changes"], page["next"])   # ONE transaction with the cursor

``apply_pull_page`` takes the feed's changes exactly as the server sends them (docs/sync-protocol.md
§4, ``common.sync_protocol``'s ``VersionChange``, ``ReviewChange``...): the store's tables use the
feed's names (a review's ``comment``, a comment's ``by``; a change's ``seq`` is kept as
``server_seq``), so nothing is renamed on the way. It applies every change and stores ``next_cursor`` atomically: if the app dies or the link
drops, the page is either fully applied with its cursor or not at all, and pulling it again is
harmless (every change is idempotent). A malformed change raises ``InvalidInput`` naming
``changes[i].field``; nothing of that page is applied. Kinds the store does not know (and
reference items it does not keep, such as areas) are skipped, so an older app keeps syncing when
the server learns new ones.

A pulled version this tablet made itself (same id) proves the server stored it: it is marked sent.
A version made on the web or through the API has no device; its device key is ``user:<author>``,
as in its version id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlcipher3

from peacewatch.common.sync_protocol import ChangeKind, PushEntry
from peacewatch.mobile.core import alerts, dag, reference, tasks
from peacewatch.mobile.core.attachments import AttachmentRef
from peacewatch.mobile.core.drafts import validate_report_id
from peacewatch.mobile.core.errors import InvalidInput, NotFound
from peacewatch.mobile.core.reports import Counts, Reports
from peacewatch.mobile.core.store import Store

CURSOR_KEY = "pull_cursor"


@dataclass
class PullResult:
    """What one page changed, for the sync screen."""

    versions: int = 0
    reviews: int = 0
    comments: int = 0
    places: int = 0
    alerts: int = 0
    tasks: int = 0
    skipped: list[str] = field(default_factory=list)
    reports_updated: set[str] = field(default_factory=set)


class Outbox:
    """Push queue and pull application for one open store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ----- push ----------------------------------------------------------------------------
    def pending_versions(self, limit: int = 50) -> list[PushEntry]:
        """Up to ``limit`` versions not yet accepted by the server, oldest first, as push entries.

        Built without re-validation: every row was checked by ``Reports.finalise`` when written.
        """
        if limit < 1:
            raise InvalidInput("limit", "must be at least 1")
        rows = self.store.query(
            "SELECT version_id, report_id, parents, body, device_id, created_at FROM versions"
            " WHERE state = 'pending' ORDER BY seq LIMIT ?",
            (limit,),
        )
        return [
            PushEntry.model_construct(version_id=r[0], report_id=r[1], parents=json.loads(r[2]), body=json.loads(r[3]),
                                      device_id=r[4], device_time=datetime.fromisoformat(r[5]))
            for r in rows
        ]

    def pending_count(self) -> int:
        """How many versions are waiting to be pushed (for progress: "12 versions to send")."""
        return int(self.store.query("SELECT count(*) FROM versions WHERE state = 'pending'")[0][0])

    def mark_sent(self, version_ids: list[str]) -> int:
        """The server answered stored / duplicate for these: they leave the outbox. Returns how many changed."""
        if isinstance(version_ids, str):
            raise InvalidInput("version_ids", "must be a list of version ids, not one string")
        changed = 0
        with self.store.transaction() as conn:
            touched: set[str] = set()
            for vid in version_ids:
                row = conn.execute(
                    "UPDATE versions SET state = 'sent', reject_reason = NULL"
                    " WHERE version_id = ? AND origin = 'local' AND state IN ('pending', 'rejected')"
                    " RETURNING report_id",
                    (vid,),
                ).fetchone()
                if row is not None:
                    changed += 1
                    touched.add(row[0])
            for report_id in touched:
                dag.refresh_report(conn, report_id)
        return changed

    def mark_rejected(self, version_id: str, reason: str) -> None:
        """The server refused this version; it stays visible with the reason and is not re-sent."""
        if not reason:
            raise InvalidInput("reason", "must not be empty")
        with self.store.transaction() as conn:
            cur = conn.execute(
                "UPDATE versions SET state = 'rejected', reject_reason = ?"
                " WHERE version_id = ? AND origin = 'local' AND state = 'pending'",
                (reason, version_id),
            )
            row = conn.execute(
                "SELECT report_id FROM versions WHERE version_id = ?", (version_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no version {version_id}")
            if cur.rowcount:
                dag.refresh_report(conn, row[0])

    def pending_attachments(self) -> list[AttachmentRef]:
        """Attachments a local version references that the server has not confirmed yet."""
        rows = self.store.query(
            """
            SELECT DISTINCT a.sha256, a.size, a.media_type, a.name
            FROM versions v, json_each(v.body, '$.attachments') j
            JOIN attachments a ON a.sha256 = json_extract(j.value, '$.sha256')
            WHERE v.origin = 'local' AND v.state IN ('pending', 'sent') AND a.uploaded = 0
            ORDER BY a.created_at, a.sha256
            """
        )
        return [AttachmentRef(r[0], r[1], r[2], r[3]) for r in rows]

    # ----- pull ----------------------------------------------------------------------------
    def get_cursor(self) -> str | None:
        """Where the last applied pull page ended (None: pull from the beginning)."""
        return self.store.get_meta(CURSOR_KEY)

    def apply_pull_page(self, changes: list[dict[str, Any]], next_cursor: str | int) -> PullResult:
        """Apply one page of the change feed and store ``next_cursor``, in one transaction."""
        if not isinstance(changes, list):
            raise InvalidInput("changes", "must be a list")
        if next_cursor is None or str(next_cursor) == "":
            raise InvalidInput("next_cursor", "must not be empty")
        result = PullResult()
        own_device = self.store.device_id
        with self.store.transaction() as conn:
            for i, change in enumerate(changes):
                where = f"changes[{i}]"
                if not isinstance(change, dict):
                    raise InvalidInput(where, "must be an object")
                kind = change.get("kind")
                if kind == ChangeKind.VERSION:
                    self._apply_version(conn, change, where, own_device, result)
                elif kind == ChangeKind.REVIEW:
                    self._apply_review(conn, change, where, result)
                elif kind == ChangeKind.COMMENT:
                    self._apply_comment(conn, change, where, result)
                elif kind == ChangeKind.REFERENCE and reference.apply_item(conn, change.get("item"), f"{where}.item"):
                    result.places += 1
                elif kind == "alert":
                    alerts.apply_change(conn, change, where)
                    result.alerts += 1
                elif kind == "task":
                    tasks.apply_change(conn, change, where)
                    result.tasks += 1
                else:
                    result.skipped.append(str(kind))
            self.store.set_meta(conn, CURSOR_KEY, str(next_cursor))
        return result

    def _apply_version(
        self,
        conn: sqlcipher3.Connection,
        change: dict[str, Any],
        where: str,
        own_device: str,
        result: PullResult,
    ) -> None:
        report_id = _report_id(change, where)
        vid = _text(change, "version_id", where)
        # A web or API edit has no device: its device key is the author's, as in its version id.
        device = change.get("device_id") or f"user:{_text(change, 'author', where)}"
        body = change.get("body")
        if not isinstance(body, dict):
            raise InvalidInput(f"{where}.body", "must be an object")
        parents = change.get("parents", [])
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
            raise InvalidInput(f"{where}.parents", "must be a list of version ids")
        now = _now()
        existing = conn.execute("SELECT origin FROM versions WHERE version_id = ?", (vid,)).fetchone()
        if existing is not None:
            if existing[0] == "local":
                conn.execute(
                    "UPDATE versions SET state = 'sent', reject_reason = NULL WHERE version_id = ?", (vid,)
                )
                dag.refresh_report(conn, report_id)
            return
        kind = body.get("kind")
        conn.execute(
            "INSERT INTO reports (report_id, kind, title, created_at, updated_at, hq_updated)"
            " VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT(report_id) DO UPDATE SET updated_at = excluded.updated_at",
            (report_id, kind if isinstance(kind, str) else "incident", body.get("title"), now, now),
        )
        dag.add_version(
            conn,
            version_id=vid,
            report_id=report_id,
            body=body,
            parents=parents,
            device_id=device,
            origin="remote",
            state="remote",
            created_at=now,
        )
        dag.refresh_report(conn, report_id)
        if device != own_device:
            # The list shows the title of the newest head.
            head_ids = dag.heads(conn, report_id)
            if head_ids and head_ids[-1] == vid:
                conn.execute(
                    "UPDATE reports SET title = ? WHERE report_id = ?", (body.get("title"), report_id)
                )
            self._flag(conn, report_id, result)
        result.versions += 1

    def _apply_review(
        self, conn: sqlcipher3.Connection, change: dict[str, Any], where: str, result: PullResult
    ) -> None:
        report_id = _report_id(change, where)
        status = _text(change, "status", where)
        seq = _int(change, "seq", where)
        cur = conn.execute(
            "INSERT OR IGNORE INTO reviews (report_id, status, by, at, comment, server_seq) VALUES (?, ?, ?, ?, ?, ?)",
            (report_id, status, change.get("by"), change.get("at"), change.get("comment"), seq),
        )
        if cur.rowcount:
            latest = conn.execute(
                "SELECT status FROM reviews WHERE report_id = ? ORDER BY server_seq DESC LIMIT 1",
                (report_id,),
            ).fetchone()[0]
            conn.execute("UPDATE reports SET review_status = ? WHERE report_id = ?", (latest, report_id))
            self._flag(conn, report_id, result)
            result.reviews += 1

    def _apply_comment(
        self, conn: sqlcipher3.Connection, change: dict[str, Any], where: str, result: PullResult
    ) -> None:
        report_id = _report_id(change, where)
        cur = conn.execute(
            "INSERT OR IGNORE INTO comments (server_seq, report_id, by, text, at) VALUES (?, ?, ?, ?, ?)",
            (_int(change, "seq", where), report_id, change.get("by"), _text(change, "text", where), change.get("at")),
        )
        if cur.rowcount:
            self._flag(conn, report_id, result)
            result.comments += 1

    @staticmethod
    def _flag(conn: sqlcipher3.Connection, report_id: str, result: PullResult) -> None:
        conn.execute(
            "UPDATE reports SET hq_updated = 1, updated_at = ? WHERE report_id = ?", (_now(), report_id)
        )
        result.reports_updated.add(report_id)

    def counts(self) -> Counts:
        """Drafts / waiting / sent / updated by HQ (same as ``Reports.counts``)."""
        return Reports(self.store).counts()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _text(change: dict[str, Any], key: str, where: str) -> str:
    value = change.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{where}.{key}", "must be a non-empty string")
    return value


def _int(change: dict[str, Any], key: str, where: str) -> int:
    value = change.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{where}.{key}", "must be an integer")
    return value


def _report_id(change: dict[str, Any], where: str) -> str:
    try:
        return validate_report_id(_text(change, "report_id", where))
    except InvalidInput as exc:
        raise InvalidInput(f"{where}.report_id", str(exc)) from exc
