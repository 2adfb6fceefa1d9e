"""Raising alerts from the change feed, after the commit that stored the triggering version.

Alerts are a feed consumer (``ALERTS``, registered in ``server/subscriptions.py``): a push only
stores; the app's ``"soon"`` feed worker, woken by every commit that appended, and every reader
of alerts first (``ensure_current``) go through the feed's ``version`` changes after the cursor
``CURSOR_KEY`` in ``meta``, matching each changed report's current state against every active
rule. The cursor advances in the same transaction as the alerts it covers, under the consumer's
lock, and ``alerts`` has a unique (rule, trigger) constraint: so a version that arrives twice, two
workers at once, or a crash and restart raise each alert exactly once. Matching reads the
``reports`` projection, so the consumer ``needs`` it and never passes its cursor.

A trigger is ``report:<id>`` for a one-report rule (an edit that still matches raises nothing
new) and ``cluster:<first report id>`` for a cluster rule; a cluster that grows while its alert
is open adds its new reports to that alert rather than raising another.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock, feed_consumers
from ..access import most_restrictive
from ..db.tables import alert_recipients, alert_reports, alerts
from ..reports.projection import PROJECTION
from . import webhooks
from .matching import cluster_members, load_reports, matches
from .rules import active_rules
from .service import record_event, record_raised
from .visibility import ANY_CONTINGENT

log = logging.getLogger(__name__)

CURSOR_KEY = "alerts.raised_through_seq"
CHUNK = 500  # feed entries per transaction: bounded lock time; a crash redoes at most this much


def _insert(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def _audience_rows(alert_id: int, audience: dict[str, Any], level: int) -> list[dict[str, Any]]:
    return [{"alert_id": alert_id, "role": role, "contingent": contingent, "level": level}
            for role in audience["roles"] for contingent in audience.get("contingents") or [ANY_CONTINGENT]]


def add_recipients(conn: Connection, *, alert_id: int, audience: dict[str, Any], level: int) -> None:
    """Address the alert to an audience (insert-if-absent: an escalation may repeat a role)."""
    _address(conn, _audience_rows(alert_id, audience, level))


def _address(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_insert(conn)(alert_recipients).on_conflict_do_nothing(), rows)


@dataclass(frozen=True)
class Trigger:
    """One alert a rule calls for: the rule, its trigger key, the reports it names."""

    rule: dict[str, Any]
    key: str
    members: list[dict[str, Any]]
    seq: int
    version_confidentiality: str | None

    def values(self) -> dict[str, Any]:
        levels = [m["confidentiality"] for m in self.members] + (
            [self.version_confidentiality] if self.version_confidentiality else [])
        located = [m for m in self.members if m["lat"] is not None]
        return {"rule_id": self.rule["id"], "trigger_key": self.key, "confidentiality": most_restrictive(levels),
                "status": "new", "level": 0,
                "lat": sum(m["lat"] for m in located) / len(located) if located else None,
                "lon": sum(m["lon"] for m in located) / len(located) if located else None,
                "event_time": max(m["event_time"] for m in self.members), "raised_seq": self.seq,
                "raised_at": clock.now()}


def _raise(conn: Connection, triggers: list[Trigger]) -> int:
    """Insert the alerts of these triggers unless their (rule, trigger) exists, with their reports,
    recipients, "raised" events and webhook deliveries: a few statements however many alerts (a
    push of a hundred severe reports raises a hundred). Returns how many were raised now."""
    if not triggers:
        return 0
    values = [t.values() for t in triggers]
    # executemany ("insertmanyvalues"): one cached statement whatever the count, sent in batches.
    inserted = conn.execute(
        _insert(conn)(alerts).on_conflict_do_nothing(index_elements=[alerts.c.rule_id, alerts.c.trigger_key])
        .returning(alerts.c.id, alerts.c.rule_id, alerts.c.trigger_key), values).all()
    ids = {(r.rule_id, r.trigger_key): int(r.id) for r in inserted}
    raised = sorted(((ids[(t.rule["id"], t.key)], t, v["confidentiality"]) for t, v in zip(triggers, values, strict=True)
                     if (t.rule["id"], t.key) in ids), key=lambda x: x[0])
    if not raised:
        return 0
    conn.execute(insert(alert_reports), [{"alert_id": aid, "report_id": m["id"]} for aid, t, _ in raised
                                         for m in t.members])
    _address(conn, [row for aid, t, _ in raised for row in _audience_rows(aid, t.rule["audience"], 0)])
    events = record_raised(conn, {aid: level for aid, _, level in raised})
    webhooks.enqueue(conn, {aid: events[aid] for aid, t, level in raised
                            if t.rule["shareable"] and level != "restricted"})
    return len(raised)


def _grow_open_cluster(conn: Connection, rule: dict[str, Any], members: list[dict[str, Any]]) -> bool:
    """Add new members to this rule's open alert that already names one of them; True if there is one."""
    ids = [m["id"] for m in members]
    open_ids = conn.execute(
        select(alerts.c.id).join(alert_reports, alert_reports.c.alert_id == alerts.c.id)
        .where(alerts.c.rule_id == rule["id"], alerts.c.status != "closed", alert_reports.c.report_id.in_(ids))
        .order_by(alerts.c.id).limit(1)).scalar_one_or_none()
    if open_ids is None:
        return False
    have = set(conn.execute(select(alert_reports.c.report_id).where(alert_reports.c.alert_id == open_ids)).scalars())
    new = [m for m in members if m["id"] not in have]
    if new:
        conn.execute(insert(alert_reports), [{"alert_id": open_ids, "report_id": m["id"]} for m in new])
        levels = [m["confidentiality"] for m in new]
        current = conn.execute(select(alerts.c.confidentiality).where(alerts.c.id == open_ids)).scalar_one()
        level = most_restrictive([current, *levels])
        conn.execute(update(alerts).where(alerts.c.id == open_ids).values(confidentiality=level))
        record_event(conn, alert_id=open_ids, type_="grown", confidentiality=level)
    return True


