"""Who may see an alert, in SQL: its reader may read EVERY report it names, and it is addressed to them.

Readability is the read policy's own ``access.visible_clause`` applied to each named report's
current state, plus the alert's own confidentiality (the most restrictive of the versions that
raised it), so a report downgraded after a restricted version cannot expose that version's alert.
Addressing is the rule's audience (role, optionally limited to contingents) as grown by
escalation, stored per alert in ``alert_recipients``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select

from ..access import Permission, Principal, visible_clause
from ..db.tables import alert_recipients, alert_reports, alerts, reports

ANY_CONTINGENT = "*"


def readable_clause(p: Principal) -> ColumnElement[bool]:
    """The alerts every one of whose reports ``p`` may read."""
    if not p.may(Permission.READ_REPORTS):
        return false()
    unreadable = (
        select(alert_reports.c.report_id)
        .select_from(alert_reports.outerjoin(reports, reports.c.id == alert_reports.c.report_id))
        .where(alert_reports.c.alert_id == alerts.c.id,
               or_(reports.c.id.is_(None), not_(visible_clause(p, reports))))
    )
    own_level = alerts.c.confidentiality != "restricted" if not p.reads_restricted else alerts.c.id.is_not(None)
    return and_(own_level, not_(exists(unreadable)))


def addressed_clause(p: Principal) -> ColumnElement[bool]:
    """The alerts whose audience (so far escalated) includes ``p``'s role and contingent."""
    contingents: list[Any] = [ANY_CONTINGENT]
    if p.contingent_code:
        contingents.append(p.contingent_code)
    return exists(select(alert_recipients.c.alert_id).where(
        alert_recipients.c.alert_id == alerts.c.id, alert_recipients.c.role == p.role.value,
        alert_recipients.c.contingent.in_(contingents)))


def visible_alerts(p: Principal) -> ColumnElement[bool]:
    return and_(readable_clause(p), addressed_clause(p))
