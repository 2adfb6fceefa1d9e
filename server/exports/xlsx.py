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

How the rows are written: through XlsxWriter's cell API, a cell costs about 10 µs (argument
checks, a cell tuple, then the XML element built from a list of attributes), which put 100,000
reports at 20 to 40 s against a 30 s budget. Each kind's sheet is therefore a `_DataSheet`, a
worksheet subclass (XlsxWriter's hook: ``add_worksheet(worksheet_class=...)``) that also takes a
whole row as the cell XML XlsxWriter itself would write for it (inline strings, numbers, booleans,
dates in the default date style), rendered by `_row_renderer` from typed values with one type
check a cell. It relies on a few of XlsxWriter's private members (`_DataSheet.takes_xml_rows`
lists and checks them).
A row holding anything the renderer does not render byte for byte as XlsxWriter would (a value of
another type than its column, NaN, a date before March 1900, overlong or rich-text-like text)
goes through the cell API instead; so does every row when the installed XlsxWriter lacks the
internals `_DataSheet` relies on. A test writes the same records both ways and compares the sheets'
XML.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import IO, Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from peacewatch.common.i18n import is_rtl
from peacewatch.server.exports.filters import ExportFilters
from peacewatch.server.exports.records import (
    COLUMNS,
    KEYS,
    KIND_ORDER,
    Column,
    Labels,
    columns_for,
    iso_z,
    row_values,
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
_EVENT_TIME = KEYS.index("event_time")
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


_RowWriter = Callable[[int, Sequence[Any]], None]
_RowRenderer = Callable[[int, Sequence[Any]], str | None]
_CELL_STRMAX = 32_767  # UTF-16 units in one cell


def _clean_text(value: str) -> str:
    """Text as a cell can hold it: XML-illegal control characters dropped, cut at a cell's size."""
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if len(value) > _CELL_STRMAX // 2 and len(value.encode("utf-16-le", "surrogatepass")) // 2 > _CELL_STRMAX:
        # Cut in UTF-16 units, never inside a character above U+FFFF (as XlsxWriter cuts).
        units = 0
        for index, char in enumerate(value):
            units += 2 if ord(char) > 0xFFFF else 1
            if units > _CELL_STRMAX:
                value = value[:index]
                break
    return value


def _row_writer(ws: Worksheet, columns: tuple[Column, ...], plain: Format) -> _RowWriter:
    """A function writing one row of typed values (in `columns` order) through XlsxWriter's cell
    API: the reference `_row_renderer` is checked against, and the path for the rows it declines.

    Each column is written with the XlsxWriter method of its type, chosen once here rather than
    per cell (``write`` would dispatch on every value's type). None is left as an empty cell.
    """
    by_type = {"text": ws.write_string, "int": ws.write_number, "float": ws.write_number,
               "bool": ws.write_boolean, "datetime": ws.write_datetime}
    plan = [(index, column.type, by_type[column.type]) for index, column in enumerate(columns)]

    def write(row: int, values: Sequence[Any]) -> None:
        for (col, kind, method), value in zip(plan, values, strict=True):
            if value is None:
                continue
            if kind == "datetime":
                value = utc_naive(value)
            elif kind == "text" and value.__class__ is str:
                value = _clean_text(value)
                if value.startswith(_RAW_START) and value.endswith(_RAW_END):
                    _write_text(ws, row, col, value, plain)
                    continue
            try:
                method(row, col, value)
            except TypeError:
                # A value of another type than its column's (a hand-made record): let XlsxWriter
                # pick the cell type from the value, as for the summary.
                _write_value(ws, row, col, value, plain)

    return write


# What XlsxWriter changes in text on its way into an inline string: control characters become
# _xHHHH_ escapes (and a literal "_xHHHH_" gets its underscore escaped), U+FFFE/U+FFFF become
# escapes, and & < > become entities. Text with none of these is written as it is.
_TEXT_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
# XlsxWriter's serial dates: days since 1899-12-31, plus one from March 1900 on (Excel counts a
# 29 February 1900). Earlier dates have more special cases: those rows take the cell API.
_EXCEL_EPOCH = datetime(1899, 12, 31)
_FIRST_PLAIN_DATE = datetime(1900, 3, 1)


def _text_element(value: str) -> str | None:
    """The ``<t>`` element XlsxWriter writes for a text cell holding `value`, or None when the
    text is for the cell API (overlong, or rich-text-like: see the module's docstring)."""
    if len(value) > _CELL_STRMAX // 2 or _TEXT_SPECIAL.search(value):
        value = _clean_text(value)
        if len(value) > _CELL_STRMAX // 2 or (value.startswith(_RAW_START) and value.endswith(_RAW_END)):
            return None
        value = _ESCAPED_ESCAPE.sub(r"_x005F\1", value)
        value = _CONTROL.sub(lambda match: f"_x{ord(match.group(1)):04X}_", value)
        value = value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
        preserve = value != "" and (value[0].isspace() or value[-1].isspace())
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    else:
        preserve = value != "" and (value[0].isspace() or value[-1].isspace())
    return f'<t xml:space="preserve">{value}</t>' if preserve else f"<t>{value}</t>"


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _row_renderer(columns: tuple[Column, ...], date_style: int) -> _RowRenderer:
    """A function from one row of typed values (in `columns` order) to the ``<row>`` element
    XlsxWriter writes for it in constant-memory mode, or None when the row is for the cell API.
    `date_style` is the default date format's style index."""
    plan = [(_column_letters(index), column.type) for index, column in enumerate(columns)]
    inf = math.inf
    half = _CELL_STRMAX // 2
    special = _TEXT_SPECIAL.search

    def render(row: int, values: Sequence[Any]) -> str | None:
        r = str(row + 1)
        cells = [f'<row r="{r}">']
        append = cells.append
        for (letters, kind), value in zip(plan, values, strict=True):
            if value is None:
                continue
            cls = value.__class__
            if kind == "text":
                if cls is not str:
                    return None
                if len(value) > half or special(value) or (value and (value[0].isspace() or value[-1].isspace())):
                    element = _text_element(value)
                    if element is None:
                        return None
                    append(f'<c r="{letters}{r}" t="inlineStr"><is>{element}</is></c>')
                else:  # the common case, inline: text written as it is
                    append(f'<c r="{letters}{r}" t="inlineStr"><is><t>{value}</t></is></c>')
            elif kind == "int" or kind == "float":
                if cls is not int and (cls is not float or value != value or value == inf or value == -inf):
                    return None
                append(f'<c r="{letters}{r}"><v>{value:.16G}</v></c>')
            elif kind == "datetime":
                if not isinstance(value, datetime):
                    return None
                value = value.replace(tzinfo=None) if value.tzinfo is UTC else utc_naive(value)
                if value < _FIRST_PLAIN_DATE:
                    return None
                delta = value - _EXCEL_EPOCH
                serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / 86400 + 1
                append(f'<c r="{letters}{r}" s="{date_style}"><v>{serial:.16G}</v></c>')
            else:  # bool
                if cls is not bool:
                    return None
                append(f'<c r="{letters}{r}" t="b"><v>{1 if value else 0}</v></c>')
        append("</row>")
        return "".join(cells)

    return render


class _DataSheet(Worksheet):
    """A kind's sheet: an XlsxWriter worksheet that also takes rows as ready ``<row>`` XML.

    In constant-memory mode XlsxWriter keeps one row of cells, writes it to the sheet's temporary
    file (``fh``) when a later row is started, and at ``close`` copies that file into the sheet's
    ``<sheetData>``. `append_xml` does what its own cell methods do for a new row (write out the
    pending one, record the sheet's dimensions) and then writes the row's XML to the same file, so
    rows from both paths interleave in order.
    """

    _INTERNALS = ("_write_single_row", "_check_dimensions", "previous_row", "constant_memory",
                  "default_date_format", "row_data_fh", "fh")

    def takes_xml_rows(self) -> bool:
        """Whether this XlsxWriter has the internals `append_xml` uses, in the state it expects
        (else every row goes through the cell API: slower, never wrong)."""
        return (all(hasattr(self, name) for name in self._INTERNALS) and bool(self.constant_memory)
                and self.fh is not None and self.fh is self.row_data_fh
                and hasattr(self.default_date_format, "_get_xf_index"))

    def append_xml(self, row: int, xml: str) -> None:
        if row > self.previous_row:
            self._write_single_row(row)
        self._check_dimensions(row, 0)
        self.fh.write(xml)


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
        value = _clean_text(value)
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


class _KindSheet:
    """One kind's sheet as `_fill` writes it: rows go out as XML when they can, else cell by cell."""

    def __init__(self, ws: _DataSheet, columns: tuple[Column, ...], plain: Format, bold: Format) -> None:
        self.ws = ws
        self.columns = columns
        self.rows = 0
        index = {c.key: i for i, c in enumerate(COLUMNS)}
        self.select = itemgetter(*(index[c.key] for c in columns))
        self.write_cells = _row_writer(ws, columns, plain)
        self.render: _RowRenderer | None = None
        if ws.takes_xml_rows():
            # Style indexes are given out as cells first use a format: the header's bold first,
            # then the dates (as the cell API would number them), so both paths write the same XML.
            bold._get_xf_index()
            self.render = _row_renderer(columns, ws.default_date_format._get_xf_index())

    def append(self, values: Sequence[Any]) -> None:
        row = self.rows + 1
        if row > MAX_ROWS:
            raise ValueError(f"an XLSX sheet holds at most {MAX_ROWS:,} reports of one kind; "
                             "narrow the export's filters or use CSV")
        selected = self.select(values)
        xml = self.render(row, selected) if self.render is not None else None
        if xml is None:
            self.write_cells(row, selected)
        else:
            self.ws.append_xml(row, xml)
        self.rows = row


def _fill(workbook: Workbook, records: Iterable[Mapping[str, Any]], labels: Labels,
          filters: ExportFilters | None) -> Summary:
    bold = workbook.add_format({"bold": True})
    plain = workbook.add_format()
    # The summary is the first sheet but is written last: in constant-memory mode each sheet
    # streams to its own temporary file, so sheets may be filled in any order.
    summary_ws = workbook.add_worksheet(_sheet_title(labels.word("doc.summary")))
    rtl = is_rtl(labels.lang)  # Arabic sheets read right to left, first column on the right
    if rtl:
        summary_ws.right_to_left()
    summary_ws.set_column(0, 0, 32)
    summary_ws.set_column(1, 1, 28)
    sheets: dict[str, _KindSheet] = {}
    for kind in KIND_ORDER:
        columns = columns_for(kind)
        ws = workbook.add_worksheet(_sheet_title(labels.fixed("kind", kind)), worksheet_class=_DataSheet)
        if rtl:
            ws.right_to_left()
        ws.freeze_panes(1, 0)
        for index, column in enumerate(columns):
            ws.set_column(index, index, _WIDE.get(column.key, _WIDTHS[column.type]))
        _write_row(ws, 0, [c.header(labels.lang) for c in columns], plain, bold)
        sheets[kind] = _KindSheet(ws, columns, plain, bold)

    summary = Summary()
    for record in records:
        values = row_values(record, labels)
        summary.add(record, when=values[_EVENT_TIME])
        kind = record.get("kind")
        if kind not in sheets:
            kind = "incident"  # the schema knows no other kind; never drop a report silently
        sheets[kind].append(values)

    for sheet in sheets.values():
        sheet.ws.autofilter(0, 0, sheet.rows, len(sheet.columns) - 1)
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
