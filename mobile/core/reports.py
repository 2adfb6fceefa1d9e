"""Report lifecycle on the tablet: draft -> finalise -> outbox -> sent -> updated by HQ.

* ``finalise`` validates the draft with ``peacewatch.common.schema.parse_report``. Errors come back
  as ``peacewatch.common.schema.FieldError`` (dotted ``field`` path, stable ``code``,
  ``message_for(lang)``) for the form to show next to each field; the draft is untouched. On success one transaction inserts the new version (id from
  ``peacewatch.common.versioning.version_id(body, parents, device_id)``) in state ``pending`` -
  that *is* the outbox - and deletes the draft.
* ``start_edit`` on a finalised report copies the newest head's body into a draft remembering the
  current heads; finalising it writes a child version whose parents are those heads. A report with
  more than one head is in conflict (see dag.py); editing it and finalising resolves the conflict
  because the new version names every head as a parent.
* What HQ changes (review decisions, comments, versions from other devices) arrives through
  ``Outbox.apply_pull_page`` and sets the report's "updated by HQ" flag until ``mark_seen``.
* Lists (:meth:`Reports.listing`) are paged in SQL, one view at a time: the user's own reports
  (``waiting``, ``sent``, ``updated`` by HQ), HQ's requests on them (``todo``: the newest review
  says "needs more information" and no edit answered it yet; finalising an edit answers it), and
  everyone else's reports the tablet received (``contingent``). "Own" means written on this
  tablet: a report with no local version is someone else's.

Report status as the UI shows it: ``waiting`` (some local version not yet accepted by the
server), ``rejected`` (the server refused the newest local version), ``sent`` (everything local was
stored), ``received`` (only versions from other devices).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peacewatch.common.schema import FieldError, ReportValidationError, parse_report, report_to_json
from peacewatch.common.versioning import version_id as compute_version_id
from peacewatch.mobile.core import dag
from peacewatch.mobile.core.drafts import Draft, Drafts, validate_report_id
from peacewatch.mobile.core.errors import InvalidInput, NotFound
from peacewatch.mobile.core.store import Store


@dataclass(frozen=True)
class FinaliseResult:
    """Either ``version_id`` (the report is in the outbox) or ``errors`` (fix the form and retry)."""

    version_id: str | None
    errors: list[FieldError]

    @property
    def ok(self) -> bool:
        return self.version_id is not None


@dataclass(frozen=True)
class Version:
    """One immutable version of a report."""

    version_id: str
    report_id: str
    body: dict[str, Any]
    parents: list[str]
    device_id: str
    origin: str  # "local" | "remote"
    state: str  # "pending" | "sent" | "rejected" | "remote"
    reject_reason: str | None
    created_at: str


@dataclass(frozen=True)
class ReportSummary:
    """A row of the report list."""

    report_id: str
    kind: str
    title: str | None
    status: str
    review_status: str | None
    hq_updated: bool
    in_conflict: bool
    updated_at: str


@dataclass(frozen=True)
class Counts:
    """The numbers on the home screen."""

    drafts: int
    waiting: int
    sent: int
    updated_by_hq: int
    rejected: int
    conflicts: int
    todo: int = 0  # HQ's open requests on the user's own reports
    contingent: int = 0  # others' reports received


OWN = "status != 'received'"
# The home screen's lists as SQL conditions on ``reports`` (constants: never built from input).
VIEWS: dict[str, str] = {
    "waiting": "status IN ('waiting', 'rejected')",
    "sent": "status = 'sent'",
    "updated": f"hq_updated = 1 AND {OWN}",
    "todo": (
        f"{OWN} AND review_status = 'needs_information' AND answered_review_seq <"
        " (SELECT coalesce(max(server_seq), 0) FROM reviews WHERE reviews.report_id = reports.report_id)"
    ),
    "contingent": "status = 'received'",
}


def validate_body(body: dict[str, Any]) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """Run the shared schema; return (normalised JSON body, []) or (None, one FieldError per bad field)."""
    try:
        parsed = parse_report(body)
    except ReportValidationError as exc:
        return None, list(exc.errors)
    # The normalised form (every field present, times in UTC "Z") is what is hashed and sent, so the
    # server re-validating it arrives at the same body and the same version id.
    return report_to_json(parsed), []


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Reports:
    """Finalised reports of one open store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.drafts = Drafts(store)

    # ----- writing -------------------------------------------------------------------------
    def finalise(self, report_id: str) -> FinaliseResult:
        """Validate the draft; on success put a new version in the outbox and drop the draft, atomically."""
        report_id = validate_report_id(report_id)
        with self.store.lock:  # no save_draft may slip in between validation and commit
            draft = self.drafts.load_draft(report_id)
            raw = dict(draft.fields)
            raw["id"] = report_id
            raw["kind"] = draft.kind
            body, errors = validate_body(raw)
            if body is None:
                return FinaliseResult(None, errors)
            device = self.store.device_id
            parents = sorted(draft.base_heads)
            vid = compute_version_id(body, parents, device)
            now = _now()
            with self.store.transaction() as conn:
                _upsert_report(conn, report_id, body, now)
                if draft.base_heads:
                    # An edit answers every request HQ made on this report so far (the to-do clears).
                    conn.execute(
                        "UPDATE reports SET answered_review_seq ="
                        " (SELECT coalesce(max(server_seq), 0) FROM reviews WHERE report_id = ?)"
                        " WHERE report_id = ?",
                        (report_id, report_id),
                    )
                dag.add_version(
                    conn,
                    version_id=vid,
                    report_id=report_id,
                    body=body,
                    parents=parents,
                    device_id=device,
                    origin="local",
                    state="pending",
                    created_at=now,
                )
                conn.execute("DELETE FROM drafts WHERE report_id = ?", (report_id,))
                dag.refresh_report(conn, report_id)
            return FinaliseResult(vid, [])

    def start_edit(self, report_id: str) -> Draft:
        """Open a finalised report for editing: a draft from the newest head, remembering all heads."""
        report_id = validate_report_id(report_id)
        with self.store.lock:
            try:
                return self.drafts.load_draft(report_id)
            except NotFound:
                pass
            with self.store.transaction() as conn:
                head_ids = dag.heads(conn, report_id)
                if not head_ids:
                    raise NotFound(f"no report {report_id}")
                newest = head_ids[-1]
                body_json, kind = conn.execute(
                    "SELECT v.body, r.kind FROM versions v JOIN reports r USING (report_id) WHERE v.version_id = ?",
                    (newest,),
                ).fetchone()
                fields = {k: v for k, v in json.loads(body_json).items() if k not in ("id", "kind")}
                conn.execute(
                    "INSERT INTO drafts (report_id, kind, fields, base_heads, revision, updated_at)"
                    " VALUES (?, ?, ?, ?, 1, ?)",
                    (
                        report_id,
                        kind,
                        json.dumps(fields, ensure_ascii=False, sort_keys=True),
                        json.dumps(head_ids),
                        _now(),
                    ),
                )
            return self.drafts.load_draft(report_id)

    def mark_seen(self, report_id: str) -> None:
        """The user opened the report: clear its "updated by HQ" flag."""
        report_id = validate_report_id(report_id)
        with self.store.transaction() as conn:
            conn.execute("UPDATE reports SET hq_updated = 0 WHERE report_id = ?", (report_id,))

    # ----- reading -------------------------------------------------------------------------
    def versions(self, report_id: str) -> list[Version]:
        report_id = validate_report_id(report_id)
        rows = self.store.query(
            "SELECT version_id, report_id, body, parents, device_id, origin, state, reject_reason, created_at"
            " FROM versions WHERE report_id = ? ORDER BY seq",
            (report_id,),
        )
        return [_version(row) for row in rows]

    def heads(self, report_id: str) -> list[Version]:
        report_id = validate_report_id(report_id)
        with self.store.lock:
            ids = set(dag.heads(self.store.conn, report_id))
        return [v for v in self.versions(report_id) if v.version_id in ids]

    def in_conflict(self, report_id: str) -> bool:
        with self.store.lock:
            return dag.in_conflict(self.store.conn, validate_report_id(report_id))

    def get(self, report_id: str) -> ReportSummary:
        rows = self._summaries("WHERE report_id = ?", (validate_report_id(report_id),), 1, 0)
        if not rows:
            raise NotFound(f"no report {report_id}")
        return rows[0]

    def latest(self, limit: int = 100, offset: int = 0) -> list[ReportSummary]:
        """The most recently changed reports, newest first."""
        if limit < 1 or offset < 0:
            raise InvalidInput("limit", "limit must be >= 1 and offset >= 0")
        return self._summaries("", (), limit, offset)

    def listing(self, view: str, limit: int = 50, offset: int = 0) -> list[ReportSummary]:
        """One page of a list view (see :data:`VIEWS`), newest first."""
        if view not in VIEWS:
            raise InvalidInput("view", f"must be one of {', '.join(VIEWS)}")
        if limit < 1 or offset < 0:
            raise InvalidInput("limit", "limit must be >= 1 and offset >= 0")
        return self._summaries(f"WHERE {VIEWS[view]}", (), limit, offset)

    def count(self, view: str) -> int:
        if view not in VIEWS:
            raise InvalidInput("view", f"must be one of {', '.join(VIEWS)}")
        return int(self.store.query(f"SELECT count(*) FROM reports WHERE {VIEWS[view]}")[0][0])

    def _summaries(self, where: str, params: tuple[Any, ...], limit: int, offset: int) -> list[ReportSummary]:
        rows = self.store.query(
            "SELECT report_id, kind, title, status, review_status, hq_updated, heads > 1, updated_at"
            f" FROM reports {where} ORDER BY updated_at DESC, report_id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [
            ReportSummary(row[0], row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]), row[7])
            for row in rows
        ]

    def reviews(self, report_id: str) -> list[dict[str, Any]]:
        """HQ's review decisions on a report, oldest first, in the feed's words (``comment``, ``by``)."""
        rows = self.store.query(
            "SELECT status, by, at, comment, server_seq FROM reviews WHERE report_id = ? ORDER BY server_seq",
            (validate_report_id(report_id),),
        )
        return [{"status": r[0], "by": r[1], "at": r[2], "comment": r[3], "seq": r[4]} for r in rows]

    def comments(self, report_id: str) -> list[dict[str, Any]]:
        """Comments on a report, oldest first, in the feed's words (``by``, ``seq``)."""
        rows = self.store.query(
            "SELECT server_seq, by, text, at FROM comments WHERE report_id = ? ORDER BY server_seq",
            (validate_report_id(report_id),),
        )
        return [{"seq": r[0], "by": r[1], "text": r[2], "at": r[3]} for r in rows]

    def counts(self) -> Counts:
        """Drafts, waiting, sent, updated by HQ, rejected, in conflict."""
        row = self.store.query(
            """
            SELECT
              (SELECT count(*) FROM drafts),
              coalesce(sum(status = 'waiting'), 0),
              coalesce(sum(status = 'sent'), 0),
              coalesce(sum(hq_updated AND status != 'received'), 0),
              coalesce(sum(status = 'rejected'), 0),
              coalesce(sum(heads > 1), 0),
              coalesce(sum(CASE WHEN {todo} THEN 1 ELSE 0 END), 0),
              coalesce(sum(CASE WHEN {contingent} THEN 1 ELSE 0 END), 0)
            FROM reports
            """.format(todo=VIEWS["todo"], contingent=VIEWS["contingent"])
        )[0]
        return Counts(*(int(x) for x in row))


def _upsert_report(conn: Any, report_id: str, body: dict[str, Any], now: str) -> None:
    conn.execute(
        "INSERT INTO reports (report_id, kind, title, created_at, updated_at, hq_updated)"
        " VALUES (?, ?, ?, ?, ?, 0)"
        " ON CONFLICT(report_id) DO UPDATE SET kind = excluded.kind, title = excluded.title,"
        " updated_at = excluded.updated_at",
        (report_id, body.get("kind"), body.get("title"), now, now),
    )


def _version(row: tuple[Any, ...]) -> Version:
    return Version(
        version_id=row[0],
        report_id=row[1],
        body=json.loads(row[2]),
        parents=json.loads(row[3]),
        device_id=row[4],
        origin=row[5],
        state=row[6],
        reject_reason=row[7],
        created_at=row[8],
    )
