"""Bodies and answers of the alert routes: rules (conditions, audience, escalation ladder), alerts, actions, closing, response times, webhooks.

Every request model forbids unknown fields, so a typo in a rule is a 422 naming the field rather
than a rule that silently matches everything. The answers (``Answer`` models, below) describe the
services' JSON-ready dicts for the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator
from shapely.geometry import shape

from ...common.taxonomy import CONFIDENTIALITY_LEVELS, KINDS, load_taxonomy
from ..access import Role
from ..answers import Answer

ActionKind = Literal["patrol_tasked", "contingent_informed", "partner_notified", "note"]
AlertStatus = Literal["new", "acknowledged", "in_response", "closed"]
Kind = Literal[KINDS]  # type: ignore[valid-type]
Confidentiality = Literal[CONFIDENTIALITY_LEVELS]  # type: ignore[valid-type]
RoleName = Literal[tuple(r.value for r in Role if r is not Role.ADMIN)]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Near(_Strict):
    """Within ``km`` of a reference item (a sensitive site or place), or of any sensitive site."""

    reference_id: str | None = Field(default=None, max_length=64,
                                     description="A reference item's id; omitted: any sensitive site")
    km: float = Field(gt=0, le=500)


class Cluster(_Strict):
    """At least ``count`` matching reports within ``hours`` of each other inside ``km``."""

    count: int = Field(ge=2, le=1000)
    hours: float = Field(gt=0, le=24 * 90)
    km: float = Field(gt=0, le=500)


class Conditions(_Strict):
    """What a report must be to match; every given condition must hold (empty lists match anything)."""

    kinds: list[Kind] = Field(default_factory=list, max_length=3)
    categories: list[str] = Field(default_factory=list, max_length=64)
    min_severity: int | None = Field(default=None, ge=1, le=5)
    confidentiality: list[Confidentiality] = Field(default_factory=list, max_length=3)
    contingents: list[str] = Field(default_factory=list, max_length=64, description="Contingent codes")
    near: Near | None = None
    area: dict[str, Any] | None = Field(default=None, description="A GeoJSON Polygon or MultiPolygon (lon, lat)")
    area_reference_id: str | None = Field(default=None, max_length=64,
                                          description="Inside this reference item's area (mission area, boundary)")
    cluster: Cluster | None = None
    inside: Literal["hotspot", "coverage_gap"] | None = Field(
        default=None, description="Inside a current hot spot, or a hot spot no recent patrol covered "
                                  "(HQ's analysis, docs/alerts.md)")

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        codes = set(load_taxonomy().codes)
        unknown = [code for code in value if code not in codes]
        if unknown:
            raise ValueError(f"unknown category {unknown[0]!r}")
        return value

    @field_validator("area")
    @classmethod
    def _polygon(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        # Checked here: a shape matching could not read would stop raising for every rule.
        if value is None:
            return value
        try:
            geometry = shape(value)
        except Exception:  # noqa: BLE001 - shapely raises many kinds on a malformed mapping
            raise ValueError("not a GeoJSON Polygon or MultiPolygon") from None
        if geometry.geom_type not in ("Polygon", "MultiPolygon") or not geometry.is_valid:
            raise ValueError("not a valid GeoJSON Polygon or MultiPolygon")
        return value


class Audience(_Strict):
    """Who receives the alert: these roles, limited to these contingents if any are named."""

    roles: list[RoleName] = Field(min_length=1, max_length=6)
    contingents: list[str] = Field(default_factory=list, max_length=64)


class EscalationStep(Audience):
    """Still unacknowledged ``after_minutes`` after it was raised: this audience is added."""

    after_minutes: int = Field(ge=1, le=7 * 24 * 60)


class RuleIn(_Strict):
    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    conditions: Conditions
    audience: Audience
    escalation: list[EscalationStep] = Field(default_factory=list, max_length=10)
    shareable: bool = Field(default=False, description="Alerts of this rule may leave the mission (CAP, webhooks)")

    @field_validator("escalation")
    @classmethod
    def _ladder_in_order(cls, value: list[EscalationStep]) -> list[EscalationStep]:
        times = [step.after_minutes for step in value]
        if times != sorted(set(times)):
            raise ValueError("steps must be in strictly increasing after_minutes")
        return value


class ActionIn(_Strict):
    kind: ActionKind
    text: str = Field(default="", max_length=4000)


class CloseIn(_Strict):
    outcome: str = Field(min_length=1, max_length=4000)


class WebhookIn(_Strict):
    url: AnyHttpUrl
    secret: str = Field(min_length=16, max_length=200, description="Shared secret for the HMAC-SHA256 signature")


# -- answers --------------------------------------------------------------------------------------
class RuleOut(Answer):
    """A rule as stored: its definition (as ``RuleIn``) and when it was made and last changed."""

    id: int
    name: str
    enabled: bool
    conditions: dict[str, Any]
    audience: dict[str, Any]
    escalation: list[dict[str, Any]]
    shareable: bool
    created_at: str
    updated_at: str


class RuleList(Answer):
    items: list[RuleOut]


class Deleted(Answer):
    """What a DELETE did: the id, and that it is gone (rules) or inactive (webhook endpoints)."""

    id: int
    deleted: bool | None = None
    active: bool | None = None


class RuleRef(Answer):
    id: int
    name: str


class Point(Answer):
    lat: float | None
    lon: float | None


class AlertReport(Answer):
    """A report an alert names: only ever one its reader may read."""

    id: str
    title: str | None
    kind: Kind
    category: str | None
    severity: int | None
    contingent: str
    lat: float | None
    lon: float | None
    event_time: str | None


class Stamp(Answer):
    by: str | None
    at: str | None


class Closed(Stamp):
    outcome: str | None


class ActionOut(Answer):
    kind: ActionKind
    text: str | None
    by: str | None
    at: str | None


class AlertOut(Answer):
    """An alert: its rule, status, escalation level, where and when, its reports, its response."""

    id: int
    rule: RuleRef
    status: AlertStatus
    level: int
    confidentiality: Confidentiality
    where: Point
    when: str | None
    raised_at: str | None
    trigger: Literal["report", "cluster"] = Field(description="One report, or N reports within T hours inside R km")
    reports: list[AlertReport]
    acknowledged: Stamp | None
    actions: list[ActionOut]
    closed: Closed | None


class AlertPage(Answer):
    items: list[AlertOut]
    total: int
    limit: int
    offset: int


class Minutes(Answer):
    median: float | None
    p90: float | None


class ResponseGroup(Answer):
    group: str = Field(description="The rule's name, the contingent's code or the ISO week (2026-W49)")
    alerts: int
    unacknowledged: int
    acknowledge_minutes: Minutes
    first_action_minutes: Minutes


class ResponseTimes(Answer):
    by: Literal["rule", "contingent", "week"]
    items: list[ResponseGroup]


class WebhookOut(Answer):
    """A partner endpoint (its secret is never shown)."""

    id: int
    url: str
    active: bool
    created_at: str | None


class WebhookList(Answer):
    items: list[WebhookOut]


class DeliveryOut(Answer):
    id: int
    endpoint_id: int
    event_id: int
    alert_id: int | None
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None


class DeliveryList(Answer):
    items: list[DeliveryOut]
