"""One colour per taxonomy category, the same in every map, chart and export.

Colours follow the category's position in the taxonomy file (which only ever grows at the end),
so looting is the same colour in the PDF map, the KML, the dashboard and next month's export.
The palette is Kelly's 22 colours of maximum contrast (without white), chosen for telling many
categories apart; the first ones are also distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

from functools import cache

from peacewatch.common.taxonomy import load_taxonomy

__all__ = ["EMERGING_COLOURS", "HOTSPOT_BIN_COLOURS", "LAYER_COLOURS", "REVIEW_STATUS_COLOURS", "UNKNOWN_COLOUR",
           "category_colour", "category_colours", "map_colours"]

KELLY = (
    "#f3c300", "#875692", "#f38400", "#a1caf1", "#be0032", "#c2b280", "#848482", "#008856", "#e68fac",
    "#0067a5", "#f99379", "#604e97", "#f6a600", "#b3446c", "#dcd300", "#882d17", "#8db600", "#654522",
    "#e25822", "#2b3d26", "#222222",
)
UNKNOWN_COLOUR = "#999999"


@cache
def category_colours() -> dict[str, str]:
    """Category code -> ``#rrggbb``, in taxonomy order."""
    return {code: KELLY[i % len(KELLY)] for i, code in enumerate(load_taxonomy().codes)}


def category_colour(code: str | None) -> str:
    """The category's colour; grey for a code the taxonomy does not know (or none)."""
    return category_colours().get(code or "", UNKNOWN_COLOUR)


# -- map layers: the same in the dashboard map, the PDF map and any chart of them ----------------
# Gi* confidence bins (±3 = 99 %, ±2 = 95 %, ±1 = 90 %): ColorBrewer's diverging RdBu, safe for the
# common colour-vision deficiencies (red-blue, never red-green).
HOTSPOT_BIN_COLOURS: dict[int, str] = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7",
                                       -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
# Emerging hot-spot patterns: each its own hue or lightness; "new" is the only purple on the map.
EMERGING_COLOURS: dict[str, str] = {
    "new_hot": "#7b3294", "consecutive_hot": "#c2a5cf", "intensifying_hot": "#a50026",
    "persistent_hot": "#f46d43", "diminishing_hot": "#fee090", "sporadic_hot": "#d9d9d9",
    "oscillating_hot": "#b35806", "historical_hot": "#8c6d31",
}
# Report points by review status (Okabe-Ito, readable with every common colour-vision deficiency).
REVIEW_STATUS_COLOURS: dict[str, str] = {"unreviewed": "#56b4e9", "verified": "#0072b2",
                                         "needs_information": "#e69f00", "rejected": "#999999"}
# The other layers; coverage gaps (bluish green) and sensitive sites (vermilion) share no colour
# with a hot-spot bin, an emerging pattern or a status.
LAYER_COLOURS: dict[str, str] = {"coverage_gap": "#009e73", "sensitive_site": "#d55e00", "patrol_route": "#333333",
                                 "place": "#222222", "mission_area": "#444444"}


def map_colours() -> dict[str, dict[str, str]]:
    """Every map colour by layer, for the dashboard's map script (keys as strings)."""
    return {"bins": {str(k): v for k, v in HOTSPOT_BIN_COLOURS.items()}, "emerging": dict(EMERGING_COLOURS),
            "statuses": dict(REVIEW_STATUS_COLOURS), "layers": dict(LAYER_COLOURS)}
