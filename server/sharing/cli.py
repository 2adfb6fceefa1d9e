"""``peacewatch admin sharing-...``: sharing agreements from a shell, as the admin API does them.

Each command is one transaction through `service`, audited as the ``cli`` actor. Approval is not
here: it takes a signed-in protection officer (the API's ``/approve``), so the person approving is
on the record. Policies are JSON (inline or ``@file.json``), validated as the API validates them.
"""

# Services are imported inside the command functions: every ``peacewatch`` invocation imports this
# module to build its parser, and only the command that runs should pay for them (``server/cli.py``).
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from peacewatch.server.problems import Problem

ACTOR = "cli"


def _policy(raw: str) -> Any:
    text = Path(raw[1:]).read_text(encoding="utf-8") if raw.startswith("@") else raw
    return json.loads(text)


def _run(args: argparse.Namespace, fn: Any, *, with_settings: bool = False) -> int:
    from peacewatch.server.commands.admin import _in_transaction

    try:
        out = _in_transaction(args, fn if with_settings else (lambda conn, _settings: fn(conn)))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        print(f"error: {field}: {first['msg']}", file=sys.stderr)
        return 2
    except (json.JSONDecodeError, OSError) as exc:
        print(f"error: policy: {exc}", file=sys.stderr)
        return 2
    except Problem as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def cmd_create(args: argparse.Namespace) -> int:
    from peacewatch.server.sharing import service
    from peacewatch.server.sharing.models import AgreementIn

    def create(conn: Any) -> Any:
        data = AgreementIn.model_validate({"partner": args.partner, "name": args.name, "policy": _policy(args.policy)})
        return service.create(conn, ACTOR, data)

    return _run(args, create)


def cmd_change(args: argparse.Namespace) -> int:
    from peacewatch.server.sharing import service
    from peacewatch.server.sharing.models import AgreementUpdate

    def change(conn: Any) -> Any:
        data = AgreementUpdate.model_validate({"policy": _policy(args.policy)})
        return service.change(conn, ACTOR, service.by_partner(conn, args.partner), data)

    return _run(args, change)


def cmd_list(args: argparse.Namespace) -> int:
    from peacewatch.server.sharing import service

    return _run(args, service.list_agreements)


def cmd_revoke(args: argparse.Namespace) -> int:
    from peacewatch.server.sharing import service

    return _run(args, lambda conn: service.revoke(conn, ACTOR, service.by_partner(conn, args.partner)))


def cmd_key(args: argparse.Namespace) -> int:
    from peacewatch.server.sharing import service

    return _run(args, lambda conn: service.issue_key(conn, ACTOR, service.by_partner(conn, args.partner)))


def cmd_push(args: argparse.Namespace) -> int:
    from peacewatch.server.community.protection import mission_key
    from peacewatch.server.sharing import service
    from peacewatch.server.sharing.models import PushIn

    def set_push(conn: Any, settings: Any) -> Any:
        url = PushIn.model_validate({"url": None if args.off else args.url}).url
        return service.set_push(conn, ACTOR, service.by_partner(conn, args.partner), str(url) if url else None,
                                mission_key=mission_key(settings))

    return _run(args, set_push, with_settings=True)


def register(asub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    policy_help = 'the policy as JSON, or @file.json (see docs/sharing.md), e.g. \'{"kinds": ["incident"]}\''
    p = asub.add_parser("sharing-create", parents=[parent], help="make a sharing agreement with a partner",
                        description="Make a sharing agreement (version 1). One touching human-rights concerns or "
                                    "restricted cases stays inactive until a protection officer approves it.")
    p.add_argument("partner", help="the partner's short id, used in its feed's URL, e.g. ohchr")
    p.add_argument("--name", required=True, help="the partner's full name")
    p.add_argument("--policy", required=True, help=policy_help)
    p.set_defaults(func=cmd_create)

    p = asub.add_parser("sharing-change", parents=[parent], help="change an agreement's policy (a new version)",
                        description="Replace the policy of a partner's agreement: a new version, approved anew "
                                    "if it needs approval.")
    p.add_argument("partner")
    p.add_argument("--policy", required=True, help=policy_help)
    p.set_defaults(func=cmd_change)

    p = asub.add_parser("sharing-list", parents=[parent], help="list sharing agreements",
                        description="Every sharing agreement with its current version and state, as JSON.")
    p.set_defaults(func=cmd_list)

    p = asub.add_parser("sharing-push", parents=[parent], help="push a partner's feed to its endpoint",
                        description="Push each new page of the partner's feed, signed, to its endpoint; prints "
                                    "the new signing secret once. --off stops pushing (the partner can still pull).")
    p.add_argument("partner")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="the partner's endpoint, e.g. https://partner.example/peacewatch")
    target.add_argument("--off", action="store_true", help="stop pushing")
    p.set_defaults(func=cmd_push)

    p = asub.add_parser("sharing-revoke", parents=[parent], help="stop sharing with a partner at once",
                        description="Revoke a partner's agreement: its next request is refused.")
    p.add_argument("partner")
    p.set_defaults(func=cmd_revoke)

    p = asub.add_parser("sharing-key", parents=[parent], help="issue a partner's API key (shown once)",
                        description="Issue a new API key for a partner's feed; the previous key stops working. "
                                    "Only its hash is stored.")
    p.add_argument("partner")
    p.set_defaults(func=cmd_key)
