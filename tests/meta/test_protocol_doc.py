"""docs/sync-protocol.md names every error code the server can answer, and its rejection table is the catalogue.

A second client is written from that document alone: a code missing from its tables is a refusal
that client cannot handle on purpose.
"""

from __future__ import annotations

import re
from pathlib import Path

from peacewatch.common.sync_protocol import REJECTIONS, RejectionCode
from peacewatch.server.problems import STATUS, Code

DOC = Path(__file__).resolve().parents[2] / "docs" / "sync-protocol.md"


def _table_rows() -> list[list[str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not set(line) <= set("|- "):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_every_error_code_is_in_the_error_table_with_its_status() -> None:
    listed = {(row[0], row[1]) for row in _table_rows() if len(row) >= 2}
    missing = [f"{STATUS[code]} `{code.value}`" for code in Code if (str(STATUS[code]), f"`{code.value}`") not in listed]
    assert missing == [], f"add these rows to the error table of {DOC.name}: {missing}"


def test_the_rejection_table_is_the_catalogue() -> None:
    rows = {row[0].strip("`"): row[1] for row in _table_rows()
            if len(row) == 3 and row[0].strip("`") in {c.value for c in RejectionCode}}
    assert set(rows) == {c.value for c in RejectionCode}, "every rejection code has a row"
    for code, info in REJECTIONS.items():
        assert re.sub(r"\*", "", rows[code.value]) == ("true" if info.retryable else "false"), code
