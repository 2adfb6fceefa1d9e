"""The tablet's sync client: push the outbox, upload attachments, pull HQ's changes (protocol v1).

UI-free. One :meth:`SyncClient.run` does, in order:

1. **Push** the outbox in batches (``POST /api/v1/sync/push``, gzip body). A version leaves the
   outbox only after the server answered ``stored`` or ``duplicate``; a retryable rejection
   (``missing_parent``...) stays pending and is tried again later in the run; any other rejection
   is recorded on the version with its reason, for the UI. An unanswered batch (link dropped) is
   simply sent again: the server stores by content hash, so nothing is stored twice.
2. **Pull** the change feed (``GET /api/v1/sync/pull``) page by page; each page and its cursor are
   applied in one local transaction (``apply_pull_page``), so a cut repeats at most one page.
3. **Upload attachments** chunk by chunk: ask which chunks the server lacks
   (``/attachments/missing``), send only those, then commit the manifest. A cut resumes from the
   chunks still missing. Bulky attachments go last so the reports' text gets through first.

The link decides the pace (:class:`LinkTuner`): batch size, pull page size and timeouts shrink
after a timeout or failure and grow after successes. Failures back off exponentially with full
jitter, and a run gives up after ``max_failures`` failures, leaving everything pending for the
next run. Nothing is refused silently: a revoked device (401 ``device_revoked``) stops the run in
state ``revoked``; every rejection is kept with its reason; progress and the last error in plain
words go to the ``on_progress`` callback as a :class:`SyncProgress`.

Errors the caller may see: only :class:`~peacewatch.mobile.core.errors.InvalidInput` for a bad
construction argument (``field`` names it, e.g. ``verify=False``). Everything that happens during
a run - no link, busy server, revoked device, a certificate that does not verify, a refused
batch - ends in a :class:`SyncProgress` state with ``last_error`` in plain words.

The client is written against the :class:`SyncStore` protocol; :class:`LocalStore` adapts the
encrypted store (``Outbox`` + ``Attachments``). The server's change format is translated to the
store's by :func:`local_change`.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from peacewatch.mobile.core.errors import AttachmentCorrupt, InvalidInput, NotFound
from peacewatch.mobile.core.transport import CertificateRejected, LinkError, Response, Transport

__all__ = [
    "API",
    "EnrolResult",
    "LinkTuner",
    "LocalStore",
    "Rejection",
    "SyncClient",
    "SyncProgress",
    "SyncStore",
    "enrol",
    "local_change",
]

API = "/api/v1"
MAX_PUSH_BATCH = 500  # the server refuses more (422)
MAX_MISSING_QUERY = 10_000  # chunk hashes per /attachments/missing call
DEFAULT_CHUNK_SIZE = 256 * 1024
# Rejection codes that mean "not yet" even if an older server omits "retryable".
RETRYABLE_CODES = frozenset({"missing_parent"})


# ----- what the client needs from the local store ---------------------------------------------
class PendingLike(Protocol):
    version_id: str
    report_id: str
    parents: list[str]
    body: dict[str, Any]
    created_at: str


class AttachmentLike(Protocol):
    sha256: str
    size: int
    media_type: str
    name: str


class ChunkLike(Protocol):
    index: int
    sha256: str
    data: bytes


@dataclass(frozen=True)
class Waiting:
    """What is still waiting in the outbox."""

    versions: int
    reports: int


class SyncStore(Protocol):
    """The local store as the sync client uses it (see mobile/core/outbox.py)."""

    def pending_versions(self, limit: int) -> Sequence[PendingLike]: ...
    def mark_sent(self, version_ids: list[str]) -> int: ...
    def mark_rejected(self, version_id: str, reason: str) -> None: ...
    def pending_attachments(self) -> Sequence[AttachmentLike]: ...
    def iter_chunks(self, sha256: str, chunk_size: int) -> Iterator[ChunkLike]: ...
    def mark_uploaded(self, sha256: str) -> None: ...
    def get_cursor(self) -> str | None: ...
    def apply_pull_page(self, changes: list[dict[str, Any]], next_cursor: str) -> Any: ...
    def waiting(self) -> Waiting: ...


class LocalStore:
    """:class:`SyncStore` over the encrypted store (``Outbox`` and ``Attachments`` of one open ``Store``)."""

    def __init__(self, store: Any) -> None:
        from peacewatch.mobile.core.attachments import Attachments
        from peacewatch.mobile.core.outbox import Outbox
        from peacewatch.mobile.core.reports import Reports

        self.store = store
        self.outbox = Outbox(store)
        self.attachments = Attachments(store)
        self.reports = Reports(store)

    def pending_versions(self, limit: int) -> Sequence[PendingLike]:
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

    def apply_pull_page(self, changes: list[dict[str, Any]], next_cursor: str) -> Any:
        return self.outbox.apply_pull_page(changes, next_cursor)

    def waiting(self) -> Waiting:
        # Outbox has no version count yet; the state column is the outbox (see outbox.py).
        versions = self.store.query("SELECT count(*) FROM versions WHERE state = 'pending'")[0][0]
        return Waiting(versions=int(versions), reports=self.reports.counts().waiting)


# ----- progress for the UI ---------------------------------------------------------------------
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
    answered ``device_wiped``: destroy the store with ``remote_wipe.destroy``)."""

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
        return self.state in ("done", "offline", "revoked", "unauthorised", "failed", "wiped")

    def waiting_text(self) -> str:
        """E.g. "12 reports waiting, 2 attachments waiting" or "nothing waiting"."""
        parts = []
        if self.reports_waiting:
            parts.append(_plural(self.reports_waiting, "report") + " waiting")
        if self.attachments_waiting:
            parts.append(_plural(self.attachments_waiting, "attachment") + " waiting")
        return ", ".join(parts) or "nothing waiting"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ----- pacing ----------------------------------------------------------------------------------
