"""Alert rules: create, list, replace and delete them, and the mission's default rules.

A deleted rule is only marked deleted (``deleted_at``): the alerts it raised keep naming it and
its name. Every change is audited. The default rules are written once per database by
``peacewatch server`` at start (and by the demo seed), guarded by the ``meta`` flag below, so an
administrator who deletes them does not see them come back. (Not by the app factory: tests and
embedding code get a server with no rules unless they ask for them.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock
from ..access import Principal
from ..audit.service import record
from ..db.tables import alert_rules, meta
from ..problems import not_found
from .models import RuleIn

DEFAULTS_KEY = "alerts.default_rules_seeded"
HQ = ["hq_analyst", "protection_officer", "hr_officer"]

# The mission's starting rules, for the standard taxonomy. Restricted cases go to the protection
# team only; the other rules exclude restricted reports so that nobody outside the team is
# addressed about them (and the read policy would hide them anyway).
DEFAULT_RULES: list[dict[str, Any]] = [
    {"name": "Attack on civilians or killing, severity 4 or more",
     "conditions": {"categories": ["attack_on_civilians", "killing"], "min_severity": 4,
                    "confidentiality": ["public", "mission"]},
     "audience": {"roles": HQ},
     "escalation": [{"after_minutes": 15, "roles": ["commander"]}],
     "shareable": True},
    {"name": "Restricted case (protection team only)",
     "conditions": {"confidentiality": ["restricted"]},
     "audience": {"roles": ["protection_officer", "hr_officer"]},
     "escalation": []},
    {"name": "Abduction",
     "conditions": {"categories": ["abduction"], "confidentiality": ["public", "mission"]},
     "audience": {"roles": HQ},
     "escalation": [{"after_minutes": 30, "roles": ["commander"]}]},
    {"name": "Armed group movement: 3 reports within 24 h inside 10 km",
     "conditions": {"categories": ["armed_group_movement"], "confidentiality": ["public", "mission"],
                    "cluster": {"count": 3, "hours": 24, "km": 10}},
     "audience": {"roles": ["hq_analyst", "commander", "patrol"]},
     "escalation": [{"after_minutes": 30, "roles": ["protection_officer"]}]},
    {"name": "Armed clash near a sensitive site",
     "conditions": {"categories": ["armed_clash", "explosive_hazard"], "confidentiality": ["public", "mission"],
                    "near": {"km": 5}},
     "audience": {"roles": ["hq_analyst", "commander"]},
     "escalation": []},
]


def rule_out(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "enabled": bool(row["enabled"]), "conditions": row["conditions"],
            "audience": row["audience"], "escalation": row["escalation"], "shareable": bool(row["shareable"]),
            "created_at": row["created_at"].isoformat(), "updated_at": row["updated_at"].isoformat()}


def _values(rule: RuleIn) -> dict[str, Any]:
    dumped = rule.model_dump(mode="json", exclude_none=True)
    return {"name": dumped["name"], "enabled": dumped["enabled"], "conditions": dumped["conditions"],
            "audience": dumped["audience"], "escalation": dumped["escalation"], "shareable": dumped["shareable"]}


def ensure_defaults(conn: Connection) -> bool:
    """Write the default rules unless this database already had them once; True if written now."""
    if conn.execute(select(meta.c.key).where(meta.c.key == DEFAULTS_KEY)).first() is not None:
        return False
    ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    # Two workers starting at once: only the one that claims the flag writes the rules.
    claimed = conn.execute(ins(meta).values(key=DEFAULTS_KEY, value={"seeded": True})
                           .on_conflict_do_nothing(index_elements=[meta.c.key])).rowcount
    if not claimed:
        return False
    now = clock.now()
    for spec in DEFAULT_RULES:
        rule = RuleIn.model_validate(spec)
        conn.execute(insert(alert_rules).values(**_values(rule), created_at=now, updated_at=now))
    return True


def list_rules(conn: Connection) -> dict[str, Any]:
    """Every rule not deleted, oldest first."""
    rows = conn.execute(select(alert_rules).where(alert_rules.c.deleted_at.is_(None))
                        .order_by(alert_rules.c.id)).mappings().all()
    return {"items": [rule_out(r) for r in rows]}


def active_rules(conn: Connection) -> list[dict[str, Any]]:
    """The rules that raise alerts now (enabled, not deleted)."""
    rows = conn.execute(select(alert_rules).where(alert_rules.c.deleted_at.is_(None), alert_rules.c.enabled)
                        .order_by(alert_rules.c.id)).mappings().all()
    return [rule_out(r) for r in rows]


def get_rule(conn: Connection, rule_id: int, *, include_deleted: bool = False) -> dict[str, Any]:
    stmt = select(alert_rules).where(alert_rules.c.id == rule_id)
    if not include_deleted:
        stmt = stmt.where(alert_rules.c.deleted_at.is_(None))
    row = conn.execute(stmt).mappings().one_or_none()
    if row is None:
        raise not_found("alert rule")
    return rule_out(row)


def create_rule(conn: Connection, principal: Principal, *, rule: RuleIn) -> dict[str, Any]:
    """Store a new rule; it applies to versions stored from now on."""
    now = clock.now()
    rule_id = conn.execute(insert(alert_rules).values(**_values(rule), created_by=principal.user_id,
                                                      created_at=now, updated_at=now)
                           .returning(alert_rules.c.id)).scalar_one()
    record(conn, action="alert_rule_created", actor=principal.username, actor_user_id=principal.user_id,
           target=str(rule_id), detail={"name": rule.name})
    return get_rule(conn, rule_id)


def replace_rule(conn: Connection, principal: Principal, *, rule_id: int, rule: RuleIn) -> dict[str, Any]:
    """Replace a rule's definition; alerts it already raised keep their audience."""
    get_rule(conn, rule_id)
    conn.execute(update(alert_rules).where(alert_rules.c.id == rule_id)
                 .values(**_values(rule), updated_at=clock.now()))
    record(conn, action="alert_rule_changed", actor=principal.username, actor_user_id=principal.user_id,
           target=str(rule_id), detail={"name": rule.name})
    return get_rule(conn, rule_id)


def delete_rule(conn: Connection, principal: Principal, *, rule_id: int) -> dict[str, Any]:
    """Stop a rule raising alerts; its past alerts keep naming it."""
    rule = get_rule(conn, rule_id)
    conn.execute(update(alert_rules).where(alert_rules.c.id == rule_id).values(deleted_at=clock.now()))
    record(conn, action="alert_rule_deleted", actor=principal.username, actor_user_id=principal.user_id,
           target=str(rule_id), detail={"name": rule["name"]})
    return {"id": rule_id, "deleted": True}
