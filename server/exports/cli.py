"""``peacewatch export``: the same exports as the API, from a shell on the server, as a named user.

    peacewatch export --format pdf --out summary.pdf --as analyst --start 2026-11-01 --contingent BANBAT

An export is always made *as* an existing user (``--as``) so it holds exactly what that user may
see and is audited under their name. The file appears only when complete (written beside the
target, then renamed), and a progress bar on stderr counts the reports read.
"""

# Services are imported inside the command functions: every ``peacewatch`` invocation imports this
# module to build its parser, and only the command that runs should pay for them (``server/cli.py``).
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from peacewatch.server.cli import settings_from
from peacewatch.server.exports.filters import ExportFilters
from peacewatch.server.exports.formats import FORMATS
from peacewatch.server.exports.i18n import LANGS
from peacewatch.server.reports.filters_cli import add_filter_arguments, filters_or_exit_code

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("export", parents=[parent], help="export reports as PDF, XLSX, CSV (HXL), GeoJSON or KML",
                       description="Export the reports a user may see, filtered, to a file.")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="output format")
    p.add_argument("--out", required=True, type=Path, help="file to write (replaced only when complete)")
    p.add_argument("--as", dest="username", required=True,
                   help="export as this user: what they may see, audited under their name")
    p.add_argument("--lang", default="en", choices=list(LANGS), help="language of headers and labels")
    p.add_argument("--bom", action="store_true", help="CSV: start with a UTF-8 byte-order mark (Excel)")
    add_filter_arguments(p)
    p.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    p.set_defaults(func=run)


class _Progress:
    """A one-line progress bar on stderr (redrawn at most 10 times a second)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = max(total, 1)
        self.enabled = enabled
        self.started = time.monotonic()
        self.last_draw = 0.0

    def __call__(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.last_draw < 0.1):
            return
        self.last_draw = now
        share = min(done / self.total, 1.0)
        bar = "#" * int(share * 30)
        rate = done / max(now - self.started, 1e-6)
        end = "\n" if final else "\r"
        print(f"  [{bar:<30}] {done:>9,}/{self.total:,} reports  {rate:,.0f}/s", end=end, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from peacewatch.server.auth.service import principal_for
    from peacewatch.server.db.engine import WRITE, make_engine
    from peacewatch.server.db.migrate import upgrade
    from peacewatch.server.exports import service
    from peacewatch.server.reports.service import visible_reports
    from peacewatch.server.subscriptions import catch_up_readers

    filters = filters_or_exit_code(args, ExportFilters)
    if isinstance(filters, int):
        return filters

    settings = settings_from(args)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    catch_up_readers(engine)  # the reports projection, current with every stored version
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        principal = principal_for(conn, args.username)
        service.check_may_export(principal)
        total = conn.execute(select(func.count()).select_from(
            visible_reports(conn, principal, filters).subquery())).scalar_one()
        places = service.place_names(conn, lang=args.lang) if args.format == "pdf" else []
        hexagons = service.hotspot_cells(conn, principal=principal, filters=filters) if args.format == "pdf" else []
        from peacewatch.server.basemaps.mosaic import background_for

        background = background_for(conn, settings) if args.format == "pdf" else None
        service.audit_export(conn, principal=principal, fmt=args.format, filters=filters, lang=args.lang)

    progress = _Progress(total, enabled=not args.no_progress)
    target = args.out.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in service.stream(engine, principal=principal, fmt=args.format, filters=filters,
                                        lang=args.lang, bom=args.bom, places=places, hexagons=hexagons,
                                        progress=progress, background=background):
                out.write(chunk)
                written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    finally:
        engine.dispose()
    progress(total, final=True)
    print(f"{args.format} export of {total:,} reports as {principal.username}: {target} ({written:,} bytes)")
    return 0
