"""``python -m peacewatch.mobile``: start the tablet app (``--data-dir``, ``--size WxH``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

FIRST_FRAME_ENV = "PEACEWATCH_FIRST_FRAME"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peacewatch.mobile", description="The peacewatch tablet app.")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the encrypted store lives (default: the platform's app data folder)")
    parser.add_argument("--size", default=None, metavar="WxH", help="window size, e.g. 1280x800")
    args = parser.parse_args(argv)
    # Kivy reads its options from the environment and sys.argv at import: set them first and keep
    # our arguments away from its own parser (so Kivy and the UI are imported here, not at the top).
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    if args.size:
        from peacewatch.mobile.ui.cli import parse_size

        width, height = parse_size(args.size)
        from kivy.config import Config

        Config.set("graphics", "width", str(width))
        Config.set("graphics", "height", str(height))
    # sqlite-utils imports pandas when it is installed (0.8 s, on a desktop sharing the server's
    # environment); the tablet never uses it and an Android build has none: keep it out.
    sys.modules.setdefault("pandas", None)  # type: ignore[arg-type]
    from kivy.config import Config

    Config.set("input", "mouse", "mouse,multitouch_on_demand")  # no red multitouch dots on right-click
    Config.set("kivy", "exit_on_escape", "0")  # Android's back key must not quit mid-report
    from peacewatch.mobile.ui.app import PeacewatchApp

    app = PeacewatchApp(args.data_dir)
    if os.environ.get(FIRST_FRAME_ENV):
        _report_first_frame(app, os.environ[FIRST_FRAME_ENV])
    app.run()
    return 0


def _report_first_frame(app: object, target: str) -> None:
    """For bench/app_start.py: when the first frame is on screen, write the CPU time spent so far and
    the wall-clock time to ``target``, then quit."""
    import resource  # Unix only (Android, Linux desktops), and needed by the benchmark only

    from kivy.core.window import Window

    def flipped(*_: object) -> None:
        Window.unbind(on_flip=flipped)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open(target, "w", encoding="utf-8") as fh:
            json.dump({"cpu_s": usage.ru_utime + usage.ru_stime, "at": time.time()}, fh)
        app.stop()  # type: ignore[attr-defined]

    Window.bind(on_flip=flipped)


if __name__ == "__main__":
    sys.exit(main())
