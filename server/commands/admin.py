"""``peacewatch admin ...``: migrations, contingents, users, devices, the audit log and sharing agreements from a shell.

The same service functions as the admin API, on the same database, each command one transaction.
"""

# Services are imported inside the command functions: every ``peacewatch`` invocation imports this
# module to build its parser, and only the command that runs should pay for them (``server/cli.py``).
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from ..access import Role
from ..cli import settings_from
from ..db.engine import WRITE, make_engine
from ..db.migrate import current_revision, head_revision, upgrade


def _engine(args: argparse.Namespace) -> tuple[Engine, Any]:
    settings = settings_from(args)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine, settings


def _in_transaction(args: argparse.Namespace, fn: Callable[[Connection, Any], Any]) -> Any:
    engine, settings = _engine(args)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        return fn(conn, settings)


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "") if r.get(c) is not None else "").ljust(widths[c]) for c in columns))


def cmd_migrate(args: argparse.Namespace) -> int:
    engine, _ = _engine(args)
    print(f"database at revision {current_revision(engine)} (head {head_revision()})")
    return 0


def cmd_create_contingent(args: argparse.Namespace) -> int:
    from ..users.service import create_contingent

    out = _in_transaction(args, lambda c, s: create_contingent(c, code=args.code, name=args.name, country=args.country))
    print(f"contingent {out['code']} created (id {out['id']})")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from ..users.service import create_user

    password = args.password or os.environ.get("PEACEWATCH_NEW_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("error: give --password or PEACEWATCH_NEW_PASSWORD when not on a terminal", file=sys.stderr)
            return 2
        password = getpass.getpass(f"password for {args.username}: ")
    out = _in_transaction(args, lambda c, s: create_user(
        c, username=args.username, password=password, role=Role(args.role), contingent=args.contingent,
        display_name=args.display_name or "", language=args.language, password_min_length=s.password_min_length))
    print(f"user {out['username']} created ({out['role']}, contingent {out['contingent'] or '-'})")
    return 0


def cmd_list_users(args: argparse.Namespace) -> int:
    from ..users.service import list_users

    rows = _in_transaction(args, lambda c, s: list_users(c))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows, ["username", "role", "contingent", "language", "active"])
    return 0


def cmd_list_devices(args: argparse.Namespace) -> int:
    from ..devices.service import list_devices

    rows = _in_transaction(args, lambda c, s: list_devices(c))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows, ["id", "username", "label", "enrolled_at", "last_seen_at", "revoked"])
    return 0


def cmd_enrol_device(args: argparse.Namespace) -> int:
    from ..devices.service import issue_code, write_qr_png

    def issue(conn: Connection, settings: Any) -> dict[str, Any]:
        return issue_code(conn, username=args.user, ttl=timedelta(minutes=settings.enrolment_code_ttl_minutes))

    out = _in_transaction(args, issue)
    settings = settings_from(args)
    png = write_qr_png(out["code"], args.server_url, settings.data_dir / "enrolment" / f"{out['code']}.png")
    print(f"one-time enrolment code for {out['username']}: {out['code']}")
    print(f"expires {out['expires_at']}; QR code written to {png}")
    return 0


def cmd_revoke_device(args: argparse.Namespace) -> int:
    from ..devices.service import revoke

    _in_transaction(args, lambda c, s: revoke(c, device_id=args.device_id))
    print(f"device {args.device_id} revoked: it can no longer sync")
    return 0


def cmd_reset_2fa(args: argparse.Namespace) -> int:
    from ..auth.two_factor import reset

    _in_transaction(args, lambda c, s: reset(c, username=args.username))
    print(f"two-factor sign-in reset for {args.username}: their sessions ended; they enrol again at next sign-in")
    return 0


def cmd_mark_lost(args: argparse.Namespace) -> int:
    from ..devices.service import mark_lost

    _in_transaction(args, lambda c, s: mark_lost(c, device_id=args.device_id))
    print(f"device {args.device_id} marked lost: at its next contact it erases its data and stops syncing")
    return 0


def cmd_recovery_key(args: argparse.Namespace) -> int:
    from ..devices.recovery import generate

    settings = settings_from(args)
    passphrase = os.environ.get("PEACEWATCH_RECOVERY_PASSPHRASE", "").encode() or None
    try:
        private, public = generate(settings.data_dir, args.out, passphrase)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"private recovery key written to {private}: keep it OFFLINE (not on this server)")
    print(f"public key {public}: tablets enrolled from now on seal their store keys for it")
    return 0


