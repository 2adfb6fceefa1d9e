"""The offline map widget: base map tiles from the encrypted store, with the tablet's layers on top.

Draws, in order: the base map tiles (``core.tiles.TilePackages``; never fetched from the network
here), HQ's hot spots (filled hexagons by confidence) and coverage gaps (dashed outlines), the
area of responsibility, place names and sensitive sites, the tablet's own reports coloured by
state, the tablet's GPS position with its accuracy circle, and the point the user tapped. Drag to
pan, the +/- buttons (or the mouse wheel) to zoom; zoom stays inside the package's zoom range so
every level shown has real tiles. A short tap on a report's marker opens it (``on_marker``),
anywhere else it picks that point (``on_pick``) as WGS 84 lat/lon.

Web Mercator maths (XYZ tiles, 256 px) is inlined here: the app does not import the server.
"""

from __future__ import annotations

import io
import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from kivy.core.image import Image as CoreImage
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Ellipse, Line, Mesh, Rectangle
from kivy.metrics import dp
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.stencilview import StencilView

TILE = 256
MAX_LAT = 85.0511287798066
TAP_SLOP = 12  # px: a touch that moved less than this is a tap, not a pan
MARKER_HIT = 26  # px: how near a tap must land to open a report's marker
TEXTURE_CACHE = 192

STATE_COLOURS = {
    "draft": (0.55, 0.55, 0.55, 1), "waiting": (1.0, 0.62, 0.1, 1), "sent": (0.2, 0.2, 0.7, 1),
    "updated": (0.1, 0.7, 0.3, 1), "rejected": (0.85, 0.1, 0.1, 1),
}
BIN_COLOURS = {3: (0.84, 0.18, 0.15, 0.5), 2: (0.93, 0.46, 0.32, 0.45), 1: (0.98, 0.73, 0.52, 0.4)}
GAP_COLOUR = (0.42, 0.0, 0.66, 1)
TASK_COLOUR = (0.0, 0.45, 0.7, 1)
SITE_COLOUR = (0.42, 0.0, 0.66, 1)
BACKGROUND = (0.86, 0.85, 0.8, 1)


