"""Reference data as one GeoJSON layer for the map, each item named in the visitor's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ..reference.service import list_items


def reference_features(conn: Connection, lang: str) -> dict[str, Any]:
    """Places, sensitive sites, admin boundaries and the mission area as a FeatureCollection."""
    features = []
    for item in list_items(conn)["items"]:
        names = item["names"] or {}
        name = names.get(lang) or names.get("en") or next(iter(names.values()), item["id"])
        features.append({"type": "Feature", "geometry": item["geometry"],
                         "properties": {"id": item["id"], "kind": item["kind"], "name": name,
                                        **{k: v for k, v in (item["properties"] or {}).items() if k != "name"}}})
    return {"type": "FeatureCollection", "features": features}
