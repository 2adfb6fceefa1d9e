"""The PDF's pictures, drawn with matplotlib (Agg, no pyplot state): weekly trend and offline map.

The map needs no internet and no basemap tiles: a plain background, a graticule labelled in
degrees, a scale bar in kilometres, place names from the mission's reference data, hotspot
hexagons coloured by their Gi* confidence bin (-3..3, as ArcGIS's Gi_Bin: ±3 = 99 %, ±2 = 95 %,
±1 = 90 %), patrol routes as lines and reports as dots coloured by category. Longitude is
stretched by 1/cos(latitude) so distances look right near the map's centre (equirectangular).

Text is passed in logical order: matplotlib (>= 3.11) shapes and orders Arabic itself. Each
function returns PNG bytes; the PDF embeds them at a fixed width.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from peacewatch.common.colours import HOTSPOT_BIN_COLOURS, category_colour
from peacewatch.server.exports.pdf_text import font_path
from peacewatch.server.exports.summary import Summary

__all__ = ["BIN_COLOURS", "map_png", "nice_scale_km", "trend_png"]

# Diverging red/blue (ColorBrewer RdBu), hot = red.
BIN_COLOURS = HOTSPOT_BIN_COLOURS  # the dashboard map's, from common.colours
_KM_PER_DEG_LAT = 111.32
_BACKGROUND = "#f3efe6"


def _font_props() -> dict[str, Any]:
    return {"fontproperties": FontProperties(fname=str(font_path()))}


def _png(fig: Figure, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    # "tight" keeps tick labels and the outside legend whole; the PDF sizes the picture from its pixels.
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=0.05)
    return buffer.getvalue()


def trend_png(weeks: Sequence[tuple[date, int]], *, ylabel: str, xlabel: str) -> bytes:
    """Bar chart of reports per ISO week."""
    fig = Figure(figsize=(7.0, 2.4), layout="constrained")
    ax = fig.add_subplot()
    props = _font_props()
    if weeks:
        days = [d for d, _ in weeks]
        counts = [n for _, n in weeks]
        ax.bar(days, counts, width=5.5, color="#3b6ea5", align="edge")
        ax.set_xlim(days[0], date.fromordinal(days[-1].toordinal() + 7))
        fig.autofmt_xdate(rotation=30)
    ax.set_ylabel(ylabel, **props)
    ax.set_xlabel(xlabel, **props)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _png(fig)


def nice_scale_km(span_km: float) -> float:
    """A round scale-bar length close to a fifth of the map's width."""
    target = max(span_km / 5.0, 1e-3)
    exponent = math.floor(math.log10(target))
    for step in (1, 2, 5, 10):
        length = step * 10**exponent
        if length >= target * 0.7:
            return float(length)
    return float(10 ** (exponent + 1))


def _degree_formatter(positive: str, negative: str) -> FuncFormatter:
    def fmt(value: float, _pos: int) -> str:
        hemisphere = positive if value >= 0 else negative
        return f"{abs(value):.2f}°{hemisphere}".replace(".00°", "°")

    return FuncFormatter(fmt)


def _extent(
    summary: Summary, hexagons: Sequence[Mapping[str, Any]], places: Sequence[Mapping[str, Any]]
) -> tuple[float, float, float, float] | None:
    lons: list[float] = []
    lats: list[float] = []
    if len(summary.lons):
        points_lon = np.frombuffer(summary.lons, dtype=np.float64)
        points_lat = np.frombuffer(summary.lats, dtype=np.float64)
        lons += [float(points_lon.min()), float(points_lon.max())]
        lats += [float(points_lat.min()), float(points_lat.max())]
    for line in summary.route_lines:
        coords = np.frombuffer(line, dtype=np.float64).reshape(-1, 2)
        lons += [float(coords[:, 0].min()), float(coords[:, 0].max())]
        lats += [float(coords[:, 1].min()), float(coords[:, 1].max())]
    for feature in hexagons:
        for ring in _rings(feature):
            lons += [p[0] for p in ring]
            lats += [p[1] for p in ring]
    if not lons:
        lons = [float(p["lon"]) for p in places]
        lats = [float(p["lat"]) for p in places]
    if not lons:
        return None
    minlon, maxlon, minlat, maxlat = min(lons), max(lons), min(lats), max(lats)
    # Pad by 8 % and to at least ~2 km so a single report still gets a readable map.
    pad_lon = max((maxlon - minlon) * 0.08, 0.02)
    pad_lat = max((maxlat - minlat) * 0.08, 0.02)
    return (
        max(minlon - pad_lon, -180.0),
        max(minlat - pad_lat, -90.0),
        min(maxlon + pad_lon, 180.0),
        min(maxlat + pad_lat, 90.0),
    )


def _rings(feature: Mapping[str, Any]) -> Iterable[Sequence[Sequence[float]]]:
    geometry = feature.get("geometry") or {}
    if geometry.get("type") == "Polygon":
        yield geometry["coordinates"][0]
    elif geometry.get("type") == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield polygon[0]


