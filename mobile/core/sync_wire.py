"""The sync client's side of the wire: requests built from, and answers read into, protocol v1's messages.

The messages themselves are defined once in ``peacewatch.common.sync_protocol`` (the server
validates and documents with the same models). This module turns a batch of ``PushEntry`` into
the gzip body of ``POST /sync/push``, sorts a push answer into sent / held / rejected using the
rejection catalogue, and checks a pull page's frame (``changes``, ``next``, ``more``) before the
store applies the changes as they came.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from peacewatch.common.sync_protocol import PushEntry, PushRequest, PushStatus, is_retryable

__all__ = [
    "API",
    "DEFAULT_CHUNK_SIZE",
    "MAX_MISSING_QUERY",
    "Answer",
    "PushSorted",
    "Refusal",
    "decode_object",
    "named_entry",
    "push_body",
    "read_pull_page",
    "retry_after",
    "server_said",
    "sort_push_answer",
]

API = "/api/v1"
MAX_MISSING_QUERY = 10_000  # chunk hashes per /attachments/missing call
DEFAULT_CHUNK_SIZE = 256 * 1024


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: status, parsed JSON object ({} if none), size, time taken."""

    status: int
    data: dict[str, Any]
    size: int
    elapsed: float


@dataclass(frozen=True)
class Refusal:
    """One version refused for good, with the server's code, field and plain reason."""

    entry: PushEntry
    code: str
    field: str | None
    reason: str


@dataclass
class PushSorted:
    """A push answer sorted per version of the batch."""

    sent: list[str] = field(default_factory=list)  # stored or duplicate: leaves the outbox
    held: list[str] = field(default_factory=list)  # retryable rejection or not answered: try again later
    refused: list[Refusal] = field(default_factory=list)


def push_body(entries: Sequence[PushEntry]) -> bytes:
    """The gzip-compressed JSON body of ``POST /sync/push`` for ``entries`` (absent optionals left out)."""
    raw = PushRequest.model_construct(versions=list(entries)).model_dump_json(exclude_none=True)
    return gzip.compress(raw.encode("utf-8"), compresslevel=6, mtime=0)


def sort_push_answer(batch: Sequence[PushEntry], results: list[Any]) -> PushSorted:
    """Sort ``results`` (the answer's list) per entry of ``batch``; an entry not answered for is held."""
    answered = {r.get("version_id"): r for r in results if isinstance(r, dict)}
    out = PushSorted()
    for entry in batch:
        result = answered.get(entry.version_id)
        status = result.get("status") if result else None
        if status in (PushStatus.STORED, PushStatus.DUPLICATE):
            out.sent.append(entry.version_id)
        elif status == PushStatus.REJECTED and result is not None:
            code = str(result.get("code") or "rejected")
            # ``retryable`` decides; the catalogue covers an older server that omits it.
            if result.get("retryable") or is_retryable(code):
                out.held.append(entry.version_id)
            else:
                reason = str(result.get("reason") or result.get("message") or code)
                out.refused.append(Refusal(entry, code, result.get("field"), reason))
        else:
            out.held.append(entry.version_id)
    return out


def named_entry(batch: Sequence[PushEntry], data: Mapping[str, Any]) -> Refusal | None:
    """A whole batch refused (422) because of one malformed entry, ``field`` = ``versions.<i>.<path>``:
    that entry as a refusal, so the rest can go through; None if the refusal names no entry."""
    parts = str(data.get("field") or "").split(".", 2)
    if len(parts) < 2 or parts[0] != "versions" or not parts[1].isdigit() or int(parts[1]) >= len(batch):
        return None
    field_ = parts[2] if len(parts) == 3 else None
    message = str(data.get("message") or data.get("error") or "invalid")
    return Refusal(batch[int(parts[1])], str(data.get("error") or "invalid_input"), field_, message)


def read_pull_page(data: Mapping[str, Any], since: int) -> tuple[list[dict[str, Any]], int, bool]:
    """``(changes, next, more)`` of a pull answer; ValueError in plain words if the frame is wrong.

    Changes are passed on as the feed wrote them; the store skips kinds it does not know.
    """
    changes = data.get("changes")
    if not isinstance(changes, list):
        raise ValueError("the server sent no list of changes")
    nxt = data.get("next")
    if not isinstance(nxt, int) or isinstance(nxt, bool) or nxt < since:
        raise ValueError(f"the server sent a bad position in its change feed ({nxt!r})")
    return [c for c in changes if isinstance(c, dict)], nxt, bool(data.get("more"))


def decode_object(content: bytes | None) -> dict[str, Any]:
    """The JSON object in ``content``; {} if it is empty, not JSON or not an object."""
    try:
        data = json.loads(content or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds, if the server sent a number."""
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def server_said(answer: Answer, what: str) -> str:
    """``what`` followed by the server's own words (and the field it named)."""
    data = answer.data
    message = data.get("message") or data.get("error") or f"HTTP {answer.status}"
    where = f" ({data['field']})" if data.get("field") else ""
    return f"{what}: {message}{where}"
