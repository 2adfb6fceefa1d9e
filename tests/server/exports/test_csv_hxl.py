"""CSV + HXL: read back with the csv module and libhxl (an independent HXL parser)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import hxl

from peacewatch.server.exports.csv_hxl import CHUNK_ROWS, iter_csv, write_csv
from peacewatch.server.exports.records import COLUMNS

# HXL 1.1 tagging conventions: a hashtag, then attributes, each a letter then letters/digits/_.
HXL_TAG = re.compile(r"^#[a-z][a-z0-9_]*(\+[a-z][a-z0-9_]*)*$")


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_headers_then_hashtags_then_one_row_per_report(sample: list[dict]) -> None:
    rows = _rows("".join(iter_csv(sample)))
    assert rows[0][0] == "Report ID"
    assert rows[1] == [c.hxl for c in COLUMNS]
    assert all(HXL_TAG.match(tag) for tag in rows[1]), rows[1]
    assert len(set(rows[1])) == len(rows[1])  # no two columns share a hashtag
    assert len(rows) == 2 + len(sample)
    assert [r[0] for r in rows[2:]] == [r["id"] for r in sample]


def test_libhxl_reads_the_values_back(sample: list[dict]) -> None:
    dataset = hxl.data(_rows("".join(iter_csv(sample))))
    by_id = {r["id"]: r for r in sample}
    seen = 0
    for row in dataset:
        record = by_id[row.get("#event+id")]
        assert float(row.get("#geo+lat")) == record["location"]["lat"]
        assert float(row.get("#geo+lon")) == record["location"]["lon"]
        assert row.get("#event+type+code") == record["category"]
        assert row.get("#org+contingent") == record["contingent"]
        assert row.get("#date+occurred") == record["event_time"]
        if record["kind"] != "patrol":
            assert int(row.get("#affected+killed")) == record["casualties"]["killed"]
            assert int(row.get("#affected+displaced")) == record["casualties"]["displaced"]
        seen += 1
    assert seen == len(sample)


def test_labels_are_in_the_export_language(sample: list[dict]) -> None:
    rows = _rows("".join(iter_csv(sample[:20], lang="fr")))
    assert rows[0][0] == "ID du rapport"
    from peacewatch.common.taxonomy import load_taxonomy

    rows = _rows("".join(iter_csv([{"id": "x", "kind": "incident", "category": "looting",
                                     "review_status": "verified"}], lang="fr")))
    headers = [c.key for c in COLUMNS]
    assert rows[2][headers.index("category")] == load_taxonomy().label("looting", "fr") != "Looting"
    assert rows[2][headers.index("review_status")] == "Vérifié"


def test_bom_only_when_asked(sample: list[dict]) -> None:
    with_bom, without = io.BytesIO(), io.BytesIO()
    write_csv(sample[:3], with_bom, bom=True)
    write_csv(sample[:3], without)
    assert with_bom.getvalue().startswith(b"\xef\xbb\xbf")
    assert not without.getvalue().startswith(b"\xef\xbb\xbf")
    assert with_bom.getvalue()[3:] == without.getvalue()
    assert "سطر عربي".encode() in without.getvalue()  # UTF-8, not a legacy code page


def test_formula_like_text_is_neutralised() -> None:
    record = {"id": "x", "kind": "incident", "title": "=HYPERLINK(\"http://evil\")", "description": "-2+3",
              "location": {"lat": -4.5, "lon": -31.0}}
    row = _rows("".join(iter_csv([record])))[2]
    headers = [c.key for c in COLUMNS]
    assert row[headers.index("title")] == "'=HYPERLINK(\"http://evil\")"
    assert row[headers.index("description")] == "'-2+3"
    assert row[headers.index("lat")] == "-4.5"  # numbers are not text: left as they are


def test_missing_fields_and_redacted_names_are_empty_cells(bare: dict, sample: list[dict]) -> None:
    hr = [r for r in sample if r["kind"] == "hr_concern" and r["victims"][0]["name"] is None]
    assert hr, "the sample must contain redacted human-rights concerns"
    rows = _rows("".join(iter_csv([bare, *hr])))
    assert len(rows) == 2 + 1 + len(hr)
    assert rows[2][0] == bare["id"] and rows[2][4] == ""  # no event time: empty, not an error


def test_streams_lazily_in_bounded_chunks(sample: list[dict]) -> None:
    consumed = 0

    def source() -> Iterator[dict]:
        nonlocal consumed
        for r in sample * 5:
            consumed += 1
            yield r

    chunks = iter_csv(source())
    next(chunks)  # headers come before any record is read
    assert consumed == 0
    next(chunks)
    assert consumed == CHUNK_ROWS  # one chunk's worth read, not the whole input
    rest = list(chunks)
    assert consumed == len(sample) * 5
    assert max(len(c) for c in rest) < CHUNK_ROWS * 2000
