"""``peacewatch federate`` (on a sector server) and ``peacewatch admin add-sector`` (on the mission server).

Imports inside the command functions are deliberate: see ``server/cli.py`` (every invocation
builds the whole parser).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from datetime import timedelta
from typing import Any


def add_sector(conn: Any, *, name: str, contingent_codes: list[str]) -> dict[str, Any]:
    """A ``sector`` principal for a sector server, its contingents, and an enrolled device credential."""
    from sqlalchemy import insert

    from ..access import Role
    from ..db.tables import sector_contingents
    from ..devices.service import enrol, issue_code
    from ..problems import invalid
    from ..users.service import contingent_id, create_user

    if not contingent_codes:
        raise invalid("contingent", "name at least one contingent the sector serves")
    user = create_user(conn, username=name, password=secrets.token_urlsafe(32), role=Role.SECTOR, contingent=None,
                       display_name=f"Sector server {name}", enforce_policy=False)
    ids = sorted({contingent_id(conn, code) for code in contingent_codes})
    conn.execute(insert(sector_contingents), [{"user_id": user["id"], "contingent_id": cid} for cid in ids])
    code = issue_code(conn, username=name, ttl=timedelta(minutes=10))["code"]
    device = enrol(conn, code=code, label=f"sector server {name}", client="peacewatch federate", max_failures=5)
    return {"sector": name, "contingents": sorted(contingent_codes), "device_id": device["device_id"],
            "credential": device["credential"]}


def cmd_add_sector(args: argparse.Namespace) -> int:
    from ..commands.admin import _in_transaction

    out = _in_transaction(args, lambda conn, _s: add_sector(conn, name=args.name, contingent_codes=args.contingent))
    print(f"sector {out['sector']} for {', '.join(out['contingents'])}: device {out['device_id']}")
    print("give the sector server this credential (PEACEWATCH_UPSTREAM_CREDENTIAL); it is shown once:")
    print(out["credential"])
    return 0


def run_federation(engine: Any, *, upstream: str, credential: str, verify: Any = True, rounds: int | None = None,
                   interval_s: float = 30.0, session: Any = None, attachments_root: Any = None,
                   **client_args: Any) -> Any:
    """Sync this server with ``upstream`` ``rounds`` times (None: for ever); returns the last progress."""
    import requests

    from ...mobile.core.sync_client import SyncClient
    from .upstream import SectorStore

    client = SyncClient(session or requests.Session(), upstream, credential,
                        SectorStore(engine, attachments_root), verify=verify, **client_args)
    progress = None
    n = 0
    while rounds is None or n < rounds:
        n += 1
        progress = client.run()
        if rounds is None or n < rounds:
            time.sleep(interval_s)
    return progress


def cmd_federate(args: argparse.Namespace) -> int:
    from ..cli import settings_from
    from ..db.engine import make_engine
    from ..db.migrate import upgrade

    credential = os.environ.get("PEACEWATCH_UPSTREAM_CREDENTIAL", "")
    if not credential:
        print("set PEACEWATCH_UPSTREAM_CREDENTIAL to the credential 'peacewatch admin add-sector' printed on the "
              "mission server", file=sys.stderr)
        return 2
    settings = settings_from(args)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    progress = run_federation(engine, upstream=args.upstream, credential=credential,
                              attachments_root=settings.attachments_dir,
                              verify=args.ca if args.ca else True, rounds=1 if args.once else None,
                              interval_s=args.interval)
    if progress is not None:
        print(f"{progress.state}: {progress.versions_sent} versions sent, {progress.changes_pulled} changes received"
              + (f"; {progress.last_error}" if progress.last_error else ""))
    return 0 if progress is None or progress.state == "done" else 1


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("federate", parents=[parent], help="replicate this sector server to the mission server",
                       description="Push this server's versions to the mission server and pull what it lets down "
                                   "(reviews, comments, reference data, HQ's edits), with the tablets' sync "
                                   "protocol; resumes after any cut. Needs PEACEWATCH_UPSTREAM_CREDENTIAL.")
    p.add_argument("--upstream", required=True, help="the mission server's URL, e.g. https://hq.mission.example:8443")
    p.add_argument("--ca", default=None, help="the mission CA's certificate (PEM) to verify the upstream with")
    p.add_argument("--once", action="store_true", help="one round, then exit (status 1 unless it finished)")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between rounds (default 30)")
    p.set_defaults(func=cmd_federate)


def register_admin(asub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = asub.add_parser("add-sector", parents=[parent], help="let a sector server replicate to this mission server",
                        description="Create a federated peer (role sector) for the given contingents and print its "
                                    "device credential, for 'peacewatch federate' on the sector server.")
    p.add_argument("name", help="the sector's name, e.g. sector-north")
    p.add_argument("--contingent", action="append", required=True, help="a contingent the sector serves (repeatable)")
    p.set_defaults(func=cmd_add_sector)
