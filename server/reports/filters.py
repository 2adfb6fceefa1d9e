"""One set of report filters shared by the reports list, exports and hotspots.

Event-time and receipt-time ranges, area (bbox or GeoJSON polygon), category, kind, contingent, review status and
severity. ``apply`` narrows a query on the ``reports`` projection in SQL; a polygon is first
narrowed by its bounding box in SQL and then tested exactly with shapely (``matches_area``).
"""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from shapely.geometry import Point, box, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, func, select

from ...common.schema import Kind
from ..db.tables import contingents, reports
from ..input_checks import UtcDateTime

REVIEW_STATUSES = ("unreviewed", "verified", "rejected", "needs_information")
# The filters a query string carries (the reports list's form, its bookmarks, saved filters).
LIST_FIELDS = ("category", "kind", "contingent", "review_status")
SCALAR_FIELDS = ("start", "end", "received_start", "received_end", "bbox", "q", "severity_min", "severity_max")


class ReportFilters(BaseModel):
    """Filters for ``GET /reports``, ``/exports/*`` and ``/hotspots`` (all optional)."""

    start: UtcDateTime | None = Field(default=None, description="Event time from (ISO 8601, inclusive)")
    end: UtcDateTime | None = Field(default=None, description="Event time until (ISO 8601, exclusive)")
    received_start: UtcDateTime | None = Field(default=None, description="Received by the server from (ISO 8601, inclusive)")
    received_end: UtcDateTime | None = Field(default=None, description="Received by the server until (ISO 8601, exclusive)")
    bbox: str | None = Field(default=None, description="minlon,minlat,maxlon,maxlat")
    area: str | None = Field(default=None, max_length=1_000_000, description="A GeoJSON Polygon or MultiPolygon (JSON text)")
    category: list[str] = Field(default_factory=list, description="Category codes (any of)")
    kind: list[Kind] = Field(default_factory=list, description="incident, patrol, hr_concern (any of)")
    contingent: list[str] = Field(default_factory=list, description="Contingent codes (any of)")
    review_status: list[str] = Field(default_factory=list, description="unreviewed, verified, rejected, needs_information")
    severity_min: int | None = Field(default=None, ge=1, le=5)
    severity_max: int | None = Field(default=None, ge=1, le=5)
    q: str | None = Field(default=None, max_length=200, description="Text search in title and description")

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        try:
            minlon, minlat, maxlon, maxlat = (float(x) for x in v.split(","))
        except ValueError:
            raise ValueError("bbox must be four numbers: minlon,minlat,maxlon,maxlat") from None
        if not (-180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90):
            raise ValueError("bbox must satisfy -180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90")
        return v

    @field_validator("area")
    @classmethod
    def _area(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        try:
            geom = shape(json.loads(v))
        # RecursionError: an array nested thousands deep, from the JSON parser or shapely.
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError):
            raise ValueError("area must be a GeoJSON Polygon or MultiPolygon") from None
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty or not geom.is_valid:
            raise ValueError("area must be a valid, non-empty GeoJSON Polygon or MultiPolygon")
        return v

    @field_validator("review_status")
    @classmethod
    def _status(cls, v: list[str]) -> list[str]:
        for s in v:
            if s not in REVIEW_STATUSES:
                raise ValueError(f"review_status must be one of {', '.join(REVIEW_STATUSES)}")
        return v

    @model_validator(mode="after")
    def _ranges(self) -> ReportFilters:
        if self.start and self.end and self.end <= self.start:
            raise ValueError("end must be after start")
        if self.received_start and self.received_end and self.received_end <= self.received_start:
            raise ValueError("received_end must be after received_start")
        if self.severity_min and self.severity_max and self.severity_max < self.severity_min:
            raise ValueError("severity_max must be at least severity_min")
        return self

    # -- derived geometry ---------------------------------------------------------------------
    def geometry(self) -> BaseGeometry | None:
        if self.area:
            return shape(json.loads(self.area))
        if self.bbox:
            return box(*(float(x) for x in self.bbox.split(",")))
        return None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """Narrow a select over ``reports`` (joined to ``contingents`` when filtering by code)."""
        r = reports.c
        if self.start:
            stmt = stmt.where(r.event_time >= self.start)
        if self.end:
            stmt = stmt.where(r.event_time < self.end)
        if self.received_start:
            stmt = stmt.where(r.received_at >= self.received_start)
        if self.received_end:
            stmt = stmt.where(r.received_at < self.received_end)
        geom = self.geometry()
        if geom is not None:
            minlon, minlat, maxlon, maxlat = geom.bounds
            stmt = stmt.where(r.lon >= minlon, r.lon <= maxlon, r.lat >= minlat, r.lat <= maxlat)
        if self.category:
            stmt = stmt.where(r.category.in_(self.category))
        if self.kind:
            stmt = stmt.where(r.kind.in_(list(self.kind)))
        if self.contingent:
            stmt = stmt.where(r.contingent_id.in_(select(contingents.c.id).where(contingents.c.code.in_(self.contingent))))
        if self.review_status:
            stmt = stmt.where(r.review_status.in_(self.review_status))
        if self.severity_min:
            stmt = stmt.where(r.severity >= self.severity_min)
        if self.severity_max:
            stmt = stmt.where(r.severity <= self.severity_max)
        if self.q:
            pattern = f"%{self.q.lower()}%"
            stmt = stmt.where(func.lower(r.title).like(pattern) | func.lower(r.body["description"].as_string()).like(pattern))
        return stmt

    def needs_exact_area(self) -> bool:
        return bool(self.area)

    def matches_area(self, lat: float | None, lon: float | None) -> bool:
        """Exact polygon test for a row the SQL bbox pre-filter let through."""
        if not self.area:
            return True
        if lat is None or lon is None:
            return False
        geom = self.geometry()
        assert geom is not None
        return geom.covers(Point(lon, lat))


class QueryLike(Protocol):
    def getlist(self, key: str) -> list[str]: ...
    def get(self, key: str) -> str | None: ...


class _Pairs:
    """A parsed query string with the two methods ``filters_from_query`` reads."""

    def __init__(self, query: str) -> None:
        self.pairs = parse_qsl(query, keep_blank_values=False)

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self.pairs if k == key]

    def get(self, key: str) -> str | None:
        values = self.getlist(key)
        return values[-1] if values else None


def filters_from_query(q: QueryLike | str) -> tuple[ReportFilters, dict[str, Any], str]:
    """A query string's filters, the raw values (to refill a form) and an error naming the field
    (then the filters are the empty ones). Keys that are not filters (paging, sort) are ignored."""
    if isinstance(q, str):
        q = _Pairs(q)
    raw: dict[str, Any] = {k: [v for v in q.getlist(k) if v] for k in LIST_FIELDS}
    for key in SCALAR_FIELDS:
        value = q.get(key)
        if value:
            raw[key] = value
    try:
        return ReportFilters.model_validate(raw), raw, ""
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "filters"
        return ReportFilters(), raw, f"{field}: {err['msg']}"


def filter_query(raw: dict[str, Any]) -> str:
    """Raw filters (as ``filters_from_query`` gives them) as a query string, empty lists left out."""
    pairs: list[tuple[str, str]] = []
    for key, value in raw.items():
        pairs.extend((key, v) for v in (value if isinstance(value, list) else [value]))
    return urlencode(pairs)
