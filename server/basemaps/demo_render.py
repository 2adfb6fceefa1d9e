"""The demo mission's base map, rendered in code with Pillow into an MBTiles file.

``peacewatch seed`` calls ``seed_demo_basemap``: every tile of the mission area at zooms 7-12 is
drawn from ``demo_geography`` (land, Lake Albert, rivers, roads, towns, the mission area's edge)
and then imported through the ordinary ``import-basemap`` path, so the demo's base map passes the
same checks as a real one. Nothing is downloaded. Each tile draws every feature with its own
pixel offset, so features cross tile edges without seams; a thousand tiles take a few seconds.
"""

from __future__ import annotations

import io
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import Engine

from ..config import Settings
from ..demo_mission import MISSION_AREA, PLACES
from .demo_geography import LAKE_ALBERT, RIVERS, ROADS, mission_bounds, place_lonlat
from .service import import_file
from .tilemath import lonlat_to_pixel, tile_range, tms_row

TILE = 256
ZOOMS = range(7, 13)
LAND = (242, 239, 228)
OUTSIDE = (226, 223, 214)
WATER = (170, 211, 223)
RIVER = (120, 176, 214)
ROAD_MAJOR = (246, 196, 107)
ROAD_MAJOR_EDGE = (196, 150, 70)
ROAD_MINOR = (255, 255, 255)
ROAD_MINOR_EDGE = (170, 170, 170)
AREA_EDGE = (120, 80, 150)
TOWN = (90, 90, 90)
LABEL = (60, 60, 60)
WATER_LABEL = (40, 100, 150)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the bitmap font, fixed size
        return ImageFont.load_default()


def _project(points: list[tuple[float, float]], z: int) -> list[tuple[float, float]]:
    return [lonlat_to_pixel(lon, lat, z) for lon, lat in points]


class Scene:
    """Every feature projected once per zoom, in global pixels."""

    def __init__(self, z: int) -> None:
        self.z = z
        places = place_lonlat()
        self.area = _project(MISSION_AREA, z)
        self.lake = _project(LAKE_ALBERT, z)
        self.rivers = [(name, _project(line, z)) for name, line in RIVERS]
        self.roads = [(kind, _project([places[p] for p in chain], z)) for kind, chain in ROADS]
        self.towns = [(name, lonlat_to_pixel(lon, lat, z)) for name, _fr, _ar, lat, lon in PLACES]
        self.width = {"major": max(2, z - 7), "minor": max(1, z - 8), "river": max(1, z - 8)}
        self.font = _font(10 + max(0, z - 9) * 2)
        self.water_font = _font(12 + max(0, z - 9) * 2)


def _shift(points: list[tuple[float, float]], ox: float, oy: float) -> list[tuple[float, float]]:
    return [(x - ox, y - oy) for x, y in points]


def render_tile(scene: Scene, x: int, y: int) -> bytes:
    ox, oy = x * TILE, y * TILE
    img = Image.new("RGB", (TILE, TILE), OUTSIDE)
    draw = ImageDraw.Draw(img)
    draw.polygon(_shift(scene.area, ox, oy), fill=LAND)
    draw.polygon(_shift(scene.lake, ox, oy), fill=WATER)
    for _name, line in scene.rivers:
        draw.line(_shift(line, ox, oy), fill=RIVER, width=scene.width["river"], joint="curve")
    for kind in ("minor", "major"):  # major roads drawn over minor ones
        edge, fill = (ROAD_MAJOR_EDGE, ROAD_MAJOR) if kind == "major" else (ROAD_MINOR_EDGE, ROAD_MINOR)
        w = scene.width[kind]
        for k, line in scene.roads:
            if k == kind:
                draw.line(_shift(line, ox, oy), fill=edge, width=w + 2, joint="curve")
        for k, line in scene.roads:
            if k == kind:
                draw.line(_shift(line, ox, oy), fill=fill, width=w, joint="curve")
    draw.line(_shift(scene.area, ox, oy), fill=AREA_EDGE, width=2)
    r = 2 + max(0, scene.z - 9)
    for _name, (px, py) in scene.towns:
        draw.ellipse((px - ox - r, py - oy - r, px - ox + r, py - oy + r), fill=TOWN, outline=(255, 255, 255))
    if scene.z >= 8:
        lx, ly = scene.lake[len(scene.lake) // 2 - 3]
        draw.text((lx - ox + 20, ly - oy), "Lake Albert", fill=WATER_LABEL, font=scene.water_font)
    if scene.z >= 10:
        for name, line in scene.rivers:
            mx, my = line[len(line) // 2]
            draw.text((mx - ox + 4, my - oy + 4), name, fill=WATER_LABEL, font=scene.font)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def render_mbtiles(path: Path, zooms: range = ZOOMS) -> int:
    """Write the demo base map to ``path`` (a new MBTiles file); returns the number of tiles."""
    bounds = mission_bounds()
    conn = sqlite3.connect(path)
    count = 0
    try:
        conn.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                           "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
                           "tile_data BLOB);")
        meta = {"name": "Ituri (demo)", "format": "png", "minzoom": zooms.start, "maxzoom": zooms.stop - 1,
                "bounds": ",".join(f"{v:.6f}" for v in bounds), "type": "baselayer",
                "attribution": "peacewatch demo map, drawn from the demo mission's own data",
                "description": "Rendered by peacewatch seed; approximate, for demonstration only"}
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
        for z in zooms:
            scene = Scene(z)
            x0, y0, x1, y1 = tile_range(bounds, z)
            rows = [(z, x, tms_row(z, y), render_tile(scene, x, y))
                    for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
            conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
            count += len(rows)
        conn.commit()
    finally:
        conn.close()
    return count


def seed_demo_basemap(engine: Engine, settings: Settings, *, name: str = "demo",
                      zooms: range = ZOOMS) -> dict[str, Any]:
    """Render the demo base map and import it as ``name``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.data_dir) as tmp:
        path = Path(tmp) / "demo.mbtiles"
        render_mbtiles(path, zooms)
        return import_file(engine, settings, path=path, name=name, title="Ituri (demo)", actor="seed")
