"""Model-based access test: random operation sequences by every role against a reference model.

A hypothesis ``RuleBasedStateMachine`` drives the real app (in-process, on SQLite and PostgreSQL)
through random sequences of: file a report, edit it (including downgrades, upgrades and
resolutions by push), upload a file, reference any known file, merge proposed duplicates, unmerge,
resolve a conflict, review, comment, give a task about a report, revoke a tablet, each by a random
principal of any role. A
small reference model, written from the access table in docs/security.md and not from the code,
says which writes are allowed and who may read which version, comment and file. After each step
the read paths of a few principals (all of them at the end of each sequence) must return exactly
what the model allows: the reports list, each report's detail, its history, the tasks list, the change feed,
attachment downloads, conflicts, duplicates and incidents, the CSV export and the dashboard's
report page; and a refused write must have stored nothing.

Every version's title is a unique token, so "which versions does this response show" is a set of
tokens found in its text. Seeded (``derandomize``) and bounded so each database takes seconds.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import _truncate_all
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from factories import PASSWORD, USERS, build_mission, report_body, version_entry
from peacewatch.server.access import Role
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import make_engine
from peacewatch.server.db.tables import comments, versions
from tests.web.helpers import csrf_of

LEVELS = ("public", "mission", "restricted")
RANK = {lvl: i for i, lvl in enumerate(LEVELS)}
PROTECTION = {Role.PROTECTION_OFFICER, Role.HR_OFFICER}
HQ = {Role.HQ_ANALYST} | PROTECTION
CONTINGENT = {"ALPHA": 1, "BRAVO": 2}  # build_mission creates them in this order
WRITERS = [u for u, (role, _) in USERS.items() if role is not Role.ADMIN]
TOKEN = re.compile(r"T\d{4}X")
FILES = [b"\xff\xd8\xff\xe0" + f"evidence photo {i}".encode() for i in range(4)]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------- the reference model


@dataclass
class Version:
    vid: str
    title: str
    level: str
    seq: int
    writer: str
    files: list[str]
    granted: dict[str, bool]


@dataclass
class Report:
    rid: str
    contingent: str
    author: str
    versions: dict[str, Version] = field(default_factory=dict)
    heads: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (token, level when written)
    incident: str | None = None


def role(user: str) -> Role:
    return USERS[user][0]


def contingent(user: str) -> str | None:
    return USERS[user][1]


def level_readable(user: str, level: str, rep: Report) -> bool:
    """The access table: who may read content written at ``level`` of report ``rep``."""
    r = role(user)
    if r is Role.ADMIN:
        return False
    if r in PROTECTION:
        return True
    if level == "restricted":
        return user == rep.author
    if r in HQ:
        return True
    return level == "public" or rep.contingent == contingent(user)


def shown(rep: Report) -> Version:
    """The head a report is listed with: the newest of its least restrictive heads."""
    return min((rep.versions[h] for h in rep.heads), key=lambda v: (RANK[v.level], -v.seq))


def visible(user: str, rep: Report) -> bool:
    return level_readable(user, shown(rep).level, rep)


def readable(user: str, rep: Report, level: str) -> bool:
    return visible(user, rep) and level_readable(user, level, rep)


@dataclass
class Task:
    """A task about a report; its title is a token."""

    rid: str
    creator: str
    user: str | None  # assigned to one person...
    contingent: str | None  # ...or to a contingent (for a person: theirs)


class Model:
    def __init__(self) -> None:
        self.reports: dict[str, Report] = {}
        self.holders: dict[str, set[str]] = {}
        self.seq = itertools.count(1)
        self.tasks: dict[str, Task] = {}

    def may_assign(self, user: str, rep: Report, to_user: str | None, to_contingent: str | None) -> bool:
        """HQ and commanders (their contingent only) give a task about a report its assignee may read."""
        r = role(user)
        if r not in HQ | {Role.COMMANDER} or not visible(user, rep):
            return False
        target = contingent(to_user) if to_user else to_contingent
        if r is Role.COMMANDER and target != contingent(user):
            return False
        if to_user:
            return role(to_user) is not Role.ADMIN and visible(to_user, rep)
        level = shown(rep).level
        return level != "restricted" and (level == "public" or rep.contingent == to_contingent)

    def sees_task(self, user: str, task: Task) -> bool:
        if role(user) is Role.ADMIN or not visible(user, self.reports[task.rid]):
            return False
        if role(user) in HQ or task.creator == user:
            return True
        if task.user is not None:
            return task.user == user or (role(user) is Role.COMMANDER and task.contingent == contingent(user))
        return task.contingent == contingent(user)

    def downloadable(self, user: str, digest: str) -> bool:
        for rep in self.reports.values():
            for v in rep.versions.values():
                if digest in v.files and readable(user, rep, v.level) and (
                        v.granted[digest] or v.writer in self.holders.get(digest, set())):
                    return True
        return False

    def may_edit(self, user: str, rep: Report, parents: list[str], level: str) -> bool:
        r = role(user)
        if r is Role.ADMIN or not visible(user, rep):
            return False
        if r not in HQ and rep.contingent != contingent(user):
            return False
        if not all(level_readable(user, rep.versions[p].level, rep) for p in parents):
            return False
        widening = RANK[level] < max(RANK[rep.versions[p].level] for p in parents)
        return not widening or self.may_widen(user, rep)

    def may_widen(self, user: str, rep: Report) -> bool:
        return user == rep.author or role(user) in PROTECTION or self.may_review(user, rep)

    def may_review(self, user: str, rep: Report) -> bool:
        r = role(user)
        if r not in HQ | {Role.COMMANDER} or not visible(user, rep):
            return False
        return r in HQ or rep.contingent == contingent(user)


# ------------------------------------------------------------------------------- the machine


class AccessMachine(RuleBasedStateMachine):
    """One sequence on one fresh database; ``fresh_url`` gives it."""

    fresh_url: Any = None
    tmp: Path = Path(".")

    def __init__(self) -> None:
        super().__init__()
        url = type(self).fresh_url()
        self.engine = make_engine(url)
        app_settings = Settings(data_dir=type(self).tmp / f"data-{next(_COUNTER)}", database_url=url)
        self.client = TestClient(create_app(app_settings, self.engine), base_url="https://testserver").__enter__()
        self.mission = build_mission(self.client, self.engine)
        self.model = Model()
        self.tokens = itertools.count(1000)
        self.step = 0
        self.revoked: set[str] = set()

    def teardown(self) -> None:
        try:
            for user in USERS:
                self.check_reads(user, dashboard=True, export=True)
        finally:
            self.client.__exit__(None, None, None)
            self.engine.dispose()

    # -- helpers --------------------------------------------------------------------------------
    def h(self, user: str) -> dict[str, str]:
        return self.mission.headers(user)

    def token(self) -> str:
        return f"T{next(self.tokens)}X"

    def stored_versions(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(versions)).scalar_one())

    def stored_comments(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(comments)).scalar_one())

    def push_version(self, user: str, rep_id: str | None, parents: list[str], level: str, files: list[str],
                     contingent_code: str) -> tuple[bool, str, str]:
        title = self.token()
        refs = [{"sha256": f, "size": 10, "media_type": "image/jpeg", "name": "e.jpg"} for f in files]
        body = report_body(contingent=contingent_code, confidentiality=level, title=title, attachments=refs,
                           author=user, **({"report_id": rep_id} if rep_id else {}))
        entry = version_entry(body, f"user:{user}", parents)
        before = self.stored_versions()
        r = self.client.post("/api/v1/sync/push", json={"versions": [entry]}, headers=self.h(user))
        if role(user) is Role.ADMIN:
            assert r.status_code == 403
            return False, "", title
        assert r.status_code == 200, r.text
        (result,) = r.json()["results"]
        ok = result["status"] == "stored"
        assert self.stored_versions() == before + (1 if ok else 0)
        return ok, entry["version_id"], title

    def add_version(self, user: str, rep: Report, vid: str, title: str, level: str, parents: list[str],
                    files: list[str]) -> None:
        granted = {f: user in self.model.holders.get(f, set()) or self.model.downloadable(user, f) for f in files}
        rep.versions[vid] = Version(vid, title, level, next(self.model.seq), user, files, granted)
        rep.heads = [h for h in rep.heads if h not in parents] + [vid]

    # -- rules -----------------------------------------------------------------------------------
    @initialize()
    def first_report(self) -> None:
        # One report by a patrol and one by its commander, so every role has something to try on.
        self.file(user="patrol_a", level="mission", use_file=None, dest="ALPHA")
        self.file(user="commander_a", level="mission", use_file=None, dest="ALPHA")
        # And tasks about them, whose readers change as the reports' levels do.
        first, second = self.model.reports.values()
        self.give_task("analyst", first, ("contingent", "ALPHA"))
        self.give_task("commander_a", second, ("user", "patrol_a"))

    @rule(user=st.sampled_from(list(USERS)), level=st.sampled_from(LEVELS),
          use_file=st.none() | st.sampled_from(range(len(FILES))), dest=st.sampled_from(["ALPHA", "BRAVO"]))
    def file(self, user: str, level: str, use_file: int | None, dest: str) -> None:
        code = contingent(user) or dest
        files = [sha(FILES[use_file])] if use_file is not None else []
        rid = report_body()["id"]
        ok, vid, title = self.push_version(user, rid, [], level, files, code)
        assert ok == (role(user) is not Role.ADMIN)
        if ok:
            rep = Report(rid, code, user)
            self.model.reports[rid] = rep
            self.add_version(user, rep, vid, title, level, [], files)

    @precondition(lambda self: self.model.reports)
    @rule(user=st.sampled_from(WRITERS), data=st.data(), level=st.sampled_from(LEVELS),
          all_heads=st.booleans(), ref=st.none() | st.sampled_from(range(len(FILES))))
    def edit(self, user: str, data: Any, level: str, all_heads: bool, ref: int | None) -> None:
        """An edit: downgrade, upgrade, attach or reference a file, a conflicting edit, a resolution by push."""
        rep = self.model.reports[data.draw(st.sampled_from(sorted(self.model.reports)))]
        # All heads (a resolution when several), or any one version (an old one makes a conflict).
        parents = list(rep.heads) if all_heads else [data.draw(st.sampled_from(sorted(rep.versions)))]
        self._edit(user, rep, parents, level, ref)

    @precondition(lambda self: self.model.reports)
    @rule(data=st.data())
    def widen(self, data: Any) -> None:
        """Someone other than its author makes a report public: allowed only to its reviewers."""
        rep = self.model.reports[data.draw(st.sampled_from(sorted(self.model.reports)))]
        same = [u for u in WRITERS if u != rep.author and contingent(u) == rep.contingent]
        user = data.draw(st.sampled_from(same or [u for u in WRITERS if u != rep.author]))
        self._edit(user, rep, list(rep.heads), "public", None)

    def _edit(self, user: str, rep: Report, parents: list[str], level: str, ref: int | None) -> None:
        files = list(shown(rep).files) + ([sha(FILES[ref])] if ref is not None else [])
        files = list(dict.fromkeys(files))
        allowed = self.model.may_edit(user, rep, parents, level)
        ok, vid, title = self.push_version(user, rep.rid, parents, level, files, rep.contingent)
        assert ok == allowed, (user, rep, parents, level)
        if ok:
            self.add_version(user, rep, vid, title, level, parents, files)

    @rule(user=st.sampled_from(WRITERS), which=st.sampled_from(range(len(FILES))))
    def upload(self, user: str, which: int) -> None:
        data = FILES[which]
        h = self.h(user) | {"Content-Type": "application/octet-stream"}
        assert self.client.put(f"/api/v1/chunks/{sha(data)}", content=data, headers=h).status_code in (200, 201)
        r = self.client.post(f"/api/v1/attachments/{sha(data)}", headers=self.h(user),
                             json={"chunks": [sha(data)], "size": len(data), "media_type": "image/jpeg"})
        assert r.status_code in (200, 201), r.text
        self.model.holders.setdefault(sha(data), set()).add(user)

    @precondition(lambda self: self.model.reports)
    @rule(user=st.sampled_from(list(USERS)), data=st.data())
    def resolve(self, user: str, data: Any) -> None:
        conflicted = sorted(rid for rid, rep in self.model.reports.items() if len(rep.heads) > 1)
        if not conflicted:
            return
        rep = self.model.reports[data.draw(st.sampled_from(conflicted))]
        pick = rep.versions[data.draw(st.sampled_from(sorted(rep.heads)))]
        before = self.stored_versions()
        r = self.client.post(f"/api/v1/reports/{rep.rid}/resolve", json={"pick": pick.vid}, headers=self.h(user))
        allowed = role(user) in HQ and self.model.may_edit(user, rep, list(rep.heads), pick.level)
        assert (r.status_code == 201) == allowed, (r.status_code, r.text, user)
        if allowed:
            self.add_version(user, rep, r.json()["version_id"], pick.title, pick.level, list(rep.heads), pick.files)
        else:
            assert self.stored_versions() == before

    @precondition(lambda self: self.model.reports)
    @rule(user=st.sampled_from(list(USERS)), data=st.data())
    def review(self, user: str, data: Any) -> None:
        rep = self.model.reports[data.draw(st.sampled_from(sorted(self.model.reports)))]
        token = self.token()
        r = self.client.post(f"/api/v1/reports/{rep.rid}/review", json={"status": "verified", "comment": token},
                             headers=self.h(user))
        assert (r.status_code == 201) == self.model.may_review(user, rep), (r.status_code, user)
        if r.status_code == 201:
            rep.notes.append((token, shown(rep).level))

    @precondition(lambda self: self.model.reports)
    @rule(user=st.sampled_from(list(USERS)), data=st.data())
    def comment(self, user: str, data: Any) -> None:
        rep = self.model.reports[data.draw(st.sampled_from(sorted(self.model.reports)))]
        token = self.token()
        before = self.stored_comments()
        r = self.client.post(f"/api/v1/reports/{rep.rid}/comments", json={"text": token}, headers=self.h(user))
        allowed = role(user) is not Role.ADMIN and visible(user, rep)
        assert (r.status_code == 201) == allowed, (r.status_code, user)
        if allowed:
            rep.notes.append((token, shown(rep).level))
        else:
            assert self.stored_comments() == before

    @rule(user=st.sampled_from(list(USERS)))
    def merge(self, user: str) -> None:
        r = self.client.get("/api/v1/duplicates", headers=self.h(user))
        if role(user) not in HQ:
            assert r.status_code == 403
            return
        assert r.status_code == 200
        for item in r.json()["items"]:  # listed only if both reports are readable
            assert all(visible(user, self.model.reports[x]) for x in (item["report_a"], item["report_b"]))
        if not r.json()["items"]:
            return
        item = r.json()["items"][0]
        c = self.client.post(f"/api/v1/duplicates/{item['id']}/confirm", headers=self.h(user))
        assert c.status_code in (201, 409), c.text
        if c.status_code == 201:
            for x in (item["report_a"], item["report_b"]):
                self.model.reports[x].incident = c.json()["id"]

    @rule(user=st.sampled_from(list(USERS)))
    def unmerge(self, user: str) -> None:
        merged = sorted({rep.incident for rep in self.model.reports.values() if rep.incident})
        if not merged:
            return
        members = [rep for rep in self.model.reports.values() if rep.incident == merged[0]]
        r = self.client.post(f"/api/v1/incidents/{merged[0]}/unmerge", headers=self.h(user))
        allowed = role(user) in HQ and all(visible(user, rep) for rep in members)
        assert (r.status_code == 200) == allowed, (r.status_code, r.text, user)
        if allowed:
            for rep in members:
                rep.incident = None

    @precondition(lambda self: self.model.reports)
    # Weighted towards those who may assign (every role still tries), so sequences hold tasks.
    @rule(user=st.sampled_from(["analyst", "protection", "commander_a", "commander_b", *USERS]), data=st.data(),
          to=st.sampled_from([("contingent", "ALPHA"), ("contingent", "BRAVO"), ("user", "patrol_a"),
                              *[("user", u) for u in USERS]]))
    def task(self, user: str, data: Any, to: tuple[str, str]) -> None:
        self.give_task(user, self.model.reports[data.draw(st.sampled_from(sorted(self.model.reports)))], to)

    def give_task(self, user: str, rep: Report, to: tuple[str, str]) -> None:
        title = self.token()
        r = self.client.post("/api/v1/tasks", headers=self.h(user), json={
            "source": {"kind": "report", "ref": rep.rid}, "title": title, "assignee": {to[0]: to[1]}})
        to_user, to_contingent = (to[1], None) if to[0] == "user" else (None, to[1])
        allowed = self.model.may_assign(user, rep, to_user, to_contingent)
        assert (r.status_code == 201) == allowed, (r.status_code, r.text, user, to)
        if role(user) not in HQ | {Role.COMMANDER}:
            assert r.status_code == 403
        elif not visible(user, rep):
            assert r.status_code == 404
        if allowed:
            self.model.tasks[title] = Task(rep.rid, user, to_user, contingent(to_user) if to_user else to_contingent)

    @rule(user=st.sampled_from(list(USERS)), owner=st.sampled_from(["patrol_a", "patrol_b"]))
    def revoke(self, user: str, owner: str) -> None:
        r = self.client.post(f"/api/v1/admin/devices/{self.mission.device_id(owner)}/revoke", headers=self.h(user))
        if role(user) is not Role.ADMIN:
            assert r.status_code == 403
        elif owner not in self.revoked:
            assert r.status_code == 204, r.text
        else:
            assert r.status_code < 500
        if r.status_code == 204:
            self.revoked.add(owner)

    # -- reads -----------------------------------------------------------------------------------
    @invariant()
    def reads_match_the_model(self) -> None:
        self.step += 1
        users = list(USERS)
        self.check_reads(users[self.step % len(users)])  # every principal in turn; all of them at the end
        for owner in ("patrol_a", "patrol_b"):
            r = self.client.get("/api/v1/sync/pull", headers=self.mission.device_headers(owner))
            assert (r.status_code == 401) == (owner in self.revoked)

    def check_reads(self, user: str, *, dashboard: bool = False, export: bool = False) -> None:
        m, h, r_ = self.model, self.h(user), role(user)
        if r_ is Role.ADMIN:
            assert self.client.get("/api/v1/reports", headers=h).status_code == 403
            return
        expect_ids = {rid for rid, rep in m.reports.items() if visible(user, rep)}
        listed = self.client.get("/api/v1/reports", params={"limit": 500}, headers=h).json()["items"]
        assert {x["id"] for x in listed} == expect_ids, user
        for x in listed:
            assert x["title"] == shown(m.reports[x["id"]]).title
        every_token: set[str] = set()
        allowed_tokens: set[str] = set()
        if dashboard:
            self.sign_in(user)
        for rid, rep in m.reports.items():
            every_token |= {v.title for v in rep.versions.values()} | {t for t, _ in rep.notes}
            readable_versions = {v.title for v in rep.versions.values() if readable(user, rep, v.level)}
            readable_notes = {t for t, lvl in rep.notes if readable(user, rep, lvl)}
            allowed_tokens |= readable_versions | readable_notes
            history = self.client.get(f"/api/v1/reports/{rid}/versions", headers=h)
            detail = self.client.get(f"/api/v1/reports/{rid}", headers=h)
            if rid not in expect_ids:
                assert history.status_code == detail.status_code == 404
                continue
            assert {v["body"]["title"] for v in history.json()} == readable_versions, (user, rid)
            got = set(TOKEN.findall(detail.text))
            heads = {rep.versions[x].title for x in rep.heads if level_readable(user, rep.versions[x].level, rep)}
            assert got == heads | readable_notes, (user, rid)
            if dashboard:
                page = set(TOKEN.findall(self.client.get(f"/reports/{rid}").text))
                own = readable_versions | readable_notes | heads
                # An analyst's page also lists possible duplicates: other reports, each as listed to them.
                others = {shown(o).title for oid, o in m.reports.items()
                          if oid != rid and visible(user, o)} if r_ in HQ else set()
                assert own <= page and page - own <= others, (user, rid, page - own)
        my_tasks = {t for t, task in m.tasks.items() if m.sees_task(user, task)}
        tasks = self.client.get("/api/v1/tasks", headers=h).json()["tasks"]
        assert {t["title"] for t in tasks} == my_tasks, user
        assert not set(TOKEN.findall(str(tasks))) - my_tasks, user
        pulled = self.client.get("/api/v1/sync/pull", params={"limit": 1000}, headers=h).json()
        assert set(TOKEN.findall(str(pulled["changes"]))) == allowed_tokens | my_tasks, user
        for digest in map(sha, FILES):
            status = self.client.get(f"/api/v1/attachments/{digest}", headers=h).status_code
            assert (status == 200) == m.downloadable(user, digest), (user, digest, status)
        if r_ in HQ:
            conflicts = self.client.get("/api/v1/conflicts", headers=h).json()["items"]
            expect = {rid: {rep.versions[x].title for x in rep.heads if readable(user, rep, rep.versions[x].level)}
                      for rid, rep in m.reports.items() if len(rep.heads) > 1 and rid in expect_ids}
            assert {c["report_id"]: {x["body"]["title"] for x in c["heads"]} for c in conflicts} == expect, user
            for inc in {rep.incident for rep in m.reports.values() if rep.incident}:
                members = {rid for rid, rep in m.reports.items() if rep.incident == inc and rid in expect_ids}
                r = self.client.get(f"/api/v1/incidents/{inc}", headers=h)
                assert {s["id"] for s in r.json()["sources"]} == members if members else r.status_code == 404
        if export and r_ in HQ | {Role.COMMANDER}:
            csv = self.client.get("/api/v1/exports/csv", headers=h).text
            assert set(TOKEN.findall(csv)) == {shown(m.reports[rid]).title for rid in expect_ids}, user
        assert not (set(TOKEN.findall(str(listed))) - allowed_tokens)
        assert every_token >= allowed_tokens

    def sign_in(self, user: str) -> None:
        self.client.cookies.clear()
        form = self.client.get("/login")
        r = self.client.post("/login", data={"username": user, "password": PASSWORD, "csrf": csrf_of(form.text),
                                             "next": ""}, follow_redirects=False)
        assert r.status_code == 303, r.text


_COUNTER = itertools.count()


def test_reads_and_writes_follow_the_access_model(db_url: str, request: pytest.FixtureRequest,
                                                  tmp_path: Path) -> None:
    if db_url.startswith("sqlite"):
        template = request.getfixturevalue("sqlite_template")

        def fresh() -> str:
            path = tmp_path / f"model-{next(_COUNTER)}.db"
            shutil.copy(template, path)
            return f"sqlite:///{path}"
    else:
        def fresh() -> str:
            _truncate_all(db_url)
            # This test is about access, not durability: commits need not wait for the disk.
            return db_url + "?options=-c%20synchronous_commit%3Doff"

    machine = type("Machine", (AccessMachine,), {"fresh_url": staticmethod(fresh), "tmp": tmp_path})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=5, stateful_step_count=12, derandomize=True, database=None, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
