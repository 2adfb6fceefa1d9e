"""Tests for peacewatch.mobile.core.reports: finalise, edit, DAG heads and conflicts, counts."""

from __future__ import annotations

import pytest

from peacewatch.common.versioning import version_id
from peacewatch.mobile.core.drafts import Drafts
from peacewatch.mobile.core.errors import NotFound
from peacewatch.mobile.core.outbox import Outbox
from peacewatch.mobile.core.reports import Reports
from peacewatch.mobile.core.store import Store
from tests.mobile.helpers import incident_fields, new_id


def _finalised(store: Store, **overrides: object) -> tuple[str, str]:
    rid = new_id()
    Drafts(store).save_draft(rid, "incident", incident_fields(**overrides))
    result = Reports(store).finalise(rid)
    assert result.ok, result.errors
    assert result.version_id is not None
    return rid, result.version_id


def test_finalise_validates_and_returns_field_errors(store: Store) -> None:
    rid = new_id()
    drafts = Drafts(store)
    drafts.save_draft(rid, "incident", incident_fields(severity=9, location={"lat": 95, "lon": 31.6}))
    result = Reports(store).finalise(rid)
    assert not result.ok and result.version_id is None
    fields = {e.field for e in result.errors}
    assert {"severity", "location.lat"} <= fields
    # Nothing entered the outbox and the draft is still there to fix.
    assert drafts.load_draft(rid).revision == 1
    assert Outbox(store).pending_versions() == []


def test_finalise_puts_version_in_outbox_and_removes_draft_atomically(store: Store) -> None:
    rid, vid = _finalised(store)
    with pytest.raises(NotFound):
        Drafts(store).load_draft(rid)
    [pending] = Outbox(store).pending_versions()
    assert pending.version_id == vid and pending.parents == [] and pending.report_id == rid
    assert pending.body["id"] == rid and pending.body["kind"] == "incident"
    # The id is the shared versioning rule over exactly the body that will be pushed.
    assert vid == version_id(pending.body, [], store.device_id)
    assert Reports(store).get(rid).status == "waiting"


def test_finalise_without_draft_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        Reports(store).finalise(new_id())


def test_sent_then_edit_creates_child_of_heads(store: Store) -> None:
    rid, v1 = _finalised(store)
    outbox, reports = Outbox(store), Reports(store)
    assert outbox.mark_sent([v1]) == 1
    assert reports.get(rid).status == "sent"
    draft = reports.start_edit(rid)
    assert draft.base_heads == [v1]
    assert draft.fields["title"] == "Market attacked"
    Drafts(store).save_draft(rid, "incident", {**draft.fields, "title": "Market attacked, 2 injured"})
    result = reports.finalise(rid)
    assert result.ok
    [head] = reports.heads(rid)
    assert head.version_id == result.version_id and head.parents == [v1]
    assert not reports.in_conflict(rid)
    assert [p.version_id for p in outbox.pending_versions()] == [result.version_id]


def test_remote_edit_during_local_edit_is_a_conflict_then_resolved(store: Store) -> None:
    rid, v1 = _finalised(store)
    outbox, reports = Outbox(store), Reports(store)
    outbox.mark_sent([v1])
    draft = reports.start_edit(rid)  # the user starts editing from v1 ...
    remote_body = {**reports.heads(rid)[0].body, "title": "HQ corrected title"}
    remote_vid = version_id(remote_body, [v1], "hq-device")
    outbox.apply_pull_page(
        [
            {
                "seq": 3,
                "kind": "version",
                "report_id": rid,
                "version_id": remote_vid,
                "parents": [v1],
                "body": remote_body,
                "device_id": "hq-device",
            }
        ],
        "c1",
    )  # ... while HQ's edit of v1 arrives
    Drafts(store).save_draft(rid, "incident", {**draft.fields, "title": "Local title"})
    local = reports.finalise(rid)
    assert local.ok
    # Both edits have parent v1: two heads, nothing overwritten.
    assert {h.version_id for h in reports.heads(rid)} == {remote_vid, local.version_id}
    assert reports.in_conflict(rid) and reports.get(rid).in_conflict
    assert reports.counts().conflicts == 1
    # Editing the conflicted report and finalising names every head as a parent: resolved.
    merge = reports.start_edit(rid)
    assert sorted(merge.base_heads) == sorted([remote_vid, local.version_id])
    resolved = reports.finalise(rid)
    assert resolved.ok
    [head] = reports.heads(rid)
    assert sorted(head.parents) == sorted([remote_vid, local.version_id])
    assert not reports.in_conflict(rid)


def test_unchanged_edit_is_the_same_version(store: Store) -> None:
    rid, v1 = _finalised(store)
    reports = Reports(store)
    reports.start_edit(rid)
    again = reports.finalise(rid)
    # Same body but parent v1: a child, not a duplicate of v1 (ids cover the parents).
    assert again.ok and again.version_id != v1
    assert len(reports.versions(rid)) == 2


def test_counts_and_latest(store: Store) -> None:
    reports, outbox = Reports(store), Outbox(store)
    Drafts(store).save_draft(new_id(), "patrol", {"title": "half typed"})
    r_wait, _ = _finalised(store, title="waiting one")
    r_sent, v_sent = _finalised(store, title="sent one")
    r_rej, v_rej = _finalised(store, title="rejected one")
    outbox.mark_sent([v_sent])
    outbox.mark_rejected(v_rej, "contingent mismatch")
    outbox.apply_pull_page(
        [
            {
                "kind": "review",
                "report_id": r_sent,
                "status": "verified",
                "by": "hq",
                "at": "2026-11-24T16:00:00Z",
                "comment": "ok",
                "seq": 7,
            }
        ],
        "c9",
    )
    counts = reports.counts()
    assert (counts.drafts, counts.waiting, counts.sent, counts.updated_by_hq, counts.rejected) == (
        1,
        1,
        1,
        1,
        1,
    )
    assert outbox.counts() == counts
    latest = reports.latest(10)
    assert latest[0].report_id == r_sent  # HQ's review made it the most recently changed
    assert latest[0].review_status == "verified" and latest[0].hq_updated
    assert {r.report_id for r in latest} == {r_wait, r_sent, r_rej}
    assert reports.get(r_rej).status == "rejected"
    [pending] = outbox.pending_versions()
    assert pending.report_id == r_wait
    reports.mark_seen(r_sent)
    assert reports.counts().updated_by_hq == 0
    assert reports.reviews(r_sent) == [
        {"status": "verified", "by": "hq", "at": "2026-11-24T16:00:00Z", "comment": "ok", "seq": 7}
    ]