def cmd_recover_tablet(args: argparse.Namespace) -> int:
    """Open a returned tablet's store with the mission's private key and re-send its unsent reports."""
    # Imported here: the tablet store's libraries (SQLCipher) are needed by this command only.
    from peacewatch.mobile.core.errors import CoreError
    from peacewatch.mobile.core.outbox import Outbox
    from peacewatch.mobile.core.recovery import open_with_private_key

    from ..auth.service import principal_for_device
    from ..reports.versions import DUPLICATE, STORED, store_version

    passphrase = os.environ.get("PEACEWATCH_RECOVERY_PASSPHRASE", "").encode() or None
    try:
        tablet = open_with_private_key(args.store, args.private_key.read_bytes(), passphrase)
    except (CoreError, OSError, ValueError) as exc:
        print(f"error: cannot open the tablet's store: {exc}", file=sys.stderr)
        return 2
    try:
        outbox = Outbox(tablet)
        pending = outbox.pending_versions(100_000)
        device_id = tablet.device_id

        def resend(conn: Connection, settings: Any) -> list[tuple[str, str]]:
            principal = principal_for_device(conn, device_id)
            outcomes = []
            for v in pending:
                out = store_version(conn, principal, report_id=v.report_id, version_id=v.version_id,
                                    parents=v.parents, body=v.body)
                outcomes.append((v.version_id, out.status))
            return outcomes

        outcomes = _in_transaction(args, resend)
        stored = [vid for vid, status in outcomes if status in (STORED, DUPLICATE)]
        outbox.mark_sent(stored)
    finally:
        tablet.close()
    print(f"tablet {device_id}: {len(pending)} unsent versions, {len(stored)} now stored on the server")
    for vid, status in outcomes:
        if vid not in stored:
            print(f"  {vid}: {status}")
    return 0 if len(stored) == len(pending) else 1


def cmd_verify_audit(args: argparse.Namespace) -> int:
    from ..audit.service import verify

    v = _in_transaction(args, lambda c, s: verify(c))
    if v.ok:
        print(f"audit log intact: {v.entries} entries, every link verified")
        return 0
    print(f"audit log BROKEN at entry {v.first_broken_id}: {v.reason}")
    return 1


