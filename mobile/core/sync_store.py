"""What the sync client needs from the local store: the :class:`SyncStore` protocol and its adapter.

The client pushes what :meth:`SyncStore.pending_versions` returns (``common.sync_protocol``'s
``PushEntry``, oldest first), and hands each pulled page to :meth:`SyncStore.apply_pull_page` in
the feed's own vocabulary (``kind``, ``comment``, ``by``...): nothing is renamed on the way.
:class:`LocalStore` adapts the encrypted store (``Outbox`` + ``Attachments`` + ``Reports``);
``tests/mobile/test_sync_store_contract.py`` runs one contract suite against every implementation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from peacewatch.common.sync_protocol import PushEntry
from peacewatch.mobile.core import tasks
from peacewatch.mobile.core.attachments import Attachments
from peacewatch.mobile.core.outbox import Outbox
from peacewatch.mobile.core.reports import Reports
from peacewatch.mobile.core.store import Store
from peacewatch.mobile.core.tasks import PendingEvent

__all__ = ["AttachmentLike", "ChunkLike", "LocalStore", "SyncStore", "Waiting"]


class AttachmentLike(Protocol):
    """An attachment to upload, as a report body lists it (read-only, so frozen dataclasses fit)."""

    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def media_type(self) -> str: ...
    @property
    def name(self) -> str: ...


class ChunkLike(Protocol):
    """One upload chunk of an attachment."""

    @property
    def index(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def data(self) -> bytes: ...


@dataclass(frozen=True)
class Waiting:
    """What is still waiting in the outbox."""

    versions: int
    reports: int


class SyncStore(Protocol):
    """The local store as the sync client uses it (see mobile/core/outbox.py)."""

    def pending_versions(self, limit: int) -> Sequence[PushEntry]:
        """Up to ``limit`` versions not yet accepted by the server, oldest first."""
        ...

    def mark_sent(self, version_ids: list[str]) -> int:
        """The server answered stored / duplicate: these leave the outbox. Returns how many changed."""
        ...

    def mark_rejected(self, version_id: str, reason: str) -> None:
        """The server refused this version for good: keep it with ``reason`` and stop sending it."""
        ...

    def pending_attachments(self) -> Sequence[AttachmentLike]:
        """Attachments a local version references that the server has not committed yet."""
        ...

    def iter_chunks(self, sha256: str, chunk_size: int) -> Iterator[ChunkLike]:
        """The chunks of one attachment, in file order."""
        ...

    def mark_uploaded(self, sha256: str) -> None:
        """The server committed this attachment's manifest."""
        ...

    def get_cursor(self) -> str | None:
        """Where the last applied pull page ended (None: never pulled)."""
        ...

    def apply_pull_page(self, changes: list[dict[str, Any]], next_cursor: str) -> object:
        """Apply one page of feed changes (unknown kinds skipped) and store ``next_cursor``, atomically."""
        ...

    def waiting(self) -> Waiting:
        """How many versions and reports are still waiting to be sent."""
        ...

    def pending_task_events(self) -> Sequence[PendingEvent]:
        """What the patrol did about tasks and the server does not have yet, oldest first."""
        ...

    def task_event_sent(self, event_id: str, task: dict[str, Any] | None) -> None:
        """The server stored (or already had) this event; ``task`` is the task as it now stands."""
        ...

    def task_event_refused(self, event_id: str, reason: str) -> None:
        """The server refused this event for good: keep it with ``reason`` and stop sending it."""
        ...


class LocalStore:
    """:class:`SyncStore` over the encrypted store (``Outbox`` and ``Attachments`` of one open ``Store``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.outbox = Outbox(store)
        self.attachments = Attachments(store)
        self.reports = Reports(store)

    def pending_versions(self, limit: int) -> Sequence[PushEntry]:
        return self.outbox.pending_versions(limit)

    def mark_sent(self, version_ids: list[str]) -> int:
        return self.outbox.mark_sent(version_ids)

    def mark_rejected(self, version_id: str, reason: str) -> None:
        self.outbox.mark_rejected(version_id, reason)

    def pending_attachments(self) -> Sequence[AttachmentLike]:
        return self.outbox.pending_attachments()

    def iter_chunks(self, sha256: str, chunk_size: int) -> Iterator[ChunkLike]:
        return self.attachments.iter_chunks(sha256, chunk_size)

    def mark_uploaded(self, sha256: str) -> None:
        self.attachments.mark_uploaded(sha256)

    def get_cursor(self) -> str | None:
        return self.outbox.get_cursor()

    def apply_pull_page(self, changes: list[dict[str, Any]], next_cursor: str) -> object:
        return self.outbox.apply_pull_page(changes, next_cursor)

    def waiting(self) -> Waiting:
        return Waiting(versions=self.outbox.pending_count(), reports=self.reports.counts().waiting)

    def pending_task_events(self) -> Sequence[PendingEvent]:
        return tasks.pending_events(self.store)

    def task_event_sent(self, event_id: str, task: dict[str, Any] | None) -> None:
        tasks.event_sent(self.store, event_id, task)

    def task_event_refused(self, event_id: str, reason: str) -> None:
        tasks.event_refused(self.store, event_id, reason)
