"""Requests and answers of the conflicts routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ..answers import Answer

Sha = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ResolveRequest(BaseModel):
    """Exactly one of ``pick`` or ``body``; ``parents`` (optional) are the heads you saw."""

    model_config = ConfigDict(extra="forbid")

    pick: Sha | None = Field(default=None, description="Keep this head's body")
    body: dict[str, Any] | None = Field(default=None, description="A merged report body")
    parents: list[Sha] | None = Field(default=None, max_length=64,
                                      description="The heads you resolved; 409 with the current heads if they moved")


class Head(Answer):
    version_id: str
    author: str | None
    device_id: str | None
    received_at: str | None
    body: dict[str, Any] = Field(description="Redacted for the caller")


class DifferingField(Answer):
    field: str = Field(description="Dotted path")
    values: dict[str, Any] = Field(description="version_id -> that head's value (null if absent)")


class Conflict(Answer):
    report_id: str
    heads: list[Head]
    fields: list[DifferingField]


class ConflictList(Answer):
    items: list[Conflict]
    total: int


class Resolution(Answer):
    report_id: str
    version_id: str
    parents: list[str]
    seq: int
    method: str = Field(description="pick or merge")
    in_conflict: bool
