"""``peacewatch app``: start the tablet app on a desktop (the store lives in ``--data-dir``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("app", parents=[parent], help="start the tablet app (Kivy) on this computer",
                       description="Start the tablet app. Its encrypted store lives in --data-dir "
                                   "(default: $PEACEWATCH_DATA_DIR, else ./data) under 'tablet/'.")
    p.add_argument("--size", default=None, metavar="WxH",
                   help="window size in pixels, e.g. 1280x800 (landscape tablet) or 800x1280")
    p.set_defaults(func=run)


def data_dir_from(args: argparse.Namespace) -> Path:
    base = args.data_dir or Path(os.environ.get("PEACEWATCH_DATA_DIR") or "data")
    return Path(base) / "tablet"


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"error: --size must look like 1280x800, got {text!r}") from None
    if not (320 <= width <= 8192 and 320 <= height <= 8192):
        raise SystemExit("error: --size: width and height must be between 320 and 8192")
    return width, height


def run(args: argparse.Namespace) -> int:
    from peacewatch.mobile.__main__ import main

    argv = ["--data-dir", str(data_dir_from(args))]
    if args.size:
        parse_size(args.size)
        argv += ["--size", args.size]
    return main(argv)
