"""The real mission server as a child process (``python -m peacewatch.server.cli server``).

A thread cannot be SIGKILLed, so fault and load tests that kill the server, or measure its memory,
run it as a process of its own. ``ServerProcess`` starts it on a free 127.0.0.1 port, waits until
``/api/v1/health`` answers, and can ``kill()`` it (SIGKILL: no shutdown code runs) or ``stop()`` it.
With ``workers`` > 1 the server is uvicorn's supervisor and its worker processes, started in a
session of their own, so ``kill()`` takes them all at once, as a power cut would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``with ServerProcess(data_dir, database_url) as srv: requests.get(srv.url + ...)``."""

    def __init__(self, data_dir: Path, database_url: str, *, port: int | None = None,
                 tls: tuple[Path, Path] | None = None, ca: Path | None = None,
                 env: dict[str, str] | None = None, workers: int = 1) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.database_url = database_url
        self.port = port or free_port()
        self.tls = tls
        # What the readiness probe trusts for HTTPS: the mission CA (or the impostor's own certificate).
        self.ca = str(ca) if ca else True
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float | None = None) -> ServerProcess:
        # Every worker imports the whole app before the socket answers: allow for each.
        timeout = timeout if timeout is not None else 30.0 + 30.0 * (self.workers - 1)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "peacewatch.server.cli", "server", "--data-dir", str(self.data_dir),
               "--database-url", self.database_url, "--port", str(self.port), "--log-level", "warning",
               "--workers", str(self.workers)]
        if self.tls:
            cmd += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        env = os.environ | {"PEACEWATCH_PASSWORD_HASH_COST": "test"} | self.env
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1, verify=self.ca).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server did not answer within {timeout} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything (a power cut, the OOM killer)."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the supervisor and every worker
            except ProcessLookupError:
                pass  # already gone, all of it
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.kill()  # whatever of its session is left (a worker that did not stop)

    def pids(self) -> list[int]:
        """The server's processes: the main one and its children (uvicorn's workers)."""
        assert self.proc is not None
        return process_tree(self.proc.pid)

    def rss_bytes(self) -> int:
        """Resident memory of the server's processes together, from /proc."""
        assert self.proc is not None
        return tree_rss_bytes(self.proc.pid)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server's live processes have used so far, from /proc."""
        assert self.proc is not None
        return tree_cpu_seconds(self.proc.pid)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            pass
    return out


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants together."""
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its live descendants."""
    ticks = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")
