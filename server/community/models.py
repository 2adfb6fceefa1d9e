"""Request bodies of the community routes (responses are the service's plain dicts)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

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
