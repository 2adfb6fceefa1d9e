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
| admin | no report content | users, contingents, devices, reference data, audit, alert rules, SMS gateways, sharing agreements |
| liaison | as patrol (own base's contingent) | log and triage community alerts, reply to callers, read caller identity |
| sector (a sector server) | its contingents' public+mission reports, every ``public`` one, the restricted it relayed | push its tablets' versions as they made them (``replicates``) |

A protection officer alone approves sharing agreements that touch human-rights concerns or restricted
cases. A sharing partner is a principal of its own (``Permission.PARTNER``, its API key): it reads only
its agreement's feed, never through a user role.

Tasks (``server/tasks``) are created by HQ and commanders (``ASSIGN_TASKS``; a commander only for their
own contingent) and read with ``READ_REPORTS`` under ``can_see_task``/``task_clause``: HQ sees every
task, others the tasks assigned to them, to their contingent (unless assigned to one person) or
created by them; and a task about a report only who may read that report. Follow-up of human-rights
concerns (case status, next action, due date, officer) is ``CASEWORK``: the protection team only.

Community alerts (``server/community``) are read with ``COMMUNITY`` (liaison and HQ); the caller's
identity (phone number, name, relationship) only with ``CALLER_IDENTITY`` (liaison and the protection
team), and every such read is audited.

**Every version is read under its own confidentiality** (``can_read_version``, ``level_clause``):
a version, a review or a comment is shown only to who may read the report now AND may read the
level it was written at, so an old restricted version of a report since downgraded stays with the
protection team and the report's author. A report is listed at the level of its least restrictive
head (``reports.versions``), so a conflict between a ``mission`` and a ``restricted`` head does not
make the report vanish from its contingent; the restricted head itself stays hidden.

**Write policy** (``check_write``, one call per version in the push, used by ``/resolve`` too):

| rule | why |
| --- | --- |
| an edit needs read access to the report AND to every parent version; contingent roles edit only their contingent's reports | nobody writes from what they may not see |
| widening confidentiality (new level below the most restrictive parent) only by the report's author, the protection team, or a reviewer of the report | a patrol cannot publish a colleague's report |
| the contingent never changes (``reports.versions``) | visibility is keyed on it |
| ``author`` is the report's first filer, set by the server | never taken from the body |
| a writer who cannot read names (``redact``) gets the parents' hidden names carried over; where that is ambiguous (parents disagree, a hidden person removed or overwritten) the version is refused | a redacted view never erases what its writer could not see |

Resolving a conflict by push (a version naming several heads) obeys exactly these rules, as does
``POST /reports/{id}/resolve``; that route only adds that it is an HQ tool.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, or_, true

from ..common.taxonomy import UnknownCategory, load_taxonomy


class Role(StrEnum):
    PATROL = "patrol"
    COMMANDER = "commander"
    HQ_ANALYST = "hq_analyst"
    PROTECTION_OFFICER = "protection_officer"
    HR_OFFICER = "hr_officer"
    ADMIN = "admin"
    LIAISON = "liaison"  # community liaison assistant: hotline, SMS triage, replies to callers
    # A sector's own server replicating to mission HQ (``server/federation``): pushes the versions
    # its contingents' tablets wrote, pulls what the mission lets down; never a person.
    SECTOR = "sector"


class Permission(StrEnum):
    PUBLIC = "public"  # no sign-in: health, schema, sign-in, enrolment
    AUTHENTICATED = "authenticated"  # any signed-in user: own profile, sign-out, reference data
    # Own sign-in settings (two-factor enrolment, who am I, sign-out): the only thing a session may
    # do while the mission requires two-factor sign-in of its user and they have not enrolled.
    SIGN_IN = "sign_in"
    READ_REPORTS = "read_reports"
    SUBMIT = "submit"
    REVIEW = "review"
    ANALYSE = "analyse"  # duplicates, conflicts, incidents, hotspots
    EXPORT = "export"
    ADMIN = "admin"
    ALERT_RULES = "alert_rules"  # manage alert rules: HQ (analysts, protection team) and admin
    COMMUNITY = "community"  # log, triage and answer community alerts: liaison and HQ
    CALLER_IDENTITY = "caller_identity"  # read a caller's phone, name, relationship: liaison, protection team
    # A protection officer's sign-off on a sharing agreement that touches human-rights concerns
    # or restricted cases (server/sharing).
    APPROVE_SHARING = "approve_sharing"
    # A sharing partner's API key: no user role holds it; partners are principals of their own.
    PARTNER = "partner"
    ASSIGN_TASKS = "assign_tasks"  # create and cancel tasks (server/tasks): HQ and contingent commanders
    CASEWORK = "casework"  # follow-up of human-rights concerns: the protection team only


PROTECTION_TEAM = frozenset({Role.PROTECTION_OFFICER, Role.HR_OFFICER})
HQ_ROLES = frozenset({Role.HQ_ANALYST}) | PROTECTION_TEAM
# Roles that belong to a contingent: a liaison assistant works at one contingent's base, and the
# reports written from the community alerts it confirms are filed for that contingent.
CONTINGENT_ROLES = frozenset({Role.PATROL, Role.COMMANDER, Role.LIAISON})

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
    Role.LIAISON: frozenset({Permission.READ_REPORTS, Permission.SUBMIT, Permission.COMMUNITY,
                             Permission.CALLER_IDENTITY}),
    Role.SECTOR: frozenset({Permission.READ_REPORTS, Permission.SUBMIT}),
}
for _role in Role:
    ROLE_PERMISSIONS[_role] |= {Permission.PUBLIC, Permission.AUTHENTICATED, Permission.SIGN_IN}
