"""Tests for peacewatch.mobile.core.outbox: the push queue and pull pages the sync client relies on."""

from __future__ import annotations

import pytest

from peacewatch.common.sync_protocol import PushEntry
from peacewatch.common.versioning import version_id
from peacewatch.mobile.core.attachments import Attachments
from peacewatch.mobile.core.drafts import Drafts
from peacewatch.mobile.core.errors import InvalidInput, NotFound
from peacewatch.mobile.core.outbox import Outbox
from peacewatch.mobile.core.reference import Reference
from peacewatch.mobile.core.reports import Reports
from peacewatch.mobile.core.store import Store
from tests.mobile.helpers import incident_fields, new_id, place_change


def _finalise(store: Store, **overrides: object) -> tuple[str, str]:
    rid = new_id()
    Drafts(store).save_draft(rid, "incident", incident_fields(**overrides))
    result = Reports(store).finalise(rid)
    assert result.version_id is not None, result.errors
    return rid, result.version_id


def test_pending_versions_are_oldest_first_and_limited(store: Store) -> None:
    ids = [_finalise(store, title=f"report {i}")[1] for i in range(5)]
    outbox = Outbox(store)
    assert [p.version_id for p in outbox.pending_versions(limit=3)] == ids[:3]
    assert outbox.pending_count() == 5
    entry = outbox.pending_versions(limit=1)[0]
    # The push entry of common.sync_protocol, valid as the server will check it.
    assert PushEntry.model_validate(entry.model_dump()) == entry
    assert entry.device_id == store.device_id and entry.device_time is not None
    with pytest.raises(InvalidInput, match="limit"):
        outbox.pending_versions(limit=0)


def test_mark_sent_is_idempotent_and_only_for_answered_ids(store: Store) -> None:
    _, v1 = _finalise(store)
    _, v2 = _finalise(store)
    outbox = Outbox(store)
    assert outbox.mark_sent([v1]) == 1
    assert outbox.mark_sent([v1, "f" * 64]) == 0  # repeat answer, unknown id: harmless
    assert [p.version_id for p in outbox.pending_versions()] == [v2]
    with pytest.raises(InvalidInput, match="version_ids"):
        outbox.mark_sent(v2)  # type: ignore[arg-type]


def test_mark_rejected_keeps_reason_and_stops_resending(store: Store) -> None:
    rid, v1 = _finalise(store)
    outbox = Outbox(store)
    outbox.mark_rejected(v1, "author not in contingent")
    assert outbox.pending_versions() == []
    [version] = Reports(store).versions(rid)
    assert (version.state, version.reject_reason) == ("rejected", "author not in contingent")
    with pytest.raises(NotFound):
        outbox.mark_rejected("0" * 64, "x")
    with pytest.raises(InvalidInput, match="reason"):
        outbox.mark_rejected(v1, "")


def test_pending_attachments_follow_local_versions(store: Store) -> None:
    files = Attachments(store)
    used = files.put_bytes(b"photo of the market", media_type="image/jpeg", name="market.jpg")
    unused = files.put_bytes(b"not in any report", media_type="image/jpeg", name="other.jpg")
    _finalise(store, attachments=[used.as_body()])
    outbox = Outbox(store)
    assert outbox.pending_attachments() == [used]
    assert unused not in outbox.pending_attachments()
    files.mark_uploaded(used.sha256)
    assert outbox.pending_attachments() == []


def _remote(rid: str, title: str, parents: list[str], device: str = "hq-1") -> dict[str, object]:
    body = {"id": rid, "kind": "incident", **incident_fields(title=title)}
    return {
        "seq": 10,
        "kind": "version",
        "report_id": rid,
        "version_id": version_id(body, parents, device),
        "parents": parents,
        "body": body,
        "device_id": device,
    }


def test_apply_pull_page_applies_everything_with_the_cursor(store: Store) -> None:
    outbox, reports = Outbox(store), Reports(store)
    assert outbox.get_cursor() is None
    rid = new_id()
    change = _remote(rid, "from another contingent", [])
    page = [
        change,
        {
            "seq": 11,
            "kind": "comment",
            "report_id": rid,
            "by": "hq",
            "text": "Please add photos",
            "at": "2026-11-24T16:00:00Z",
        },
        place_change("p-juba", lat=4.85, lon=31.58, names={"en": "Juba", "fr": "Djouba", "ar": "جوبا"}, seq=12),
        {"seq": 13, "kind": "reference", "item": {"id": "area-1", "kind": "mission_area",
                                                  "geometry": {"type": "Polygon", "coordinates": []}}},
        {"seq": 14, "kind": "brand_new_change_type", "x": 1},
    ]
    result = outbox.apply_pull_page(page, 42)
    assert (result.versions, result.comments, result.places, result.skipped) == (
        1,
        1,
        1,
        ["reference", "brand_new_change_type"],
    )
    assert outbox.get_cursor() == "42"
    assert reports.get(rid).status == "received" and reports.get(rid).hq_updated
    assert reports.comments(rid) == [{"seq": 11, "by": "hq", "text": "Please add photos", "at": "2026-11-24T16:00:00Z"}]
    assert Reference(store).search("jub")[0].place_id == "p-juba"
    # The same page again (link dropped after the server sent it): nothing doubles.
    again = outbox.apply_pull_page(page, 42)
    assert (again.versions, again.comments) == (0, 0)
    assert len(reports.versions(rid)) == 1 and len(reports.comments(rid)) == 1


def test_a_bad_change_rolls_back_the_whole_page_and_keeps_the_cursor(store: Store) -> None:
    outbox = Outbox(store)
    outbox.apply_pull_page([], "5")
    rid = new_id()
    page = [
        _remote(rid, "fine", []),
        {"kind": "comment", "report_id": rid, "by": "hq", "text": "", "seq": 1},
    ]
    with pytest.raises(InvalidInput, match=r"changes\[1\]\.text"):
        outbox.apply_pull_page(page, "6")
    assert outbox.get_cursor() == "5"
    with pytest.raises(NotFound):
        Reports(store).get(rid)
    with pytest.raises(InvalidInput, match=r"changes\[0\]\.report_id"):
        outbox.apply_pull_page([{"kind": "review", "report_id": "not-a-uuid", "status": "x", "seq": 1}], "7")
    with pytest.raises(InvalidInput, match="next_cursor"):
        outbox.apply_pull_page([], "")


def test_pulled_copy_of_own_version_marks_it_sent(store: Store) -> None:
    rid, v1 = _finalise(store)
    outbox = Outbox(store)
    [pending] = outbox.pending_versions()
    outbox.apply_pull_page(
        [
            {
                "seq": 1,
                "kind": "version",
                "report_id": rid,
                "version_id": v1,
                "parents": [],
                "body": pending.body,
                "device_id": store.device_id,
            }
        ],
        "1",
    )
    assert outbox.pending_versions() == []
    assert Reports(store).get(rid).status == "sent"
    assert not Reports(store).get(rid).hq_updated


def test_remote_child_of_sent_version_is_the_new_head(store: Store) -> None:
    rid, v1 = _finalise(store)
    outbox, reports = Outbox(store), Reports(store)
    outbox.mark_sent([v1])
    outbox.apply_pull_page([_remote(rid, "HQ edit", [v1])], "2")
    [head] = reports.heads(rid)
    assert head.body["title"] == "HQ edit" and not reports.in_conflict(rid)
    assert reports.get(rid).title == "HQ edit"