def _triggers_for(conn: Connection, rules: list[dict[str, Any]], report: dict[str, Any], *, seq: int,
                  version_confidentiality: str | None, pending: list[Trigger]) -> None:
    """Add to ``pending`` the alerts this report's current state calls for. A cluster rule reads
    the alerts raised so far, so what is pending is raised first."""
    for rule in rules:
        cond = rule["conditions"]
        if not matches(conn, cond, report):
            continue
        if cond.get("cluster"):
            _raise(conn, pending)
            pending.clear()
            members = cluster_members(conn, cond, report)
            if not members or _grow_open_cluster(conn, rule, members):
                continue
            key = f"cluster:{members[0]['id']}"
        else:
            members, key = [report], f"report:{report['id']}"
        pending.append(Trigger(rule, key, members, seq, version_confidentiality))


def _raise_for(conn: Connection, changes: Sequence[Row[Any]], _computed: None) -> None:
    """The consumer's write: match the reports of these ``version`` changes against the active rules."""
    if not changes:
        return
    rules = active_rules(conn)
    # The most restrictive version confidentiality per report in this chunk, at its last seq.
    per_report: dict[str, tuple[int, str | None]] = {}
    for row in changes:
        prev = per_report.get(row.report_id)
        level = row.confidentiality if prev is None or prev[1] is None else most_restrictive(
            [prev[1], row.confidentiality or "public"])
        per_report[row.report_id] = (row.seq, level)
    if not rules:
        return
    reports = load_reports(conn, list(per_report))
    pending: list[Trigger] = []
    for report_id, (seq, level) in per_report.items():
        if report_id in reports:
            _triggers_for(conn, rules, reports[report_id], seq=seq, version_confidentiality=level, pending=pending)
    _raise(conn, pending)


ALERTS = feed_consumers.FeedConsumer(
    name=CURSOR_KEY,
    kinds=frozenset({"version"}),
    write=_raise_for,
    lock_key=7_000_103,
    timing="soon",  # seconds matter, but a push never waits for matching
    needs=(PROJECTION,),
    chunk=CHUNK,
    transaction=feed_consumers.durable_transaction,
)


def ensure_current(engine: Engine) -> None:
    """Raise what the stored versions call for (one cheap read when nothing waits)."""
    feed_consumers.ensure_current(engine, ALERTS)