# Rules hold no report content, so the administrator may manage them beside HQ.
for _role in (*HQ_ROLES, Role.ADMIN):
    ROLE_PERMISSIONS[_role] |= {Permission.ALERT_RULES}
# HQ sees the community triage queue beside the liaison; only the protection team reads who called.
for _role in HQ_ROLES:
    ROLE_PERMISSIONS[_role] |= {Permission.COMMUNITY}
for _role in PROTECTION_TEAM:
    ROLE_PERMISSIONS[_role] |= {Permission.CALLER_IDENTITY, Permission.CASEWORK}
for _role in (*HQ_ROLES, Role.COMMANDER):
    ROLE_PERMISSIONS[_role] |= {Permission.ASSIGN_TASKS}

# What a session limited to two-factor enrolment may do.
ENROLMENT_ONLY = frozenset({Permission.PUBLIC, Permission.SIGN_IN})

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
    two_factor_pending: bool = False  # signed in by password only; must enrol a second factor first
    # A federated sector's contingents (``Role.SECTOR``): it reads and writes for each of them.
    sector_contingents: frozenset[int] = frozenset()

    @property
    def contingents(self) -> frozenset[int]:
        """The contingents whose reports this principal reads and writes as its own contingent's."""
        if self.sector_contingents:
            return self.sector_contingents
        return frozenset({self.contingent_id}) if self.contingent_id is not None else frozenset()

    @property
    def replicates(self) -> bool:
        """Pushes versions other devices wrote (a sector server): ids and authors are kept as sent."""
        return self.role == Role.SECTOR

    def may(self, permission: Permission) -> bool:
        if self.two_factor_pending:
            return permission in ENROLMENT_ONLY
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
    return contingent_id in p.contingents or confidentiality == "public"


def _own_contingent(p: Principal, contingent_id: Any) -> ColumnElement[bool]:
    if p.sector_contingents:
        return contingent_id.in_(sorted(p.sector_contingents))
    return contingent_id == p.contingent_id


def visible_clause(p: Principal, table: Table) -> ColumnElement[bool]:
    """SQL filter on a table with ``contingent_id``, ``confidentiality``, ``author_user_id`` columns."""
    c = table.c
    return level_clause(p, c.confidentiality, contingent_id=c.contingent_id, author_user_id=c.author_user_id)


def level_clause(p: Principal, level: Any, *, contingent_id: Any, author_user_id: Any) -> ColumnElement[bool]:
    """SQL form of ``can_read`` on any columns: a report's, or a version's level with its report's keys.

    A NULL level (a change that carries none) counts as restricted: refusing is the safe error.
    """
    if not p.may(Permission.READ_REPORTS):
        return false()
    if p.reads_restricted:
        return true()
    restricted = or_(level.is_(None), level == "restricted")
    own_restricted = and_(restricted, author_user_id == p.user_id)
    if p.role in HQ_ROLES:
        return or_(~restricted, own_restricted)
    shared = or_(_own_contingent(p, contingent_id), level == "public")
    return or_(and_(~restricted, shared), own_restricted)