def map_png(
    summary: Summary,
    *,
    hexagons: Sequence[Mapping[str, Any]] = (),
    places: Sequence[Mapping[str, Any]] = (),
    category_label: Callable[[str], str],
    bins_title: str,
    hot: str,
    cold: str,
    background: Callable[[tuple[float, float, float, float]], Any] | None = None,
) -> bytes | None:
    """The offline map (see module doc), or None when nothing has a position.

    ``background``, given the map's (west, south, east, north), returns the mission's base map as
    RGB pixels with rows at equal latitude steps (``server/basemaps/mosaic.py``), drawn underneath.
    """
    extent = _extent(summary, hexagons, places)
    if extent is None:
        return None
    minlon, minlat, maxlon, maxlat = extent
    mid_lat = (minlat + maxlat) / 2
    stretch = 1 / max(math.cos(math.radians(mid_lat)), 0.05)
    props = _font_props()

    fig = Figure(figsize=(7.0, 6.0), layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor(_BACKGROUND)
    ax.set_xlim(minlon, maxlon)
    ax.set_ylim(minlat, maxlat)
    ax.set_aspect(stretch, adjustable="box")
    ax.grid(color="#c9c2b2", linewidth=0.5, linestyle="--")
    ax.set_axisbelow(True)
    ax.xaxis.set_major_formatter(_degree_formatter("E", "W"))
    ax.yaxis.set_major_formatter(_degree_formatter("N", "S"))
    ax.tick_params(labelsize=7)
    picture = background((minlon, minlat, maxlon, maxlat)) if background is not None else None
    if picture is not None:
        ax.imshow(picture, extent=(minlon, maxlon, minlat, maxlat), origin="upper", aspect=stretch,
                  interpolation="bilinear", zorder=0)

    # Hotspot hexagons underneath everything else.
    polygons: list[Sequence[Sequence[float]]] = []
    colours: list[str] = []
    bins_seen: set[int] = set()
    for feature in hexagons:
        bin_value = int((feature.get("properties") or {}).get("bin") or 0)
        if bin_value == 0:
            continue  # not significant: drawing it would only add noise
        bin_value = max(-3, min(3, bin_value))
        for ring in _rings(feature):
            polygons.append(ring)
            colours.append(BIN_COLOURS[bin_value])
            bins_seen.add(bin_value)
    if polygons:
        ax.add_collection(PolyCollection(polygons, facecolors=colours, edgecolors="#888888", linewidths=0.3, alpha=0.75, zorder=1))

    categories = summary.categories
    # The taxonomy's colour for each category, as in every other map, chart and export.
    palette = {i: category_colour(code) for i, code in enumerate(categories)}
    if summary.route_lines:
        segments = [np.frombuffer(line, dtype=np.float64).reshape(-1, 2) for line in summary.route_lines]
        ax.add_collection(LineCollection(segments, colors="#4d4d4d", linewidths=0.9, alpha=0.7, zorder=2))
    if len(summary.lons):
        lon = np.frombuffer(summary.lons, dtype=np.float64)
        lat = np.frombuffer(summary.lats, dtype=np.float64)
        idx = np.frombuffer(summary.point_category, dtype=np.uint16)
        colour_table = np.array([palette[i] for i in range(len(categories))] or ["#333333"])
        size = 9 if len(lon) < 2000 else 3
        ax.scatter(lon, lat, s=size, c=colour_table[idx % len(colour_table)], linewidths=0, alpha=0.8, zorder=3, rasterized=True)

    for place in places:
        plon, plat = float(place["lon"]), float(place["lat"])
        if minlon <= plon <= maxlon and minlat <= plat <= maxlat:
            ax.plot([plon], [plat], marker="s", markersize=2.5, color="black", zorder=4)
            ax.annotate(str(place.get("name") or ""), (plon, plat), xytext=(3, 3), textcoords="offset points",
                        fontsize=7, zorder=5, **props)

    # Scale bar: data units are degrees of longitude at the map's middle latitude.
    km_per_deg_lon = _KM_PER_DEG_LAT * math.cos(math.radians(mid_lat))
    scale_km = nice_scale_km((maxlon - minlon) * km_per_deg_lon)
    label = f"{scale_km:g} km"
    ax.add_artist(AnchoredSizeBar(ax.transData, scale_km / max(km_per_deg_lon, 1e-6), label, loc="lower left",
                                  pad=0.5, sep=3, frameon=True, size_vertical=(maxlat - minlat) / 200))

    handles: list[Any] = []
    for i, code in enumerate(categories):
        handles.append(Line2D([], [], marker="o", linestyle="", color=palette[i], label=category_label(code)))
    for bin_value in sorted(bins_seen, reverse=True):
        word = hot if bin_value > 0 else cold
        confidence = {1: "90", 2: "95", 3: "99"}[abs(bin_value)]
        handles.append(Patch(facecolor=BIN_COLOURS[bin_value], edgecolor="#888888",
                             label=f"{bins_title}: {word} {confidence} %"))
    if handles:
        # Outside the map, on the right, so it never hides reports or place names.
        legend = fig.legend(handles=handles, loc="outside right upper", frameon=False, prop=props["fontproperties"])
        for text in legend.get_texts():
            text.set_fontsize(6)
    return _png(fig)
