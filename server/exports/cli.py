"""``peacewatch export``: the same exports as the API, from a shell on the server, as a named user.

    peacewatch export --format pdf --out summary.pdf --as analyst --start 2026-11-01 --contingent BANBAT

An export is always made *as* an existing user (``--as``) so it holds exactly what that user may
see and is audited under their name. The file appears only when complete (written beside the
target, then renamed), and a progress bar on stderr counts the reports read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from peacewatch.server.exports.filters import REVIEW_STATUSES, ExportFilters
from peacewatch.server.exports.formats import FORMATS
from peacewatch.server.exports.i18n import LANGS
from pydantic import ValidationError

__all__ = ["filters_from", "register", "run"]


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("export", parents=[parent], help="export reports as PDF, XLSX, CSV (HXL), GeoJSON or KML",
                       description="Export the reports a user may see, filtered, to a file.")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="output format")
    p.add_argument("--out", required=True, type=Path, help="file to write (replaced only when complete)")
    p.add_argument("--as", dest="username", required=True,
                   help="export as this user: what they may see, audited under their name")
    p.add_argument("--lang", default="en", choices=list(LANGS), help="language of headers and labels")
    p.add_argument("--bom", action="store_true", help="CSV: start with a UTF-8 byte-order mark (Excel)")
    f = p.add_argument_group("filters (all optional, combined with AND)")
    f.add_argument("--start", help="event time from, ISO 8601 (inclusive; no zone = UTC)")
    f.add_argument("--end", help="event time until, ISO 8601 (exclusive)")
    f.add_argument("--bbox", help="minlon,minlat,maxlon,maxlat")
    f.add_argument("--area", help="GeoJSON Polygon/MultiPolygon as JSON text, or @file.geojson")
    f.add_argument("--category", action="append", default=[], help="category code (repeat or comma-separate)")
    f.add_argument("--kind", action="append", default=[], help="incident, patrol or hr_concern (repeatable)")
    f.add_argument("--contingent", action="append", default=[], help="contingent code (repeatable)")
    f.add_argument("--review-status", action="append", default=[],
                   help=f"{', '.join(REVIEW_STATUSES)} (repeatable)")
    f.add_argument("--severity-min", type=int, default=None)
    f.add_argument("--severity-max", type=int, default=None)
    f.add_argument("--q", default=None, help="text in title or description")
    p.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    p.set_defaults(func=run)


def _multi(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def filters_from(args: argparse.Namespace) -> ExportFilters:
    """The filters given on the command line (ValidationError names the bad option's field)."""
    area = args.area
    if area and area.startswith("@"):
        area = Path(area[1:]).read_text(encoding="utf-8")
    if area:
        parsed = json.loads(area) if area.lstrip().startswith("{") else None
        if isinstance(parsed, dict) and parsed.get("type") == "Feature":
            area = json.dumps(parsed.get("geometry"))  # accept a Feature as drawn by GIS tools
    values: dict[str, Any] = {
        "start": args.start, "end": args.end, "bbox": args.bbox, "area": area,
        "category": _multi(args.category), "kind": _multi(args.kind), "contingent": _multi(args.contingent),
        "review_status": _multi(args.review_status), "severity_min": args.severity_min,
        "severity_max": args.severity_max, "q": args.q,
    }
    return ExportFilters(**{k: v for k, v in values.items() if v not in (None, [], "")})


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
    from peacewatch.server.cli import settings_from
    from peacewatch.server.db.engine import WRITE, make_engine
    from peacewatch.server.db.migrate import upgrade
    from peacewatch.server.exports import service
    from peacewatch.server.reports.service import visible_reports
    from sqlalchemy import func, select

    try:
        filters = filters_from(args)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "filters"
            print(f"error: --{field.replace('_', '-')}: {err['msg']}", file=sys.stderr)
        return 2
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: --area: {exc}", file=sys.stderr)
        return 2

    settings = settings_from(args)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        principal = service.principal_for(conn, args.username)
        service.check_may_export(principal)
        total = conn.execute(select(func.count()).select_from(
            visible_reports(conn, principal, filters).subquery())).scalar_one()
        places = service.place_names(conn, lang=args.lang) if args.format == "pdf" else []
        hexagons = service.hotspot_cells(conn, principal=principal, filters=filters) if args.format == "pdf" else []
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
                                        progress=progress):
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
