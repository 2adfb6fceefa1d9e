"""PDF summary: read back with pypdf (text, pages, fonts), first page rendered with pdftoppm."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import synthetic_reports as synthetic
from pypdf import PdfReader

from peacewatch.server.exports.filters import ExportFilters
from peacewatch.server.exports.pdf import iter_pdf, write_pdf
from peacewatch.server.exports.summary import Summary
from tests.server.exports.matching import matches

GENERATED = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


def _pdf(records: list[dict], **options: object) -> tuple[bytes, Summary]:
    out = io.BytesIO()
    summary = write_pdf(records, out, generated_at=GENERATED, places=synthetic.PLACES,
                        hexagons=synthetic.hexagons(), **options)
    return out.getvalue(), summary


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_english_summary_has_every_section(sample: list[dict]) -> None:
    filters = ExportFilters(contingent=["BANBAT"])
    records = [r for r in sample if matches(filters, r)]
    data, summary = _pdf(records, filters=filters, table_limit=40)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    text = _text(data)
    for words in ("Protection of civilians: report summary", "Generated: 2026-11-24T15:30:00Z (241530ZNOV26)",
                  "Period:", "contingent = BANBAT", f"Reports: {len(records)}", "Category",
                  "Reports per week", "Map of reports and hotspots", "Showing the 40 most recent of"):
        assert words in text, words
    assert summary.total == len(records)
    assert summary.by_category == Counter(r["category"] for r in records)
    assert len(summary.latest()) == 40
    assert summary.latest()[0]["event_time"] == max(r["event_time"] for r in records)
    fonts = {str(f["/BaseFont"]) for page in reader.pages for f in (page["/Resources"].get("/Font") or {}).values()
             for f in [f.get_object()]}
    assert any("DejaVuSans" in f for f in fonts), fonts  # the embedded font with Arabic glyphs


def test_french_document(sample: list[dict]) -> None:
    text = _text(_pdf(sample[:50], lang="fr")[0])
    assert "Protection des civils : synthèse des rapports" in text
    assert "Rapports par semaine" in text


def test_arabic_document_is_shaped_and_right_to_left(sample: list[dict]) -> None:
    data, _ = _pdf(sample[:50], lang="ar")
    text = _text(data)
    # Shaped Arabic uses presentation forms (U+FE70..U+FEFF); unshaped text would only have U+06xx.
    assert any("\ufe70" <= ch <= "\ufeff" for ch in text)
    assert "2026-" in text  # ISO dates survive the bidi reordering in reading order


def test_no_reports_says_so() -> None:
    text = _text(_pdf([])[0])
    assert "No reports match these filters." in text


def test_redacted_and_bare_records_do_not_break_it(bare: dict, sample: list[dict]) -> None:
    hr = [r for r in sample if r["kind"] == "hr_concern"]
    data, summary = _pdf([bare, *hr])
    assert summary.total == len(hr) + 1 and data.startswith(b"%PDF-")


def test_streamed_bytes_are_the_same_document(sample: list[dict]) -> None:
    data = b"".join(iter_pdf(sample[:20], generated_at=GENERATED, chunk_size=1024))
    assert data.startswith(b"%PDF-") and len(PdfReader(io.BytesIO(data)).pages) >= 1


def test_first_page_renders_for_the_readme(sample: list[dict]) -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed")
    data, _ = _pdf(sample, table_limit=25)
    target = Path(__file__).resolve().parents[3] / "docs" / "img" / "export-pdf-page1"
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", "-", str(target)],
                   input=data, check=True, timeout=60)
    png = target.with_suffix(".png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


def test_casualty_totals_for_the_period_are_read_back(sample: list[dict]) -> None:
    records = [dict(r) for r in sample[:60]]
    for i, record in enumerate(records):  # known casualties on the incidents, none elsewhere
        record["casualties"] = {"killed": i % 3, "injured": 2 * (i % 4), "abducted": 0, "displaced": 0} \
            if record.get("kind") == "incident" else {}
    killed = sum(r["casualties"].get("killed", 0) for r in records)
    injured = sum(r["casualties"].get("injured", 0) for r in records)
    assert killed and injured
    data, summary = _pdf(records)
    assert (summary.killed, summary.injured) == (killed, injured)
    text = " ".join(_text(data).split())
    assert f"Casualties in the period: Killed {killed} · Injured {injured}" in text
    french = " ".join(_text(_pdf(records, lang="fr")[0]).split())
    assert f"Victimes sur la période : Tués {killed} · Blessés {injured}" in french or \
        f"Victimes sur la période: Tués {killed} · Blessés {injured}" in french


def test_without_hot_spots_the_map_is_not_called_a_map_of_hot_spots(sample: list[dict]) -> None:
    out = io.BytesIO()
    write_pdf(sample[:50], out, generated_at=GENERATED, places=synthetic.PLACES, hexagons=())
    text = _text(out.getvalue())
    assert "Map of reports" in text and "hotspots" not in text.lower()
