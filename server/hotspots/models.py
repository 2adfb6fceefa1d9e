"""Answers of the hotspot routes: GeoJSON FeatureCollections of H3 hexagons (or the same as CSV)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..answers import Answer


class HexagonFeature(Answer):
    type: Literal["Feature"]
    geometry: dict[str, Any] = Field(description="The cell's hexagon (GeoJSON Polygon, WGS84)")
    properties: dict[str, Any] = Field(description="The cell, its counts and statistics (see docs/hotspots.md)")


class HexagonCollection(Answer):
    type: Literal["FeatureCollection"]
    features: list[HexagonFeature]
    metadata: dict[str, Any] | None = Field(default=None, description="The parameters the map was computed with")


# The same map as CSV with ``format=csv``; GeoJSON is served as application/geo+json.
GEOJSON_OR_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/geo+json": {}, "text/csv": {"schema": {"type": "string"}}}},
}
