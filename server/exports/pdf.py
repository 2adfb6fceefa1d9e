"""PDF summary export (reportlab platypus + matplotlib pictures) in English, French or Arabic.

Contents, in order: title, when it was generated, the period covered, the filters applied, the
number of reports and the killed and injured totals over them; an offline map of the reports with
place names and, for roles that analyse, hotspot hexagons (its title says which; see `pdf_charts`); totals by kind, category, contingent and severity; a weekly trend chart; a table of the most recent
reports (`table_limit` of them: a summary for a chain of command, not a dump; the page says so
and points to XLSX/CSV for the full list).

The records are streamed once: `Summary` keeps counters, positions for the map and a bounded heap
of the latest reports, so 100,000 reports fit in a few megabytes. Arabic is shaped and laid out
right to left (paragraphs right-aligned, table columns mirrored) with a font that has the glyphs
(`pdf_text`). Every user-typed string is XML-escaped before reportlab's paragraph mark-up sees it.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from peacewatch.server.exports.filters import ExportFilters
from peacewatch.server.exports.pdf_charts import map_png, trend_png
from peacewatch.server.exports.pdf_text import ltr, register_fonts, shape, shape_lines
from peacewatch.server.exports.records import Labels, event_datetime, iso_z
from peacewatch.server.exports.summary import Summary

__all__ = ["TABLE_LIMIT", "iter_pdf", "write_pdf"]

TABLE_LIMIT = 300
_PAGE_W, _PAGE_H = A4
_MARGIN = 15 * mm
_FRAME_W = _PAGE_W - 2 * _MARGIN


class _Doc:
    """Styles and text helpers for one language (direction, shaping, escaping)."""

    def __init__(self, labels: Labels) -> None:
        regular, bold = register_fonts()
        self.labels = labels
        self.rtl = labels.lang == "ar"
        align = TA_RIGHT if self.rtl else TA_LEFT
        self.body = ParagraphStyle("pw-body", fontName=regular, fontSize=9, leading=12, alignment=align)
        self.small = ParagraphStyle("pw-small", parent=self.body, fontSize=7, leading=9)
        self.h1 = ParagraphStyle("pw-h1", parent=self.body, fontName=bold, fontSize=16, leading=20, spaceAfter=6)
        self.h2 = ParagraphStyle("pw-h2", parent=self.body, fontName=bold, fontSize=11, leading=14, spaceBefore=8,
                                 spaceAfter=4)
        self.cell_head = ParagraphStyle("pw-th", parent=self.small, fontName=bold)
        self.regular, self.bold = regular, bold

    def shape(self, text: str) -> str:
        return shape(text, self.rtl)

    def para(self, text: str, style: ParagraphStyle | None = None, width_chars: int = 90) -> Paragraph:
        """A paragraph of plain (not mark-up) text, wrapped before shaping when it is Arabic."""
        lines = shape_lines(text or "", width_chars, self.rtl)
        return Paragraph("<br/>".join(escape(line) for line in lines), style or self.body)

    def word(self, key: str, **values: object) -> str:
        return self.labels.word(key, **values)

    def row(self, cells: Sequence[Any]) -> list[Any]:
        """Mirror a table row for right-to-left reading."""
        return list(reversed(cells)) if self.rtl else list(cells)

    def widths(self, widths: Sequence[float]) -> list[float]:
        return list(reversed(widths)) if self.rtl else list(widths)


def _table(doc: _Doc, head: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
           wrap_chars: Sequence[int] | None = None) -> Table:
    wrap_chars = wrap_chars or [40] * len(head)
    data = [doc.row([doc.para(h, doc.cell_head, w) for h, w in zip(head, wrap_chars, strict=True)])]
    for row in rows:
        data.append(doc.row([doc.para("" if v is None else str(v), doc.small, w) for v, w in zip(row, wrap_chars, strict=True)]))
    table = Table(data, colWidths=doc.widths(widths), repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe6ee")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b0b0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def _picture(png: bytes, width: float) -> Image:
    """A PNG at `width` points wide, its height from its own aspect ratio."""
    pixels_w, pixels_h = ImageReader(io.BytesIO(png)).getSize()
    return Image(io.BytesIO(png), width=width, height=width * pixels_h / pixels_w)


def _totals(doc: _Doc, summary: Summary) -> list[Any]:
    labels = doc.labels
    count = doc.word("doc.count")
    unknown = doc.word("doc.unknown")
    half = (_FRAME_W - 6 * mm) / 2
    by_kind = _table(doc, [doc.word("col.kind"), count],
                     [(labels.fixed("kind", k) or unknown, n) for k, n in summary.by_kind.most_common()],
                     [half * 0.7, half * 0.3])
    severities = sorted(summary.by_severity.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    by_severity = _table(doc, [doc.word("col.severity"), count],
                         [(s if s is not None else unknown, n) for s, n in severities], [half * 0.7, half * 0.3])
    by_category = _table(doc, [doc.word("col.category"), count],
                         [(labels.category(c) or unknown, n) for c, n in summary.by_category.most_common()],
                         [half * 0.75, half * 0.25])
    by_contingent = _table(doc, [doc.word("col.contingent"), count],
                           [(c or unknown, n) for c, n in sorted(summary.by_contingent.items())],
                           [half * 0.7, half * 0.3])

    def pair(left: Table, right: Table) -> Table:
        grid = Table([doc.row([left, right])], colWidths=[half + 3 * mm, half + 3 * mm])
        grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        return grid

    return [
        doc.para(doc.word("doc.summary"), doc.h2),
        pair(by_kind, by_severity),
        Spacer(1, 4 * mm),
        pair(by_category, by_contingent),
    ]


def _reports_table(doc: _Doc, latest: list[Mapping[str, Any]]) -> Table:
    labels = doc.labels
    head = [doc.word("col.dtg"), doc.word("col.category"), doc.word("col.contingent"), doc.word("col.severity"),
            doc.word("col.place"), doc.word("col.review_status"), doc.word("col.title")]
    widths = [24 * mm, 32 * mm, 20 * mm, 13 * mm, 26 * mm, 22 * mm]
    widths.append(_FRAME_W - sum(widths))
    rows = []
    for record in latest:
        when = event_datetime(record)
        location = record.get("location") or {}
        place = location.get("place") or (
            f"{location['lat']:.4f}, {location['lon']:.4f}" if location.get("lat") is not None else "")
        rows.append([
            labels.dtg(when) if when else "",
            labels.category(record.get("category")),
            record.get("contingent") or "",
            record.get("severity"),
            place,
            labels.fixed("status", record.get("review_status")),
            record.get("title") or "",
        ])
    return _table(doc, head, rows, widths, wrap_chars=[14, 20, 12, 6, 16, 14, 34])


def _response(doc: _Doc, response: Mapping[str, Any]) -> list[Any]:
    """Minutes to acknowledge and to first action per rule and per contingent (``alerts.metrics``)."""
    since = response.get("since")
    out: list[Any] = [doc.para(doc.word("doc.response"), doc.h2),
                      doc.para(doc.word("doc.response_note",
                                        since=ltr(iso_z(since)) if since else doc.word("doc.response_all_time")),
                               doc.small)]
    if not any(response.get(by) for by in ("rule", "contingent")):
        return [*out, doc.para(doc.word("doc.no_alerts"))]
    head_tail = [doc.word("col.alerts"), doc.word("col.unacknowledged"), doc.word("col.ack_median"),
                 doc.word("col.ack_p90"), doc.word("col.action_median"), doc.word("col.action_p90")]
    widths = [16 * mm, 20 * mm, 22 * mm, 22 * mm, 22 * mm, 22 * mm]
    widths.insert(0, _FRAME_W - sum(widths))
    for by, title, first in (("rule", "doc.response_by_rule", "col.rule"),
                             ("contingent", "doc.response_by_contingent", "col.contingent")):
        rows = [[g["group"], g["alerts"], g["unacknowledged"], g["acknowledge_minutes"]["median"],
                 g["acknowledge_minutes"]["p90"], g["first_action_minutes"]["median"],
                 g["first_action_minutes"]["p90"]] for g in response.get(by) or []]
        if rows:
            out.append(KeepTogether([doc.para(doc.word(title), doc.h2),
                                     _table(doc, [doc.word(first), *head_tail], rows, widths,
                                            wrap_chars=[34, 8, 12, 14, 14, 14, 14])]))
    return out


def write_pdf(
    records: Iterable[Mapping[str, Any]],
    out: IO[bytes] | str,
    *,
    lang: str = "en",
    labels: Labels | None = None,
    filters: ExportFilters | None = None,
    places: Sequence[Mapping[str, Any]] = (),
    hexagons: Sequence[Mapping[str, Any]] = (),
    table_limit: int = TABLE_LIMIT,
    generated_at: datetime | None = None,
    background: Any = None,
    response: Mapping[str, Any] | None = None,
) -> Summary:
    """Write the PDF summary to a path or binary file object; returns the totals it shows.

    `response`, when given, is the alert response times the reader may see
    (``{"since", "rule": [...], "contingent": [...]}``, items of ``alerts.metrics``): a table each.

    `places` are reference place names ``{"name", "lat", "lon"}``; `hexagons` are GeoJSON
    Features (Polygon) whose ``properties.bin`` is the hotspot confidence bin (-3..3).
    """
    labels = labels or Labels(lang)
    doc = _Doc(labels)
    summary = Summary(keep_points=True, keep_latest=table_limit)
    for record in records:
        summary.add(record)

    generated = generated_at or datetime.now(UTC)
    story: list[Any] = [doc.para(doc.word("doc.title"), doc.h1)]
    stamp = f"{iso_z(generated.replace(microsecond=0))} ({labels.dtg(generated)})"
    story.append(doc.para(f"{doc.word('doc.generated')}: {ltr(stamp)}"))
    start = (filters.start if filters else None) or summary.first
    end = (filters.end if filters else None) or summary.last
    period = f"{iso_z(start)} – {iso_z(end)}" if start and end else doc.word("doc.unknown")
    story.append(doc.para(f"{doc.word('doc.period')}: {ltr(period) if start and end else period}"))
    described = filters.describe() if filters else {}
    filter_text = ltr("; ".join(f"{k} = {v}" for k, v in described.items())) if described else doc.word("doc.no_filters")
    story.append(doc.para(f"{doc.word('doc.filters')}: {filter_text}"))

    # Order: what a reader needs first. The headline count and the map fill page one; the
    # breakdowns and the trend follow; the table of reports closes.
    if summary.total == 0:
        story.append(Spacer(1, 6 * mm))
        story.append(doc.para(doc.word("doc.no_reports"), doc.h2))
    else:
        story.append(doc.para(f"{doc.word('doc.total')}: {ltr(summary.total)}", doc.h2))
        story.append(doc.para(f"{doc.word('doc.casualties')}: {doc.word('col.killed')} {ltr(summary.killed)}"
                              f" · {doc.word('col.injured')} {ltr(summary.injured)}", doc.h2))

    picture = map_png(
        summary,
        hexagons=hexagons,
        places=places,
        category_label=labels.category,
        bins_title=doc.word("doc.hotspot_bins"),
        hot=doc.word("doc.hot"),
        cold=doc.word("doc.cold"),
        background=background,
    )
    if picture is not None:
        # The title names only what the map shows: no hot spots for a role that may not analyse.
        hot = any((h.get("properties") or {}).get("bin") for h in hexagons)
        story.append(KeepTogether([doc.para(doc.word("doc.map" if hot else "doc.map_reports"), doc.h2),
                                   _picture(picture, _FRAME_W)]))

    if summary.total:
        story.extend(_totals(doc, summary))
        trend = trend_png(summary.weeks(), ylabel=doc.word("doc.count"), xlabel=doc.word("doc.week"))
        story.append(KeepTogether([doc.para(doc.word("doc.trend"), doc.h2),
                                   _picture(trend, _FRAME_W)]))

    if response is not None:
        story.extend(_response(doc, response))

    if summary.total:
        story.append(doc.para(doc.word("doc.reports_table"), doc.h2))
        latest = summary.latest()
        if summary.total > len(latest):
            story.append(doc.para(doc.word("doc.table_truncated", shown=ltr(len(latest)), total=ltr(summary.total)),
                                  doc.small))
        story.append(_reports_table(doc, latest))

    page_word = doc.word("doc.page")

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(doc.regular, 7)
        text = doc.shape(f"{page_word} {document.page}")
        if doc.rtl:
            canvas.drawString(_MARGIN, 8 * mm, text)
        else:
            canvas.drawRightString(_PAGE_W - _MARGIN, 8 * mm, text)
        canvas.restoreState()

    template = SimpleDocTemplate(out, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=_MARGIN,
                                 bottomMargin=_MARGIN, title=doc.word("doc.title"), author="peacewatch",
                                 lang=labels.lang)
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return summary


def iter_pdf(records: Iterable[Mapping[str, Any]], *, chunk_size: int = 64 * 1024, **options: Any) -> Iterator[bytes]:
    """The PDF's bytes in chunks (built first in a temporary file that spills to disk past 8 MB)."""
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        write_pdf(records, spool, **options)
        spool.seek(0)
        while chunk := spool.read(chunk_size):
            yield chunk
