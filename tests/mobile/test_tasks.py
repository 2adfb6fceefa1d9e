"""Tasks on the tablet (mobile/core/tasks.py): pulled tasks, the patrol's events offline, the list's order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from peacewatch.mobile.core import tasks
from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.keys import TEST_KDF
from peacewatch.mobile.core.outbox import Outbox
from peacewatch.mobile.core.store import Store


def _task(task_id: int, **extra: object) -> dict:
    return {"id": task_id, "kind": "patrol", "title": f"Task {task_id}", "status": "open", "priority": "normal",
            "window_end": None, "lat": 1.5, "lon": 30.2} | extra


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.create(tmp_path / "store", "4711", kdf=TEST_KDF)
    yield s
    s.close()


def test_pulled_tasks_are_listed_urgent_first_and_the_latest_state_wins(store: Store) -> None:
    Outbox(store).apply_pull_page([
        {"seq": 1, "kind": "task", "event": "created", "task": _task(1)},
        {"seq": 2, "kind": "task", "event": "created", "task": _task(2, priority="urgent")},
        {"seq": 3, "kind": "task", "event": "created", "task": _task(3, window_end="2026-12-04T00:00:00Z")},
    ], "3")
    assert [t["id"] for t in tasks.my_tasks(store)] == [2, 3, 1]
    Outbox(store).apply_pull_page([{"seq": 4, "kind": "task", "event": "cancelled",
                                    "task": _task(2, priority="urgent", status="cancelled")}], "4")
    assert [t["id"] for t in tasks.my_tasks(store)] == [3, 1]
    assert [t["id"] for t in tasks.my_tasks(store, include_finished=True)] == [3, 1, 2]
    with pytest.raises(InvalidInput) as bad:
        Outbox(store).apply_pull_page([{"seq": 5, "kind": "task", "task": {"id": "x"}}], "5")
    assert bad.value.field == "changes[0].task"


def test_what_the_patrol_does_waits_offline_and_shows_at_once(store: Store) -> None:
    Outbox(store).apply_pull_page([{"seq": 1, "kind": "task", "task": _task(1)}], "1")
    accepted = tasks.record(store, 1, status="accepted")
    assert tasks.get(store, 1)["local_status"] == "accepted" and tasks.get(store, 1)["unsent"]
    done = tasks.record(store, 1, status="done", note="  all quiet ")
    assert [e.event_id for e in tasks.pending_events(store)] == [accepted, done]
    assert tasks.pending_events(store)[1].body == {"event_id": done, "note": "all quiet", "status": "done",
                                                  "device_time": tasks.pending_events(store)[1].body["device_time"]}
    assert tasks.my_tasks(store) == []  # done here, even before the server knows
    tasks.event_sent(store, accepted, _task(1, status="accepted"))
    tasks.event_sent(store, done, _task(1, status="done"))
    assert tasks.pending_events(store) == [] and tasks.get(store, 1)["status"] == "done"


def test_bad_events_are_refused_naming_the_field(store: Store) -> None:
    Outbox(store).apply_pull_page([{"seq": 1, "kind": "task", "task": _task(1)}], "1")
    for kwargs, field in (({"status": "cannot_do"}, "note"), ({"status": "cannot_do", "note": "   "}, "note"),
                          ({"status": "cancelled"}, "status"), ({}, "status"),
                          ({"status": "done", "note": "x" * 2001}, "note")):
        with pytest.raises(InvalidInput) as bad:
            tasks.record(store, 1, **kwargs)
        assert bad.value.field == field, kwargs
    with pytest.raises(InvalidInput) as bad:
        tasks.record(store, 99, status="done")
    assert bad.value.field == "task_id"
    assert tasks.pending_events(store) == []


def test_a_report_begun_from_a_task_is_filed_for_it_once_finished(store: Store) -> None:
    Outbox(store).apply_pull_page([{"seq": 1, "kind": "task", "task": _task(1)}], "1")
    tasks.draft_for(store, "rep-1", 1)
    assert tasks.report_finished(store, "rep-2") is None  # another report: nothing to link
    event_id = tasks.report_finished(store, "rep-1")
    [pending] = tasks.pending_events(store)
    assert pending.event_id == event_id and pending.body["report_id"] == "rep-1" and "status" not in pending.body
    assert tasks.report_finished(store, "rep-1") is None  # finishing an edit later links nothing again
    with pytest.raises(InvalidInput):
        tasks.draft_for(store, "rep-3", 42)
