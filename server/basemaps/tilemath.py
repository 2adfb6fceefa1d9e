"""Web-Mercator tile arithmetic (XYZ scheme, as Leaflet and the tablet address tiles).

MBTiles stores rows in the TMS scheme (y counted from the south), so ``tms_row`` flips between the
two; everything outside ``mbtiles.py`` speaks XYZ.
"""

from __future__ import annotations

import math

MAX_LAT = 85.0511287798066  # Web Mercator's limit: the square world


def tms_row(z: int, y: int) -> int:
    """XYZ y <-> MBTiles tile_row (the flip is its own inverse)."""
    return (1 << z) - 1 - y


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point, clamped to the world."""
    n = 1 << z
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def lonlat_to_pixel(lon: float, lat: float, z: int, tile_size: int = 256) -> tuple[float, float]:
    """Global pixel coordinates of a point at zoom ``z`` (fractional)."""
    n = (1 << z) * tile_size
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of an XYZ tile in degrees."""
    n = 1 << z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


def tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """(xmin, ymin, xmax, ymax), inclusive, of the XYZ tiles covering ``bounds`` at ``z``."""
    west, south, east, north = bounds
    x0, y0 = lonlat_to_tile(west, north, z)
    # A bound lying exactly on a tile edge does not pull in the next tile.
    x1, y1 = lonlat_to_tile(math.nextafter(east, -math.inf), math.nextafter(south, math.inf), z)
    return x0, y0, max(x0, x1), max(y0, y1)


def tiles_in(bounds: tuple[float, float, float, float], z: int) -> int:
    x0, y0, x1, y1 = tile_range(bounds, z)
    return (x1 - x0 + 1) * (y1 - y0 + 1)
