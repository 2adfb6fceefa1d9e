"""Category colours: one per category, stable, and the same in the KML as in the shared table."""

from __future__ import annotations

import io

from lxml import etree

from peacewatch.common.colours import UNKNOWN_COLOUR, category_colour, category_colours
from peacewatch.common.taxonomy import load_taxonomy
from peacewatch.server.exports.kml import write_kml


def test_every_category_has_its_own_colour_in_taxonomy_order() -> None:
    colours = category_colours()
    assert list(colours) == list(load_taxonomy().codes)
    assert len(set(colours.values())) == len(colours)
    assert category_colour("no_such_category") == UNKNOWN_COLOUR == category_colour(None)


def test_kml_styles_use_the_category_colour_whatever_comes_first() -> None:
    records = [{"id": f"r{i}", "kind": "incident", "category": code, "location": {"lat": 1.0, "lon": 30.0}}
               for i, code in enumerate(["looting", "arson"])]
    for ordered in (records, records[::-1]):
        out = io.BytesIO()
        write_kml(ordered, out)
        tree = etree.fromstring(out.getvalue())
        ns = {"k": "http://www.opengis.net/kml/2.2"}
        styles = {s.get("id"): s.findtext("k:IconStyle/k:color", namespaces=ns) for s in tree.iterfind(".//k:Style", ns)}
        for mark in tree.iterfind(".//k:Placemark", ns):
            code = next(d.findtext("k:value", namespaces=ns) for d in mark.iterfind(".//k:Data", ns)
                        if d.get("name") == "category")
            rgb = category_colour(code).lstrip("#")
            assert styles[mark.findtext("k:styleUrl", namespaces=ns)[1:]] == f"ff{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


def test_map_layer_colours_are_distinct_and_shared_with_the_pdf_map() -> None:
    from peacewatch.common.colours import (
        EMERGING_COLOURS,
        HOTSPOT_BIN_COLOURS,
        LAYER_COLOURS,
        REVIEW_STATUS_COLOURS,
        map_colours,
    )
    from peacewatch.server.exports.pdf_charts import BIN_COLOURS

    assert BIN_COLOURS == HOTSPOT_BIN_COLOURS
    legend = [*HOTSPOT_BIN_COLOURS.values(), *EMERGING_COLOURS.values(), *REVIEW_STATUS_COLOURS.values(),
              LAYER_COLOURS["coverage_gap"], LAYER_COLOURS["sensitive_site"], LAYER_COLOURS["patrol_route"]]
    assert len(set(legend)) == len(legend)  # no two legend entries share a colour
    assert LAYER_COLOURS["coverage_gap"] not in (EMERGING_COLOURS["new_hot"], LAYER_COLOURS["sensitive_site"])
    assert map_colours()["bins"]["3"] == HOTSPOT_BIN_COLOURS[3]
