"""One contract for every ``SyncStore``: the encrypted store's adapter and the in-memory one.

The sync client is written against ``peacewatch.mobile.core.sync_store.SyncStore``; whatever
implements it must behave the same, or a client test (or the benchmark) on the memory store
proves nothing about the tablet. Each test below runs against every implementation (as Kinto
runs one storage suite against every backend); a new implementation joins by adding a harness.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from e2e.memory_store import MemoryStore

from peacewatch.common.sync_protocol import PushEntry
from peacewatch.common.versioning import version_id
from peacewatch.mobile.core import tasks
from peacewatch.mobile.core.attachments import AttachmentRef, Attachments
from peacewatch.mobile.core.drafts import Drafts
from peacewatch.mobile.core.errors import InvalidInput, NotFound
from peacewatch.mobile.core.keys import TEST_KDF
from peacewatch.mobile.core.reports import Reports
from peacewatch.mobile.core.store import Store
from peacewatch.mobile.core.sync_store import LocalStore, SyncStore, Waiting
from tests.mobile.helpers import incident_fields

DEVICE = "device-under-test"


class Harness(Protocol):
    """How a test puts things into one implementation (the protocol only takes things out)."""

    store: SyncStore

    def file(self, title: str, attachments: list[AttachmentRef] | None = None) -> PushEntry: ...
    def attach(self, data: bytes, name: str) -> AttachmentRef: ...
    def task_event(self, task_id: int, status: str) -> str: ...


def _body(title: str, attachments: list[AttachmentRef] | None) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": "incident",
            **incident_fields(title=title, attachments=[a.as_body() for a in attachments or []])}


class LocalHarness:
    def __init__(self, path: Path) -> None:
        self.db = Store.create(path, "4711", kdf=TEST_KDF)
        with self.db.transaction() as conn:
            self.db.set_meta(conn, "device_id", DEVICE)
        self.store: SyncStore = LocalStore(self.db)

    def file(self, title: str, attachments: list[AttachmentRef] | None = None) -> PushEntry:
        body = _body(title, attachments)
        Drafts(self.db).save_draft(body["id"], "incident", {k: v for k, v in body.items() if k not in ("id", "kind")})
        result = Reports(self.db).finalise(body["id"])
        assert result.ok, result.errors
        [entry] = [e for e in self.store.pending_versions(10_000) if e.version_id == result.version_id]
        return entry

    def attach(self, data: bytes, name: str) -> AttachmentRef:
        return Attachments(self.db).put_bytes(data, media_type="image/jpeg", name=name)

    def task_event(self, task_id: int, status: str) -> str:
        with self.db.transaction() as conn:
            tasks.save(conn, {"id": task_id, "status": "open", "title": "t"})
        return tasks.record(self.db, task_id, status=status)


class MemoryHarness:
    def __init__(self) -> None:
        self.memory = MemoryStore()
        self.store: SyncStore = self.memory

    def file(self, title: str, attachments: list[AttachmentRef] | None = None) -> PushEntry:
        body = _body(title, attachments)
        entry = PushEntry(report_id=body["id"], version_id=version_id(body, [], DEVICE), parents=[], body=body,
                          device_id=DEVICE, device_time="2026-11-24T15:31:02Z")
        self.memory.add(entry)
        return entry

    def attach(self, data: bytes, name: str) -> AttachmentRef:
        return self.memory.add_attachment(data, name=name)

    def task_event(self, task_id: int, status: str) -> str:
        event_id = str(uuid.uuid4())
        self.memory.add_task_event(task_id, {"event_id": event_id, "status": status, "note": "",
                                             "device_time": "2026-12-03T06:00:00Z"})
        return event_id


@pytest.fixture(params=["local", "memory"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "local":
        local = LocalHarness(tmp_path / "store")
        yield local
        local.db.close()
    else:
        yield MemoryHarness()


def test_a_new_store_has_nothing_waiting_and_no_cursor(harness: Harness) -> None:
    store = harness.store
    assert list(store.pending_versions(10)) == []
    assert store.waiting() == Waiting(versions=0, reports=0)
    assert store.get_cursor() is None
    assert list(store.pending_attachments()) == []


def test_pending_versions_are_valid_push_entries_oldest_first_and_limited(harness: Harness) -> None:
    filed = [harness.file(f"report {i}") for i in range(4)]
    store = harness.store
    assert [e.version_id for e in store.pending_versions(3)] == [e.version_id for e in filed[:3]]
    for entry in store.pending_versions(10):
        # What the server's request model accepts, and an id that is the hash of the content.
        assert PushEntry.model_validate(entry.model_dump()) == entry
        assert entry.version_id == version_id(entry.body, entry.parents, entry.device_id or "")
        assert entry.device_time is not None
    assert store.waiting() == Waiting(versions=4, reports=4)
    with pytest.raises(InvalidInput):
        store.pending_versions(0)


def test_mark_sent_forgets_exactly_the_named_versions_once(harness: Harness) -> None:
    a, b, c = (harness.file(t) for t in ("a", "b", "c"))
    store = harness.store
    assert store.mark_sent([a.version_id, c.version_id]) == 2
    assert [e.version_id for e in store.pending_versions(10)] == [b.version_id]
    assert store.mark_sent([a.version_id]) == 0  # an answer that arrives twice changes nothing
    assert store.mark_sent(["f" * 64]) == 0
    assert store.waiting() == Waiting(versions=1, reports=1)


def test_mark_rejected_keeps_the_reason_and_stops_sending(harness: Harness) -> None:
    a, b = harness.file("a"), harness.file("b")
    store = harness.store
    store.mark_rejected(a.version_id, "you may only report for your own contingent (body.contingent)")
    assert [e.version_id for e in store.pending_versions(10)] == [b.version_id]
    assert store.waiting().versions == 1
    with pytest.raises(InvalidInput):
        store.mark_rejected(b.version_id, "")
    with pytest.raises(NotFound):
        store.mark_rejected("e" * 64, "no such version")


def test_a_pull_page_and_its_cursor_are_applied_together_and_unknown_kinds_skipped(harness: Harness) -> None:
    store = harness.store
    body = {"id": str(uuid.uuid4()), "kind": "incident", **incident_fields(title="from HQ")}
    page = [
        {"seq": 5, "kind": "version", "report_id": body["id"], "version_id": version_id(body, [], "hq-tablet"),
         "parents": [], "body": body, "author": "analyst", "device_id": "hq-tablet", "received_at": "t"},
        {"seq": 6, "kind": "a_kind_from_a_newer_server", "anything": [1, 2]},
    ]
    store.apply_pull_page(page, "6")
    assert store.get_cursor() == "6"
    store.apply_pull_page(page, "6")  # the same page again after a cut: harmless
    store.apply_pull_page([], "9")
    assert store.get_cursor() == "9"
    with pytest.raises(InvalidInput):
        store.apply_pull_page([], "")
    assert store.get_cursor() == "9"
    assert list(store.pending_versions(10)) == []  # pulled versions are not ours to push


def test_attachments_of_filed_reports_are_chunked_by_content_and_uploaded_once(harness: Harness) -> None:
    data = bytes(range(256)) * 40  # 10,240 bytes: three chunks of 4,096, the last one short
    ref = harness.attach(data, "market.jpg")
    store = harness.store
    assert list(store.pending_attachments()) == []  # not listed by any report yet
    harness.file("with a photo", attachments=[ref])
    [pending] = store.pending_attachments()
    assert (pending.sha256, pending.size, pending.name) == (hashlib.sha256(data).hexdigest(), len(data), "market.jpg")
    chunks = list(store.iter_chunks(pending.sha256, 4096))
    assert [c.index for c in chunks] == [0, 1, 2] and len(chunks[-1].data) == 10_240 - 2 * 4096
    assert all(c.sha256 == hashlib.sha256(c.data).hexdigest() for c in chunks)
    assert b"".join(c.data for c in chunks) == data
    store.mark_uploaded(pending.sha256)
    assert list(store.pending_attachments()) == []


def test_task_events_wait_in_order_until_sent_or_refused(harness: Harness) -> None:
    store = harness.store
    assert list(store.pending_task_events()) == []
    first, second, third = (harness.task_event(7, "accepted"), harness.task_event(7, "started"),
                            harness.task_event(8, "done"))
    pending = list(store.pending_task_events())
    assert [e.event_id for e in pending] == [first, second, third]
    assert pending[0].task_id == 7 and pending[0].body["event_id"] == first and pending[0].body["status"] == "accepted"
    store.task_event_sent(first, {"id": 7, "status": "accepted", "title": "t"})
    store.task_event_refused(third, "task 8 not found")
    assert [e.event_id for e in store.pending_task_events()] == [second]
