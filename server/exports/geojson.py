"""GeoJSON export (RFC 7946 FeatureCollection), streamed in constant memory.

One Feature per report: a Point at the report's location for incidents and human-rights concerns,
a LineString along the route for patrols with two route points or more (a Point otherwise), and a
``null`` geometry for a report without any position (RFC 7946 §3.2 allows it; dropping the report
would silently lose it). Coordinates are [lon, lat] in WGS 84 as RFC 7946 requires.

Properties are flat (`flat_properties`), as GIS tools and the GeoPackage export need: a nested
object becomes prefixed keys (``casualties_killed``, ``location_place``), a list becomes its count
(``victims_count``, ``route_count``), so no name of a victim, witness or suspect ever leaves in the
file, plus ``category_label`` in the export language so the file is complete on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from peacewatch.server.exports.records import Labels

CHUNK_FEATURES = 500

__all__ = ["CHUNK_FEATURES", "feature", "flat_properties", "geometry_of", "iter_geojson", "write_geojson"]


def geometry_of(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The report's GeoJSON geometry: its route, its location, or None."""
    route = record.get("route") or []
    if record.get("kind") == "patrol" and len(route) >= 2:
        return {"type": "LineString", "coordinates": [[p["lon"], p["lat"]] for p in route]}
    location = record.get("location") or {}
    if location.get("lat") is not None and location.get("lon") is not None:
        return {"type": "Point", "coordinates": [location["lon"], location["lat"]]}
    if route:
        return {"type": "Point", "coordinates": [route[0]["lon"], route[0]["lat"]]}
    return None


def flat_properties(record: Mapping[str, Any], labels: Labels) -> dict[str, Any]:
    """The record as one level of scalar properties (see the module docstring), in a stable order."""
    properties: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            for sub, inner in value.items():
                if not isinstance(inner, Mapping | list):
                    properties[f"{key}_{sub}"] = inner
        elif isinstance(value, list):
            properties[f"{key}_count"] = len(value)
        else:
            properties[key] = value
    properties["category_label"] = labels.category(record.get("category"))
    return properties


def feature(record: Mapping[str, Any], labels: Labels) -> dict[str, Any]:
    """The GeoJSON Feature of one report record."""
    properties = flat_properties(record, labels)
    out: dict[str, Any] = {"type": "Feature", "geometry": geometry_of(record), "properties": properties}
    if record.get("id") is not None:
        out["id"] = record["id"]
    return out


def iter_geojson(
    records: Iterable[Mapping[str, Any]], *, lang: str = "en", labels: Labels | None = None
) -> Iterator[str]:
    """Yield the FeatureCollection text in chunks of `CHUNK_FEATURES` features."""
    labels = labels or Labels(lang)
    # ensure_ascii=False keeps French and Arabic readable; the bytes are UTF-8 (RFC 8259 §8.1).
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    yield '{"type":"FeatureCollection","features":['
    parts: list[str] = []
    first = True
    for record in records:
        encoded = dumps(feature(record, labels))
        parts.append(encoded if first else "," + encoded)
        first = False
        if len(parts) >= CHUNK_FEATURES:
            yield "".join(parts)
            parts.clear()
    if parts:
        yield "".join(parts)
    yield "]}\n"


def write_geojson(records: Iterable[Mapping[str, Any]], out: IO[bytes], **options: Any) -> int:
    """Write the GeoJSON as UTF-8 to a binary file object; returns the number of bytes written."""
    written = 0
    for chunk in iter_geojson(records, **options):
        data = chunk.encode("utf-8")
        out.write(data)
        written += len(data)
    return written
