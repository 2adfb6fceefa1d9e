"""CSV export with an HXL 1.1 hashtag row, streamed in constant memory.

Row 1 holds human-readable headers in the export language, row 2 the HXL hashtags (the HXL
tagging conventions put the hashtag row directly under the headers), then one row per report.
Output is produced in chunks of `CHUNK_ROWS` rows so an HTTP response or a file receives it as
it is made; nothing holds more than one chunk. Optional UTF-8 BOM for spreadsheet programs that
otherwise guess a legacy code page and garble French and Arabic.

Text cells that a spreadsheet would run as a formula (starting ``= + - @`` or a tab/CR) get a
leading apostrophe (OWASP "CSV injection"): report text is typed by people in the field and the
file is opened by analysts at HQ.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

from peacewatch.server.exports.records import COLUMNS, Column, Labels, iso_z, row_values

CHUNK_ROWS = 500
BOM = "\ufeff"
# A set of first characters: one lookup per cell, a quarter of what str.startswith(tuple) costs.
_FORMULA_START = frozenset("=+-@\t\r")

__all__ = ["CHUNK_ROWS", "iter_csv", "write_csv"]


def _row_maker(columns: tuple[Column, ...]) -> Callable[[list[Any], Mapping[str, Any]], list[Any]]:
    """A function turning one record's typed values (`row_values`, in `columns` order) into CSV
    cells, in place. Only the few columns that need formatting are touched (by index), which keeps
    the per-cell cost at a list lookup: the CSV budget is 100,000 reports in 5 s."""
    times = [(i, c.key) for i, c in enumerate(columns) if c.type == "datetime"]
    flags = [i for i, c in enumerate(columns) if c.type == "bool"]
    texts = [i for i, c in enumerate(columns) if c.type == "text"]

    def make(cells: list[Any], record: Mapping[str, Any]) -> list[Any]:
        # csv.writer writes None as an empty cell
        for i, key in times:
            if cells[i] is not None:
                # Times already in UTC "Z" form are written as received; others are normalised.
                raw = record.get(key)
                cells[i] = raw if isinstance(raw, str) and raw.endswith("Z") else iso_z(cells[i])
        for i in flags:
            if cells[i] is not None:
                cells[i] = "true" if cells[i] else "false"
        for i in texts:
            value = cells[i]
            if value and value.__class__ is str and value[0] in _FORMULA_START:
                cells[i] = "'" + value
        return cells

    return make


def iter_csv(
    records: Iterable[Mapping[str, Any]],
    *,
    lang: str = "en",
    bom: bool = False,
    labels: Labels | None = None,
) -> Iterator[str]:
    """Yield the CSV text in chunks: headers, HXL hashtags, then the records in the given order."""
    labels = labels or Labels(lang)
    columns = COLUMNS  # every kind's columns: one flat table
    make = _row_maker(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header(labels.lang) for c in columns])
    writer.writerow([c.hxl for c in columns])
    yield (BOM if bom else "") + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for record in records:
        writer.writerow(make(row_values(record, labels), record))
        pending += 1
        if pending >= CHUNK_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def write_csv(records: Iterable[Mapping[str, Any]], out: IO[bytes], **options: Any) -> int:
    """Write the CSV as UTF-8 to a binary file object; returns the number of bytes written."""
    written = 0
    for chunk in iter_csv(records, **options):
        data = chunk.encode("utf-8")
        out.write(data)
        written += len(data)
    return written
