"""Answers of the meta routes: health, the report JSON Schemas, the taxonomy."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..answers import Answer


class Health(Answer):
    status: str = Field(description='"ok" when the database answered')
    database: str = Field(description="sqlite or postgresql")
    schema_version: str | None = Field(description="The Alembic revision the database is at")
    api_version: str


class Schemas(Answer):
    taxonomy_version: str
    kinds: dict[str, dict[str, Any]] = Field(description="One JSON Schema per report kind")


class CategoryOut(Answer):
    code: str
    labels: dict[str, str] = Field(description="en, fr, ar")
    kinds: list[str]
    default_confidentiality: str
    related: list[str]
    hxl: str | None = None


class Taxonomy(Answer):
    version: str
    categories: list[CategoryOut]
