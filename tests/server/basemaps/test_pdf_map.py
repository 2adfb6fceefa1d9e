"""The PDF summary's map is drawn over the mission's base map (read from the stored file, offline)."""

from __future__ import annotations

import io
from collections import Counter

from mbtiles_builder import build_mbtiles, tile_colour
from pypdf import PdfReader

from factories import report_body, store
from peacewatch.server.basemaps.service import import_file


def _map_picture(pdf: bytes):
    images = [img.image for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
    assert images, "the PDF has no pictures"
    return max(images, key=lambda im: im.width * im.height).convert("RGB")


def _tile_pixels(picture, tiles: list[tuple[int, int, int]]) -> int:
    expected = {tile_colour(*t) for t in tiles}
    counts = Counter(picture.getdata())
    return sum(n for colour, n in counts.items() if colour in expected)


def test_pdf_map_shows_the_base_map(client, mission, settings, engine, tmp_path) -> None:
    for i in range(6):
        store(mission, "patrol_a", report_body(lat=1.53 + i * 0.012, lon=30.22 + i * 0.012))
    analyst = mission.headers("analyst")
    plain = client.get("/api/v1/exports/pdf", headers=analyst)
    assert plain.status_code == 200, plain.text

    src = tmp_path / "topo.mbtiles"
    tiles = build_mbtiles(src, bounds=(30.1, 1.4, 30.4, 1.7), zooms=range(11, 14))
    import_file(engine, settings, path=src, name="topo")
    over = client.get("/api/v1/exports/pdf", headers=analyst)
    assert over.status_code == 200
    # Flat-coloured test tiles: their exact colours fill the map only once a base map exists.
    assert _tile_pixels(_map_picture(plain.content), tiles) < 50
    assert _tile_pixels(_map_picture(over.content), tiles) > 20_000
