"""The base of every JSON answer model: documents the keys an answer always has, drops none.

Each domain's ``models.py`` describes its answers on this base so ``/api/v1/openapi.json`` (and
``docs/API.md``, generated from it) shows every answer's shape. ``extra="allow"``: a key a service
adds before its model is updated still reaches the client (documented later, never lost).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    """An answer object (extra keys pass through)."""

    model_config = ConfigDict(extra="allow")
