"""``docs/API.md`` is what the code would generate: every endpoint documented, none stale."""

from __future__ import annotations

from pathlib import Path

from peacewatch.server.api_docs import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "API.md"


def test_api_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/API.md is stale: run  .venv/bin/python -m peacewatch.server.api_docs > docs/API.md"
    )


def test_every_route_has_a_description() -> None:
    from peacewatch.server.app import create_app

    spec = create_app().openapi()
    missing = [f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m, op in ops.items()
               if not (op.get("description") or "").strip()]
    assert missing == [], f"routes without a docstring: {missing}"
