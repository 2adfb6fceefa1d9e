"""Request bodies of the duplicates routes (responses are the service's JSON-ready dicts)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ProposalStatus = Literal["proposed", "confirmed", "dismissed", "withdrawn"]


class Overrides(BaseModel):
    """HQ's choices per fact: ``{"fact": {"from": report_id}}`` or ``{"fact": {"value": ...}}``."""

    model_config = ConfigDict(extra="forbid")

    overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict, max_length=32,
        description="Per consolidated fact (e.g. 'casualties.killed'): take a source's value or give your own",
    )
