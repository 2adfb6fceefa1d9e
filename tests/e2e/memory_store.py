"""A :class:`~peacewatch.mobile.core.sync_store.SyncStore` in memory, for client tests and the sync benchmark.

It keeps the same contract as the encrypted store (``tests/mobile/test_sync_store_contract.py``
runs one suite against both) without touching a disk, so a benchmark measures the protocol and
the server, and a test can hold versions the real store could never produce (a parent the server
never saw, a malformed id). Pending versions are a dict in insertion order: taking a batch and
forgetting what was sent cost O(batch), so 20,000 versions push as fast as 20.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from peacewatch.common.sync_protocol import ChangeKind, PushEntry
from peacewatch.mobile.core.attachments import AttachmentRef, Chunk
from peacewatch.mobile.core.errors import InvalidInput, NotFound
from peacewatch.mobile.core.sync_store import Waiting
from peacewatch.mobile.core.tasks import PendingEvent


class MemoryStore:
    """Pending push entries, attachments, the pull cursor and what was pulled, all in memory."""

    def __init__(self, entries: Iterable[PushEntry] = ()) -> None:
        self._pending: dict[str, PushEntry] = {}
        self._per_report: Counter[str] = Counter()
        self.sent: list[str] = []
        self.rejected: dict[str, str] = {}
        self._sent_entries: dict[str, PushEntry] = {}  # their files still go up
        self._files: dict[str, tuple[AttachmentRef, bytes]] = {}
        self.uploaded: set[str] = set()
        self.cursor: str | None = None
        self.pages: list[list[dict[str, Any]]] = []
        self.pulled_versions = 0
        self.task_events: dict[str, PendingEvent] = {}  # waiting to be sent, in order
        self.task_events_sent: dict[str, dict[str, Any] | None] = {}
        self.task_events_refused: dict[str, str] = {}
        for entry in entries:
            self.add(entry)

    # ----- filling it ---------------------------------------------------------------------------
    def add(self, entry: PushEntry) -> None:
        """Queue ``entry`` behind everything already pending."""
        self._pending[entry.version_id] = entry
        self._per_report[entry.report_id] += 1

    def add_attachment(self, data: bytes, *, name: str, media_type: str = "image/jpeg") -> AttachmentRef:
        """Keep a file for upload; it is pending while some queued or sent version lists it."""
        ref = AttachmentRef(hashlib.sha256(data).hexdigest(), len(data), media_type, name)
        self._files[ref.sha256] = (ref, data)
        return ref

    # ----- the SyncStore protocol ---------------------------------------------------------------
    def pending_versions(self, limit: int) -> list[PushEntry]:
        if limit < 1:
            raise InvalidInput("limit", "must be at least 1")
        return list(itertools.islice(self._pending.values(), limit))

    def mark_sent(self, version_ids: list[str]) -> int:
        changed = 0
        for vid in version_ids:
            entry = self._pending.pop(vid, None)
            if entry is None and vid not in self.rejected:
                continue
            if entry is not None:
                self._forget(entry)
                self._sent_entries[vid] = entry
            self.rejected.pop(vid, None)
            self.sent.append(vid)
            changed += 1
        return changed

    def mark_rejected(self, version_id: str, reason: str) -> None:
        if not reason:
            raise InvalidInput("reason", "must not be empty")
        entry = self._pending.pop(version_id, None)
        if entry is None:
            if version_id in self.sent or version_id in self.rejected:
                return
            raise NotFound(f"no version {version_id}")
        self._forget(entry)
        self.rejected[version_id] = reason

    def pending_attachments(self) -> list[AttachmentRef]:
        listed = {a.get("sha256") for e in self._local_entries() for a in e.body.get("attachments") or []}
        return [ref for sha, (ref, _) in self._files.items() if sha in listed and sha not in self.uploaded]

    def iter_chunks(self, sha256: str, chunk_size: int) -> Iterator[Chunk]:
        if chunk_size <= 0:
            raise InvalidInput("chunk_size", "must be positive")
        if sha256 not in self._files:
            raise NotFound(f"no attachment {sha256}")
        data = self._files[sha256][1]
        for index, start in enumerate(range(0, len(data), chunk_size)):
            piece = data[start:start + chunk_size]
            yield Chunk(index, hashlib.sha256(piece).hexdigest(), piece)

    def mark_uploaded(self, sha256: str) -> None:
        if sha256 not in self._files:
            raise NotFound(f"no attachment {sha256}")
        self.uploaded.add(sha256)

    def get_cursor(self) -> str | None:
        return self.cursor

    def apply_pull_page(self, changes: list[dict[str, Any]], next_cursor: str) -> int:
        if not isinstance(changes, list):
            raise InvalidInput("changes", "must be a list")
        if not str(next_cursor):
            raise InvalidInput("next_cursor", "must not be empty")
        self.pages.append(changes)
        versions = sum(1 for c in changes if c.get("kind") == ChangeKind.VERSION)
        self.pulled_versions += versions
        self.cursor = str(next_cursor)
        return versions

    def waiting(self) -> Waiting:
        return Waiting(versions=len(self._pending), reports=len(self._per_report))

    def add_task_event(self, task_id: int, body: dict[str, Any]) -> None:
        """Queue an event (``body`` as the server's events route takes it) behind those pending."""
        self.task_events[body["event_id"]] = PendingEvent(body["event_id"], task_id, body)

    def pending_task_events(self) -> list[PendingEvent]:
        return list(self.task_events.values())

    def task_event_sent(self, event_id: str, task: dict[str, Any] | None) -> None:
        self.task_events.pop(event_id, None)
        self.task_events_sent[event_id] = task

    def task_event_refused(self, event_id: str, reason: str) -> None:
        self.task_events.pop(event_id, None)
        self.task_events_refused[event_id] = reason

    # ----- inside -------------------------------------------------------------------------------
    def _forget(self, entry: PushEntry) -> None:
        self._per_report[entry.report_id] -= 1
        if not self._per_report[entry.report_id]:
            del self._per_report[entry.report_id]

    def _local_entries(self) -> Iterator[PushEntry]:
        yield from self._pending.values()
        # Sent versions' files still go up (a report may be pushed before its files).
        yield from self._sent_entries.values()
