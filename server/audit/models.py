"""Answers of the audit routes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..answers import Answer


class Entry(Answer):
    id: int
    ts: str
    action: str
    actor: str | None = None
    target: str | None = None
    detail: Any = None


class EntryPage(Answer):
    entries: list[Entry]
    next: int = Field(description="The last id of this page: pass it as `after`")
    more: bool


class Verification(Answer):
    ok: bool
    entries: int
    first_broken_id: int | None
    reason: str | None
