"""``peacewatch server``: migrate, then serve the API (and dashboard) with uvicorn, on every core.

``--workers N`` (default: the cores this process may use) runs N server processes on one
listening socket (uvicorn's supervisor). They share nothing but the database, which is all the
sync guarantees rely on: the feed's sequence numbers are allocated under its write lock (SQLite's
single writer; a PostgreSQL advisory lock), so the feed's order holds across processes, and
every feed consumer catches up under its own cursor and lock (``server/feed_consumers.py``).
"""

# Services are imported inside the command functions: every ``peacewatch`` invocation imports this
# module to build its parser, and only the command that runs should pay for them (``server/cli.py``).
from __future__ import annotations

import argparse
import gc
import os

from fastapi import FastAPI

from ..alerts.rules import ensure_defaults
from ..cli import settings_from
from ..config import Settings
from ..db.engine import WRITE, make_engine
from ..db.migrate import upgrade

# How a worker process finds its settings: the command line's, passed on through the environment.
_SETTINGS_ENV = ("PEACEWATCH_DATA_DIR", "PEACEWATCH_DATABASE_URL")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("server", parents=[parent], help="run the mission server (migrates the database first)",
                       description="Run the mission server. Migrations run before it listens.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=None,
                   help=f"server processes (default: the number of cores, here {default_workers()})")
    p.add_argument("--tls-cert", default=None, help="PEM certificate for HTTPS (see 'admin make-ca')")
    p.add_argument("--tls-key", default=None, help="PEM private key for HTTPS")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=run)


def worker_app() -> FastAPI:
    """The app of one server process (uvicorn's factory; settings from the environment)."""
    from ..app import create_app

    app = create_app(Settings())
    # Everything built so far (modules, schemas, routes) lives as long as the process: keep it out
    # of the garbage collector's full passes, which a push's many small objects trigger often.
    gc.collect()
    gc.freeze()
    return app


def run(args: argparse.Namespace) -> int:
    import uvicorn

    settings = settings_from(args)
    workers = args.workers or default_workers()
    if workers < 1:
        raise SystemExit("--workers must be at least 1")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)  # the mission starts with alert rules for its taxonomy (once)
    engine.dispose()  # each worker opens its own connections
    os.environ.update(dict(zip(_SETTINGS_ENV, (str(settings.data_dir), settings.database_url), strict=True)))
    # Forms are signed with the session secret: every worker must hold the same one (a development
    # server without PEACEWATCH_SECRET_KEY makes one per run).
    os.environ["PEACEWATCH_SECRET_KEY"] = settings.session_secret
    scheme = "https" if args.tls_cert else "http"
    print(f"peacewatch server on {scheme}://{args.host}:{args.port}/ ({engine.dialect.name}, {workers} "
          f"worker{'s' if workers > 1 else ''}; data in {settings.data_dir})", flush=True)
    common = {"host": args.host, "port": args.port, "log_level": args.log_level, "ssl_certfile": args.tls_cert,
              "ssl_keyfile": args.tls_key}
    if workers == 1:
        uvicorn.run(worker_app(), **common)
    else:
        uvicorn.run("peacewatch.server.commands.serve:worker_app", factory=True, workers=workers, **common)
    return 0
