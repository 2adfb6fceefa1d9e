"""Input no database can hold, refused as a 4xx naming the field before any handler sees it.

Owns the rules that apply to every route whatever its parameters are:

* text: no NUL character (PostgreSQL text cannot hold one), no unpaired UTF-16 surrogate (not
  encodable as UTF-8), no invalid UTF-8 in a percent-encoded query. Checked for path and query
  parameters by ``refuse_unstorable_text`` (an app-wide dependency, so routes added later are
  covered) and for JSON and form bodies by ``body_problem`` (called by the body middleware);
* integers: every integer a route takes is bounded to 64 bits (``INT64_MAX``; a test walks the
  OpenAPI and fails for an unbounded one);
* times: ``UtcDateTime`` turns any ISO 8601 time into aware UTC and refuses one whose UTC value
  falls outside what Python and both databases can represent (``0001-01-01T00:00+05:00``).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote_plus, unquote_to_bytes

from fastapi import Path, Request
from pydantic import AfterValidator

from .problems import Problem, invalid

INT64_MAX = 2**63 - 1

# A JSON escape that may decode to NUL or to a surrogate. Only a hint: a match (rare in real
# bodies) triggers a full parse that decides exactly and names the field.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or ``None`` when it can."""
    if "\x00" in value:
        return "must not contain a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain an unpaired UTF-16 surrogate"
    return None


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 once converted to UTC") from None


#: An ISO 8601 time as aware UTC (a time without zone is taken as UTC), refused if out of range.
UtcDateTime = Annotated[datetime, AfterValidator(to_utc)]


def parse_utc(text: str) -> datetime:
    """An ISO 8601 string as aware UTC; ``ValueError`` when it is not one or is out of range."""
    return to_utc(datetime.fromisoformat(text))


def _pairs_problem(raw: bytes, *, where: str) -> Problem | None:
    """Check ``a=b&c=d`` (a query string or a form body); the problem names the field."""
    for part in raw.split(b"&"):
        if not part:
            continue
        name_raw, _, value_raw = part.partition(b"=")
        name = unquote_plus(name_raw.decode("latin-1"), errors="replace") or where
        for piece in (name_raw, value_raw):
            try:
                decoded = unquote_to_bytes(piece.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return invalid(name, "is not valid UTF-8")
            reason = text_problem(decoded)
            if reason:
                return invalid(name, reason)
    return None


def _json_problem(doc: Any) -> Problem | None:
    """The first string (key or value) in a parsed JSON document that cannot be stored."""
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:  # iterative: a deeply nested document must not exhaust the stack here
        path, node = stack.pop()
        if isinstance(node, str):
            reason = text_problem(node)
            if reason:
                return invalid(path or "body", reason)
        elif isinstance(node, dict):
            for key, child in node.items():
                reason = text_problem(key)
                if reason:
                    return invalid(path or "body", f"a key {reason}")
                stack.append((f"{path}.{key}" if path else key, child))
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}" if path else str(i), child) for i, child in enumerate(node))
    return None


def body_problem(content_type: str, body: bytes) -> Problem | None:
    """A refusal for a JSON or form body holding unstorable text, else ``None``.

    A body that is not valid JSON is left to the app, which answers ``invalid_json``.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        return _pairs_problem(body, where="body")
    if (media == "application/json" or media.endswith("+json")) and _SUSPECT_ESCAPE.search(body):
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            return None
        return _json_problem(doc)
    return None


def refuse_unstorable_text(request: Request) -> None:
    """App-wide dependency: path and query parameters must be storable text (see module doc)."""
    problem = _pairs_problem(request.scope.get("query_string", b""), where="query")
    if problem:
        raise problem
    for name, value in request.path_params.items():
        if isinstance(value, str):
            reason = text_problem(value)
            if reason:
                raise invalid(name, reason)



#: A database id in a path: positive and within 64 bits (a larger number is a 422 naming it, never a 500).
Id64 = Annotated[int, Path(ge=1, le=INT64_MAX)]