def level_of(body: Mapping[str, Any] | None) -> str:
    """A stored version's confidentiality; a body that does not say gets the default-confidentiality rule."""
    level = (body or {}).get("confidentiality")
    if level in CONFIDENTIALITY_RANK:
        return str(level)
    try:
        return load_taxonomy().initial_confidentiality(str((body or {}).get("category")))
    except UnknownCategory:
        return "restricted"


def can_read_version(p: Principal, report: Mapping[str, Any], level: str) -> bool:
    """May ``p`` read a version (or review, comment) written at ``level`` of this report (a ``reports`` row)?"""
    keys = {"contingent_id": report["contingent_id"], "author_user_id": report["author_user_id"]}
    return can_read(p, confidentiality=report["confidentiality"], **keys) and can_read(p, confidentiality=level,
                                                                                        **keys)


def can_see_task(p: Principal, task: Mapping[str, Any], report: Mapping[str, Any] | None) -> bool:
    """May ``p`` see this task (a ``tasks`` row; ``report`` the ``reports`` row it is about, if any)?"""
    if not p.may(Permission.READ_REPORTS):
        return False
    if report is not None and not can_read(p, contingent_id=report["contingent_id"],
                                           confidentiality=report["confidentiality"],
                                           author_user_id=report["author_user_id"]):
        return False
    if p.role in HQ_ROLES or task["created_by"] == p.user_id:
        return True
    if task["assignee_user_id"] is not None:
        # One person's task: theirs, and their commander's to follow.
        return task["assignee_user_id"] == p.user_id or (
            p.role == Role.COMMANDER and task["contingent_id"] == p.contingent_id)
    return task["contingent_id"] is not None and task["contingent_id"] == p.contingent_id


def task_clause(p: Principal, tasks: Table, report: Table) -> ColumnElement[bool]:
    """SQL form of ``can_see_task`` on ``tasks`` outer-joined to the ``reports`` row it is about."""
    if not p.may(Permission.READ_REPORTS):
        return false()
    about_readable = or_(tasks.c.report_id.is_(None), visible_clause(p, report))
    if p.role in HQ_ROLES:
        return about_readable
    t = tasks.c
    mine = or_(t.created_by == p.user_id, t.assignee_user_id == p.user_id,
               and_(t.assignee_user_id.is_(None), t.contingent_id == p.contingent_id))
    if p.role == Role.COMMANDER:
        mine = or_(mine, t.contingent_id == p.contingent_id)
    return and_(about_readable, mine)


def can_review(p: Principal, *, contingent_id: int, confidentiality: str, author_user_id: int) -> bool:
    if not p.may(Permission.REVIEW) or not can_read(
        p, contingent_id=contingent_id, confidentiality=confidentiality, author_user_id=author_user_id
    ):
        return False
    return p.role in HQ_ROLES or contingent_id in p.contingents


def most_restrictive(levels: list[str]) -> str:
    return max(levels, key=lambda lvl: CONFIDENTIALITY_RANK.get(lvl, 2))


PERSON_LISTS = ("victims", "witnesses", "alleged_perpetrators")


def redaction_class(p: Principal) -> bool:
    """Principals of one class get the same ``redact`` of any body (pull reuses it across them)."""
    return p.reads_restricted


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


# ---------------------------------------------------------------------------------------------------
# Write policy


@dataclass(frozen=True)
class Refusal:
    """Why a version may not be stored: a stable ``code``, the ``field`` it is about, plain words."""

    code: str
    field: str
    reason: str


def may_widen(p: Principal, report: Mapping[str, Any]) -> bool:
    """May ``p`` make this report readable by more people? Its author, the protection team, its reviewers."""
    return (report["author_user_id"] == p.user_id or p.reads_restricted
            or can_review(p, contingent_id=report["contingent_id"], confidentiality=report["confidentiality"],
                          author_user_id=report["author_user_id"]))


