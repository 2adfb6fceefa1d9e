"""What the sync screen shows, in plain words: :class:`SyncProgress`, :class:`Rejection` and their wording."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["FINISHED_STATES", "Rejection", "SyncProgress", "revoked_text"]

# States in which a run has ended (the others are the phases of a run in progress).
FINISHED_STATES = frozenset({"done", "offline", "revoked", "unauthorised", "failed", "wiped"})


@dataclass(frozen=True)
class Rejection:
    """A version the server refused for good; shown next to the report."""

    version_id: str
    report_id: str
    code: str
    field: str | None
    reason: str


@dataclass
class SyncProgress:
    """Everything the sync screen shows. ``state``: idle, pushing, pulling, uploading, done,
    offline (gave up for this run; will retry), revoked, unauthorised, failed, wiped (the server
    answered ``device_wiped``: the caller destroys the store)."""

    state: str = "idle"
    items_done: int = 0
    items_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    versions_waiting: int = 0
    reports_waiting: int = 0
    attachments_waiting: int = 0
    versions_sent: int = 0
    versions_held: int = 0  # kept pending after a retryable rejection
    changes_pulled: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    last_success_at: datetime | None = None
    last_error: str | None = None
    wire_bytes_sent: int = 0  # HTTP bodies since this client was made (all runs)
    wire_bytes_received: int = 0
    requests: int = 0
    failures: int = 0
    batch_size: int = 0
    # The attachment being uploaded: name, size, and bytes_done when it started (its own progress
    # is bytes_done - current_file_start).
    current_file: str = ""
    current_file_size: int = 0
    current_file_start: int = 0

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    def waiting_text(self) -> str:
        """E.g. "12 reports waiting, 2 attachments waiting" or "nothing waiting"."""
        parts = []
        if self.reports_waiting:
            parts.append(_plural(self.reports_waiting, "report") + " waiting")
        if self.attachments_waiting:
            parts.append(_plural(self.attachments_waiting, "attachment") + " waiting")
        return ", ".join(parts) or "nothing waiting"


def revoked_text(progress: SyncProgress) -> str:
    """What a revoked tablet tells its user: it can no longer sync, and what stays on it."""
    return (f"this tablet has been revoked by the mission administrator and can no longer sync; "
            f"{progress.waiting_text()} stay encrypted on it — ask for a new enrolment")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
