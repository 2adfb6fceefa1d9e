"""Write and verify the hash-chained audit log.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical content, so
altering, inserting or removing a row breaks the chain from that row on; ``verify`` names the first
broken link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from .. import clock
from ..db.tables import audit_log
from ..feed import take_write_lock

GENESIS = "0" * 64


def _entry_hash(prev_hash: str, *, ts: datetime, actor: str, actor_user_id: int | None, device_id: str | None,
                action: str, target: str, detail: dict[str, Any]) -> str:
    content = {
        "ts": ts.isoformat(timespec="microseconds"),
        "actor": actor,
        "actor_user_id": actor_user_id,
        "device_id": device_id,
        "action": action,
        "target": target,
        "detail": detail,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def record(
    conn: Connection,
    *,
    action: str,
    actor: str = "",
    actor_user_id: int | None = None,
    device_id: str | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one audit entry chained to the last; returns its id."""
    take_write_lock(conn)
    detail = detail or {}
    prev = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
    prev_hash = prev or GENESIS
    # Microsecond precision survives both backends, so the hash is recomputable from the row.
    ts = clock.now()
    digest = _entry_hash(prev_hash, ts=ts, actor=actor, actor_user_id=actor_user_id, device_id=device_id,
                         action=action, target=target, detail=detail)
    result = conn.execute(
        insert(audit_log)
        .values(ts=ts, actor=actor, actor_user_id=actor_user_id, device_id=device_id, action=action,
                target=target, detail=detail, prev_hash=prev_hash, hash=digest)
        .returning(audit_log.c.id)
    )
    return int(result.scalar_one())


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_broken_id: int | None = None
    reason: str = ""


def verify(conn: Connection) -> Verification:
    """Walk the chain in id order and report the first entry whose link or content does not hold."""
    prev_hash = GENESIS
    count = 0
    expected_id: int | None = None
    for row in conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings():
        count += 1
        if expected_id is not None and row["id"] != expected_id:
            return Verification(False, count, row["id"], f"entries {expected_id}..{row['id'] - 1} are missing")
        if row["prev_hash"] != prev_hash:
            return Verification(False, count, row["id"], "link to the previous entry is broken (an entry was removed or altered)")
        digest = _entry_hash(prev_hash, ts=row["ts"], actor=row["actor"], actor_user_id=row["actor_user_id"],
                             device_id=row["device_id"], action=row["action"], target=row["target"],
                             detail=row["detail"])
        if digest != row["hash"]:
            return Verification(False, count, row["id"], "content does not match its hash (the entry was altered)")
        prev_hash = row["hash"]
        expected_id = row["id"] + 1
    return Verification(True, count)


def query(
    conn: Connection,
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Entries matching the filters, oldest first, after ``after_id`` (cursor)."""
    since, until = (t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t for t in (since, until))
    stmt = select(audit_log).where(audit_log.c.id > after_id)
    if action:
        stmt = stmt.where(audit_log.c.action == action)
    if actor:
        stmt = stmt.where(audit_log.c.actor == actor)
    if target:
        stmt = stmt.where(audit_log.c.target == target)
    if since:
        stmt = stmt.where(audit_log.c.ts >= since)
    if until:
        stmt = stmt.where(audit_log.c.ts < until)
    rows = conn.execute(stmt.order_by(audit_log.c.id).limit(limit)).mappings()
    return [dict(r) | {"ts": r["ts"].isoformat()} for r in rows]
