"""XLSX: read back with openpyxl (an independent reader): sheets per kind, real types, frozen header,
autofilter, summary; text that must stay text; no temporary files left behind."""

from __future__ import annotations

import io
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import pytest
from openpyxl import load_workbook

from peacewatch.server.exports.records import columns_for
from peacewatch.server.exports.xlsx import iter_xlsx, write_xlsx


def _book(records: list[dict], **options: object):
    out = io.BytesIO()
    write_xlsx(records, out, **options)
    out.seek(0)
    return load_workbook(out)


def test_one_sheet_per_kind_with_typed_cells(sample: list[dict]) -> None:
    book = _book(sample)
    assert book.sheetnames == ["Summary", "Incident", "Patrol", "Human-rights concern"]
    counts = Counter(r["kind"] for r in sample)
    for kind, title in (("incident", "Incident"), ("patrol", "Patrol"), ("hr_concern", "Human-rights concern")):
        ws = book[title]
        keys = [c.key for c in columns_for(kind)]
        assert [c.value for c in ws[1]] == [c.header("en") for c in columns_for(kind)]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(keys)).column_letter}{counts[kind] + 1}"
        assert ws.max_row == counts[kind] + 1
        row = {k: ws.cell(2, i + 1).value for i, k in enumerate(keys)}
        assert isinstance(row["event_time"], datetime) and row["event_time"].tzinfo is None
        assert ws.cell(2, keys.index("event_time") + 1).is_date
        assert isinstance(row["lat"], float) and isinstance(row["severity"], int)
        assert isinstance(row["in_conflict"], bool)
    first_patrol = next(r for r in sample if r["kind"] == "patrol")
    ws = book["Patrol"]
    keys = [c.key for c in columns_for("patrol")]
    assert ws.cell(2, keys.index("route_points") + 1).value == len(first_patrol["route"])
    assert ws.cell(2, keys.index("event_time") + 1).value == datetime.fromisoformat(
        first_patrol["event_time"]).replace(tzinfo=None)


def test_summary_totals(sample: list[dict]) -> None:
    ws = _book(sample)["Summary"]
    cells = {row[0]: row[1:] for row in ws.iter_rows(values_only=True) if row and row[0] is not None}
    assert cells["Reports"][0] == len(sample)
    by_contingent = Counter(r["contingent"] for r in sample)
    for contingent, n in by_contingent.items():
        assert cells[contingent][0] == n
    rows = list(ws.iter_rows(values_only=True))
    category_rows = {r[1]: r[2] for r in rows if r and len(r) > 2 and isinstance(r[2], int) and r[1]}
    assert category_rows == dict(Counter(r["category"] for r in sample))
    severity_header = rows.index(next(r for r in rows if r and r[0] == "By severity"))
    severities = {r[0]: r[1] for r in rows[severity_header + 2: severity_header + 7]}
    assert severities == dict(Counter(r["severity"] for r in sample))


def test_formulas_and_control_characters_are_text(bare: dict) -> None:
    record = dict(bare, title="=1+1", description="bell\x07 and tab\tkept")
    ws = _book([record])["Incident"]
    keys = [c.key for c in columns_for("incident")]
    title = ws.cell(2, keys.index("title") + 1)
    assert title.value == "=1+1" and title.data_type == "s"  # stored as text, never evaluated
    assert ws.cell(2, keys.index("description") + 1).value == "bell and tab\tkept"


def test_french_sheet_names_and_streamed_bytes(sample: list[dict]) -> None:
    data = b"".join(iter_xlsx(sample[:30], lang="fr", chunk_size=4096))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "Synthèse" and "Patrouille" in book.sheetnames


def test_empty_export_has_headers_only() -> None:
    book = _book([])
    assert book["Incident"].max_row == 1 and book["Incident"].auto_filter.ref.endswith("1")


