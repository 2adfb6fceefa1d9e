"""The tablet's sync client: push the outbox, pull HQ's changes, upload attachments (protocol v1).

UI-free. One :meth:`SyncClient.run` does, in order:

1. **Push** the outbox in batches (``POST /api/v1/sync/push``, gzip body). A version leaves the
   outbox only after the server answered ``stored`` or ``duplicate``; a retryable rejection
   (``missing_parent``: the rejection catalogue in ``common.sync_protocol``) stays pending and is
   tried again later in the run; any other rejection is recorded on the version with its reason,
   for the UI. An unanswered batch (link dropped) is simply sent again: the server stores by
   content hash, so nothing is stored twice.
   Then what the patrol did about its tasks (``POST /api/v1/tasks/{id}/events``): after the
   versions, because an event may name a report just pushed; each event carries an id made on
   the tablet, so an event sent twice over a bad link is stored once.
2. **Pull** the change feed (``GET /api/v1/sync/pull``) page by page; each page and its cursor are
   applied in one local transaction (``apply_pull_page``), so a cut repeats at most one page.
3. **Upload attachments** chunk by chunk: ask which chunks the server lacks
   (``/attachments/missing``), send only those, then commit the manifest. A cut resumes from the
   chunks still missing. Bulky attachments go last so the reports' text gets through first.

Around it, each in its own module: the messages on the wire (``sync_wire``), the link's pace and
backoff (``sync_pacing``), what the screen shows (``sync_progress``), the store the client is
written against (``sync_store``) and enrolment (``enrolment``). The names the UI imports are
re-exported here.

Nothing is refused silently: a revoked device (401 ``device_revoked``) stops the run in state
``revoked``; every rejection is kept with its reason; progress and the last error in plain words
go to the ``on_progress`` callback as a :class:`SyncProgress`. A run gives up after
``max_failures`` failures, leaving everything pending for the next run.

Errors the caller may see: only :class:`~peacewatch.mobile.core.errors.InvalidInput` for a bad
construction argument (``field`` names it, e.g. ``verify=False``). Everything that happens during
a run - no link, busy server, revoked device, a certificate that does not verify, a refused
batch - ends in a :class:`SyncProgress` state with ``last_error`` in plain words.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from peacewatch.common.sync_protocol import PushEntry
from peacewatch.mobile.core.enrolment import EnrolResult, enrol
from peacewatch.mobile.core.errors import AttachmentCorrupt, InvalidInput, NotFound
from peacewatch.mobile.core.sync_pacing import LinkTuner, backoff_delay
from peacewatch.mobile.core.sync_progress import Rejection, SyncProgress, revoked_text
from peacewatch.mobile.core.sync_store import AttachmentLike, LocalStore, SyncStore, Waiting
from peacewatch.mobile.core.sync_wire import (
    API,
    DEFAULT_CHUNK_SIZE,
    MAX_MISSING_QUERY,
    Answer,
    Refusal,
    decode_object,
    named_entry,
    push_body,
    read_pull_page,
    retry_after,
    server_said,
    sort_push_answer,
)
from peacewatch.mobile.core.transport import CertificateRejected, LinkError, Transport

__all__ = [
    "EnrolResult",
    "LinkTuner",
    "LocalStore",
    "Rejection",
    "SyncClient",
    "SyncProgress",
    "SyncStore",
    "Waiting",
    "enrol",
]


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
            p.last_error = revoked_text(p)
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
            self._send_task_events()
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
            p.last_error = stop.plain if stop.state != "revoked" else revoked_text(p)
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

    def _next_batch(self, skip: set[str]) -> list[PushEntry]:
        want = self.tuner.batch
        rows = self.store.pending_versions(want + len(skip))
        return [v for v in rows if v.version_id not in skip][:want]

    def _push_batch(self, batch: list[PushEntry], held: set[str]) -> bool:
        """Send one batch and act on the answer; True if the server stored (or had) any of it."""
        body = push_body(batch)
        try:
            answer = self._exchange(
                "POST", f"{API}/sync/push", content=body,
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
                timeout=self.tuner.timeout_for(len(body)),
            )
        except _Retry as retry:
            self._failed(retry)
            return False
        if answer.status == 413:
            if len(batch) > 1:
                # Too big for the server: smaller batches, no failure counted (the link is fine).
                self.tuner.too_large(len(batch))
            else:
                self._refuse(Refusal(batch[0], "body_too_large", "body", "this version is larger than the server accepts"))
            return False
        refusal = named_entry(batch, answer.data) if answer.status == 422 else None
        if refusal is not None:
            self._refuse(refusal)
            return False
        results = answer.data.get("results")
        if answer.status != 200 or not isinstance(results, list):
            raise _Stop("failed", server_said(answer, "the server refused the batch"))
        self.tuner.success(elapsed=answer.elapsed, nbytes=len(body), grow_batch=len(batch) >= self.tuner.batch)
        sorted_ = sort_push_answer(batch, results)
        held.update(sorted_.held)
        for refused in sorted_.refused:
            self._refuse(refused)
        if sorted_.sent:
            self.store.mark_sent(sorted_.sent)
        p = self.progress
        p.versions_sent += len(sorted_.sent)
        p.items_done += len(sorted_.sent)
        p.last_success_at = self.now()
        self._refresh_waiting()
        self._emit()
        return bool(sorted_.sent)

    def _refuse(self, refusal: Refusal) -> None:
        """Record a version the server refused for good (unless it vanished from the store meanwhile)."""
        text = f"{refusal.reason} ({refusal.field})" if refusal.field else refusal.reason
        entry = refusal.entry
        try:
            self.store.mark_rejected(entry.version_id, text)
        except NotFound:
            return
        self.progress.rejections.append(
            Rejection(entry.version_id, entry.report_id, refusal.code, refusal.field, refusal.reason))
        self.progress.items_done += 1

    # ----- task events -------------------------------------------------------------------------
    def _send_task_events(self) -> None:
        """Send what the patrol did about tasks, after the reports it may name; each once."""
        for event in self.store.pending_task_events():
            while True:
                try:
                    answer = self._json_call("POST", f"{API}/tasks/{event.task_id}/events", event.body)
                    break
                except _Retry as retry:
                    self._failed(retry)  # raises _Stop when the run is out of attempts
            if answer.status in (200, 201):
                task = answer.data.get("task")
                self.store.task_event_sent(event.event_id, task if isinstance(task, dict) else None)
            elif answer.status == 422 and answer.data.get("retryable"):
                continue  # names a report the server does not have yet: the next run sends it
            else:
                self.store.task_event_refused(event.event_id, server_said(answer, "the server refused it"))

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
            if answer.status != 200:
                raise _Stop("failed", server_said(answer, "the server refused to send changes"))
            try:
                changes, nxt, more = read_pull_page(answer.data, since)
            except ValueError as exc:
                raise _Stop("failed", str(exc)) from exc
            # The feed's changes as they came: the store speaks the feed's vocabulary.
            self.store.apply_pull_page(changes, str(nxt))
            self.tuner.success(elapsed=answer.elapsed, nbytes=answer.size, grow_page=more)
            self.progress.changes_pulled += len(changes)
            self.progress.last_success_at = self.now()
            self._emit()
            if not more:
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
                raise _Stop("failed", server_said(answer, "the server refused the attachment check"))
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
                raise _Stop("failed", server_said(answer, "the server refused a chunk"))
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
        raise _Stop("failed", server_said(answer, f"the server refused attachment {ref.name}"))

    def _json_call(self, method: str, path: str, payload: dict[str, Any]) -> Answer:
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
    ) -> Answer:
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
            error = decode_object(response.content).get("error")
            if error == "device_revoked":
                raise _Stop("revoked", "this tablet has been revoked")
            if error == "device_wiped":
                # HQ reported this tablet lost: the caller destroys the store.
                raise _Stop("wiped", "this tablet was reported lost; its data must be erased")
            raise _Stop("unauthorised", "the server does not accept this tablet's credential; enrol it again")
        if status in (429, 503):
            raise _Retry("the server is busy", retry_after=retry_after(response.headers))
        if status == 507:
            raise _Retry("the server's disk is full", retry_after=retry_after(response.headers))
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
        return Answer(status, data, len(response.content), elapsed)

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
        self.sleep(backoff_delay(self.rng, consecutive=self._consecutive, base=self.backoff_base,
                                 cap=self.backoff_cap, retry_after=retry.retry_after))
