"""Bodies and answers of the community routes: the hotline, triage decisions, SMS intake, places."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ..answers import Answer

HowKnown = Literal["saw", "heard", "victim", "told", "unknown"]
Language = Literal["en", "fr", "ar"]


class HotlineIn(BaseModel):
    """A call logged by a liaison: what, where, when, how urgent; the caller's identity is optional."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000, description="what happened or is threatened")
    place: str = Field("", max_length=200, description="the place as the caller said it")
    place_id: str | None = Field(None, max_length=64, description="the gazetteer place the liaison confirmed")
    category: str | None = Field(None, max_length=64)
    urgency: int = Field(3, ge=1, le=5)
    event_time: AwareDatetime | None = None
    how_known: HowKnown = "unknown"
    caller_name: str | None = Field(None, max_length=200)
    caller_phone: str | None = Field(None, max_length=40)
    caller_language: Language = "en"
    caller_relationship: str | None = Field(None, max_length=200, description="relationship to the place")


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    place_id: str = Field(min_length=1, max_length=64)
    category: str = Field(min_length=1, max_length=64)
    contingent: str | None = Field(None, max_length=32, description="for HQ roles without a contingent")
    urgency: int | None = Field(None, ge=1, le=5, description="the liaison's assessment; else as received")


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report_id: str | None = Field(None, max_length=36)
    incident_id: str | None = Field(None, max_length=36)


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class AliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


# -- answers --------------------------------------------------------------------------------------
class SmsReceived(Answer):
    """What intake did with an SMS: stored (in triage), throttled (logged only) or a duplicate."""

    status: Literal["stored", "throttled", "duplicate"]
    alert_id: int
    coded: bool | None = Field(default=None, description="The text followed the coded format (place, category)")
    reply_queued: bool | None = Field(default=None, description="An acknowledgement to the sender is queued")


class PlaceCandidate(Answer):
    place_id: str
    name: str
    names: dict[str, str]
    score: float


class Reply(Answer):
    """A reply to an alert's sender and its delivery (never the number)."""

    id: int
    kind: str
    text: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: str | None


class CallerIdentity(Answer):
    """Who called: only for the liaison and the protection team, each read audited."""

    phone: str | None
    name: str | None
    relationship: str | None
    purged: bool


class CommunityAlertOut(Answer):
    """A community alert without its caller's identity."""

    id: int
    source: str
    status: str
    text: str
    place_text: str
    candidates: list[PlaceCandidate]
    place_id: str | None
    category: str | None
    urgency: int
    event_time: str | None
    how_known: str
    caller_language: str
    has_caller_identity: bool
    throttled: bool
    dismiss_reason: str | None
    report_id: str | None
    linked_report_id: str | None
    linked_incident_id: str | None
    received_at: str | None
    identity_purged: bool


class RelatedAlert(Answer):
    id: int
    status: str
    category: str | None
    received_at: str | None
    text: str


class RelatedReport(Answer):
    id: str
    title: str | None
    category: str | None
    category_label: str | None
    event_time: str | None
    incident_id: str | None


class PossibleDuplicates(Answer):
    community_alerts: list[RelatedAlert]
    reports: list[RelatedReport]


class CommunityAlertDetail(CommunityAlertOut):
    """One alert with its replies; the caller for those who may read it; possible duplicates on GET."""

    caller: CallerIdentity | None
    replies: list[Reply]
    possible_duplicates: PossibleDuplicates | None = None


class CommunityAlertPage(Answer):
    items: list[CommunityAlertOut]
    total: int


class PlaceCandidates(Answer):
    items: list[PlaceCandidate]


class AliasOut(Answer):
    place_id: str
    name: str
