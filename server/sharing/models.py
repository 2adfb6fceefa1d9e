"""The shapes of sharing agreements: the policy a partner receives under, and the API's request bodies.

A `Policy` says which reports go (kinds, categories, confidentiality levels, the review step), which
fields of them (an allow-list; names of people never, whatever the list says), how precisely
(location snapped to a grid of N km, time to the day or week), whether attachments go (always with
their metadata stripped), and the minimum count below which an aggregate is suppressed. Validation
errors name the field (``policy.location_grid_km``...), answered as 422 by the API.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from peacewatch.server.answers import Answer
from peacewatch.server.sharing.policy import OPTIONAL_FIELDS

Kind = Literal["incident", "patrol", "hr_concern"]
Level = Literal["public", "mission", "restricted"]
PARTNER_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


class Policy(BaseModel):
    """What one version of an agreement lets the partner receive."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[Kind] = Field(min_length=1, description="report kinds shared")
    categories: list[str] = Field(default_factory=list, description="category codes shared; empty = every category")
    confidentiality: list[Level] = Field(default_factory=lambda: ["public"], min_length=1,
                                         description="confidentiality levels shared")
    fields: list[str] = Field(default_factory=list, description="optional fields shared, beyond id, kind, "
                              "category, coarse time and coarse location")
    location_grid_km: float = Field(10.0, ge=0.5, le=200.0, description="locations snap to the centre of a grid "
                                    "cell of this size")
    location_precision: Literal["grid", "admin_area"] = Field(
        "grid", description="grid: the centre of a location_grid_km cell; admin_area: the point and name of the "
        "admin area (reference data) the location is in")
    time_precision: Literal["day", "week"] = Field("day", description="times are truncated to this")
    attachments: bool = Field(False, description="attachments go (images only, metadata stripped)")
    # After `attachments`: its validator reads it.
    blur_faces: bool = Field(False, description="faces in shared images are blurred (needs attachments)")
    min_count: int = Field(5, ge=1, le=1000, description="aggregates below this count are suppressed")
    alerts: bool = Field(False, description="the mission's shareable alerts go too, as CAP 1.2 (format=cap); "
                                            "with categories, only alerts all of whose categories are shared")
    verified_only: bool = Field(True, description="only reports a reviewer has verified")
    delay_hours: int = Field(0, ge=0, le=24 * 90, description="only reports unchanged for this many hours")

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(OPTIONAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(OPTIONAL_FIELDS)}")
        return sorted(set(value))

    @field_validator("blur_faces")
    @classmethod
    def _blur_needs_attachments(cls, value: bool, info: ValidationInfo) -> bool:
        # Refused rather than ignored: an officer who asks for blurring believes photos go.
        if value and not info.data.get("attachments"):
            raise ValueError("blurring faces applies to shared photos: set attachments to true as well")
        return value

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        from peacewatch.common.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
        known = set(taxonomy.codes)
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown category code(s) {', '.join(unknown)}")
        return sorted(set(value))

    @field_validator("kinds", "confidentiality")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class AgreementIn(BaseModel):
    """A new agreement: a named partner and its first policy."""

    model_config = ConfigDict(extra="forbid")

    partner: str = Field(description="short id used in the feed's URL, e.g. ohchr")
    name: str = Field(min_length=1, max_length=200, description="the partner's full name")
    policy: Policy

    @field_validator("partner")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not PARTNER_SLUG.match(value):
            raise ValueError("2-64 characters: lower-case letters, digits, '-' or '_'")
        return value


class AgreementUpdate(BaseModel):
    """A change to an agreement: always a new version."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    policy: Policy


class Approval(BaseModel):
    """A protection officer approves one version: the one they read (a stale approval is refused)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=2**53)


class PushIn(BaseModel):
    """Where the partner's pages are pushed; null stops pushing (the partner can still pull)."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl | None = Field(description="the partner's HTTPS (or HTTP) endpoint receiving signed POSTs")

    @field_validator("url")
    @classmethod
    def _short(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and len(str(value)) > 2000:
            raise ValueError("at most 2000 characters")
        return value


# -- answers --------------------------------------------------------------------------------------
AgreementState = Literal["active", "awaiting_approval", "revoked"]


class AgreementVersionOut(Answer):
    """One version of an agreement's policy: who wrote it, who approved it."""

    version: int
    policy: dict[str, Any] = Field(description="The policy as written (see Policy)")
    created_by: str
    created_at: str | None
    approved_by: str | None
    approved_at: str | None


class PushDelivery(Answer):
    """The latest page pushed to the partner's endpoint."""

    id: int
    status: Literal["pending", "delivered", "cancelled"]
    attempts: int
    last_status: int | None
    last_error: str | None
    cursor: int
    next_cursor: int
    next_attempt_at: str | None
    delivered_at: str | None


class PushState(Answer):
    """Push delivery: the endpoint (without credentials), how far it has received, the latest page."""

    url: str
    cursor: int
    latest: PushDelivery | None


class PushOut(Answer):
    """The endpoint set, and the secret signing its deliveries: shown this once."""

    partner: str
    url: str | None
    secret: str | None = Field(description="HMAC-SHA256 key of X-Peacewatch-Signature; null when push is off")


class AgreementOut(Answer):
    """An agreement, its current policy and state; with ``versions`` when read alone."""

    id: int
    partner: str
    name: str
    version: int
    state: AgreementState
    needs_approval: bool = Field(description="It touches human-rights concerns or restricted cases")
    approved_by: str | None
    approved_at: str | None
    has_key: bool
    push: PushState | None = Field(None, description="Push delivery, when the agreement has an endpoint")
    policy: dict[str, Any] = Field(description="The current policy (see Policy)")
    created_at: str | None
    updated_at: str | None
    versions: list[AgreementVersionOut] | None = None


class AgreementList(Answer):
    agreements: list[AgreementOut]


class PartnerKey(Answer):
    """A partner's new API key: shown this once, stored only as a hash."""

    partner: str
    key: str


class SummaryGroup(Answer):
    category: str
    lat: float | None
    lon: float | None
    period_start: str | None
    count: int


class PartnerSummary(Answer):
    """Counts per category, grid cell and period; groups below ``min_count`` are left out."""

    partner: str
    version: int
    min_count: int
    groups: list[SummaryGroup]
