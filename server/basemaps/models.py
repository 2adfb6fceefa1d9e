"""Request and response bodies of the base map API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BaseMap(BaseModel):
    name: str
    title: str
    format: str
    minzoom: int
    maxzoom: int
    bounds: list[float] = Field(description="[west, south, east, north] in degrees")
    center: list[float] = Field(description="[lon, lat, zoom]")
    tile_count: int
    bytes: int
    attribution: str
    version: str = Field(description="changes whenever the name is re-imported; part of the tile URL")
    sha256: str
    tiles: str = Field(description="tile URL template ({z}/{x}/{y}, XYZ scheme)")


class BaseMapList(BaseModel):
    basemaps: list[BaseMap]


class AreaIn(BaseModel):
    """A contingent's area of responsibility and the budget of its tablets' tile packages."""

    model_config = ConfigDict(extra="forbid")
    bounds: list[float] = Field(min_length=4, max_length=4, description="[west, south, east, north] in degrees")
    minzoom: int = Field(default=8, ge=0, le=22)
    maxzoom: int = Field(default=15, ge=0, le=22)
    max_mb: float = Field(default=200, gt=0, le=100_000, description="package size cap in MB")


class Area(BaseModel):
    contingent: str
    bounds: list[float]
    minzoom: int = Field(ge=0, le=22)
    maxzoom: int = Field(ge=0, le=22)
    max_bytes: int = Field(ge=0, le=2**53)


class AreaList(BaseModel):
    areas: list[Area]


class PackageChunk(BaseModel):
    sha256: str
    size: int
    tiles: int
    z: int


class Package(BaseModel):
    """The chunks covering a contingent's area, lowest zooms first, cut to its byte budget."""

    basemap: str
    version: str
    format: str
    contingent: str
    area: list[float]
    bounds: list[float] | None
    max_bytes: int
    minzoom: int
    maxzoom: int | None = Field(description="highest zoom included (whole zoom levels only)")
    requested_maxzoom: int
    cut_to_budget: bool
    bytes: int
    tiles: int
    chunks: list[PackageChunk]


class AreaLayers(BaseModel):
    """HQ's reference layers for a contingent's area, computed over what the caller may read."""

    model_config = ConfigDict(extra="allow")

    contingent: str | None
    area: list[float] | None = Field(description="[west, south, east, north] of the area, or null")
    hotspots: dict = Field(description="GeoJSON FeatureCollection of Gi* hot spot cells")
    coverage_gaps: dict = Field(description="GeoJSON FeatureCollection of hot spots no patrol covered")
