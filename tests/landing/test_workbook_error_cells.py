"""The workbook reader keeps an Excel error cell's text (#N/A, #REF!, #SPILL! …): python-calamine
gives '' for one, as for an empty cell, so the reader finds them in the sheet's XML (t="e").
Every other cell reads as before. The loads: tests/warehouse/test_error_cells.py."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from pipelines.landing import workbooks
from pipelines.landing.workbooks import cell_text, read_workbook
from pipelines.settings import ReadLimits
from tests.conftest import write_xlsx

HEADER = ["单位编码", "年度", "编制数", "实有在职人数", "离退休人数"]


def rewrite_sheet(path: Path, change) -> None:
    """Rewrite the first sheet's XML with `change` (bytes -> bytes)."""
    with zipfile.ZipFile(path) as source:
        members = [(item, source.read(item.filename)) for item in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item, data in members:
            target.writestr(item, change(data) if item.filename == "xl/worksheets/sheet1.xml" else data)


def error_cell(ref: str, code: str):
    """A change making cell `ref` an error cell holding `code` (as Excel writes one)."""
    def change(xml: bytes) -> bytes:
        xml, count = re.subn(rf'<c r="{ref}"[^>]*>.*?</c>'.encode(),
                             f'<c r="{ref}" s="0" t="e"><f>A1/0</f><v>{code}</v></c>'.encode(), xml)
        assert count == 1, ref
        return xml
    return change


def cells(path: Path) -> tuple[list[int], list[list[str | None]], list[str | None]]:
    (sheet,) = read_workbook(str(path), ReadLimits())
    assert sheet.skipped_reason is None, sheet.skipped_reason
    return sheet.cells.rows, sheet.cells.columns, sheet.cells.overflow


def test_error_cells_read_as_their_text(tmp_path):
    # openpyxl writes a string equal to one of the seven classic codes as an error cell
    path = write_xlsx(tmp_path / "人员.xlsx", {"人员": [
        HEADER,
        ["900001", 2021, "#N/A", "#REF!", "#VALUE!"],
        ["900002", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"],
        [None, None, None, "#N/A", None],            # row 4: nothing but an error: a row, not a blank one
        ["900004", 2021, 5, 4, 3, "#REF!"],           # an error beyond the header: kept with the overflow
        ["900005", 2021, 5, 4, 3],                    # row 6: newer codes, set in the XML below
    ]})
    for ref, code in {"C6": "#SPILL!", "D6": "#CALC!", "E6": "#GETTING_DATA"}.items():
        rewrite_sheet(path, error_cell(ref, code))
    assert cells(path) == ([2, 3, 4, 5, 6], [
        ["900001", "900002", None, "900004", "900005"],
        ["2021", "#DIV/0!", None, "2021", "2021"],
        ["#N/A", "#NAME?", None, "5", "#SPILL!"],
        ["#REF!", "#NUM!", "#N/A", "4", "#CALC!"],
        ["#VALUE!", "#NULL!", None, "3", "#GETTING_DATA"],
    ], [None, None, None, '["#REF!"]', None])


def test_cells_that_are_not_errors_read_as_before(tmp_path):
    rows = [HEADER + ["备注", "日期", "真假"],
            ["900001", 2021, 12.5, 0.1, -3, "（1,234.56）", dt.datetime(2021, 3, 15), True],
            ["900002", "2021", "#N/A", " #N/A", "N/A", "#REF", dt.date(2021, 3, 16), False],
            ["900003", 2021.0, None, "", 1e20, "-", dt.datetime(2021, 3, 16, 8, 30), "#DIV/0!"]]
    path = write_xlsx(tmp_path / "人员.xlsx", {"人员": rows})
    # what the reader gave before it looked for error cells: python-calamine's values as text
    values = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("人员").to_python(skip_empty_area=False)
    before = [[cell_text(value) for value in row] for row in values[1:]]
    assert before[1][2] is None and before[2][7] is None  # the two error cells openpyxl wrote: '' there
    before[1][2], before[2][7] = "#N/A", "#DIV/0!"
    assert cells(path) == ([2, 3, 4], [list(column) for column in zip(*before)], [None, None, None])
    assert [row[3] for row in before] == ["0.1", " #N/A", None]  # a text cell " #N/A" is text, as written


@pytest.mark.parametrize(("change", "d2"), [
    pytest.param(lambda xml: re.sub(rb'(<c) r="[A-Z]+\d+"', rb"\1", xml), "#DIV/0!", id="cells without r="),
    pytest.param(lambda xml: xml.replace(b'"', b"'"), "#DIV/0!", id="attributes in single quotes"),
    pytest.param(lambda xml: re.sub(rb'(<c r="D2"[^>]*t="e")>.*?</c>', rb"\1/>", xml), "#N/A",
                 id="an error cell without a value"),
])
def test_error_cells_are_found_however_the_xml_is_written(tmp_path, change, d2):
    path = write_xlsx(tmp_path / "人员.xlsx", {"人员": [
        HEADER, ["900001", 2021, 5, "#DIV/0!", 3], ["900002", 2021, 6, 5, "#REF!"]]})
    rewrite_sheet(path, change)
    assert cells(path)[1] == [["900001", "900002"], ["2021", "2021"], ["5", "6"], [d2, "5"], ["3", "#REF!"]]


def test_an_error_cell_across_the_chunks_the_sheet_is_read_in(monkeypatch):
    # the sheet's XML is searched in chunks, and only chunks holding a `#` are looked into:
    # a cell's t="e" may lie in the chunk before its value's `#`
    cell = b'<c r="B2" t="e"><f>VLOOKUP(A2,Sheet2!A:B,2,0)</f><v>#N/A</v></c>'
    monkeypatch.setattr(workbooks, "_STREAM_CHUNK", 100)
    for offset in range(len(cell) + 1):
        for error in (True, False):
            xml = b"x" * (1000 - offset) + (cell if error else cell.replace(b'"e"', b'"s"')) + b"y" * 3000
            assert workbooks._holds_error_cells(io.BytesIO(xml[1000:]), xml[:1000]) is error, offset