def cmd_make_ca(args: argparse.Namespace) -> int:
    """The mission CA and a server certificate (owned by server/tls.py)."""
    from ..tls import DEFAULT_NAMES, make_mission_tls

    settings = settings_from(args)
    try:
        out = make_mission_tls(settings.data_dir, args.host or list(DEFAULT_NAMES), mission=args.mission,
                               new_ca=args.new_ca)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"mission CA {'created' if out.created_ca else 'kept'}: {out.ca_cert} (copy this file to every tablet)")
    print(f"server certificate for {', '.join(args.host or DEFAULT_NAMES)}: {out.server_cert}")
    print(f"serve HTTPS with: peacewatch server --tls-cert {out.server_cert} --tls-key {out.server_key}")
    return 0


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    admin = sub.add_parser("admin", help="administer the mission: users, contingents, devices, audit",
                           description="Administer the mission database (same database as the server).")
    asub = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)

    p = asub.add_parser("migrate", parents=[parent], help="bring the database schema up to date",
                        description="Apply every Alembic migration not yet applied, then print the revision.")
    p.set_defaults(func=cmd_migrate)

    p = asub.add_parser("create-contingent", parents=[parent], help="add a contingent",
                        description="Add a contingent; reports are filed for a contingent by its code.")
    p.add_argument("code", help="short code, e.g. BANBAT")
    p.add_argument("name", help="full name")
    p.add_argument("--country", default="")
    p.set_defaults(func=cmd_create_contingent)

    p = asub.add_parser("create-user", parents=[parent], help="add a user",
                        description="Add a user with a role (and a contingent for patrols and commanders). The "
                                    "password comes from --password, PEACEWATCH_NEW_PASSWORD or a prompt.")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--contingent", default=None, help="contingent code (required for patrol and commander)")
    p.add_argument("--password", default=None, help="else $PEACEWATCH_NEW_PASSWORD, else asked")
    p.add_argument("--display-name", default=None)
    p.add_argument("--language", default="en", choices=["en", "fr", "ar"])
    p.set_defaults(func=cmd_create_user)

    p = asub.add_parser("list-users", parents=[parent], help="list users",
                        description="List every user: username, role, contingent, language, active.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list_users)

    p = asub.add_parser("list-devices", parents=[parent], help="list enrolled devices",
                        description="List every enrolled tablet: id, user, label, enrolment, last seen, revoked.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list_devices)

    p = asub.add_parser("enrol-device", parents=[parent], help="issue a one-time enrolment code (and QR PNG)",
                        description="Issue a one-time enrolment code for a user's tablet. Prints the code and "
                                    "when it expires, and writes <data-dir>/enrolment/<code>.png: a QR code of "
                                    "'peacewatch:enrol?server=<server-url>&code=<code>'. The code works once.")
    p.add_argument("--user", required=True, help="the user the tablet will act for")
    p.add_argument("--server-url", default="http://127.0.0.1:8000", help="address put in the QR code")
    p.set_defaults(func=cmd_enrol_device)

    p = asub.add_parser("revoke-device", parents=[parent], help="revoke a lost or captured device",
                        description="Revoke a device: its next request is refused (401 device_revoked).")
    p.add_argument("device_id")
    p.set_defaults(func=cmd_revoke_device)

    p = asub.add_parser("reset-2fa", parents=[parent],
                        help="turn off a user's two-factor sign-in (lost phone and recovery codes)", description="turn off a user's two-factor sign-in (lost phone and recovery codes).")
    p.add_argument("username")
    p.set_defaults(func=cmd_reset_2fa)

    p = asub.add_parser("mark-lost", parents=[parent],
                        help="mark a device lost: at its next contact it erases its data and stops syncing", description="mark a device lost: at its next contact it erases its data and stops syncing.")
    p.add_argument("device_id")
    p.set_defaults(func=cmd_mark_lost)

    p = asub.add_parser("recovery-key", parents=[parent], help="make the mission's recovery key pair",
                        description="Write the private key to --out (keep it offline; passphrase from "
                                    "$PEACEWATCH_RECOVERY_PASSPHRASE if set) and the public key into the "
                                    "data dir, where enrolment hands it to tablets.")
    p.add_argument("--out", type=Path, required=True, help="where to write the PRIVATE key (not on this server)")
    p.set_defaults(func=cmd_recovery_key)

    p = asub.add_parser("recover-tablet", parents=[parent],
                        help="open a returned tablet's store with the recovery key and re-send its unsent reports", description="open a returned tablet's store with the recovery key and re-send its unsent reports.")
    p.add_argument("--store", type=Path, required=True, help="the tablet's store folder (holds recovery.json)")
    p.add_argument("--private-key", type=Path, required=True, help="the mission's private recovery key (PEM)")
    p.set_defaults(func=cmd_recover_tablet)

    from ..community.cli import register_admin as register_community_admin

    register_community_admin(asub, parent)

    p = asub.add_parser("verify-audit", parents=[parent], help="verify the audit log's hash chain",
                        description="Recompute the audit log's hash chain; exit status 1 if any link is broken.")
    p.set_defaults(func=cmd_verify_audit)

    # HTTPS with the mission's own CA (server/tls.py).
    p = asub.add_parser("make-ca", parents=[parent], help="create the mission CA and a server certificate for HTTPS",
                        description="Create <data-dir>/tls/ca.pem (keep an existing one unless --new-ca) and a "
                                    "server certificate for the given hosts, signed by it.")
    p.add_argument("--host", action="append", default=None,
                   help="host name or IP address the tablets use to reach the server (repeatable; "
                        "default: localhost and 127.0.0.1)")
    p.add_argument("--mission", default="peacewatch", help="organisation name written into the certificates")
    p.add_argument("--new-ca", action="store_true", help="replace an existing CA (every tablet needs the new ca.pem)")
    p.set_defaults(func=cmd_make_ca)

    # Base maps and areas of responsibility (server/basemaps).
    from ..basemaps.cli import register_admin

    register_admin(asub, parent)
    # Sharing agreements with partners (server/sharing).
    from ..sharing.cli import register as register_sharing

    register_sharing(asub, parent)
    # Sector servers replicating to this one (server/federation).
    from ..federation.cli import register_admin as register_federation_admin

    register_federation_admin(asub, parent)
