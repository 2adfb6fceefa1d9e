"""``peacewatch server``: migrate, then serve the API (and dashboard) with uvicorn."""

from __future__ import annotations

import argparse
import gc

from ..alerts.rules import ensure_defaults
from ..db.engine import WRITE, make_engine
from ..db.migrate import upgrade


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("server", parents=[parent], help="run the mission server (migrates the database first)",
                       description="Run the mission server. Migrations run before it listens.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--tls-cert", default=None, help="PEM certificate for HTTPS (see 'admin make-ca')")
    p.add_argument("--tls-key", default=None, help="PEM private key for HTTPS")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..app import create_app
    from ..cli import settings_from

    settings = settings_from(args)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)  # the mission starts with alert rules for its taxonomy (once)
    app = create_app(settings, engine)
    # Everything built so far (modules, schemas, routes) lives as long as the process: keep it out
    # of the garbage collector's full passes, which a push's many small objects trigger often.
    gc.collect()
    gc.freeze()
    scheme = "https" if args.tls_cert else "http"
    print(f"peacewatch server on {scheme}://{args.host}:{args.port}/ ({engine.dialect.name}; data in {settings.data_dir})",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key)
    return 0
