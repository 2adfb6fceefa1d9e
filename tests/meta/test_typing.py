"""mypy passes on the UI-free layers, ``common/`` and ``mobile/core/`` (configuration in pyproject.toml).

The folders install as ``peacewatch.common`` and ``peacewatch.mobile`` through an editable finder
mypy cannot follow, so the test lays out the import names as symlinks in a temporary directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("peacewatch.common", "peacewatch.mobile.core")


def test_mypy_is_clean_on_common_and_mobile_core(tmp_path: Path) -> None:
    package = tmp_path / "peacewatch"
    package.mkdir()
    for folder in ("common", "mobile", "server"):
        (package / folder).symlink_to(ROOT / folder, target_is_directory=True)
    args = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
            "--cache-dir", str(tmp_path / ".mypy_cache"), "--namespace-packages", "--explicit-package-bases"]
    for name in CHECKED:
        args += ["-p", name]
    done = subprocess.run(args, cwd=tmp_path, env=os.environ | {"MYPYPATH": str(tmp_path)}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout
