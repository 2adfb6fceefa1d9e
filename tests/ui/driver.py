"""Drive the real app in a real window: Xvfb display, ``python -m peacewatch.mobile`` subprocess,
and the app's automation channel (``peacewatch.mobile.ui.automation``)."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def display_number() -> int:
    """A display per pytest-xdist worker (gw0 -> :140, gw1 -> :141...) and per process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    return 140 + index * 10 + os.getpid() % 10


@contextmanager
def xvfb(width: int = 1280, height: int = 800) -> Iterator[str]:
    """Start Xvfb on a free display; yield ``":N"``."""
    if shutil.which("Xvfb") is None:
        raise RuntimeError("Xvfb is not installed; run scripts/system-deps.sh")
    for number in range(display_number(), display_number() + 40):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", f"{max(width, height)}x{max(width, height)}x24",
                                 "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.05)
        if proc.poll() is not None:
            continue  # somebody took the number meanwhile
        try:
            yield f":{number}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        return
    raise RuntimeError("no free X display number")


class AppProcess:
    """One running app; commands go through its automation directory."""

    def __init__(self, display: str, data_dir: Path, control: Path, *, size: str = "1280x800",
                 via_cli: bool = False, env: dict[str, str] | None = None) -> None:
        self.control = control
        shutil.rmtree(control, ignore_errors=True)
        control.mkdir(parents=True)
        (data_dir / ".kivy").mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, DISPLAY=display, PEACEWATCH_AUTOMATION=str(control), PEACEWATCH_KDF="test",
                   KIVY_HOME=str(data_dir / ".kivy"),
                   TZ="UTC", **(env or {}))
        self.log = open(control.parent / f"{control.name}.log", "ab")  # noqa: SIM115 - closed in stop()
        if via_cli:
            # `peacewatch app --data-dir D` keeps the tablet store in D/tablet.
            assert data_dir.name == "tablet", data_dir
            command = [str(Path(sys.executable).with_name("peacewatch")), "app", "--data-dir", str(data_dir.parent)]
        else:
            command = [sys.executable, "-m", "peacewatch.mobile", "--data-dir", str(data_dir)]
        self.proc = subprocess.Popen([*command, "--size", size], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=ROOT)
        self._seq = itertools.count()
        deadline = time.monotonic() + 60
        while not (control / "ready").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the app did not start; see {self.log.name}")
            time.sleep(0.05)

    def call(self, op: str, timeout: float = 30.0, **args: Any) -> Any:
        name = f"{next(self._seq):06d}"
        tmp = self.control / f"{name}.tmp"
        tmp.write_text(json.dumps({"op": op, **args}), encoding="utf-8")
        os.replace(tmp, self.control / f"{name}.cmd.json")
        out = self.control / f"{name}.out.json"
        deadline = time.monotonic() + timeout
        while not out.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited with {self.proc.returncode}; see {self.log.name}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to {op} {args}")
            time.sleep(0.02)
        answer = json.loads(out.read_text(encoding="utf-8"))
        out.unlink()
        if not answer["ok"]:
            raise AssertionError(answer["error"])
        return answer["result"]

    def tap(self, pw_id: str) -> None:
        self.call("tap", id=pw_id)

    def type(self, pw_id: str, text: str) -> str:
        return self.call("type", id=pw_id, text=text)

    def state(self) -> dict[str, Any]:
        state = self.call("state")
        # Any exception the app swallowed to stay up is a bug: fail the test on it.
        assert not state["errors"], state["errors"]
        return state

    def text(self, pw_id: str) -> str:
        return self.state()["texts"].get(pw_id, "")

    def wait_for(self, predicate: Any, timeout: float = 30.0, what: str = "condition") -> dict[str, Any]:
        """Poll the app state until ``predicate(state)`` holds (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; last state: {state}")
            time.sleep(0.1)

    def visible(self, pw_id: str) -> bool:
        """Is the widget on screen (inside the window and the shown part of its scroll views)?"""
        return bool(self.call("visible", id=pw_id))

    def screenshot(self, path: Path) -> Path:
        self.call("screenshot", path=str(path))
        return path

    def kill(self) -> None:
        """SIGKILL: no chance to save anything that was not already saved."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