def check_write(p: Principal, *, report: Mapping[str, Any] | None, parents: Sequence[Mapping[str, Any]],
                body: dict[str, Any]) -> dict[str, Any] | Refusal:
    """The body to store for a version ``p`` writes, or why it is refused. The one write rule.

    ``report`` is the report's ``reports`` row plus ``author_username`` (None for a new report);
    ``parents`` are the full stored bodies of the version's parents; ``body`` is the canonical body
    sent. The returned body has the server's ``author`` and any names carried over from the parents.
    """
    if not p.may(Permission.SUBMIT):
        return Refusal("forbidden", "report_id", f"the {p.role.value} role may not write reports")
    out = dict(body)
    if p.replicates:
        # A sector server sends versions its own server already checked, authored by its users:
        # the author stays as sent (one name, no person of the mission's), nothing is carried over.
        if not isinstance(out.get("author"), str) or not out["author"].strip():
            return Refusal("invalid_report", "body.author", "a replicated version names its author")
        if report is not None and (report["contingent_id"] not in p.contingents or not can_read(
                p, contingent_id=report["contingent_id"], confidentiality=report["confidentiality"],
                author_user_id=report["author_user_id"])):
            return Refusal("forbidden", "report_id", "you may not edit this report")
        return out
    if report is None:
        out["author"] = p.username
        return out
    if not can_read(p, contingent_id=report["contingent_id"], confidentiality=report["confidentiality"],
                    author_user_id=report["author_user_id"]) or (
            p.role not in HQ_ROLES and report["contingent_id"] not in p.contingents):
        return Refusal("forbidden", "report_id", "you may not edit this report")
    levels = [level_of(b) for b in parents]
    if not all(can_read_version(p, report, lvl) for lvl in levels):
        return Refusal("forbidden", "parents", "you may not edit from a version you may not read")
    new_level = level_of(out)
    if levels and CONFIDENTIALITY_RANK[new_level] < max(CONFIDENTIALITY_RANK[lvl] for lvl in levels) \
            and not may_widen(p, report):
        return Refusal("confidentiality_widened", "body.confidentiality",
                       "only the report's author, its reviewers or the protection team may make it readable "
                       "by more people")
    out["author"] = report["author_username"]
    if report.get("author_role") == Role.SECTOR.value and parents and isinstance(parents[0].get("author"), str):
        # A report a sector server relayed: its author is the sector's patrol, not the sector.
        out["author"] = parents[0]["author"]
    if p.reads_restricted:
        return out
    carried = carry_hidden(out, parents)
    if carried is None:
        return Refusal("hidden_fields", "body.victims",
                       "this report names people you may not see, and this version would change or drop them; "
                       "ask the protection team")
    return carried


HIDDEN_PERSON_FIELDS = ("name", "description")


def redact_fields_differ(sent: Any, decided: Any) -> bool:
    """Did ``carry_hidden`` put back a hidden value into this list of people?"""
    sent_people, decided_people = sent or [], decided or []
    if len(sent_people) != len(decided_people):
        return True
    return any(isinstance(a, Mapping) and a.get(f) != b.get(f)
               for a, b in zip(sent_people, decided_people, strict=True) for f in HIDDEN_PERSON_FIELDS)


def carry_hidden(body: dict[str, Any], parents: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """``body`` with the parents' hidden person fields put back where the writer left them empty.

    For a writer who reads redacted bodies: every non-empty hidden value of a parent (a person's
    name or description) must come back at the same place, either sent as is (a tablet that wrote
    it keeps it) or left empty (filled here from the parent). None when that is impossible or
    ambiguous: a hidden person removed, a hidden value overwritten, or parents that disagree.
    """
    out = copy.deepcopy(body)
    wanted: dict[tuple[str, int, str], Any] = {}
    for parent in parents:
        for key in PERSON_LISTS:
            for i, person in enumerate(parent.get(key) or []):
                for fld in HIDDEN_PERSON_FIELDS:
                    value = person.get(fld) if isinstance(person, Mapping) else None
                    if not value:
                        continue
                    spot = (key, i, fld)
                    if spot in wanted and wanted[spot] != value:
                        return None  # the parents disagree on something the writer cannot see
                    wanted[spot] = value
    for (key, i, fld), value in wanted.items():
        people = out.get(key) or []
        if i >= len(people) or not isinstance(people[i], dict):
            return None
        sent = people[i].get(fld)
        if sent in (None, ""):
            people[i][fld] = value
        elif sent != value:
            return None
    return out
