"""``peacewatch admin import-basemap | list-basemaps | set-area``: base maps from a shell.

Added to the ``admin`` command by ``commands/admin.py``. A refused file prints one clear line and
exits 2 (a ``Problem``, answered by ``server/cli.py``), with nothing stored.
"""

# Services are imported inside the command functions: every ``peacewatch`` invocation imports this
# module to build its parser, and only the command that runs should pay for them (``server/cli.py``).
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..cli import settings_from
from ..db.engine import WRITE, make_engine
from ..db.migrate import upgrade
from ..problems import invalid


def _engine_settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    settings = settings_from(args)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine, settings


def cmd_import(args: argparse.Namespace) -> int:
    from .service import import_file

    engine, settings = _engine_settings(args)
    started = time.perf_counter()
    try:
        out = import_file(engine, settings, path=Path(args.file), name=args.name, title=args.title)
    finally:
        engine.dispose()
    print(f"base map {out['name']} imported from {out['source']} in {time.perf_counter() - started:.1f} s: "
          f"{out['tile_count']} {out['format']} tiles, zooms {out['minzoom']}-{out['maxzoom']}, "
          f"bounds {', '.join(f'{v:.4f}' for v in out['bounds'])}, {out['chunks']} package chunks")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .service import list_basemaps

    engine, _ = _engine_settings(args)
    with engine.connect() as conn:
        rows = list_basemaps(conn)
    engine.dispose()
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("(none)")
    for r in rows if not args.json else []:
        print(f"{r['name']:<16} {r['format']:<5} z{r['minzoom']}-{r['maxzoom']}  {r['tile_count']:>8} tiles  "
              f"{r['bytes'] / 1e6:8.1f} MB  {r['title']}")
    return 0


def _bounds(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise invalid("bounds", "must be west,south,east,north in degrees") from None
    if len(values) != 4:
        raise invalid("bounds", "must be west,south,east,north in degrees")
    return values


def cmd_set_area(args: argparse.Namespace) -> int:
    from .service import set_area

    engine, _ = _engine_settings(args)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        out = set_area(conn, contingent=args.contingent, bounds=_bounds(args.bounds), minzoom=args.minzoom,
                       maxzoom=args.maxzoom, max_bytes=int(args.max_mb * 1024 * 1024), actor="cli")
    engine.dispose()
    print(f"area of {out['contingent']}: {', '.join(f'{v:.4f}' for v in out['bounds'])}, zooms "
          f"{out['minzoom']}-{out['maxzoom']}, at most {args.max_mb:g} MB per tablet")
    return 0


def register_admin(asub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = asub.add_parser("import-basemap", parents=[parent], help="import a base map (MBTiles or PMTiles, raster)",
                        description="Check and store an MBTiles file or PMTiles archive of raster tiles (PNG, JPEG, "
                                    "WebP) as a named base map. Exit code 2 and nothing stored if it is refused.")
    p.add_argument("file", help="the .mbtiles or .pmtiles file")
    p.add_argument("--name", required=True, help="short name, e.g. topo or imagery (re-importing replaces it)")
    p.add_argument("--title", default=None, help="title shown in the layer switcher (default: the file's name)")
    p.set_defaults(func=cmd_import)

    p = asub.add_parser("list-basemaps", parents=[parent], help="list imported base maps", description="list imported base maps.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = asub.add_parser("set-area", parents=[parent], help="set a contingent's area of responsibility (tile packages)", description="set a contingent's area of responsibility (tile packages).")
    p.add_argument("contingent", help="contingent code")
    p.add_argument("--bounds", required=True, help="west,south,east,north in degrees")
    p.add_argument("--minzoom", type=int, default=8)
    p.add_argument("--maxzoom", type=int, default=15)
    p.add_argument("--max-mb", type=float, default=200.0, help="package size cap per tablet")
    p.set_defaults(func=cmd_set_area)
