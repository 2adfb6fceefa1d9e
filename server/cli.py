"""The ``peacewatch`` command: server, seed, admin, export, hotspots, app.

Every subcommand takes ``--data-dir`` and ``--database-url`` (defaults: ``PEACEWATCH_DATA_DIR``,
else ``./data``; ``PEACEWATCH_DATABASE_URL``, else SQLite in the data dir), so the server and the
admin CLI always meet the same database. Domains add their own subcommands through a
``register(subparsers, parent)`` function in their ``cli`` module, listed in ``COMMAND_MODULES``
and imported only when the command line is parsed.

Imports inside function bodies, here and in the command modules, are deliberate and measured:
every invocation (even ``peacewatch --help``) imports every command module to build the parser,
so each command imports the services it runs when it runs. Measured on the 2-core development
machine (``python -c 'import ...'``, warm disk): this module 1 ms; ``server.app`` 4.7 s;
``hotspots.service`` 4.7 s (numpy, scipy, shapely); ``users.service`` 1.7 s and
``devices.service`` 1.4 s (argon2, cryptography, segno); ``exports.service`` 1.3 s;
``problems`` 0.3 s (fastapi). Loaded at the top, ``peacewatch admin list-users`` would pay all of them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import Settings

COMMAND_MODULES = (
    "peacewatch.server.commands.serve",
    "peacewatch.server.commands.seed",
    "peacewatch.server.commands.admin",
    "peacewatch.server.exports.cli",
    "peacewatch.server.hotspots.cli",
    "peacewatch.server.community.cli",
    "peacewatch.server.federation.cli",
    "peacewatch.mobile.ui.cli",
)


def common_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--data-dir", type=Path, default=None,
                        help="data directory (default: $PEACEWATCH_DATA_DIR, else ./data)")
    parent.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
                             "(default: $PEACEWATCH_DATABASE_URL, else SQLite in the data dir)")
    return parent


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings with the command line taking precedence over the environment."""
    overrides: dict[str, object] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.database_url:
        overrides["database_url"] = args.database_url
    elif args.data_dir is not None and not os.environ.get("PEACEWATCH_DATABASE_URL"):
        overrides["database_url"] = ""  # recomputed from the data dir given here
    return Settings(**overrides)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peacewatch",
        description="Civilian-protection field reporting: mission server, admin, exports, hotspots, tablet app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parent = common_parent()
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, parent)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one clear line, exit 1
        from .problems import Problem  # fastapi: 0.3 s no command should pay up front (module docstring)

        if isinstance(exc, Problem):
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
