"""The format registry: every format renders bytes through one call; an unknown one is refused."""

from __future__ import annotations

import pytest

from peacewatch.server.exports.formats import FORMATS, render

MAGIC = {"pdf": b"%PDF-", "xlsx": b"PK\x03\x04", "csv": b"Report ID,", "geojson": b'{"type":"FeatureCollection"',
         "kml": b"<kml", "gpkg": b"SQLite format 3\x00"}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_renders(fmt: str, sample: list[dict]) -> None:
    data = b"".join(render(fmt, sample[:15]))
    assert data.startswith(MAGIC[fmt])


def test_unknown_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="format must be one of"):
        render("docx", [])
