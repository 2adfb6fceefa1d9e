"""``peacewatch seed``: build the demo mission (see ``server/demo_mission.py``) through the real services."""

# Services are imported inside the command functions: every ``peacewatch`` invocation imports this
# module to build its parser, and only the command that runs should pay for them (``server/cli.py``).
from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from .. import clock
from ..access import Principal, Role
from ..cli import settings_from
from ..db.engine import WRITE, make_engine
from ..db.migrate import upgrade
from ..db.tables import contingents, users
from ..demo_mission import CONTINGENTS, DEMO_PASSWORD, MISSION_AREA, PLACES, SENSITIVE_SITES, plan_reports


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("seed", parents=[parent], help="create a demo mission with users, tablets and reports",
                       description="Seed a plausible demo mission (Ituri, DRC) into the database.")
    p.add_argument("--reports", type=int, default=2000, help="number of reports (default 2000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same mission)")
    p.set_defaults(func=run)


def _reference(conn: Connection) -> None:
    from ..reference.service import upsert

    admin_id = conn.execute(select(users.c.id).where(users.c.username == "admin")).scalar_one()
    admin = Principal(user_id=admin_id, username="admin", role=Role.ADMIN, contingent_id=None)

    def point(lat: float, lon: float) -> dict[str, Any]:
        return {"type": "Point", "coordinates": [lon, lat]}

    for en, fr, ar, lat, lon in PLACES:
        upsert(conn, admin, item_id=f"place-{en.lower()}", kind="place", names={"en": en, "fr": fr, "ar": ar},
               geometry=point(lat, lon), properties={})
    for kind, en, fr, ar, lat, lon in SENSITIVE_SITES:
        upsert(conn, admin, item_id=f"site-{en.lower().replace(' ', '-')}", kind="sensitive_site",
               names={"en": en, "fr": fr, "ar": ar}, geometry=point(lat, lon), properties={"site_type": kind})
    upsert(conn, admin, item_id="mission-area", kind="mission_area",
           names={"en": "Ituri area of operations", "fr": "Zone d'opérations de l'Ituri", "ar": "منطقة عمليات إيتوري"},
           geometry={"type": "Polygon", "coordinates": [[list(p) for p in MISSION_AREA]]}, properties={})


def _people(conn: Connection) -> list[tuple[str, str]]:
    from ..users.service import create_contingent, create_user

    sign_ins: list[tuple[str, str]] = []
    for code, name, country, _base in CONTINGENTS:
        create_contingent(conn, code=code, name=name, country=country, actor="seed")
        for username, role in ((f"{code.lower()}.cmd", Role.COMMANDER), (f"{code.lower()}.patrol1", Role.PATROL),
                               (f"{code.lower()}.patrol2", Role.PATROL)):
            create_user(conn, username=username, password=DEMO_PASSWORD, role=role, contingent=code, actor="seed",
                        enforce_policy=False)
            sign_ins.append((username, role.value))
    for username, role in (("analyst", Role.HQ_ANALYST), ("protection", Role.PROTECTION_OFFICER),
                           ("hro", Role.HR_OFFICER), ("admin", Role.ADMIN)):
        create_user(conn, username=username, password=DEMO_PASSWORD, role=role, contingent=None, actor="seed",
                        enforce_policy=False)
        sign_ins.append((username, role.value))
    return sign_ins


def _device_principals(conn: Connection) -> dict[str, Principal]:
    from ..devices.service import enrol, issue_code

    out: dict[str, Principal] = {}
    rows = conn.execute(select(users.c.id, users.c.username, users.c.contingent_id, contingents.c.code)
                        .join(contingents, users.c.contingent_id == contingents.c.id)
                        .where(users.c.role == Role.PATROL.value)).all()
    for row in rows:
        code = issue_code(conn, username=row.username, ttl=timedelta(hours=1), actor="seed")["code"]
        device = enrol(conn, code=code, label=f"Rugged tablet {row.username}", client="seed", max_failures=10_000)
        out[row.username] = Principal(user_id=row.id, username=row.username, role=Role.PATROL,
                                      contingent_id=row.contingent_id, contingent_code=row.code,
                                      device_id=device["device_id"])
    return out


def _reviews(conn: Connection, report_ids: list[str], rng: random.Random) -> int:
    from ..reports.review import review

    analyst = conn.execute(select(users.c.id).where(users.c.username == "analyst")).scalar_one()
    hq = Principal(user_id=analyst, username="analyst", role=Role.HQ_ANALYST, contingent_id=None)
    done = 0
    for rid in rng.sample(report_ids, k=len(report_ids) // 4):
        status = rng.choice(["verified", "verified", "verified", "needs_information", "rejected"])
        comment = {"verified": "Confirmed by a second source.", "needs_information": "Please give the exact village.",
                   "rejected": "Duplicate of an earlier report."}[status]
        review(conn, hq, report_id=rid, status=status, comment=comment)
        done += 1
    return done


def seed(conn: Connection, *, reports: int, seed_value: int = 7) -> dict[str, Any]:
    """Create the whole demo mission in ``conn``'s transaction; returns what was made."""
    from ...common.versioning import version_id
    from ..alerts.rules import ensure_defaults
    from ..reports.versions import STORED, device_key, store_version

    sign_ins = _people(conn)
    principals = _device_principals(conn)
    _reference(conn)
    ensure_defaults(conn)  # the mission's default alert rules, raised from the feed like on a real server
    plan = plan_reports(reports, now=clock.now())
    ids: list[str] = []
    for i, planned in enumerate(plan):
        principal = principals[planned.username]
        parents = [ids[j] for j in planned.parent_indexes]
        vid = version_id(planned.body, parents, device_key(principal))
        out = store_version(conn, principal, report_id=planned.body["id"], version_id=vid, parents=parents,
                            body=planned.body, device_time=clock.now())
        if out.status != STORED:
            raise RuntimeError(f"seed version {i} was {out.status}: {out.as_dict()}")
        ids.append(vid)
    from ..duplicates.backlog import PROPOSALS
    from ..feed_consumers import catch_up_in

    catch_up_in(conn, PROPOSALS)  # duplicate proposals, as the server's worker makes them after a push
    report_ids = sorted({p.body["id"] for p in plan if p.body["confidentiality"] != "restricted"})
    reviewed = _reviews(conn, report_ids, random.Random(seed_value))
    return {"sign_ins": sign_ins, "versions": len(plan), "reports": len({p.body["id"] for p in plan}),
            "reviewed": reviewed}


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with engine.connect() as conn:
        if conn.execute(select(contingents.c.id).limit(1)).first():
            print(f"{settings.database_url}: already has a mission; seed only into an empty database")
            return 1
    started = time.perf_counter()
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        out = seed(conn, reports=args.reports, seed_value=args.seed)
    took = time.perf_counter() - started
    print(f"seeded {out['reports']} reports ({out['versions']} versions, {out['reviewed']} reviewed) "
          f"in {took:.1f} s into {settings.database_url}")
    # The demo's base map, drawn from its own geography (server/basemaps/demo_render.py).
    from ..basemaps.demo_render import seed_demo_basemap

    started = time.perf_counter()
    bm = seed_demo_basemap(engine, settings)
    print(f"base map {bm['name']!r} rendered and imported: {bm['tile_count']} tiles, zooms "
          f"{bm['minzoom']}-{bm['maxzoom']}, in {time.perf_counter() - started:.1f} s")
    print(f"sign in with any of these (password: {DEMO_PASSWORD}):")
    for username, role in out["sign_ins"]:
        print(f"  {username:<18} {role}")
    return 0
