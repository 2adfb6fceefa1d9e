"""``peacewatch admin add-gateway NAME`` (prints the gateway's secret once) and
``peacewatch community purge`` (empties callers' identity past the retention setting)."""

# Services are imported inside the command functions: every ``peacewatch`` invocation imports this
# module to build its parser, and only the command that runs should pay for them (``server/cli.py``).
from __future__ import annotations

import argparse

from ..cli import settings_from
from ..db.engine import WRITE, make_engine
from ..db.migrate import upgrade


def _engine_and_key(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .protection import mission_key

    settings = settings_from(args)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine, mission_key(settings), settings


def cmd_add_gateway(args: argparse.Namespace) -> int:
    from .intake import add_gateway

    engine, key, _ = _engine_and_key(args)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        out = add_gateway(conn, name=args.name, key=key, outbound_url=args.outbound_url)
    print(f"gateway {out['name']} added; its secret (shown once, configure it in the gateway):")
    print(out["secret"])
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from .protection import purge

    engine, _key, settings = _engine_and_key(args)
    days = args.retention_days if args.retention_days is not None else settings.caller_retention_days
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        n = purge(conn, retention_days=days)
    print(f"caller identity purged from {n} community alert(s) older than {days} days; the alerts are kept")
    return 0


def register_admin(asub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    """The gateway command under ``peacewatch admin``."""
    p = asub.add_parser("add-gateway", parents=[parent], help="register an SMS gateway and print its secret", description="register an SMS gateway and print its secret.")
    p.add_argument("name", help="the gateway's name, sent in the X-Peacewatch-Gateway header")
    p.add_argument("--outbound-url", default=None,
                   help="where replies to callers are POSTed (the gateway's sending side); none: no replies")
    p.set_defaults(func=cmd_add_gateway)


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    community = sub.add_parser("community", help="community alerts: purge callers' identity",
                               description="Community alerts maintenance (same database as the server).")
    csub = community.add_subparsers(dest="community_command", metavar="ACTION", required=True)
    p = csub.add_parser("purge", parents=[parent],
                        help="empty callers' phone and name past the retention period (alerts are kept)",
                        description="Remove callers' identity (phone, name, relationship) from community alerts "
                                    "older than the retention period; the alerts themselves are kept.")
    p.add_argument("--retention-days", type=int, default=None,
                   help="default: $PEACEWATCH_CALLER_RETENTION_DAYS (90)")
    p.set_defaults(func=cmd_purge)
