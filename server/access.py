"""The one access policy: who may call which route, read which report, and see which field.

Every route declares a ``Permission`` through ``require`` (the every-route-every-role test fails for
a route that does not). Report visibility is one rule, expressed twice from the same table below:
``can_read`` for a row in hand and ``visible_clause`` for SQL, so lists, pulls, exports and
hotspots filter in the database exactly as single reads do.

| role | reads | may also |
| --- | --- | --- |
| patrol | own contingent's public+mission reports, every ``public`` report, own restricted ones | submit |
| commander | as patrol | submit, review own contingent, export |
| hq_analyst | every public+mission report, own restricted ones | review, analyse, export |
| protection_officer, hr_officer | everything, restricted included | review, analyse, export |
| admin | no report content | users, contingents, devices, reference data, audit, sharing agreements |

A protection officer alone approves sharing agreements that touch human-rights concerns or restricted
cases. A sharing partner is a principal of its own (``Permission.PARTNER``, its API key): it reads only
its agreement's feed, never through a user role.

A report's confidentiality is the most restrictive of its heads, so a conflict cannot leak.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, or_, true


class Role(StrEnum):
    PATROL = "patrol"
    COMMANDER = "commander"
    HQ_ANALYST = "hq_analyst"
    PROTECTION_OFFICER = "protection_officer"
    HR_OFFICER = "hr_officer"
    ADMIN = "admin"


class Permission(StrEnum):
    PUBLIC = "public"  # no sign-in: health, schema, sign-in, enrolment
    AUTHENTICATED = "authenticated"  # any signed-in user: own profile, sign-out, reference data
    READ_REPORTS = "read_reports"
    SUBMIT = "submit"
    REVIEW = "review"
    ANALYSE = "analyse"  # duplicates, conflicts, incidents, hotspots
    EXPORT = "export"
    ADMIN = "admin"
    # A protection officer's sign-off on a sharing agreement that touches human-rights concerns
    # or restricted cases (server/sharing).
    APPROVE_SHARING = "approve_sharing"
    # A sharing partner's API key: no user role holds it; partners are principals of their own.
    PARTNER = "partner"


PROTECTION_TEAM = frozenset({Role.PROTECTION_OFFICER, Role.HR_OFFICER})
HQ_ROLES = frozenset({Role.HQ_ANALYST}) | PROTECTION_TEAM
CONTINGENT_ROLES = frozenset({Role.PATROL, Role.COMMANDER})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PATROL: frozenset({Permission.READ_REPORTS, Permission.SUBMIT}),
    Role.COMMANDER: frozenset({Permission.READ_REPORTS, Permission.SUBMIT, Permission.REVIEW, Permission.EXPORT}),
    Role.HQ_ANALYST: frozenset(
        {Permission.READ_REPORTS, Permission.SUBMIT, Permission.REVIEW, Permission.ANALYSE, Permission.EXPORT}
    ),
    Role.PROTECTION_OFFICER: frozenset(
        {Permission.READ_REPORTS, Permission.SUBMIT, Permission.REVIEW, Permission.ANALYSE, Permission.EXPORT,
         Permission.APPROVE_SHARING}
    ),
    Role.HR_OFFICER: frozenset(
        {Permission.READ_REPORTS, Permission.SUBMIT, Permission.REVIEW, Permission.ANALYSE, Permission.EXPORT}
    ),
    Role.ADMIN: frozenset({Permission.ADMIN}),
}
for _role in Role:
    ROLE_PERMISSIONS[_role] |= {Permission.PUBLIC, Permission.AUTHENTICATED}

CONFIDENTIALITY_RANK = {"public": 0, "mission": 1, "restricted": 2}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the signed-in user and, for a tablet, its device."""

    user_id: int
    username: str
    role: Role
    contingent_id: int | None
    contingent_code: str | None = None
    device_id: str | None = None

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def reads_restricted(self) -> bool:
        return self.role in PROTECTION_TEAM


def can_read(p: Principal, *, contingent_id: int, confidentiality: str, author_user_id: int) -> bool:
    """May ``p`` read a report with these attributes? The row form of ``visible_clause``."""
    if not p.may(Permission.READ_REPORTS):
        return False
    if p.reads_restricted:
        return True
    if confidentiality == "restricted":
        return author_user_id == p.user_id
    if p.role in HQ_ROLES:
        return True
    return contingent_id == p.contingent_id or confidentiality == "public"


def visible_clause(p: Principal, table: Table) -> ColumnElement[bool]:
    """SQL filter on a table with ``contingent_id``, ``confidentiality``, ``author_user_id`` columns."""
    c = table.c
    if not p.may(Permission.READ_REPORTS):
        return false()
    if p.reads_restricted:
        return true()
    own_restricted = and_(c.confidentiality == "restricted", c.author_user_id == p.user_id)
    if p.role in HQ_ROLES:
        return or_(c.confidentiality != "restricted", own_restricted)
    shared = or_(c.contingent_id == p.contingent_id, c.confidentiality == "public")
    return or_(and_(c.confidentiality != "restricted", shared), own_restricted)


def can_review(p: Principal, *, contingent_id: int, confidentiality: str, author_user_id: int) -> bool:
    if not p.may(Permission.REVIEW) or not can_read(
        p, contingent_id=contingent_id, confidentiality=confidentiality, author_user_id=author_user_id
    ):
        return False
    return p.role in HQ_ROLES or contingent_id == p.contingent_id


def most_restrictive(levels: list[str]) -> str:
    return max(levels, key=lambda lvl: CONFIDENTIALITY_RANK.get(lvl, 2))


PERSON_LISTS = ("victims", "witnesses", "alleged_perpetrators")


def redact(p: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A copy of a report body without the fields ``p`` may not read (names of people)."""
    if p.reads_restricted or not any(body.get(k) for k in PERSON_LISTS):
        return body
    out = copy.deepcopy(body)
    for key in PERSON_LISTS:
        for person in out.get(key) or []:
            if person.get("name") is not None:
                person["name"] = None
            if person.get("description"):
                person["description"] = None
    return out