def test_text_that_looks_like_raw_rich_text_cannot_inject_cells(bare: dict) -> None:
    # XlsxWriter copies "<r>...</r>" into the sheet XML unescaped; this title would otherwise add
    # a formula cell at Z2 (checked against XlsxWriter alone when this was written).
    evil = '<r><t>x</t></r></is></c><c r="Z2"><f>1+1</f></c><c r="Y2" t="inlineStr"><is><r><t>y</t></r>'
    book = _book([dict(bare, title=evil, contingent="<r>A</r>")])
    ws = book["Incident"]
    keys = [c.key for c in columns_for("incident")]
    assert ws.cell(2, keys.index("title") + 1).value == evil
    assert ws["Z2"].value is None
    assert ws.cell(2, keys.index("contingent") + 1).value == "<r>A</r>"
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["<r>A</r>"] == 1  # the summary's own text goes through the same guard


def test_overlong_text_is_cut_to_a_cell_and_the_row_goes_on(bare: dict) -> None:
    ws = _book([dict(bare, description="d" * 40_000, severity=4)])["Incident"]
    keys = [c.key for c in columns_for("incident")]
    assert len(ws.cell(2, keys.index("description") + 1).value) == 32_767  # Excel's cell limit
    assert ws.cell(2, keys.index("severity") + 1).value == 4


def test_a_value_of_another_type_than_its_column_is_still_written(bare: dict) -> None:
    ws = _book([dict(bare, severity="3", title=42)])["Incident"]
    keys = [c.key for c in columns_for("incident")]
    assert ws.cell(2, keys.index("severity") + 1).value == "3"
    assert ws.cell(2, keys.index("title") + 1).value == 42


def test_a_failed_export_leaves_no_temporary_files(sample: list[dict], tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def failing() -> Iterator[dict]:
        yield from sample[:50]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        write_xlsx(failing(), io.BytesIO())
    assert list(tmp_path.iterdir()) == []
    write_xlsx(sample[:50], io.BytesIO())
    assert list(tmp_path.iterdir()) == []


def test_more_reports_of_one_kind_than_a_sheet_holds_is_a_clear_error(bare: dict, monkeypatch) -> None:
    from peacewatch.server.exports import xlsx

    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)  # Excel's real limit is 1,048,575 data rows
    write_xlsx([bare] * 3, io.BytesIO())
    with pytest.raises(ValueError, match="at most 3 reports of one kind"):
        write_xlsx([bare] * 4, io.BytesIO())


def _tricky(bare: dict) -> list[dict]:
    """Records whose cells XlsxWriter changes on the way into XML, or that the XML row renderer
    must hand to the cell API (mistyped, rich-text-like, overlong, dated before March 1900)."""
    return [
        dict(bare, title="=1+1", description="bell\x07, tab\t, CR\r\nand LF\n", reporter="user\x0b1\x1f"),
        dict(bare, title=" leading space", description="trailing newline\n", place="\u00a0no-break"),
        dict(bare, title="_x0041_ is not an A", description="\ufffe\uffff & <b> \"q\" 'a'", author=""),
        dict(bare, title="<r>not rich", description="text</r>", contingent="<r>A</r>"),
        dict(bare, description="\U0001F600" * 20_000, perpetrator="p" * 20_000),
        dict(bare, title=42, place=3.5, severity=True, in_conflict=0),
        dict(bare, id="early-patrol", kind="patrol", route=[{"lat": 4.9, "lon": 31.5}], nil_report=True,
             start_time="1900-02-10T06:00:00Z", end_time="1900-02-28T23:00:00-03:00"),
        dict(bare, event_time="2026-05-01T10:00:00.123456+02:00", received_at="2026-05-01T08:00:00",
             location={"lat": 1e20, "lon": -1e-7, "precision_m": 0.5, "mgrs": "31NAA"}),
        dict(bare, casualties={"killed": 12_345_678_901_234_567, "injured": 2.5, "abducted": -0.0}),
    ]


