"""Reference data: place names, sensitive sites, the mission area and admin boundaries.

Administrators upsert and delete items; every change (including a deletion) is appended to the
change feed as a ``reference`` change carrying the whole item, so devices pull reference data in
the same ordered, resumable stream as reports. An upsert that changes nothing appends nothing.
Geometries are GeoJSON in WGS84 (lon, lat), checked with shapely: the right type for the kind,
valid, and inside the world's coordinate range.
"""

from __future__ import annotations

from typing import Any

from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.validation import explain_validity
from sqlalchemy import Connection, delete, insert, select, update

from .. import clock, feed
from ..access import Principal
from ..audit.service import record
from ..db.tables import reference_items
from ..problems import invalid, not_found

KINDS = ("place", "sensitive_site", "mission_area", "admin_boundary")
LANGUAGES = ("en", "fr", "ar")
AREAS = ("Polygon", "MultiPolygon")
GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    "place": ("Point",),
    "sensitive_site": ("Point", *AREAS),
    "mission_area": AREAS,
    "admin_boundary": AREAS,
}


def check_geometry(kind: str, geometry: dict[str, Any]) -> None:
    """Refuse a geometry that is not valid GeoJSON of a type allowed for ``kind`` (422 naming the field)."""
    allowed = GEOMETRY_TYPES[kind]
    gtype = geometry.get("type")
    if gtype not in allowed:
        raise invalid("geometry.type", f"a {kind} needs a {' or '.join(allowed)} geometry, not {gtype!r}")
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, GEOSException) as exc:
        raise invalid("geometry.coordinates", f"not valid GeoJSON coordinates ({exc})") from None
    if geom.is_empty:
        raise invalid("geometry.coordinates", "the geometry is empty")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise invalid("geometry.coordinates", "coordinates must be longitude -180..180, latitude -90..90 (lon, lat)")
    if not geom.is_valid:
        raise invalid("geometry.coordinates", f"the geometry is not valid: {explain_validity(geom)}")


def _as_item(row: Any, *, deleted: bool = False) -> dict[str, Any]:
    return {"id": row["id"], "kind": row["kind"], "names": row["names"], "geometry": row["geometry"],
            "properties": row["properties"], "deleted": deleted}


def list_items(conn: Connection, *, kind: str | None = None) -> dict[str, Any]:
    """Current items (optionally of one kind), by id, with the feed position they are current at."""
    stmt = select(reference_items).order_by(reference_items.c.id)
    if kind:
        stmt = stmt.where(reference_items.c.kind == kind)
    items = [_as_item(r) | {"seq": r["seq"]} for r in conn.execute(stmt).mappings()]
    return {"items": items, "last_seq": feed.last_seq(conn)}


def upsert(conn: Connection, principal: Principal, *, item_id: str, kind: str, names: dict[str, str],
           geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """Create or replace an item; append a ``reference`` change unless nothing changed."""
    if kind not in KINDS:
        raise invalid("kind", f"must be one of {', '.join(KINDS)}")
    if not any((names.get(lang) or "").strip() for lang in LANGUAGES):
        raise invalid("names", "give at least one name in en, fr or ar")
    check_geometry(kind, geometry)
    item = {"id": item_id, "kind": kind, "names": names, "geometry": geometry, "properties": properties,
            "deleted": False}
    feed.take_write_lock(conn)  # two admins saving the same new id at once: one creates, one updates
    current = conn.execute(select(reference_items).where(reference_items.c.id == item_id)).mappings().one_or_none()
    if current is not None and _as_item(current) == item:
        return item | {"seq": current["seq"], "created": False, "changed": False}
    seq = feed.append(conn, kind="reference", ref=item_id, payload={"item": item})
    values = {"kind": kind, "names": names, "geometry": geometry, "properties": properties,
              "updated_at": clock.now(), "seq": seq}
    if current is None:
        conn.execute(insert(reference_items).values(id=item_id, **values))
    else:
        conn.execute(update(reference_items).where(reference_items.c.id == item_id).values(**values))
    record(conn, action="reference_upserted", actor=principal.username, actor_user_id=principal.user_id,
           device_id=principal.device_id, target=item_id, detail={"kind": kind, "seq": seq})
    return item | {"seq": seq, "created": current is None, "changed": True}


def remove(conn: Connection, principal: Principal, *, item_id: str) -> dict[str, Any]:
    """Delete an item; devices learn it from a ``reference`` change with ``deleted: true``."""
    current = conn.execute(select(reference_items).where(reference_items.c.id == item_id)).mappings().one_or_none()
    if current is None:
        raise not_found(f"reference item {item_id}")
    item = _as_item(current, deleted=True)
    seq = feed.append(conn, kind="reference", ref=item_id, payload={"item": item})
    conn.execute(delete(reference_items).where(reference_items.c.id == item_id))
    record(conn, action="reference_deleted", actor=principal.username, actor_user_id=principal.user_id,
           device_id=principal.device_id, target=item_id, detail={"kind": current["kind"], "seq": seq})
    return item | {"seq": seq}
