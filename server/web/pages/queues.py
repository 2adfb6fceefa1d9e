"""Analysts' queues: duplicate proposals (side by side; confirm, dismiss, unmerge) and conflicts
(field by field; keep one version or choose each differing field, which writes a merged version).

Both call their domain's service; the duplicates page first catches proposals up with the reports
stored since (``duplicates.backlog``, before its transaction opens), so it never shows a list that
is behind.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from ...conflicts import service as conflicts
from ...conflicts.ancestry import common_ancestor
from ...deps import ReadConn
from ...duplicates import service as duplicates
from ...duplicates.reasons import explain
from ...duplicates.views import current_proposals
from ...input_checks import INT64_MAX
from ...problems import invalid
from ...reports import service as reports
from ..render import page
from ..services import WriteTx, as_page
from ..session import CSRF, AnalystPage, FormFields

router = APIRouter(include_in_schema=False)

QUEUE_LIMIT = 50


# -- duplicates ---------------------------------------------------------------------------------
@router.get("/duplicates", dependencies=[Depends(current_proposals)])
def duplicates_page(request: Request, conn: WriteTx, me: AnalystPage) -> Response:
    """Proposed duplicates with both reports side by side, and merged incidents that can be unmerged."""
    with as_page(me):
        listing = duplicates.list_proposals(conn, me, status="proposed", limit=QUEUE_LIMIT, offset=0)
        pairs = []
        for p in listing["items"]:
            # Both sides as the caller may read them (restricted ones are audited by get_report).
            a = reports.get_report(conn, me, p["report_a"])
            b = reports.get_report(conn, me, p["report_b"])
            # What argues for and against, translated by the page (reasons.render) into the visitor's language.
            pairs.append({"proposal": p, "a": a, "b": b, "reasons": explain(p["reasons"], p["history"])})
        merged = duplicates.list_proposals(conn, me, status="confirmed", limit=QUEUE_LIMIT, offset=0)["items"]
    return page(request, "duplicates.html", me, pairs=pairs, merged=merged,
                total=listing.get("total", len(pairs)), done=request.query_params.get("done", ""))


@router.post("/duplicates/{proposal_id}/{action}")
def duplicate_action(proposal_id: Annotated[int, Path(ge=1, le=INT64_MAX)], action: str, conn: WriteTx, me: AnalystPage, _csrf: CSRF) -> Response:
    """Confirm (merge into one incident), dismiss, or unmerge a confirmed proposal."""
    with as_page(me):
        if action == "confirm":
            duplicates.confirm(conn, me, proposal_id=proposal_id)
        elif action == "dismiss":
            duplicates.dismiss(conn, me, proposal_id=proposal_id)
        elif action == "unmerge":
            duplicates.unmerge(conn, me, proposal_id=proposal_id)
        else:
            raise invalid("action", "action must be confirm, dismiss or unmerge")
    return RedirectResponse(f"/duplicates?done={action}", status_code=303)


# -- conflicts ----------------------------------------------------------------------------------
@router.get("/conflicts")
def conflicts_page(request: Request, conn: ReadConn, me: AnalystPage) -> Response:
    """Reports with several heads: every differing field across the heads, and how to resolve."""
    with as_page(me):
        listing = conflicts.list_conflicts(conn, me, limit=QUEUE_LIMIT)
        for item in listing["items"]:
            ancestor = common_ancestor(conn, me, report_id=item["report_id"],
                                       head_ids=[h["version_id"] for h in item["heads"]])
            flat = conflicts.flatten(ancestor["body"]) if ancestor else {}
            item["ancestor"] = ancestor and {**ancestor, "values": {f["field"]: flat.get(f["field"])
                                                                     for f in item["fields"]}}
    done, _, report_id = request.query_params.get("done", "").partition(":")
    return page(request, "conflicts.html", me, items=listing["items"], total=listing["total"],
                done=done, done_report=report_id)


def _set_path(body: dict[str, Any], path: str, value: Any, present: bool) -> None:
    """Set (or remove, when the chosen head lacks it) a dotted field of ``conflicts.flatten``."""
    keys = path.split(".")
    node = body
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    if present:
        node[keys[-1]] = copy.deepcopy(value)
    else:
        node.pop(keys[-1], None)


def merged_body(heads: list[dict[str, Any]], choices: dict[str, str]) -> dict[str, Any]:
    """A body taking each differing field from the head chosen for it (the first head otherwise)."""
    by_id = {h["version_id"]: conflicts.flatten(h["body"]) for h in heads}
    body = copy.deepcopy(heads[0]["body"])
    for field, vid in choices.items():
        if vid not in by_id:
            raise invalid(f"field:{field}", "is not one of the report's current heads")
        flat = by_id[vid]
        _set_path(body, field, flat.get(field), field in flat)
    return body


@router.post("/conflicts/{report_id}/resolve")
def resolve(report_id: str, conn: WriteTx, me: AnalystPage, _csrf: CSRF, form: FormFields) -> Response:
    """Keep one head (``pick``) or merge field by field (``field:<path>`` = the chosen head)."""
    parents = [p for p in str(form.get("parents", "")).split(",") if p]
    with as_page(me):
        pick = str(form.get("pick", "")) or None
        choices = {k.removeprefix("field:"): str(v) for k, v in form.items() if k.startswith("field:")}
        if pick is None:
            if not choices:
                raise invalid("pick", "choose a version to keep, or a version for each differing field")
            heads = reports.get_report(conn, me, report_id)["heads"]
            chosen = set(choices.values())
            if len(chosen) == 1:
                pick = chosen.pop()  # every field from one head: that is keeping that head
            else:
                conflicts.resolve(conn, me, report_id=report_id, body=merged_body(heads, choices), parents=parents)
                return RedirectResponse(f"/conflicts?done=merged:{report_id}", status_code=303)
        conflicts.resolve(conn, me, report_id=report_id, pick=pick, parents=parents)
    return RedirectResponse(f"/conflicts?done=resolved:{report_id}", status_code=303)
