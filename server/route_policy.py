"""Find the permission each route declares, so the every-route-every-role test can walk them all."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from .access import Permission


def declared_permissions(dependant: Dependant) -> set[Permission]:
    """Every ``permission`` attribute on the dependency tree (``deps.require`` and the web's page guard)."""
    found: set[Permission] = set()
    for dep in dependant.dependencies:
        perm = getattr(dep.call, "permission", None)
        if isinstance(perm, Permission):
            found.add(perm)
        found |= declared_permissions(dep)
    return found


def _flat_routes(routes: Iterable[BaseRoute]) -> Iterator[tuple[str, BaseRoute]]:
    """(full path, route) for every route, through included routers.

    FastAPI >= 0.16x keeps included routers as lazy ``_IncludedRouter`` entries whose
    ``effective_route_contexts()`` give each route with its full path; older versions copy the
    routes into ``app.routes``. Both are handled; the tests fail loudly if neither yields routes.
    """
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for ctx in contexts():
                yield ctx.path, ctx.original_route
        else:
            yield getattr(route, "path", ""), route


def route_table(app: FastAPI) -> list[tuple[str, str, Permission | None]]:
    """(method, path, permission) for every API and page route; ``None`` where none is declared."""
    table: list[tuple[str, str, Permission | None]] = []
    for path, route in _flat_routes(app.routes):
        if isinstance(route, APIRoute):
            perms = declared_permissions(route.dependant)
            perm = perms.pop() if len(perms) == 1 else None
            for method in sorted(route.methods or ()):
                table.append((method, path, perm))
        elif isinstance(route, Mount):
            continue  # static assets: public files, no data
    return table
