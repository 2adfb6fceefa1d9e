"""Requests and answers of the reference-data routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..answers import Answer

Kind = Literal["place", "sensitive_site", "mission_area", "admin_boundary"]


class Names(BaseModel):
    model_config = ConfigDict(extra="forbid")
    en: str | None = Field(default=None, max_length=200)
    fr: str | None = Field(default=None, max_length=200)
    ar: str | None = Field(default=None, max_length=200)


class Geometry(BaseModel):
    """GeoJSON geometry in WGS84 (longitude, latitude)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Point", "Polygon", "MultiPolygon"]
    coordinates: list[Any]


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    names: Names
    geometry: Geometry
    properties: dict[str, Any] = Field(default_factory=dict)


class ItemOut(Answer):
    id: str
    kind: str
    names: dict[str, str]
    geometry: dict[str, Any]
    properties: dict[str, Any]
    deleted: bool
    seq: int | None = Field(default=None, description="The feed position the item is current at")


class ItemWritten(ItemOut):
    created: bool | None = Field(default=None, description="PUT: 201 created, 200 replaced")
    changed: bool | None = Field(default=None, description="PUT: false (and no feed entry) if identical")


class ItemList(Answer):
    items: list[ItemOut]
    last_seq: int
