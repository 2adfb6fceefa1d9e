"""``python -m peacewatch.mobile``: start the tablet app (``--data-dir``, ``--size WxH``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peacewatch.mobile", description="The peacewatch tablet app.")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the encrypted store lives (default: the platform's app data folder)")
    parser.add_argument("--size", default=None, metavar="WxH", help="window size, e.g. 1280x800")
    args = parser.parse_args(argv)
    # Kivy reads its options from the environment and sys.argv at import: set them first and keep
    # our arguments away from its own parser.
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    if args.size:
        from peacewatch.mobile.ui.cli import parse_size

        width, height = parse_size(args.size)
        from kivy.config import Config

        Config.set("graphics", "width", str(width))
        Config.set("graphics", "height", str(height))
    from kivy.config import Config

    Config.set("input", "mouse", "mouse,multitouch_on_demand")  # no red multitouch dots on right-click
    Config.set("kivy", "exit_on_escape", "0")  # Android's back key must not quit mid-report
    from peacewatch.mobile.ui.app import PeacewatchApp

    PeacewatchApp(args.data_dir).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
