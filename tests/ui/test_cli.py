"""``peacewatch app`` and ``python -m peacewatch.mobile``: arguments, data directory, help."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from peacewatch.mobile.ui import cli
from peacewatch.server.cli import build_parser


def test_app_subcommand_is_registered_with_help():
    parser = build_parser()
    args = parser.parse_args(["app", "--data-dir", "/tmp/x", "--size", "800x1280"])
    assert args.func is cli.run and args.size == "800x1280"
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "tablet app" in sub.choices["app"].format_help()


def test_store_lives_under_the_data_dir(monkeypatch):
    monkeypatch.delenv("PEACEWATCH_DATA_DIR", raising=False)
    assert cli.data_dir_from(argparse.Namespace(data_dir=Path("/srv/pw"))) == Path("/srv/pw/tablet")
    monkeypatch.setenv("PEACEWATCH_DATA_DIR", "/var/pw")
    assert cli.data_dir_from(argparse.Namespace(data_dir=None)) == Path("/var/pw/tablet")


@pytest.mark.parametrize("bad", ["big", "1280", "10x10", "1280x800x2"])
def test_bad_size_is_a_clear_error(bad):
    with pytest.raises(SystemExit, match="--size"):
        cli.parse_size(bad)
    assert cli.parse_size("1280x800") == (1280, 800)


def test_app_hands_its_arguments_to_the_module_entry_point(monkeypatch, tmp_path: Path):
    seen = {}
    monkeypatch.setattr("peacewatch.mobile.__main__.main", lambda argv: seen.setdefault("argv", argv) and 0)
    args = build_parser().parse_args(["app", "--data-dir", str(tmp_path), "--size", "1280x800"])
    assert args.func(args) == 0
    assert seen["argv"] == ["--data-dir", str(tmp_path / "tablet"), "--size", "1280x800"]
