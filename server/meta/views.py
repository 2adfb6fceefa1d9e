"""Routes: health, the report JSON Schemas and the taxonomy (public: the app builds its forms from them)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from ...common.schema import json_schemas
from ...common.taxonomy import load_taxonomy
from ..db.migrate import current_revision
from ..deps import EngineDep, Public
from .models import Health, Schemas, Taxonomy

router = APIRouter(tags=["meta"])


@router.get("/health", response_model=Health)
def health(engine: EngineDep, _: Public) -> dict:
    """Liveness and the database in use: ``{"status": "ok", "database": "sqlite", "schema_version": ...}``."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "database": engine.dialect.name, "schema_version": current_revision(engine),
            "api_version": "v1"}


@router.get("/schema", response_model=Schemas)
def schema(_: Public) -> dict:
    """One JSON Schema per report kind, plus the taxonomy version; forms are generated from it."""
    return {"taxonomy_version": load_taxonomy().version, "kinds": json_schemas()}


@router.get("/taxonomy", response_model=Taxonomy)
def taxonomy(_: Public) -> dict:
    """The category list with codes, labels in en/fr/ar, kinds, default confidentiality, related codes."""
    t = load_taxonomy()
    return {"version": t.version, "categories": [c.model_dump() if hasattr(c, "model_dump") else c
                                                 for c in (t.get(code) for code in t.codes)]}
