"""The ``peacewatch`` command: help for every subcommand, admin commands, seed, and a real server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from peacewatch.server.cli import build_parser, main


def _subparsers(parser):
    for action in parser._actions:  # argparse keeps subcommands here; no public accessor
        if action.__class__.__name__ == "_SubParsersAction":
            yield from action.choices.items()


def test_every_command_has_help_and_common_options() -> None:
    parser = build_parser()
    names = dict(_subparsers(parser))
    assert {"server", "seed", "admin"} <= set(names)
    seen = 0
    stack = list(names.items())
    while stack:
        name, sub = stack.pop()
        children = list(_subparsers(sub))
        if children:
            stack += children
            continue
        seen += 1
        text = sub.format_help()
        assert "--data-dir" in text and "--database-url" in text, name
        # Every leaf command says what it does in its own --help, beyond the usage line.
        assert (sub.description or "").strip(), f"'{name}' has no description"
    assert seen >= 9


def test_help_runs(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("server", "seed", "admin"):
        assert cmd in out


def test_admin_commands_share_the_database(tmp_path: Path, capsys) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert main(["admin", "create-contingent", "ALPHA", "Alpha Battalion", *data]) == 0
    assert main(["admin", "create-user", "p1", "--role", "patrol", "--contingent", "ALPHA",
                 "--password", "long enough pw", *data]) == 0
    assert main(["admin", "create-user", "p2", "--role", "patrol", "--password", "long enough pw", *data]) == 2
    assert "contingent" in capsys.readouterr().err
    assert main(["admin", "enrol-device", "--user", "p1", *data]) == 0
    out = capsys.readouterr().out
    code = out.split("code for p1: ")[1].split()[0]
    assert (tmp_path / "enrolment" / f"{code}.png").read_bytes().startswith(b"\x89PNG")
    assert main(["admin", "list-users", *data]) == 0
    assert "p1" in capsys.readouterr().out
    assert (tmp_path / "peacewatch.db").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_seed_and_serve(tmp_path: Path) -> None:
    exe = [sys.executable, "-m", "peacewatch.server.cli"]
    seeded = subprocess.run([*exe, "seed", "--data-dir", str(tmp_path), "--reports", "120"],
                            capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    assert "analyst" in seeded.stdout and "peacewatch-demo" in seeded.stdout
    port = _free_port()
    proc = subprocess.Popen([*exe, "server", "--data-dir", str(tmp_path), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90  # imports are slow on a loaded 2-core machine
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).json()
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail(f"server did not answer: {proc.stdout.read() if proc.stdout else ''}")
                time.sleep(0.3)
        assert health["status"] == "ok" and health["database"] == "sqlite"
        token = requests.post(f"http://127.0.0.1:{port}/api/v1/auth/login",
                              json={"username": "analyst", "password": "peacewatch-demo"}, timeout=5).json()["token"]
        page = requests.get(f"http://127.0.0.1:{port}/api/v1/reports?limit=5",
                            headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
        assert page["total"] > 100
        # The seed rendered the demo's base map and imported it: a real tile of Bunia comes back.
        auth = {"Authorization": f"Bearer {token}"}
        [demo] = requests.get(f"http://127.0.0.1:{port}/api/v1/basemaps", headers=auth, timeout=5).json()["basemaps"]
        assert demo["name"] == "demo" and demo["minzoom"] <= 10 <= demo["maxzoom"]
        tile = requests.get(f"http://127.0.0.1:{port}/api/v1/basemaps/demo/10/598/507", headers=auth, timeout=5)
        assert tile.status_code == 200 and tile.content.startswith(b"\x89PNG")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
