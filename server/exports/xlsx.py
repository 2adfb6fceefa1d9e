"""XLSX export (XlsxWriter in constant-memory mode): a summary sheet, then one sheet per report kind.

Cells are typed: times are real Excel datetimes (UTC wall clock, the header says so: Excel has no
time zones), counts and coordinates are numbers, flags are booleans. Each kind's sheet has a bold
frozen header row and an autofilter over the rows written. Constant-memory mode writes each row to
its sheet's temporary file as soon as the next one starts, so memory stays flat with the number of
reports; the summary (totals by category, contingent, severity, kind) is filled in after the last
row.

Why XlsxWriter and not openpyxl's write-only mode: openpyxl builds a cell object per value and
serialises it through lxml, about 20 µs a cell; at 100,000 reports (about 3 million cells) that was
over the 30 s budget. XlsxWriter writes the same typed cells several times faster (see
``bench/exports.py``). openpyxl still reads the files back in the tests, as an independent reader.

Text is always written as text: the workbook is told never to turn strings into formulas, URLs or
numbers (report text is typed by people in the field). XlsxWriter also copies a string that looks
like its own pre-rendered rich text (``<r>...</r>``) into the sheet's XML unescaped, which would let
a report title inject cells; such text is written as a real two-run rich string instead, so it is
escaped like any other and reads back unchanged. Control characters that XML 1.0 cannot
carry are dropped rather than escaped, and text longer than a cell holds (32,767 UTF-16 units) is
cut there, which is all Excel would show.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import IO, Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from peacewatch.server.exports.filters import ExportFilters
from peacewatch.server.exports.records import (
    KIND_ORDER,
    Column,
    Labels,
    columns_for,
    flatten,
    iso_z,
    utc_naive,
)
from peacewatch.server.exports.summary import Summary

__all__ = ["MAX_ROWS", "iter_xlsx", "write_xlsx"]

# Excel's sheet size less the header row: more reports of one kind than this cannot be one sheet.
MAX_ROWS = 1_048_576 - 1
_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
_WIDTHS = {"text": 18, "int": 10, "float": 12, "datetime": 20, "bool": 10}
_WIDE = {"id": 38, "title": 40, "description": 60, "observations": 50, "version_id": 20, "category": 28}
# XlsxWriter writes a string that starts and ends like this into the XML as it is (see above).
_RAW_START, _RAW_END = "<r>", "</r>"
_INVALID_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})
_WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # Report text is data, never code or links: "=HYPERLINK(...)" typed in the field stays text.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    # A datetime written without a format gets this one, so every time cell is a real date.
    "default_date_format": _DATE_FORMAT,
}


def _sheet_title(name: str) -> str:
    # Excel limits sheet names to 31 characters and forbids a few.
    return name.translate(_INVALID_SHEET_CHARS).strip("' ")[:31] or "Sheet"


_RowWriter = Callable[[int, Mapping[str, Any]], None]


def _row_writer(ws: Worksheet, columns: tuple[Column, ...], plain: Format) -> _RowWriter:
    """A function writing one flattened record as row `row` of one kind's sheet.

    Each column is written with the XlsxWriter method of its type, chosen once here rather than
    per cell (``write`` would dispatch on every value's type): at about 3 million cells for
    100,000 reports, per-cell overhead is the whole budget. None is left as an empty cell.
    """
    illegal = ILLEGAL_CHARACTERS_RE.search
    by_type = {"text": ws.write_string, "int": ws.write_number, "float": ws.write_number,
               "bool": ws.write_boolean, "datetime": ws.write_datetime}
    plan = [(index, column.key, column.type, by_type[column.type]) for index, column in enumerate(columns)]

    def write(row: int, values: Mapping[str, Any]) -> None:
        if row > MAX_ROWS:
            raise ValueError(f"an XLSX sheet holds at most {MAX_ROWS:,} reports of one kind; "
                             "narrow the export's filters or use CSV")
        for col, key, kind, method in plan:
            value = values[key]
            if value is None:
                continue
            if kind == "datetime":
                value = utc_naive(value)
            elif kind == "text" and value.__class__ is str:
                if illegal(value):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                if value.startswith(_RAW_START) and value.endswith(_RAW_END):
                    _write_text(ws, row, col, value, plain)
                    continue
            try:
                method(row, col, value)  # a string too long for a cell is cut there (-2): fine
            except TypeError:
                # A value of another type than its column's (a hand-made record): let XlsxWriter
                # pick the cell type from the value, as for the summary.
                _write_value(ws, row, col, value, plain)

    return write


def _write_text(ws: Worksheet, row: int, col: int, text: str, plain: Format,
                cell_format: Format | None = None) -> None:
    """Write text that XlsxWriter would take for pre-rendered rich text (``<r>...</r>``) as a
    two-run rich string: both runs are escaped, and together they read back as `text`."""
    if cell_format is None:
        ws.write_rich_string(row, col, text[:1], plain, text[1:])
    else:
        ws.write_rich_string(row, col, cell_format, text[:1], cell_format, text[1:])


def _write_value(ws: Worksheet, row: int, col: int, value: Any, plain: Format,
                 cell_format: Format | None = None) -> None:
    """One cell typed by XlsxWriter from its value (headers, the summary, mistyped values)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(_RAW_START) and value.endswith(_RAW_END):
            _write_text(ws, row, col, value, plain, cell_format)
            return
    ws.write(row, col, value, cell_format)


def _write_row(ws: Worksheet, row: int, values: list[Any], plain: Format, cell_format: Format | None = None) -> None:
    for col, value in enumerate(values):
        _write_value(ws, row, col, value, plain, cell_format)


def _write_summary(ws: Worksheet, plain: Format, bold: Format, summary: Summary, labels: Labels,
                   filters: ExportFilters | None) -> None:
    word = labels.word
    next_row = 0

    def append(values: list[Any], cell_format: Format | None = None) -> None:
        nonlocal next_row
        _write_row(ws, next_row, values, plain, cell_format)
        next_row += 1

    append([word("doc.title")], bold)
    append([word("doc.generated"), utc_naive(datetime.now(UTC))])
    period = ""
    if summary.first and summary.last:
        period = f"{iso_z(summary.first)} – {iso_z(summary.last)}"
    append([word("doc.period"), period])
    described = filters.describe() if filters else {}
    append([word("doc.filters"), "; ".join(f"{k}={v}" for k, v in described.items()) or word("doc.no_filters")])
    append([word("doc.total"), summary.total])

    def table(title_key: str, rows: list[tuple[Any, ...]], heads: list[str]) -> None:
        append([])
        append([word(title_key)], bold)
        append(heads, bold)
        for row in rows:
            append(list(row))

    count = word("doc.count")
    table(
        "doc.by_category",
        [(labels.category(code) or word("doc.unknown"), code, n) for code, n in summary.by_category.most_common()],
        [word("col.category"), word("col.category_code"), count],
    )
    table(
        "doc.by_contingent",
        [(code or word("doc.unknown"), n) for code, n in sorted(summary.by_contingent.items())],
        [word("col.contingent"), count],
    )
    severities = sorted(summary.by_severity.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    table(
        "doc.by_severity",
        [(sev if sev is not None else word("doc.unknown"), n) for sev, n in severities],
        [word("col.severity"), count],
    )
    table(
        "doc.by_kind",
        [(labels.fixed("kind", kind), n) for kind, n in summary.by_kind.items() if kind],
        [word("col.kind"), count],
    )


def _fill(workbook: Workbook, records: Iterable[Mapping[str, Any]], labels: Labels,
          filters: ExportFilters | None) -> Summary:
    bold = workbook.add_format({"bold": True})
    plain = workbook.add_format()
    # The summary is the first sheet but is written last: in constant-memory mode each sheet
    # streams to its own temporary file, so sheets may be filled in any order.
    summary_ws = workbook.add_worksheet(_sheet_title(labels.word("doc.summary")))
    summary_ws.set_column(0, 0, 32)
    summary_ws.set_column(1, 1, 28)
    sheets: dict[str, tuple[Worksheet, tuple[Column, ...], _RowWriter]] = {}
    rows_written: dict[str, int] = {}
    for kind in KIND_ORDER:
        columns = columns_for(kind)
        ws = workbook.add_worksheet(_sheet_title(labels.fixed("kind", kind)))
        ws.freeze_panes(1, 0)
        for index, column in enumerate(columns):
            ws.set_column(index, index, _WIDE.get(column.key, _WIDTHS[column.type]))
        _write_row(ws, 0, [c.header(labels.lang) for c in columns], plain, bold)
        sheets[kind] = (ws, columns, _row_writer(ws, columns, plain))
        rows_written[kind] = 0

    summary = Summary()
    for record in records:
        summary.add(record)
        kind = record.get("kind")
        if kind not in sheets:
            kind = "incident"  # the schema knows no other kind; never drop a report silently
        _, _, write = sheets[kind]
        row = rows_written[kind] + 1
        write(row, flatten(record, labels))
        rows_written[kind] = row

    for kind, (ws, columns, _) in sheets.items():
        ws.autofilter(0, 0, rows_written[kind], len(columns) - 1)
    _write_summary(summary_ws, plain, bold, summary, labels, filters)
    return summary


def write_xlsx(
    records: Iterable[Mapping[str, Any]],
    out: IO[bytes] | str,
    *,
    lang: str = "en",
    labels: Labels | None = None,
    filters: ExportFilters | None = None,
) -> Summary:
    """Write the workbook to a path or binary file object; returns the totals it summarised."""
    labels = labels or Labels(lang)
    # Every temporary file XlsxWriter makes (one per sheet's rows, then the parts of the zip) goes
    # into this directory, so an export that fails half-way leaves nothing behind.
    with tempfile.TemporaryDirectory(prefix="peacewatch-xlsx-") as tmpdir:
        workbook = Workbook(out, {**_WORKBOOK_OPTIONS, "tmpdir": tmpdir})
        summary = _fill(workbook, records, labels, filters)
        workbook.close()
    return summary


def iter_xlsx(records: Iterable[Mapping[str, Any]], *, chunk_size: int = 64 * 1024, **options: Any) -> Iterator[bytes]:
    """The workbook's bytes in chunks (a zip needs its directory at the end, so it is built first,
    in a temporary file that spills to disk past 8 MB)."""
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        write_xlsx(records, spool, **options)
        spool.seek(0)
        while chunk := spool.read(chunk_size):
            yield chunk
