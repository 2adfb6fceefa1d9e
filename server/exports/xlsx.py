"""XLSX export (openpyxl write-only mode): a summary sheet, then one sheet per report kind.

Cells are typed: times are real Excel datetimes (UTC wall clock, the header says so: Excel has no
time zones), counts and coordinates are numbers, flags are booleans. Each kind's sheet has a bold
frozen header row and an autofilter over the rows written. Write-only mode streams rows to
temporary files inside openpyxl, so memory stays flat with the number of reports; the summary
(totals by category, contingent, severity, kind) is filled in after the last row.

Text that Excel would take for a formula (leading ``=``) is stored as a string cell, and control
characters that XML 1.0 cannot carry are dropped rather than failing the export.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

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

__all__ = ["iter_xlsx", "write_xlsx"]

_BOLD = Font(bold=True)
_WIDTHS = {"text": 18, "int": 10, "float": 12, "datetime": 20, "bool": 10}
_WIDE = {"id": 38, "title": 40, "description": 60, "observations": 50, "version_id": 20, "category": 28}
_INVALID_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet_title(name: str) -> str:
    # Excel limits sheet names to 31 characters and forbids a few.
    return name.translate(_INVALID_SHEET_CHARS).strip("' ")[:31] or "Sheet"


def _value(ws: WriteOnlyWorksheet, value: Any, column: Column) -> Any:
    if value is None:
        return None
    if column.type == "datetime":
        return utc_naive(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"  # never a formula: this is text someone typed
            return cell
    return value


def _header_row(ws: WriteOnlyWorksheet, texts: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for value in texts:
        cell = WriteOnlyCell(ws, value=value)
        cell.font = _BOLD
        cells.append(cell)
    return cells


def _write_summary(ws: WriteOnlyWorksheet, summary: Summary, labels: Labels, filters: ExportFilters | None) -> None:
    word = labels.word
    ws.append(_header_row(ws, [word("doc.title")]))
    ws.append([word("doc.generated"), utc_naive(datetime.now(UTC))])
    period = ""
    if summary.first and summary.last:
        period = f"{iso_z(summary.first)} – {iso_z(summary.last)}"
    ws.append([word("doc.period"), period])
    described = filters.describe() if filters else {}
    ws.append([word("doc.filters"), "; ".join(f"{k}={v}" for k, v in described.items()) or word("doc.no_filters")])
    ws.append([word("doc.total"), summary.total])

    def table(title_key: str, rows: list[tuple[Any, ...]], heads: list[str]) -> None:
        ws.append([])
        ws.append(_header_row(ws, [word(title_key)]))
        ws.append(_header_row(ws, heads))
        for row in rows:
            ws.append(list(row))

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
    workbook = Workbook(write_only=True)
    summary_ws = workbook.create_sheet(_sheet_title(labels.word("doc.summary")))
    summary_ws.column_dimensions["A"].width = 32
    summary_ws.column_dimensions["B"].width = 28
    sheets: dict[str, tuple[WriteOnlyWorksheet, tuple[Column, ...]]] = {}
    rows_written: dict[str, int] = {}
    for kind in KIND_ORDER:
        columns = columns_for(kind)
        ws = workbook.create_sheet(_sheet_title(labels.fixed("kind", kind)))
        # Write-only sheets take their layout before the first row.
        ws.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            width = _WIDE.get(column.key, _WIDTHS[column.type])
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.append(_header_row(ws, [c.header(labels.lang) for c in columns]))
        sheets[kind] = (ws, columns)
        rows_written[kind] = 0

    summary = Summary()
    for record in records:
        summary.add(record)
        kind = record.get("kind")
        if kind not in sheets:
            kind = "incident"  # the schema knows no other kind; never drop a report silently
        ws, columns = sheets[kind]
        row = flatten(record, labels)
        ws.append([_value(ws, row[c.key], c) for c in columns])
        rows_written[kind] += 1

    for kind, (ws, columns) in sheets.items():
        last_row = rows_written[kind] + 1
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"
    _write_summary(summary_ws, summary, labels, filters)
    workbook.save(out)
    return summary


def iter_xlsx(records: Iterable[Mapping[str, Any]], *, chunk_size: int = 64 * 1024, **options: Any) -> Iterator[bytes]:
    """The workbook's bytes in chunks (a zip needs its directory at the end, so it is built first,
    in a temporary file that spills to disk past 8 MB)."""
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        write_xlsx(records, spool, **options)
        spool.seek(0)
        while chunk := spool.read(chunk_size):
            yield chunk