@dataclass
class LinkTuner:
    """Batch size, page size and timeouts that follow the link: halve on failure, grow on success."""

    batch: int = 25
    min_batch: int = 1
    max_batch: int = MAX_PUSH_BATCH
    page: int = 200
    min_page: int = 20
    max_page: int = 1000
    timeout: float = 20.0  # seconds for the server to answer, on top of transfer time
    min_timeout: float = 5.0
    max_timeout: float = 120.0
    throughput: float = 64_000.0  # bytes/s, a running estimate
    min_throughput: float = 4_000.0

    def __post_init__(self) -> None:
        if not 1 <= self.min_batch <= self.batch <= self.max_batch <= MAX_PUSH_BATCH:
            raise InvalidInput("batch", f"need 1 <= min_batch <= batch <= max_batch <= {MAX_PUSH_BATCH}")
        if not 1 <= self.min_page <= self.page <= self.max_page <= 1000:
            raise InvalidInput("page", "need 1 <= min_page <= page <= max_page <= 1000")
        if not 0 < self.min_timeout <= self.timeout <= self.max_timeout:
            raise InvalidInput("timeout", "need 0 < min_timeout <= timeout <= max_timeout")

    def timeout_for(self, nbytes: int) -> float:
        """Allow the answer time plus twice the expected transfer time of ``nbytes``."""
        return min(self.max_timeout, self.timeout + 2.0 * nbytes / self.throughput)

    def success(self, *, elapsed: float, nbytes: int, grow_batch: bool = False, grow_page: bool = False) -> None:
        if nbytes >= 16_384 and elapsed > 0:
            # Only sizeable transfers say anything about bandwidth; small ones measure latency.
            self.throughput = max(self.min_throughput, 0.7 * self.throughput + 0.3 * nbytes / elapsed)
        # Keep the timeout a comfortable multiple of what answers actually take.
        self.timeout = min(self.max_timeout, max(self.min_timeout, 0.8 * self.timeout + 0.2 * 4 * elapsed))
        if grow_batch:
            self.batch = min(self.max_batch, max(self.batch + 1, math.ceil(self.batch * 1.5)))
        if grow_page:
            self.page = min(self.max_page, max(self.page + 1, math.ceil(self.page * 1.5)))

    def failure(self, *, timed_out: bool) -> None:
        self.batch = max(self.min_batch, self.batch // 2)
        self.page = max(self.min_page, self.page // 2)
        if timed_out:
            self.timeout = min(self.max_timeout, self.timeout * 1.5)


# ----- internal signals ------------------------------------------------------------------------
class _Retry(Exception):
    """This exchange failed in a way that trying again later may fix."""

    def __init__(self, plain: str, *, timed_out: bool = False, retry_after: float | None = None) -> None:
        super().__init__(plain)
        self.plain = plain
        self.timed_out = timed_out
        self.retry_after = retry_after


class _Stop(Exception):
    """End the run now in ``state`` with ``plain`` as the last error."""

    def __init__(self, state: str, plain: str) -> None:
        super().__init__(plain)
        self.state = state
        self.plain = plain


@dataclass(frozen=True)
class _Answer:
    """A complete HTTP answer: status, parsed JSON object ({} if none), size, time taken."""

    status: int
    data: dict[str, Any]
    size: int
    elapsed: float


# ----- enrolment -------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnrolResult:
    device_id: str
    credential: str
    username: str
    role: str = ""
    contingent: str = ""
    recovery_public_key: str = ""  # PEM; the store's keys are sealed for it (core/recovery.py)
    photo_metadata: str = "strip_except_protection"  # the mission's policy (common/media_metadata.py)


def enrol(
    session: Any, base_url: str, *, code: str, label: str = "", verify: str | os.PathLike[str] | bool = True,
    timeout: float = 30.0,
) -> EnrolResult:
    """Trade a one-time enrolment code for this tablet's device credential.

    The returned ``device_id`` must become the local store's device id before any report is
    finalised: it is part of every version id, and the server recomputes ids with it.
    """
    if not code:
        raise InvalidInput("code", "must not be empty")
    transport = Transport(session, base_url, verify=verify)
    response = transport.request(
        "POST", f"{API}/devices/enrol", content=json.dumps({"code": code, "label": label}).encode(),
        headers={"Content-Type": "application/json"}, timeout=timeout,
    )
    data = _json(response)
    if response.status_code != 201:
        raise InvalidInput("code", str(data.get("message") or data.get("error") or response.status_code))
    return EnrolResult(device_id=data["device_id"], credential=data["credential"], username=data["username"],
                       role=str(data.get("role") or ""), contingent=str(data.get("contingent") or ""),
                       recovery_public_key=str(data.get("recovery_public_key") or ""),
                       photo_metadata=str(data.get("photo_metadata") or "strip_except_protection"))


# ----- the client ------------------------------------------------------------------------------
class SyncClient:
    """Synchronises one local store with the mission server. Not thread-safe: one run at a time."""

    def __init__(
        self,
        session: Any,
        base_url: str,
        credential: str,
        store: SyncStore,
        *,
        verify: str | os.PathLike[str] | bool = True,
        on_progress: Callable[[SyncProgress], None] | None = None,
        tuner: LinkTuner | None = None,
        max_failures: int = 8,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not credential:
            raise InvalidInput("credential", "must not be empty; enrol the tablet first")
        if max_failures < 1:
            raise InvalidInput("max_failures", "must be at least 1")
        if backoff_base <= 0 or backoff_cap < backoff_base:
            raise InvalidInput("backoff_base", "need 0 < backoff_base <= backoff_cap")
        if not 1 <= chunk_size <= 16 * 1024 * 1024:
            raise InvalidInput("chunk_size", "must be between 1 byte and 16 MiB")
        self.transport = Transport(session, base_url, verify=verify)
        self.credential = credential
        self.store = store
        self.on_progress = on_progress
        self.tuner = tuner or LinkTuner()
        self.max_failures = max_failures
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.chunk_size = chunk_size
        self.rng = rng or random.Random()
        self.sleep = sleep
        self.now = now
        self.progress = SyncProgress()
        self._revoked = False
        self._problem: str | None = None
        self._failures_in_run = 0
        self._consecutive = 0

    # ----- the run -----------------------------------------------------------------------------
    def run(self) -> SyncProgress:
        """One sync: push, pull, attachments. Returns (and reports) the final progress."""
        p = self.progress
        p.rejections = []
        p.versions_sent = p.versions_held = p.changes_pulled = 0
        p.items_done = p.bytes_done = 0
        p.failures = 0
        self._failures_in_run = 0
        self._consecutive = 0
        self._problem = None
        self._refresh_waiting()
        if self._revoked:
            p.state = "revoked"
            p.last_error = _revoked_text(p)
            self._emit()
            return self._snapshot()
        attachments = list(self.store.pending_attachments())
        p.attachments_waiting = len(attachments)
        p.items_total = p.versions_waiting + len(attachments)
        p.bytes_total = sum(a.size for a in attachments)
        try:
            p.state = "pushing"
            self._emit()
            self._push()
            p.state = "pulling"
            self._emit()
            self._pull()
            p.state = "uploading"
            self._emit()
            self._upload_attachments(attachments)
        except _Stop as stop:
            if stop.state in ("revoked", "wiped"):
                self._revoked = True  # never talk to the server again with this credential
            self._refresh_waiting()
            p.state = stop.state
            p.last_error = stop.plain if stop.state != "revoked" else _revoked_text(p)
            self._emit()
            return self._snapshot()
        self._refresh_waiting()
        p.attachments_waiting = len(self.store.pending_attachments())
        p.state = "done"
        p.last_success_at = self.now()
        p.last_error = self._problem  # None unless something could not be sent whatever the link
        self._emit()
        return self._snapshot()

    def _snapshot(self) -> SyncProgress:
        return replace(self.progress, rejections=list(self.progress.rejections))

    def _emit(self) -> None:
        self.progress.batch_size = self.tuner.batch
        if self.on_progress is not None:
            self.on_progress(self._snapshot())

    def _refresh_waiting(self) -> None:
        waiting = self.store.waiting()
        self.progress.versions_waiting = waiting.versions
        self.progress.reports_waiting = waiting.reports

    # ----- push --------------------------------------------------------------------------------
    def _push(self) -> None:
        """Send every pending version; retryable rejections get up to three passes per run."""
        for _pass in range(3):
            held: set[str] = set()
            stored_any = False
            while True:
                batch = self._next_batch(held)
                if not batch:
                    break
                stored_any |= self._push_batch(batch, held)
            self.progress.versions_held = len(held)
            # Another pass only helps if this one stored something a held version may depend on.
            if not held or not stored_any:
                return

    def _next_batch(self, skip: set[str]) -> list[PendingLike]:
        want = self.tuner.batch
        rows = self.store.pending_versions(want + len(skip))
        return [v for v in rows if v.version_id not in skip][:want]

    def _push_batch(self, batch: list[PendingLike], held: set[str]) -> bool:
        payload = {"versions": [
            {"report_id": v.report_id, "version_id": v.version_id, "parents": list(v.parents), "body": v.body,
             "device_time": v.created_at}
            # Naming the device the id was computed with turns a store/enrolment mix-up into a clear
            # "device_mismatch" instead of a puzzling "version_id_mismatch".
            | ({"device_id": v.device_id} if getattr(v, "device_id", None) else {})
            for v in batch
        ]}
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        body = gzip.compress(raw, compresslevel=6, mtime=0)
        try:
            answer = self._exchange(
                "POST", f"{API}/sync/push", content=body,
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
                timeout=self.tuner.timeout_for(len(body)),
            )
        except _Retry as retry:
            self._failed(retry)
            return False
        if answer.status == 413 and len(batch) > 1:
            # Too big for the server: smaller batches, no failure counted (the link is fine).
            self.tuner.max_batch = max(1, len(batch) // 2)
            self.tuner.batch = min(self.tuner.batch, self.tuner.max_batch)
            return False
        data = answer.data
        if answer.status == 413:
            v = batch[0]
            self._reject(v.version_id, v.report_id, "body_too_large", "body",
                         "this version is larger than the server accepts")
            return False
        if answer.status == 422 and self._reject_named_entry(batch, data):
            return False
        if answer.status != 200 or not isinstance(data.get("results"), list):
            raise _Stop("failed", _server_said(answer, "the server refused the batch"))
        self.tuner.success(elapsed=answer.elapsed, nbytes=len(body), grow_batch=len(batch) >= self.tuner.batch)
        answered = {r.get("version_id"): r for r in data["results"] if isinstance(r, dict)}
        sent: list[str] = []
        for v in batch:
            result = answered.get(v.version_id)
            status = result.get("status") if result else None
            if status in ("stored", "duplicate"):
                sent.append(v.version_id)
            elif status == "rejected" and result is not None:
                code = str(result.get("code") or "rejected")
                if result.get("retryable") or code in RETRYABLE_CODES:
                    held.add(v.version_id)
                else:
                    self._reject(v.version_id, v.report_id, code, result.get("field"),
                                 str(result.get("reason") or result.get("message") or code))
            else:
                # Not answered for: keep it and try again later in this run.
                held.add(v.version_id)
        if sent:
            self.store.mark_sent(sent)
        p = self.progress
        p.versions_sent += len(sent)
        p.items_done += len(sent)
        p.last_success_at = self.now()
        self._refresh_waiting()
        self._emit()
        return bool(sent)

    def _reject_named_entry(self, batch: list[PendingLike], data: dict[str, Any]) -> bool:
        """A whole batch refused because of one malformed entry (``field`` = ``versions.<i>.<path>``):
        record that version as rejected, so the rest goes through and the outbox never jams. True if done."""
        parts = str(data.get("field") or "").split(".", 2)
        if len(parts) < 2 or parts[0] != "versions" or not parts[1].isdigit() or int(parts[1]) >= len(batch):
            return False
        v = batch[int(parts[1])]
        field_ = parts[2] if len(parts) == 3 else None
        message = str(data.get("message") or data.get("error") or "invalid")
        self._reject(v.version_id, v.report_id, str(data.get("error") or "invalid_input"), field_, message)
        return True

    def _reject(self, version_id: str, report_id: str, code: str, field_: str | None, reason: str) -> None:
        text = f"{reason} ({field_})" if field_ else reason
        try:
            self.store.mark_rejected(version_id, text)
        except NotFound:
            return
        self.progress.rejections.append(Rejection(version_id, report_id, code, field_, reason))
        self.progress.items_done += 1

    # ----- pull --------------------------------------------------------------------------------
    def _pull(self, max_pages: int = 100_000) -> None:
        cursor = self.store.get_cursor()
        # An unreadable cursor costs a full re-pull, which is harmless (applying a change is idempotent).
        since = int(cursor) if cursor and cursor.isdigit() else 0
        for _ in range(max_pages):
            try:
                answer = self._exchange(
                    "GET", f"{API}/sync/pull", params={"since": since, "limit": self.tuner.page},
                    timeout=self.tuner.timeout_for(self.tuner.page * 2000),
                )
            except _Retry as retry:
                self._failed(retry)
                continue
            data = answer.data
            if answer.status != 200 or not isinstance(data.get("changes"), list):
                raise _Stop("failed", _server_said(answer, "the server refused to send changes"))
            nxt = data.get("next")
            if not isinstance(nxt, int) or nxt < since:
                raise _Stop("failed", f"the server sent a bad position in its change feed ({nxt!r})")
            changes = [local_change(c) for c in data["changes"] if isinstance(c, dict)]
            self.store.apply_pull_page(changes, str(nxt))
            self.tuner.success(elapsed=answer.elapsed, nbytes=answer.size, grow_page=bool(data.get("more")))
            self.progress.changes_pulled += len(changes)
            self.progress.last_success_at = self.now()
            self._emit()
            if not data.get("more"):
                return
            if nxt == since:
                raise _Stop("failed", "the server's change feed did not advance")
            since = nxt
        raise _Stop("failed", "too many pages in one run")

    # ----- attachments -------------------------------------------------------------------------
    def _upload_attachments(self, attachments: Iterable[AttachmentLike]) -> None:
        for ref in attachments:
            done_before = self.progress.bytes_done
            p = self.progress
            p.current_file, p.current_file_size, p.current_file_start = ref.name, ref.size, done_before
            for _attempt in range(self.max_failures + 3):
                try:
                    if self._upload_one(ref, done_before):
                        break
                except _Retry as retry:
                    self._failed(retry)
                except AttachmentCorrupt:
                    self._problem = f"attachment {ref.name} is damaged on this tablet and cannot be sent"
                    break

    def _upload_one(self, ref: AttachmentLike, done_before: int) -> bool:
        """One attempt: send the missing chunks, commit. True when committed.

        ``done_before`` is the byte count before this file, so a resumed attempt counts each byte once.
        """
        sizes: dict[str, int] = {}
        order: list[str] = []
        for chunk in self.store.iter_chunks(ref.sha256, self.chunk_size):
            order.append(chunk.sha256)
            sizes[chunk.sha256] = len(chunk.data)
        missing: set[str] = set()
        unique = list(dict.fromkeys(order))
        for start in range(0, len(unique), MAX_MISSING_QUERY):
            part = unique[start:start + MAX_MISSING_QUERY]
            answer = self._json_call("POST", f"{API}/attachments/missing", {"chunks": part})
            data = answer.data
            if answer.status != 200 or not isinstance(data.get("missing"), list):
                raise _Stop("failed", _server_said(answer, "the server refused the attachment check"))
            missing.update(data["missing"])
        p = self.progress
        p.bytes_done = done_before + sum(sizes[h] for h in unique if h not in missing)
        self._emit()
        for chunk in self.store.iter_chunks(ref.sha256, self.chunk_size):
            if chunk.sha256 not in missing:
                continue
            answer = self._exchange(
                "PUT", f"{API}/chunks/{chunk.sha256}", content=chunk.data,
                headers={"Content-Type": "application/octet-stream"}, timeout=self.tuner.timeout_for(len(chunk.data)),
            )
            if answer.status not in (200, 201):
                raise _Stop("failed", _server_said(answer, "the server refused a chunk"))
            self.tuner.success(elapsed=answer.elapsed, nbytes=len(chunk.data))
            missing.discard(chunk.sha256)
            p.bytes_done += len(chunk.data)
            p.last_success_at = self.now()
            self._emit()
        answer = self._json_call(
            "POST", f"{API}/attachments/{ref.sha256}",
            {"chunks": order, "size": ref.size, "media_type": ref.media_type},
        )
        if answer.status in (200, 201):
            self.store.mark_uploaded(ref.sha256)
            p.items_done += 1
            p.attachments_waiting = max(0, p.attachments_waiting - 1)
            p.last_success_at = self.now()
            self._emit()
            return True
        if answer.status == 422 and isinstance(answer.data.get("missing"), list):
            return False  # chunks went missing on the server (e.g. swept): ask again
        raise _Stop("failed", _server_said(answer, f"the server refused attachment {ref.name}"))

    def _json_call(self, method: str, path: str, payload: dict[str, Any]) -> _Answer:
        raw = json.dumps(payload, separators=(",", ":")).encode()
        answer = self._exchange(
            method, path, content=raw, headers={"Content-Type": "application/json"},
            timeout=self.tuner.timeout_for(len(raw)),
        )
        self.tuner.success(elapsed=answer.elapsed, nbytes=len(raw))
        return answer

    # ----- one exchange ------------------------------------------------------------------------
    def _exchange(
        self, method: str, path: str, *, content: bytes | None = None, headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None, timeout: float,
    ) -> _Answer:
        """Send one request; raise _Retry for link/server trouble, _Stop for auth; else the answer."""
        all_headers = {"Authorization": f"Device {self.credential}", "Accept": "application/json"}
        all_headers.update(headers or {})
        started = time.monotonic()
        self.progress.requests += 1
        self.progress.wire_bytes_sent += len(content or b"")
        try:
            response = self.transport.request(method, path, content=content, headers=all_headers, params=params,
                                              timeout=timeout)
        except LinkError as exc:
            plain = "the server did not answer in time" if exc.timed_out else "no connection"
            raise _Retry(plain, timed_out=exc.timed_out) from exc
        except CertificateRejected as exc:
            # Not a link problem: retrying cannot fix it, and the user must know it is not "offline".
            raise _Stop("failed", f"{exc}; nothing was sent — ask the mission's IT officer") from exc
        elapsed = time.monotonic() - started
        self.progress.wire_bytes_received += len(response.content)
        status = response.status_code
        if status == 401:
            data = _json(response)
            if data.get("error") == "device_revoked":
                raise _Stop("revoked", "this tablet has been revoked")
            if data.get("error") == "device_wiped":
                # HQ reported this tablet lost: the caller destroys the store (core/remote_wipe.py).
                raise _Stop("wiped", "this tablet was reported lost; its data must be erased")
            raise _Stop("unauthorised", "the server does not accept this tablet's credential; enrol it again")
        if status in (429, 503):
            raise _Retry("the server is busy", retry_after=_retry_after(response))
        if status == 507:
            raise _Retry("the server's disk is full", retry_after=_retry_after(response))
        if status >= 500:
            raise _Retry("the server had a problem")
        data: dict[str, Any] = {}
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                parsed = json.loads(response.content)
            except ValueError as exc:  # a cut inside a body that still claimed to be complete
                raise _Retry("the answer arrived damaged") from exc
            data = parsed if isinstance(parsed, dict) else {}
        self._consecutive = 0
        return _Answer(status, data, len(response.content), elapsed)

    def _failed(self, retry: _Retry) -> None:
        """Count a failure, shrink the pace, wait with backoff; stop the run when out of attempts."""
        p = self.progress
        self._failures_in_run += 1
        self._consecutive += 1
        p.failures = self._failures_in_run
        self.tuner.failure(timed_out=retry.timed_out)
        self._refresh_waiting()
        p.last_error = f"{retry.plain} — {p.waiting_text()}"
        self._emit()
        if self._failures_in_run >= self.max_failures:
            raise _Stop("offline", p.last_error)
        # Full jitter: spread retries of many tablets after the same outage.
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (self._consecutive - 1))
        delay = self.rng.uniform(0, ceiling)
        if retry.retry_after is not None:
            delay = max(delay, min(retry.retry_after, self.backoff_cap))
        self.sleep(delay)


# ----- the server's change feed in the store's terms -------------------------------------------
def local_change(change: dict[str, Any]) -> dict[str, Any]:
    """Translate one pull change (protocol v1, ``kind``) into ``Outbox.apply_pull_page``'s form (``type``).

    Kinds the store does not know are passed on under their own name; the store skips them, so
    a newer server never stops an older app from syncing.
    """
    kind = change.get("kind")
    seq = change.get("seq")
    if kind == "version":
        device = change.get("device_id") or f"user:{change.get('author')}"  # web/API edits have no device
        return {"type": "version", "report_id": change.get("report_id"), "version_id": change.get("version_id"),
                "parents": change.get("parents") or [], "body": change.get("body"), "device_id": device,
                "seq": seq}
    if kind == "review":
        return {"type": "review", "report_id": change.get("report_id"), "status": change.get("status"),
                "by": change.get("by"), "at": change.get("at"), "note": change.get("comment"), "seq": seq}
    if kind == "comment":
        return {"type": "comment", "report_id": change.get("report_id"),
                "comment_id": str(change.get("comment_id") or change.get("id") or f"seq:{seq}"),
                "author": change.get("by"), "text": change.get("text"), "at": change.get("at"), "seq": seq}
    if kind == "reference":
        item = change.get("item") or {}
        item_kind = item.get("kind")
        if item.get("deleted"):
            return {"type": "place_deleted", "place_id": item.get("id"), "seq": seq}
        geometry = item.get("geometry") or {}
        if item_kind in ("place", "sensitive_site") and geometry.get("type") == "Point":
            lon, lat = (geometry.get("coordinates") or [None, None])[:2]
            props = item.get("properties") or {}
            return {"type": item_kind, "place_id": item.get("id"), "kind": props.get("kind", item_kind),
                    "lat": lat, "lon": lon, "names": item.get("names") or {}, "seq": seq}
        # Areas and boundaries: not kept on the tablet yet.
        return {"type": f"reference:{item_kind}", "seq": seq}
    return {**change, "type": str(kind)}


# ----- helpers ---------------------------------------------------------------------------------
def _json(response: Response) -> dict[str, Any]:
    try:
        data = json.loads(response.content or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _server_said(answer: _Answer, what: str) -> str:
    data = answer.data
    message = data.get("message") or data.get("error") or f"HTTP {answer.status}"
    where = f" ({data['field']})" if data.get("field") else ""
    return f"{what}: {message}{where}"


def _revoked_text(p: SyncProgress) -> str:
    return (f"this tablet has been revoked by the mission administrator and can no longer sync; "
            f"{p.waiting_text()} stay encrypted on it — ask for a new enrolment")
