"""Requests and answers of the saved-filter routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..answers import Answer
from .service import NAME_MAX, QUERY_MAX


class SavedFilterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=NAME_MAX, description="Your name for the filter")
    query: str = Field(default="", max_length=QUERY_MAX,
                       description="The reports list's query string, e.g. kind=incident&severity_min=4")


class SavedFilter(Answer):
    id: int
    name: str
    query: str = Field(description="The filters in normal form; open /reports?{query} to apply them")
    created_at: datetime


class SavedFilterList(Answer):
    filters: list[SavedFilter]