def _sheet_parts(data: bytes) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        # The summary's first rows hold the time of writing; the kinds' sheets are compared whole.
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/") and not n.endswith("sheet1.xml")}


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_rows_written_as_xml_are_what_the_cell_api_writes(sample: list[dict], bare: dict, lang: str,
                                                          monkeypatch) -> None:
    from peacewatch.server.exports import xlsx

    records = sample[:120] + _tricky(bare) + sample[120:]
    appended: list[int] = []
    original = xlsx._DataSheet.append_xml

    def counting(self: xlsx._DataSheet, row: int, xml: str) -> None:
        appended.append(row)
        original(self, row, xml)

    monkeypatch.setattr(xlsx._DataSheet, "append_xml", counting)
    fast = b"".join(iter_xlsx(records, lang=lang))
    # Every synthetic row and the tricky rows it can render went out as XML; the rest did not.
    assert len(sample) + 4 <= len(appended) < len(records)

    monkeypatch.setattr(xlsx._DataSheet, "takes_xml_rows", lambda self: False)
    appended.clear()
    reference = b"".join(iter_xlsx(records, lang=lang))
    assert appended == []
    assert _sheet_parts(fast) == _sheet_parts(reference)

    book = load_workbook(io.BytesIO(fast))
    ws = book[book.sheetnames[1]]
    keys = [c.key for c in columns_for("incident")]
    titles = [ws.cell(row, keys.index("title") + 1).value for row in range(2, ws.max_row + 1)]
    assert {"=1+1", " leading space", "<r>not rich", 42} <= set(titles)
    by_title = {ws.cell(row, keys.index("title") + 1).value: row for row in range(2, ws.max_row + 1)}
    assert ws.cell(by_title["=1+1"], keys.index("reporter") + 1).value == "user1"
    assert ws.cell(by_title[" leading space"], keys.index("description") + 1).value == "trailing newline\n"
    # Excel's own escapes, which openpyxl leaves as they are: "_x005F" keeps a literal "_x0041_"
    # from being read as "A"; a CR and U+FFFE, which XML cannot carry as they are, are escaped.
    sheet_xml = _sheet_parts(fast)["xl/worksheets/sheet2.xml"].decode()
    assert "<t>_x005F_x0041_ is not an A</t>" in sheet_xml
    assert "CR_x000D_\nand LF" in sheet_xml and "_xFFFE__xFFFF_ &amp; &lt;b&gt;" in sheet_xml
    patrol = book[book.sheetnames[2]]
    patrol_keys = [c.key for c in columns_for("patrol")]
    early = next(row for row in range(2, patrol.max_row + 1) if patrol.cell(row, 1).value == "early-patrol")
    assert patrol.cell(early, patrol_keys.index("start_time") + 1).value == datetime(1900, 2, 10, 6)
    assert patrol.cell(early, patrol_keys.index("end_time") + 1).value == datetime(1900, 3, 1, 2)


def test_xml_rows_only_where_xlsxwriter_is_in_the_state_they_rely_on(monkeypatch) -> None:
    from xlsxwriter import Workbook

    from peacewatch.server.exports.xlsx import _WORKBOOK_OPTIONS, _DataSheet

    streamed = Workbook(io.BytesIO(), _WORKBOOK_OPTIONS)
    ws = streamed.add_worksheet(worksheet_class=_DataSheet)
    assert ws.takes_xml_rows()
    monkeypatch.delattr(ws, "row_data_fh")  # as if a later XlsxWriter renamed its internals
    assert not ws.takes_xml_rows()
    monkeypatch.undo()
    streamed.close()
    # Rows kept until close: nowhere to append XML to.
    in_memory = Workbook(io.BytesIO(), {**_WORKBOOK_OPTIONS, "constant_memory": False})
    assert not in_memory.add_worksheet(worksheet_class=_DataSheet).takes_xml_rows()
    in_memory.close()


@pytest.mark.parametrize(("lang", "rtl"), [("ar", True), ("fr", False), ("en", False)])
def test_arabic_sheets_read_right_to_left(sample: list[dict], lang: str, rtl: bool) -> None:
    book = load_workbook(io.BytesIO(b"".join(iter_xlsx(sample[:20], lang=lang))))
    assert [bool(ws.sheet_view.rightToLeft) for ws in book.worksheets] == [rtl] * len(book.worksheets)
