"""``peacewatch hotspots [emerging|coverage-gaps]``: the API's hotspot maps, computed offline from the data dir.

    peacewatch hotspots --as analyst --format geojson --out hotspots.geojson
    peacewatch hotspots emerging --as analyst --step week --format csv --out emerging.csv
    peacewatch hotspots coverage-gaps --as analyst --days 14 --buffer-m 1000 --out gaps.geojson

Computed *as* a user (``--as``), so a map never counts a report that user could not open.
"""

# Services are imported inside the command functions: every ``peacewatch`` invocation imports this
# module to build its parser, and only the command that runs should pay for them (``server/cli.py``).
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..cli import settings_from
from ..reports.filters import ReportFilters
from ..reports.filters_cli import add_filter_arguments, filters_or_exit_code
from .coverage import DEFAULT_BUFFER_M, DEFAULT_DAYS
from .grid import DEFAULT_K, DEFAULT_RESOLUTION, SPARSE_K, SPARSE_MEAN

ANALYSES = ("hotspots", "emerging", "coverage-gaps")


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("hotspots", parents=[parent], help="Gi* hotspots, emerging hotspots or coverage gaps",
                       description="Compute hotspot maps from the database, as a named user, to GeoJSON or CSV.")
    p.add_argument("analysis", nargs="?", default="hotspots", choices=ANALYSES,
                   help="hotspots (default), emerging or coverage-gaps")
    p.add_argument("--as", dest="username", required=True, help="compute as this user (what they may see)")
    p.add_argument("--format", default="geojson", choices=["geojson", "csv"])
    p.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")
    p.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION, help="H3 resolution (default 8)")
    p.add_argument("--k", type=int, default=None,
                   help=f"neighbourhood radius in rings (default: chosen from the data, {DEFAULT_K}, or "
                        f"{SPARSE_K} below {SPARSE_MEAN:g} reports per cell; emerging: {DEFAULT_K})")
    p.add_argument("--step", default="week", choices=["day", "week", "month"], help="emerging: time step")
    p.add_argument("--time-neighbours", type=int, default=1, help="emerging: previous steps in the neighbourhood")
    p.add_argument("--days", type=int, default=DEFAULT_DAYS, help="coverage-gaps: patrols in the last N days")
    p.add_argument("--buffer-m", type=float, default=DEFAULT_BUFFER_M, help="coverage-gaps: route buffer (m)")
    add_filter_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..access import Permission
    from ..auth.service import principal_for
    from ..db.engine import make_engine
    from ..db.migrate import upgrade
    from ..problems import forbidden
    from ..subscriptions import catch_up_readers
    from . import service

    filters = filters_or_exit_code(args, ReportFilters)
    if isinstance(filters, int):
        return filters
    settings = settings_from(args)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    catch_up_readers(engine)  # the reports projection, current with every stored version
    params = service.HotspotParams(resolution=args.resolution, k=args.k)
    cache = service.HotspotCache(size=1)
    with engine.connect() as conn, conn.begin():
        principal = principal_for(conn, args.username)
        if not principal.may(Permission.ANALYSE):
            raise forbidden(f"the {principal.role.value} role may not compute hotspots")
        common = {"principal": principal, "filters": filters, "params": params, "cache": cache}
        if args.analysis == "emerging":
            fc = service.emerging(conn, step=args.step, neighbourhood_time_step=args.time_neighbours, **common)
        elif args.analysis == "coverage-gaps":
            fc = service.coverage_gaps(conn, days=args.days, buffer_m=args.buffer_m, **common)
        else:
            fc = service.hotspots(conn, **common)
    engine.dispose()
    text = service.to_csv(fc) if args.format == "csv" else json.dumps(fc)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        cells = len(fc.get("features", []))
        hot = sum(1 for f in fc.get("features", []) if (f["properties"].get("bin") or 0) > 0)
        meta = fc.get("metadata") or {}
        used = f", k={meta['k']}" if "k" in meta else ""
        used += f" ({meta['k_source']})" if "k_source" in meta else ""
        print(f"{args.analysis}: {cells} cells ({hot} hot{used}) written to {args.out}", file=sys.stderr)
    return 0
