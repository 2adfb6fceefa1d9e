"""Requests and answers of the duplicates routes: proposals, decisions, consolidated incidents."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..answers import Answer

ProposalStatus = Literal["proposed", "confirmed", "dismissed", "withdrawn"]


class Overrides(BaseModel):
    """HQ's choices per fact: ``{"fact": {"from": report_id}}`` or ``{"fact": {"value": ...}}``."""

    model_config = ConfigDict(extra="forbid")

    overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict, max_length=32,
        description="Per consolidated fact (e.g. 'casualties.killed'): take a source's value or give your own",
    )


class ReportBrief(Answer):
    """A report as a proposal or an incident names it: the ``reports`` projection's columns."""

    id: str
    kind: str
    category: str
    title: str
    contingent: str = Field(description="The reporting contingent's code")
    event_time: str | None
    lat: float | None
    lon: float | None
    confidentiality: str
    severity: int
    incident_id: str | None = Field(description="The consolidated incident the report belongs to, if any")


class History(Answer):
    """What analysts decided about pairs of the same categories at least as far apart in time."""

    decided: int
    different: int = Field(description="How many of those were dismissed as different events")


class ProposalOut(Answer):
    """A proposed duplicate pair with the engine's reasons, in numbers and in English."""

    id: int
    report_a: str
    report_b: str
    status: ProposalStatus
    score: float
    reasons: dict[str, Any] = Field(description="The engine's measures (distance, time gap, categories, text ...)")
    explanations: list[str] = Field(description="`reasons_for` then `reasons_against`")
    reasons_for: list[str]
    reasons_against: list[str]
    history: History | None = Field(description="Quoted once at least three pairs alike were decided")
    incident_id: str | None
    created_at: str | None
    decided_at: str | None
    reports: list[ReportBrief] = Field(description="Both reports: `report_a`, then `report_b`")


class ProposalPage(Answer):
    items: list[ProposalOut]
    total: int
    limit: int
    offset: int


class IncidentSource(ReportBrief):
    """A source report the caller may read, with its body (redacted for the caller)."""

    body: dict[str, Any]


class Consolidated(Answer):
    """The incident's facts across its readable sources (``consolidate.consolidate``)."""

    sources: list[str]
    values: dict[str, Any] = Field(description="Per fact, the value shown (HQ's override or the rule's default)")
    agreed: list[str]
    disagreeing: list[str]
    facts: dict[str, dict[str, Any]] = Field(
        description="Per fact: agreed, by_source, missing, rule, default, value, override")


class IncidentOut(Answer):
    """A consolidated incident as the caller may see it: readable sources only, values from them."""

    id: str
    status: Literal["active", "unmerged"]
    created_at: str | None
    updated_at: str | None
    seq: int
    sources: list[IncidentSource]
    consolidated: Consolidated
