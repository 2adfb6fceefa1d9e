"""The real mission server as a child process (``python -m peacewatch.server.cli server``).

A thread cannot be SIGKILLed, so fault and load tests that kill the server, or measure its memory,
run it as a process of its own. ``ServerProcess`` starts it on a free 127.0.0.1 port, waits until
``/api/v1/health`` answers, and can ``kill()`` it (SIGKILL: no shutdown code runs) or ``stop()`` it.
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
                 env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
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

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "peacewatch.server.cli", "server", "--data-dir", str(self.data_dir),
               "--database-url", self.database_url, "--port", str(self.port), "--log-level", "warning"]
        if self.tls:
            cmd += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        env = os.environ | {"PEACEWATCH_PASSWORD_HASH_COST": "test"} | self.env
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
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
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_bytes(self) -> int:
        """Resident memory of the server process, from /proc."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
