"""Production modules stay small: over 500 lines, a module says at its top why it is not split.

"Small modules named for what they own" (CONTRIBUTING.md). A long module is allowed when its top
says why, in a sentence starting with the marker below, so the next reader weighs the reason
instead of rediscovering it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 500
MARKER = "Longer than 500 lines because"


def test_every_long_module_says_why_at_its_top() -> None:
    unexplained = []
    for package in ("common", "mobile", "server"):
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            if len(lines) > LIMIT and not any(MARKER in line for line in lines[:40]):
                unexplained.append(f"{path.relative_to(ROOT)} ({len(lines)} lines)")
    assert unexplained == [], f"split these, or say '{MARKER} ...' in their docstring: {unexplained}"
