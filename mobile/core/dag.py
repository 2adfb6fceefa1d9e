"""The local version DAG of each report: heads and conflicts, by the same rule as the server.

A version's parents are the versions it was edited from. The *heads* of a report are its versions
that no other version names as a parent; more than one head means two edits were made without
seeing each other: a **conflict**, kept and shown, never resolved by picking one. Writing a
version whose parents are all the heads resolves it.
"""

from __future__ import annotations

import json
from typing import Any

import sqlcipher3


def heads(conn: sqlcipher3.Connection, report_id: str) -> list[str]:
    """The head version ids of a report, oldest local arrival first ([] if it has no versions)."""
    rows = conn.execute(
        """
        SELECT v.version_id FROM versions v INDEXED BY versions_report_seq
        WHERE v.report_id = ?
          AND NOT EXISTS (SELECT 1 FROM version_parents p
                          WHERE p.report_id = v.report_id AND p.parent_id = v.version_id)
        ORDER BY v.seq
        """,
        (report_id,),
    ).fetchall()
    return [row[0] for row in rows]


def in_conflict(conn: sqlcipher3.Connection, report_id: str) -> bool:
    """True when the report has more than one head."""
    return len(heads(conn, report_id)) > 1


def add_version(
    conn: sqlcipher3.Connection,
    *,
    version_id: str,
    report_id: str,
    body: dict[str, Any],
    parents: list[str],
    device_id: str,
    origin: str,
    state: str,
    created_at: str,
) -> bool:
    """Insert a version and its parent edges if absent (version ids are content hashes); True if new."""
    body_json = json.dumps(body, ensure_ascii=False, sort_keys=True)
    cur = conn.execute(
        "INSERT OR IGNORE INTO versions (version_id, report_id, body, parents, device_id, origin, state, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (version_id, report_id, body_json, encode_parents(parents), device_id, origin, state, created_at),
    )
    if cur.rowcount == 0:
        return False
    conn.executemany(
        "INSERT OR IGNORE INTO version_parents (report_id, version_id, parent_id) VALUES (?, ?, ?)",
        [(report_id, version_id, parent) for parent in sorted(set(parents))],
    )
    return True


def refresh_report(conn: sqlcipher3.Connection, report_id: str) -> None:
    """Recompute a report's list status and head count after its versions changed (same transaction).

    Status: ``waiting`` if a local version is not yet accepted by the server, else ``rejected`` if
    the newest local version was refused, else ``sent`` if any local version exists, else
    ``received`` (only versions from other devices).
    """
    # INDEXED BY: without statistics the planner may pick versions_state and scan every pending
    # version of every report; per report there are only a handful of rows.
    states = conn.execute(
        "SELECT origin, state FROM versions INDEXED BY versions_report_seq WHERE report_id = ? ORDER BY seq",
        (report_id,),
    ).fetchall()
    local = [state for origin, state in states if origin == "local"]
    if "pending" in local:
        status = "waiting"
    elif local and local[-1] == "rejected":
        status = "rejected"
    elif local:
        status = "sent"
    else:
        status = "received"
    conn.execute(
        "UPDATE reports SET status = ?, heads = ? WHERE report_id = ?",
        (status, len(heads(conn, report_id)), report_id),
    )


def encode_parents(items: list[str]) -> str:
    """A version's parent list as stored (sorted JSON)."""
    return json.dumps(sorted(items))