def to_pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Global pixel of a point at zoom ``z`` (x east, y south)."""
    n = TILE * (1 << z)
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    return (lon + 180.0) / 360.0 * n, (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n


def to_lonlat(x: float, y: float, z: int) -> tuple[float, float]:
    n = TILE * (1 << z)
    return x / n * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


def metres_per_pixel(lat: float, z: int) -> float:
    return 156543.03392 * math.cos(math.radians(lat)) / (1 << z)


class MapView(StencilView):
    """A pannable, zoomable offline map. Set ``source`` (a tile reader) and the layer data.

    A ``StencilView``: tiles and layers are clipped to the widget, so the controls around it stay visible.
    """

    pw_id = StringProperty("")
    zoom = NumericProperty(10)
    lon = NumericProperty(30.25)
    lat = NumericProperty(1.56)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tile_source: Callable[[int, int, int], bytes | None] | None = None
        self.minzoom, self.maxzoom = 0, 18
        self.hotspots: list[dict[str, Any]] = []
        self.gaps: list[dict[str, Any]] = []
        self.area: list[float] | None = None
        self.places: list[tuple[str, float, float, bool]] = []  # (shaped name, lat, lon, sensitive)
        self.markers: list[tuple[str, str, float, float]] = []  # (report id, state, lat, lon)
        self.tasks: list[tuple[int, float, float]] = []  # (task id, lat, lon): HQ's tasks for this user
        self.on_task: Callable[[int], None] | None = None
        self.position: tuple[float, float, float] | None = None  # (lat, lon, accuracy m)
        self.picked: tuple[float, float] | None = None
        self.on_pick: Callable[[float, float], None] | None = None
        self.on_marker: Callable[[str], None] | None = None
        self.tiles_drawn = 0
        self._textures: OrderedDict[tuple[int, int, int], Any] = OrderedDict()
        self._labels: dict[str, Any] = {}
        self._press: tuple[float, float] | None = None
        self._moved = 0.0
        self.bind(pos=self.redraw, size=self.redraw, zoom=self.redraw, lon=self.redraw, lat=self.redraw)

    # ----- public -------------------------------------------------------------------------
    def set_source(self, source: Callable[[int, int, int], bytes | None] | None, minzoom: int, maxzoom: int) -> None:
        self.tile_source = source
        self.minzoom, self.maxzoom = minzoom, maxzoom
        self._textures.clear()
        self.zoom = min(max(int(self.zoom), minzoom), maxzoom)
        self.redraw()

    def centre_on(self, lat: float, lon: float, zoom: int | None = None) -> None:
        if zoom is not None:
            self.zoom = min(max(zoom, self.minzoom), self.maxzoom)
        self.lat, self.lon = lat, lon

    def zoom_by(self, step: int) -> None:
        self.zoom = min(max(int(self.zoom) + step, self.minzoom), self.maxzoom)

    def screen_of(self, lat: float, lon: float) -> tuple[float, float]:
        cx, cy = to_pixel(self.lon, self.lat, int(self.zoom))
        gx, gy = to_pixel(lon, lat, int(self.zoom))
        return self.center_x + (gx - cx), self.center_y - (gy - cy)

    def lonlat_at(self, x: float, y: float) -> tuple[float, float]:
        cx, cy = to_pixel(self.lon, self.lat, int(self.zoom))
        return to_lonlat(cx + (x - self.center_x), cy - (y - self.center_y), int(self.zoom))

    # ----- drawing ------------------------------------------------------------------------
    def _texture(self, z: int, x: int, y: int) -> Any:
        key = (z, x, y)
        if key in self._textures:
            self._textures.move_to_end(key)
            return self._textures[key]
        data = self.tile_source(z, x, y) if self.tile_source else None
        tex = None
        if data:
            ext = "jpg" if data[:3] == b"\xff\xd8\xff" else "webp" if data[8:12] == b"WEBP" else "png"
            tex = CoreImage(io.BytesIO(data), ext=ext).texture
        self._textures[key] = tex
        if len(self._textures) > TEXTURE_CACHE:
            self._textures.popitem(last=False)
        return tex

    def _label(self, text: str, size: float) -> Any:
        key = f"{size}:{text}"
        if key not in self._labels:
            lab = CoreLabel(text=text, font_size=size, color=(0.1, 0.1, 0.1, 1), outline_width=2,
                            outline_color=(1, 1, 1))
            lab.refresh()
            self._labels[key] = lab.texture
        return self._labels[key]

    def redraw(self, *_: Any) -> None:
        z = int(self.zoom)
        cx, cy = to_pixel(self.lon, self.lat, z)
        w, h = self.width, self.height
        self.canvas.clear()
        drawn = 0
        with self.canvas:
            Color(*BACKGROUND)
            Rectangle(pos=self.pos, size=self.size)
            Color(1, 1, 1, 1)
            n = 1 << z
            x0, x1 = int((cx - w / 2) // TILE), int((cx + w / 2) // TILE)
            y0, y1 = int((cy - h / 2) // TILE), int((cy + h / 2) // TILE)
            for tx in range(max(0, x0), min(n - 1, x1) + 1):
                for ty in range(max(0, y0), min(n - 1, y1) + 1):
                    tex = self._texture(z, tx, ty)
                    if tex is None:
                        continue
                    sx = self.center_x + (tx * TILE - cx)
                    sy = self.center_y - ((ty + 1) * TILE - cy)
                    Rectangle(texture=tex, pos=(sx, sy), size=(TILE, TILE))
                    drawn += 1
            self._draw_cells(self.hotspots, fill=True)
            self._draw_cells(self.gaps, fill=False)
            if self.area:
                west, south, east, north = self.area
                ax0, ay0 = self.screen_of(south, west)
                ax1, ay1 = self.screen_of(north, east)
                Color(0.3, 0.3, 0.3, 1)
                Line(rectangle=(ax0, ay0, ax1 - ax0, ay1 - ay0), width=1.2)
            self._draw_places()
            self._draw_position(z)
            self._draw_tasks()
            self._draw_markers()  # over the position dot: a report filed where one stands stays visible
            if self.picked:
                px, py = self.screen_of(*self.picked)
                Color(0.9, 0.05, 0.05, 1)
                Line(points=[px - 14, py, px + 14, py], width=2)
                Line(points=[px, py - 14, px, py + 14], width=2)
                Line(circle=(px, py, 9), width=2)
        self.tiles_drawn = drawn

    def _ring(self, feature: dict[str, Any]) -> list[float]:
        pts: list[float] = []
        for lon, lat in feature["geometry"]["coordinates"][0]:
            pts += self.screen_of(lat, lon)
        return pts

    def _draw_cells(self, features: list[dict[str, Any]], *, fill: bool) -> None:
        for f in features:
            pts = self._ring(f)
            if fill:
                Color(*BIN_COLOURS.get(int(f["properties"].get("bin") or 0), BIN_COLOURS[1]))
                verts: list[float] = []
                for i in range(0, len(pts) - 2, 2):  # the ring's last point repeats the first
                    verts += [pts[i], pts[i + 1], 0, 0]
                Mesh(vertices=verts, indices=list(range(len(verts) // 4)), mode="triangle_fan")
            else:
                Color(*GAP_COLOUR)
                Line(points=pts, width=1, dash_length=6, dash_offset=4, close=True)

    def _draw_places(self) -> None:
        size = dp(13)
        for name, lat, lon, sensitive in self.places:
            x, y = self.screen_of(lat, lon)
            if not (self.x - 200 < x < self.right + 200 and self.y - 50 < y < self.top + 50):
                continue
            if sensitive:
                Color(*SITE_COLOUR)
                Line(points=[x, y + 7, x + 7, y, x, y - 7, x - 7, y], close=True, width=2)
            else:
                Color(0.15, 0.15, 0.15, 1)
                Ellipse(pos=(x - 4, y - 4), size=(8, 8))
            tex = self._label(name, size)
            Color(1, 1, 1, 1)
            Rectangle(texture=tex, pos=(x + 9, y - tex.height / 2), size=tex.size)

    def _draw_markers(self) -> None:
        r = dp(9)
        for _rid, state, lat, lon in self.markers:
            x, y = self.screen_of(lat, lon)
            Color(1, 1, 1, 1)
            Ellipse(pos=(x - r - 2, y - r - 2), size=(2 * r + 4, 2 * r + 4))
            Color(*STATE_COLOURS.get(state, STATE_COLOURS["sent"]))
            Ellipse(pos=(x - r, y - r), size=(2 * r, 2 * r))

    def _draw_tasks(self) -> None:
        """A task is a square (reports are dots): where HQ wants the patrol to go."""
        r = dp(10)
        for _tid, lat, lon in self.tasks:
            x, y = self.screen_of(lat, lon)
            Color(1, 1, 1, 1)
            Rectangle(pos=(x - r - 2, y - r - 2), size=(2 * r + 4, 2 * r + 4))
            Color(*TASK_COLOUR)
            Rectangle(pos=(x - r, y - r), size=(2 * r, 2 * r))

    def _draw_position(self, z: int) -> None:
        if not self.position:
            return
        lat, lon, accuracy = self.position
        x, y = self.screen_of(lat, lon)
        radius = max(accuracy / metres_per_pixel(lat, z), 6.0)
        Color(0.0, 0.75, 0.95, 0.2)
        Ellipse(pos=(x - radius, y - radius), size=(2 * radius, 2 * radius))
        Color(0.0, 0.6, 0.9, 0.95)
        Line(circle=(x, y, radius), width=1.5)
        Color(1, 1, 1, 1)
        Ellipse(pos=(x - 8, y - 8), size=(16, 16))
        Color(0.0, 0.65, 0.95, 1)
        Ellipse(pos=(x - 6, y - 6), size=(12, 12))

    # ----- touch ----------------------------------------------------------------------------
    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        if getattr(touch, "is_mouse_scrolling", False):
            self.zoom_by(1 if touch.button == "scrolldown" else -1)
            return True
        touch.grab(self)
        self._press, self._moved = touch.pos, 0.0
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        dx, dy = touch.dx, touch.dy
        self._moved += abs(dx) + abs(dy)
        if self._moved >= TAP_SLOP and (dx or dy):
            z = int(self.zoom)
            cx, cy = to_pixel(self.lon, self.lat, z)
            self.lon, self.lat = to_lonlat(cx - dx, cy + dy, z)
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        if self._moved < TAP_SLOP:
            self._tap(*touch.pos)
        return True

    def _tap(self, x: float, y: float) -> None:
        best, best_d = None, MARKER_HIT
        for rid, _state, lat, lon in self.markers:
            mx, my = self.screen_of(lat, lon)
            d = math.hypot(mx - x, my - y)
            if d < best_d:
                best, best_d = rid, d
        if best is not None and self.on_marker:
            self.on_marker(best)
            return
        for tid, lat, lon in self.tasks:
            mx, my = self.screen_of(lat, lon)
            if math.hypot(mx - x, my - y) < MARKER_HIT and self.on_task:
                self.on_task(tid)
                return
        lon, lat = self.lonlat_at(x, y)
        self.picked = (lat, lon)
        self.redraw()
        if self.on_pick:
            self.on_pick(lat, lon)
