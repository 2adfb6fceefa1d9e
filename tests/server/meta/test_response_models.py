"""Every JSON answer is described in ``/api/v1/openapi.json``: a model with its keys, not "an object".

A second client (or the generated docs/API.md) reads what each route answers from the OpenAPI
document; a route returning a bare ``dict`` shows up there as ``{"type": "object"}`` and says
nothing. File downloads and empty answers are not JSON and are not checked.
"""

from __future__ import annotations

import json
import os

from peacewatch.server.app import create_app


def _described(schema: dict) -> bool:
    text = json.dumps(schema)
    return "$ref" in text or '"properties"' in text


def test_every_json_answer_has_a_model() -> None:
    os.environ.setdefault("PEACEWATCH_SERVE_DASHBOARD", "1")
    spec = create_app().openapi()
    bare = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, response in (op.get("responses") or {}).items():
                json_body = (response.get("content") or {}).get("application/json")
                if status.startswith("2") and json_body is not None and not _described(json_body.get("schema") or {}):
                    bare.append(f"{method.upper()} {path}")
    assert sorted(set(bare)) == [], "give these routes a response_model (server/<domain>/models.py)"
