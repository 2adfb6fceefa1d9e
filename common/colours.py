"""One colour per taxonomy category, the same in every map, chart and export.

Colours follow the category's position in the taxonomy file (which only ever grows at the end),
so looting is the same colour in the PDF map, the KML, the dashboard and next month's export.
The palette is Kelly's 22 colours of maximum contrast (without white), chosen for telling many
categories apart; the first ones are also distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

from functools import cache

from peacewatch.common.taxonomy import load_taxonomy

__all__ = ["UNKNOWN_COLOUR", "category_colour", "category_colours"]

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
