"""Drafts: the state of a form being filled in, saved on every change.

``save_draft`` writes the whole form state in one ``BEGIN IMMEDIATE`` transaction with WAL and
``synchronous=FULL``; once it returns, the draft survives an app kill, a crash or a flat battery.
If the device refuses the write, :class:`StorageFull` is raised and the previous saved state is
still there (the transaction rolled back).

A draft of a report that already has versions remembers the heads it started from
(``base_heads``): finalising makes a child of *those*, so an HQ edit pulled meanwhile becomes a
visible conflict instead of being silently overwritten.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peacewatch.mobile.core.dag import heads
from peacewatch.mobile.core.errors import InvalidInput, NotFound
from peacewatch.mobile.core.store import Store

REPORT_KINDS = ("incident", "patrol", "hr_concern")


@dataclass(frozen=True)
class Draft:
    """A saved draft."""

    report_id: str
    kind: str
    fields: dict[str, Any]
    base_heads: list[str]
    revision: int
    updated_at: str


def validate_report_id(report_id: str) -> str:
    """Report ids are client-made UUIDs; refuse anything else before it reaches the database."""
    try:
        return str(uuid.UUID(str(report_id)))
    except ValueError as exc:
        raise InvalidInput("report_id", f"not a UUID: {report_id!r}") from exc


def validate_kind(kind: str) -> str:
    if kind not in REPORT_KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(REPORT_KINDS)}, got {kind!r}")
    return kind


class Drafts:
    """The drafts of one open store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def save_draft(self, report_id: str, kind: str, fields: dict[str, Any]) -> int:
        """Save the form state; return the draft's new revision (1 for a new draft)."""
        report_id = validate_report_id(report_id)
        validate_kind(kind)
        if not isinstance(fields, dict):
            raise InvalidInput("fields", "must be a dict")
        try:
            encoded = json.dumps(fields, ensure_ascii=False, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInput("fields", f"not JSON-serialisable: {exc}") from exc
        now = datetime.now(UTC).isoformat()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT revision FROM drafts WHERE report_id = ?", (report_id,)).fetchone()
            if row is None:
                revision = 1
                base = json.dumps(heads(conn, report_id))
                conn.execute(
                    "INSERT INTO drafts (report_id, kind, fields, base_heads, revision, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (report_id, kind, encoded, base, revision, now),
                )
            else:
                revision = row[0] + 1
                conn.execute(
                    "UPDATE drafts SET kind = ?, fields = ?, revision = ?, updated_at = ? WHERE report_id = ?",
                    (kind, encoded, revision, now, report_id),
                )
        return revision

    def load_draft(self, report_id: str) -> Draft:
        """The saved draft, or NotFound."""
        report_id = validate_report_id(report_id)
        rows = self.store.query(
            "SELECT report_id, kind, fields, base_heads, revision, updated_at FROM drafts WHERE report_id = ?",
            (report_id,),
        )
        if not rows:
            raise NotFound(f"no draft for report {report_id}")
        return _draft(rows[0])

    def list_drafts(self) -> list[Draft]:
        """Every draft, most recently edited first."""
        rows = self.store.query(
            "SELECT report_id, kind, fields, base_heads, revision, updated_at FROM drafts"
            " ORDER BY updated_at DESC, report_id"
        )
        return [_draft(row) for row in rows]

    def discard(self, report_id: str) -> bool:
        """Delete a draft; True if there was one. Finalised versions are untouched."""
        report_id = validate_report_id(report_id)
        with self.store.transaction() as conn:
            return conn.execute("DELETE FROM drafts WHERE report_id = ?", (report_id,)).rowcount > 0

    def count(self) -> int:
        return int(self.store.query("SELECT count(*) FROM drafts")[0][0])


def _draft(row: tuple[Any, ...]) -> Draft:
    return Draft(
        report_id=row[0],
        kind=row[1],
        fields=json.loads(row[2]),
        base_heads=json.loads(row[3]),
        revision=row[4],
        updated_at=row[5],
    )
