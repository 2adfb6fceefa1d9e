"""A base map picture of an extent, for maps drawn off-line (the PDF summary's map).

``background_for`` picks the first imported base map and returns a function that, given a
(west, south, east, north) extent, stitches the tiles covering it at a zoom fitting the picture's
width and resamples the Web-Mercator rows onto equal steps of latitude, because the PDF map's
axes are plain longitude and latitude. Reads the stored MBTiles file directly (no database
connection), so it can run while an export streams. Missing tiles stay the background colour.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import Connection, select

from ..config import Settings
from ..db.tables import basemaps
from . import mbtiles
from .tilemath import lonlat_to_pixel

Background = Callable[[tuple[float, float, float, float]], "np.ndarray | None"]
TILE = 256
WIDTH_PX = 1400  # about the PDF map's pixel width at 150 dpi
MAX_TILES = 144
FILL = (234, 230, 220)


def background_for(conn: Connection, settings: Settings) -> Background | None:
    """A picture maker for the first base map (by name), or ``None`` when none is imported."""
    row = conn.execute(select(basemaps).order_by(basemaps.c.name).limit(1)).mappings().first()
    if row is None:
        return None
    path = settings.basemaps_dir / row["file"]
    low, high = int(row["minzoom"]), int(row["maxzoom"])

    def picture(extent: tuple[float, float, float, float]) -> np.ndarray | None:
        return render(path, extent, minzoom=low, maxzoom=high)

    return picture


def render(path: Path, extent: tuple[float, float, float, float], *, minzoom: int, maxzoom: int,
           width_px: int = WIDTH_PX) -> np.ndarray | None:
    """RGB pixels of ``extent`` with rows at equal latitude steps, or ``None`` if no tile is there."""
    west, south, east, north = extent
    if not path.is_file() or east <= west or north <= south:
        return None
    zoom = int(math.log2(max(width_px / TILE * 360.0 / (east - west), 1.0)))
    zoom = min(max(zoom, minzoom), maxzoom)
    while zoom > minzoom:
        x0, y0 = lonlat_to_pixel(west, north, zoom)
        x1, y1 = lonlat_to_pixel(east, south, zoom)
        if (int(x1 // TILE) - int(x0 // TILE) + 1) * (int(y1 // TILE) - int(y0 // TILE) + 1) <= MAX_TILES:
            break
        zoom -= 1
    x0, y0 = lonlat_to_pixel(west, north, zoom)
    x1, y1 = lonlat_to_pixel(east, south, zoom)
    tx0, ty0, tx1, ty1 = int(x0 // TILE), int(y0 // TILE), int(x1 // TILE), int(y1 // TILE)
    mosaic = Image.new("RGB", ((tx1 - tx0 + 1) * TILE, (ty1 - ty0 + 1) * TILE), FILL)
    found = 0
    conn = mbtiles.open_readonly(path)
    try:
        for tx in range(tx0, tx1 + 1):
            for ty in range(ty0, ty1 + 1):
                if not (0 <= tx < 1 << zoom and 0 <= ty < 1 << zoom):
                    continue
                data = mbtiles.read_tile(conn, zoom, tx, ty)
                if data is None:
                    continue
                with Image.open(io.BytesIO(data)) as tile:
                    mosaic.paste(tile.convert("RGB").resize((TILE, TILE)), ((tx - tx0) * TILE, (ty - ty0) * TILE))
                found += 1
    finally:
        conn.close()
    if not found:
        return None
    left, top = x0 - tx0 * TILE, y0 - ty0 * TILE
    cropped = np.asarray(mosaic.crop((int(left), int(top), int(math.ceil(x1 - tx0 * TILE)),
                                      int(math.ceil(y1 - ty0 * TILE)))))
    height = cropped.shape[0]
    if height < 2:
        return cropped
    # Mercator rows -> rows at equal steps of latitude (the PDF map's y axis is degrees).
    lats = north - (np.arange(height) + 0.5) * (north - south) / height
    merc = np.array([lonlat_to_pixel(west, float(lat), zoom)[1] for lat in lats]) - y0
    rows = np.clip(merc.astype(int), 0, height - 1)
    return cropped[rows]
