"""Mounts every domain's router under ``/api/v1``: the one place that lists the API."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

# Domains whose views module exposes ``router``. A domain still being built is skipped only if
# its views module does not exist yet; an import error inside an existing one is raised.
DOMAINS = (
    "meta",
    "auth",
    "users",
    "devices",
    "audit",
    "reports",
    "sync",
    "conflicts",
    "attachments",
    "reference",
    "duplicates",
    "hotspots",
    "exports",
)


def build_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1")
    for domain in DOMAINS:
        try:
            module = importlib.import_module(f"peacewatch.server.{domain}.views")
        except ModuleNotFoundError as exc:
            if exc.name in (f"peacewatch.server.{domain}", f"peacewatch.server.{domain}.views"):
                continue
            raise
        api.include_router(module.router)
    return api
