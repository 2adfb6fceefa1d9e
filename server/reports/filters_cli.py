"""The report filters as command-line options, shared by ``peacewatch export`` and ``peacewatch hotspots``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from .filters import REVIEW_STATUSES, ReportFilters

F = TypeVar("F", bound=ReportFilters)


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    f = parser.add_argument_group("filters (all optional, combined with AND)")
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


def _multi(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def filters_from(args: argparse.Namespace, model: type[F]) -> F:
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
    return model(**{k: v for k, v in values.items() if v not in (None, [], "")})


def filters_or_exit_code(args: argparse.Namespace, model: type[F]) -> F | int:
    """The filters, or 2 after printing which option is wrong (the CLI's exit code for bad input)."""
    try:
        return filters_from(args, model)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "filters"
            print(f"error: --{field.replace('_', '-')}: {err['msg']}", file=sys.stderr)
        return 2
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: --area: {exc}", file=sys.stderr)
        return 2
