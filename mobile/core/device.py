"""The tablet's device id, and what changes when enrolment gives it a new one.

A version id is the hash of body, parents and device id (``common.versioning.version_id``), and
the server recomputes it with the device the request is authenticated as. Reports finalised
before the tablet was enrolled (or before it was re-enrolled after a revocation) carry the old
device id in their version ids, and the server would refuse them forever as ``device_mismatch``.
So adopting a new device id re-derives, in the same local transaction, the ids of every local
version the server has not accepted (pending, or refused while it carried another device), parents
first so children name their parents' new ids, with their parent edges, and the drafts begun
on them (``base_heads``). Only unsent versions can name unsent parents, so nothing else refers
to the old ids. Versions the server already holds
keep their ids: the server knows them by those.
"""

from __future__ import annotations

import json

import sqlcipher3

from peacewatch.common.versioning import version_id as compute_version_id
from peacewatch.mobile.core import dag
from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.store import Store


def adopt_device_id(store: Store, conn: sqlcipher3.Connection, device_id: str) -> int:
    """Make ``device_id`` this tablet's device id inside the caller's ``store.transaction()``.

    Returns how many unsent versions got new ids.
    """
    if not device_id:
        raise InvalidInput("device_id", "must not be empty")
    rows = conn.execute(
        "SELECT seq, version_id, report_id, body, parents FROM versions"
        " WHERE origin = 'local' AND state IN ('pending', 'rejected') AND device_id != ? ORDER BY seq",
        (device_id,),
    ).fetchall()
    renamed: dict[str, str] = {}
    touched: set[str] = set()
    for seq, old_id, report_id, body_json, parents_json in rows:
        parents = [renamed.get(p, p) for p in json.loads(parents_json)]
        new_id = compute_version_id(json.loads(body_json), parents, device_id)
        renamed[old_id] = new_id
        touched.add(report_id)
        conn.execute("DELETE FROM version_parents WHERE version_id = ?", (old_id,))
        if conn.execute("SELECT 1 FROM versions WHERE version_id = ?", (new_id,)).fetchone():
            conn.execute("DELETE FROM versions WHERE seq = ?", (seq,))  # already here under its new id
            continue
        conn.execute(
            "UPDATE versions SET version_id = ?, parents = ?, device_id = ?, state = 'pending',"
            " reject_reason = NULL WHERE seq = ?",
            (new_id, dag.encode_parents(parents), device_id, seq),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO version_parents (report_id, version_id, parent_id) VALUES (?, ?, ?)",
            [(report_id, new_id, p) for p in sorted(set(parents))],
        )
    if renamed:
        _rename_references(conn, renamed)
    for report_id in sorted(touched):
        dag.refresh_report(conn, report_id)
    store.set_meta(conn, "device_id", device_id)
    return len(renamed)


def _rename_references(conn: sqlcipher3.Connection, renamed: dict[str, str]) -> None:
    """Drafts' base heads (an edit begun on an unsent version must stay its child)."""
    for report_id, base_json in conn.execute("SELECT report_id, base_heads FROM drafts").fetchall():
        base = json.loads(base_json)
        if any(h in renamed for h in base):
            conn.execute("UPDATE drafts SET base_heads = ? WHERE report_id = ?",
                         (json.dumps([renamed.get(h, h) for h in base]), report_id))
