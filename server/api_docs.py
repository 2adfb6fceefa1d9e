"""Render ``docs/API.md`` from the app itself: every route, its permission, parameters and summary.

Each route shows what it answers (its response model in ``/api/v1/openapi.json``); the error
and push-rejection catalogues follow. Generated, so it cannot drift: ``python -m peacewatch.server.api_docs > docs/API.md``; a test
fails when the committed file differs from what the app would write.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ..common.sync_protocol import REJECTIONS
from .access import ROLE_PERMISSIONS, Permission
from .app import create_app
from .problems import STATUS
from .route_policy import route_table

INTRO = """# peacewatch HTTP API (v1)

Generated from the running code by `python -m peacewatch.server.api_docs > docs/API.md`; the test
suite fails if this file is out of date. Interactive documentation: `/api/v1/docs` on a running
server; the OpenAPI document: `/api/v1/openapi.json`.

Authentication: `Authorization: Bearer <token>` from `POST /api/v1/auth/login`, or
`Authorization: Device <credential>` from `POST /api/v1/devices/enrol` (tablets). Errors are JSON
`{"error": code, "message": text, "field": name}`; the codes are listed in `server/problems.py`.
Permissions are those of `server/access.py`:

| permission | roles |
| --- | --- |
"""


def _roles_table() -> str:
    lines = []
    for perm in Permission:
        roles = [r.value for r, perms in ROLE_PERMISSIONS.items() if perm in perms]
        who = ("anyone, no sign-in" if perm is Permission.PUBLIC
               else "a sharing partner's API key (`X-Partner-Key`), no user role" if perm is Permission.PARTNER
               else ", ".join(roles))
        lines.append(f"| `{perm.value}` | {who} |")
    return "\n".join(lines) + "\n"


def _params(op: dict[str, Any]) -> str:
    params = op.get("parameters") or []
    if not params:
        return ""
    parts = []
    for p in params:
        schema = p.get("schema", {})
        typ = schema.get("type") or ("array" if "items" in schema else "") or "value"
        req = " (required)" if p.get("required") else ""
        parts.append(f"`{p['name']}` ({p['in']}, {typ}){req}")
    return "Parameters: " + ", ".join(parts) + "\n\n"


def _answer(op: dict[str, Any]) -> str:
    """What a route answers: its model (from the OpenAPI document) or its media types."""
    parts = []
    for status, response in sorted((op.get("responses") or {}).items()):
        if not status.startswith("2"):
            continue
        content = response.get("content") or {}
        if not content:
            parts.append(f"{status} (no body)")
            continue
        for media, body in content.items():
            schema = body.get("schema") or {}
            ref = schema.get("$ref") or (schema.get("items") or {}).get("$ref")
            name = f"`{ref.rsplit('/', 1)[-1]}`" if ref else ""
            if name and schema.get("type") == "array":
                name = f"list of {name}"
            parts.append(f"{status} {media}" + (f" {name}" if name else ""))
    return ("Answer: " + "; ".join(parts) + "\n\n") if parts else ""


def _codes() -> str:
    """The error catalogue and the push rejection catalogue, from the code that answers them."""
    out = ["## Error codes\n\nEvery refusal: `{\"error\": code, \"message\": text}` (+ `field` when one field is at "
           "fault).\n\n| status | `error` |\n| --- | --- |\n"]
    out += [f"| {STATUS[code]} | `{code.value}` |\n" for code in sorted(STATUS, key=lambda c: (STATUS[c], c.value))]
    out.append("\n## Push rejection codes\n\nPer version in `POST /api/v1/sync/push`'s answer "
               "(`common/sync_protocol.py`).\n\n| `code` | retryable | meaning |\n| --- | --- | --- |\n")
    out += [f"| `{code.value}` | {str(info.retryable).lower()} | {info.meaning} |\n" for code, info in REJECTIONS.items()]
    return "".join(out) + "\n"


def render() -> str:
    os.environ.setdefault("PEACEWATCH_SERVE_DASHBOARD", "1")  # read by create_app: document the dashboard too
    app = create_app()
    spec = app.openapi()
    perms = {(m, p): perm for m, p, perm in route_table(app)}
    out = [INTRO, _roles_table(), "\n"]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append((method.upper(), path, op))
    for tag in sorted(by_tag):
        out.append(f"## {tag}\n\n")
        for method, path, op in sorted(by_tag[tag], key=lambda x: (x[1], x[0])):
            perm = perms.get((method, path))
            out.append(f"### `{method} {path}`\n\n")
            out.append(f"Permission: `{perm.value if perm else 'none'}`\n\n")
            desc = (op.get("description") or op.get("summary") or "").strip()
            if desc:
                out.append(desc + "\n\n")
            out.append(_params(op))
            if "requestBody" in op:
                content = op["requestBody"].get("content", {})
                out.append("Body: " + ", ".join(f"`{ct}`" for ct in content) + "\n\n")
            out.append(_answer(op))
    out.append(_codes())
    pages = sorted((m, p) for m, p, _ in route_table(app) if not p.startswith("/api/"))
    if pages:
        out.append("## Dashboard pages (HTML)\n\n")
        for m, p in pages:
            perm = perms.get((m, p))
            out.append(f"- `{m} {p}` — permission `{perm.value if perm else 'none'}`\n")
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.write(render())
