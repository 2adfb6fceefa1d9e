"""Mounts every domain's router under ``/api/v1``: the one place that lists the API."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

# Domains whose views module exposes ``router``, in the order their routes are matched.
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
    "basemaps",
    "alerts",
    "community",
    "sharing",
    "saved_filters",
    "tasks",
)


def build_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1")
    for domain in DOMAINS:
        api.include_router(importlib.import_module(f"peacewatch.server.{domain}.views").router)
    return api
