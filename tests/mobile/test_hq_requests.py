"""HQ's word first: own reports vs the contingent's, and HQ's requests as a to-do that an edit clears."""

from __future__ import annotations

from peacewatch.common.versioning import version_id
from peacewatch.mobile.core.drafts import Drafts
from peacewatch.mobile.core.outbox import Outbox
from peacewatch.mobile.core.reports import Reports
from peacewatch.mobile.core.store import Store
from tests.mobile.helpers import incident_fields, new_id


def _own(store: Store, title: str) -> tuple[str, str]:
    rid = new_id()
    Drafts(store).save_draft(rid, "incident", incident_fields(title=title))
    result = Reports(store).finalise(rid)
    assert result.version_id is not None
    Outbox(store).mark_sent([result.version_id])
    return rid, result.version_id


def _review(report_id: str, status: str, seq: int, note: str = "") -> dict:
    return {"kind": "review", "report_id": report_id, "status": status, "by": "hq.analyst",
            "at": "2026-12-01T09:00:00Z", "comment": note, "seq": seq}


def _others(n: int) -> list[dict]:
    changes = []
    for i in range(n):
        rid = new_id()
        body = {**incident_fields(title=f"other {i}", author="bob"), "id": rid, "kind": "incident"}
        changes.append({"seq": 500 + i, "kind": "version", "report_id": rid, "version_id": version_id(body, [], "dev-b"),
                        "parents": [], "body": body, "device_id": "dev-b"})
        changes.append(_review(rid, "verified", 1000 + i))
    return changes


def test_updated_by_hq_lists_only_own_reports_and_others_go_to_the_paged_contingent_list(store: Store) -> None:
    reports, outbox = Reports(store), Outbox(store)
    mine, _ = _own(store, "mine")
    outbox.apply_pull_page([*_others(25), _review(mine, "verified", 1)], "c1")
    assert [r.report_id for r in reports.listing("updated")] == [mine]
    counts = reports.counts()
    assert counts.updated_by_hq == 1 and counts.contingent == 25
    assert reports.count("contingent") == 25
    pages = [reports.listing("contingent", limit=10, offset=o) for o in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 5]
    ids = [r.report_id for page in pages for r in page]
    assert len(set(ids)) == 25 and mine not in ids


def test_a_needs_information_request_is_a_to_do_until_the_edit_is_filed(store: Store) -> None:
    reports, outbox = Reports(store), Outbox(store)
    mine, _ = _own(store, "mine")
    other = _others(1)
    outbox.apply_pull_page([*other, _review(other[0]["report_id"], "needs_information", 5)], "c1")
    assert reports.counts().todo == 0  # HQ's questions on others' reports are not this user's to-do
    outbox.apply_pull_page([_review(mine, "needs_information", 6, "How many were injured?")], "c2")
    assert [r.report_id for r in reports.listing("todo")] == [mine] and reports.counts().todo == 1
    reports.mark_seen(mine)  # reading the request does not answer it
    assert reports.counts().todo == 1
    draft = reports.start_edit(mine)
    Drafts(store).save_draft(mine, "incident", {**draft.fields, "casualties": {"injured": 4}})
    assert reports.counts().todo == 1  # a draft is not filed yet
    assert reports.finalise(mine).ok
    assert reports.counts().todo == 0 and reports.listing("todo") == []
    outbox.apply_pull_page([_review(mine, "needs_information", 9, "And the time?")], "c3")
    assert reports.counts().todo == 1  # HQ asked again: back on the list

