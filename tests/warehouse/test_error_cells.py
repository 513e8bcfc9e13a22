"""Excel error cells (#N/A, #REF!, #VALUE!, #DIV/0!, #SPILL! …) in workbooks, through real loads
(the reader alone: tests/landing/test_workbook_error_cells.py).

Contract 2: "A row that cannot be read is never dropped silently: it goes to quarantine with
the file, the row number, the raw values and the reason". An error cell is read as its text,
as a CSV export writes it, so its row takes the path any unreadable value takes: an amount
is unreadable_amount, a date unreadable_date, a head count unreadable_number, a
classification unknown_func_code; a cell any text would pass (a project code) is
excel_error. It used to be read as an empty cell: 0.00 ("empty for zero"), or NULL.

The workbooks are written by openpyxl, which writes a string equal to an error code as an
error cell (t="e"); one it does not know (#SPILL!) is made an error cell in the sheet's XML.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

from tests.conftest import query, run_load, write_xlsx

UNIT = "900081"
VOUCHER_HEADER = ["单位编码", "凭证日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额",
                  "功能分类", "经济分类", "项目", "资金性质"]


def _line(date, no, line, account, debit=None, credit=None, func=None, econ=None, project=None):
    return [UNIT, date, no, line, "支付", account, "", debit, credit, func, econ, project, "一般公共预算"]


def _payment(date, no, amount, func="2120101", project=None):
    """A balanced payment in the budget book: 7101 debit, 6001 credit."""
    return [_line(date, no, 1, "7101", debit=amount, func=func, econ="30201", project=project),
            _line(date, no, 2, "6001", credit=amount)]


def make_error_cells(path: Path, cells: dict[str, str]) -> None:
    """Turn cells of the first sheet into error cells with those codes (as Excel writes one:
    a formula and its cached error value), for the codes openpyxl does not know."""
    with zipfile.ZipFile(path) as source:
        members = [(item, source.read(item.filename)) for item in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item, data in members:
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                for ref, code in cells.items():
                    xml, count = re.subn(rf'<c r="{ref}"[^>]*>.*?</c>',
                                         f'<c r="{ref}" t="e"><f>SEQUENCE(2)</f><v>{code}</v></c>', xml)
                    assert count == 1, ref
                data = xml.encode()
            target.writestr(item, data)


def test_error_cells_are_quarantined_with_their_text_and_left_out_of_the_marts(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    day = dt.date(2021, 3, 1)
    vouchers = write_xlsx(landing / "凭证.xlsx", {"凭证": [VOUCHER_HEADER]
        + _payment(day, "记-1", 100)                                                     # rows 2-3
        + [_line(day, "记-2", 1, "7101", debit="#REF!", func="2120101", econ="30201"),    # row 4
           _line(day, "记-2", 2, "6001", credit="#REF!")]                                 # row 5
        + _payment("#VALUE!", "记-3", 50)                                                 # rows 6-7
        + _payment(day, "记-4", 20, func="#N/A")                                          # rows 8-9
        + _payment(day, "记-5", 30, project="#N/A")                                       # rows 10-11
        + _payment(day, "记-6", 40)                                                       # rows 12-13: H12 #SPILL!
        + _payment(day, "记-7", 7)})                                                      # rows 14-15
    make_error_cells(vouchers, {"H12": "#SPILL!"})
    write_xlsx(landing / "人员.xlsx", {"人员": [
        ["单位编码", "年度", "编制数", "实有在职人数", "离退休人数"],
        [UNIT, 2021, 50, "#DIV/0!", 3]]})
    write_xlsx(landing / "采购.xlsx", {"采购": [
        ["单位编码", "年度", "项目编码", "合同编号", "采购方式", "合同金额", "签订日期"],
        [UNIT, 2021, "P1", "HT-1", "询价", "#N/A", "2021-03-15"],
        [UNIT, 2021, "P1", "HT-2", "询价", 500, "2021-03-16"],
        [UNIT, 2021, "P1", "HT-3", "询价", 60, "#VALUE!"]]})
    write_xlsx(landing / "预算.xlsx", {"预算": [
        ["单位编码", "年度", "文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额", "政府采购预算"],
        [UNIT, 2021, "d1", "年初预算", "2120101", "30201", None, "一般公共预算", 1000, 800],
        [UNIT, 2021, "d2", "追加", "2120101", "30201", None, "一般公共预算", 300, "#VALUE!"]]})
    assert run_load(landing, warehouse) == 0

    rows = query(warehouse, "SELECT source_file, sheet, source_row, reason_code, field, value, raw FROM quarantine "
                            "ORDER BY source_file, source_row")
    assert [row[:6] for row in rows] == [
        ("人员.xlsx", "人员", 2, "unreadable_number", "in_service", "#DIV/0!"),
        ("凭证.xlsx", "凭证", 4, "unreadable_amount", "debit", "#REF!"),
        ("凭证.xlsx", "凭证", 5, "unreadable_amount", "credit", "#REF!"),
        ("凭证.xlsx", "凭证", 6, "unreadable_date", "voucher_date", "#VALUE!"),
        ("凭证.xlsx", "凭证", 7, "unreadable_date", "voucher_date", "#VALUE!"),
        ("凭证.xlsx", "凭证", 8, "unknown_func_code", "func_class", "#N/A"),
        ("凭证.xlsx", "凭证", 9, "unbalanced_voucher", "credit", "20"),     # the rest of 记-4
        ("凭证.xlsx", "凭证", 10, "excel_error", "project_code", "#N/A"),
        ("凭证.xlsx", "凭证", 11, "unbalanced_voucher", "credit", "30"),    # the rest of 记-5
        ("凭证.xlsx", "凭证", 12, "unreadable_amount", "debit", "#SPILL!"),
        ("凭证.xlsx", "凭证", 13, "unbalanced_voucher", "credit", "40"),    # the rest of 记-6
        ("采购.xlsx", "采购", 2, "unreadable_amount", "contract_amount", "#N/A"),
        ("采购.xlsx", "采购", 4, "unreadable_date", "date", "#VALUE!"),
        ("预算.xlsx", "预算", 3, "unreadable_amount", "procurement_amount", "#VALUE!"),
    ]
    # the raw values show the error as the workbook does, under the file's own headers
    raw = {(row[0], row[2]): json.loads(row[6]) for row in rows}
    assert raw[("人员.xlsx", 2)] == {"单位编码": UNIT, "年度": "2021", "编制数": "50", "实有在职人数": "#DIV/0!",
                                     "离退休人数": "3"}
    assert (raw[("凭证.xlsx", 4)]["借方金额"], raw[("凭证.xlsx", 4)]["贷方金额"]) == ("#REF!", None)
    assert (raw[("凭证.xlsx", 5)]["借方金额"], raw[("凭证.xlsx", 5)]["贷方金额"]) == (None, "#REF!")
    assert raw[("凭证.xlsx", 6)]["凭证日期"] == "#VALUE!"
    assert raw[("凭证.xlsx", 8)]["功能分类"] == "#N/A"
    assert raw[("凭证.xlsx", 10)]["项目"] == "#N/A"
    assert raw[("凭证.xlsx", 12)]["借方金额"] == "#SPILL!"
    assert raw[("采购.xlsx", 2)]["合同金额"] == "#N/A"
    assert raw[("采购.xlsx", 4)]["签订日期"] == "#VALUE!"
    assert raw[("预算.xlsx", 3)]["政府采购预算"] == "#VALUE!"
    assert query(warehouse, "SELECT reason FROM quarantine WHERE reason_code = 'excel_error'") == [
        ("Excel 错误值 #N/A（单元格的公式未能算出结果） / Excel error value #N/A in project_code",)]

    # the marts count 记-1 and 记-7 only (100 + 7), none of the rows above as 0.00
    assert query(warehouse, "SELECT basic_yuan, project_yuan, total_yuan FROM marts.spending_by_year "
                            "WHERE unit_code = ?", [UNIT]) == [(Decimal("107.00"), Decimal("0.00"), Decimal("107.00"))]
    assert query(warehouse, "SELECT sum(amount_yuan), sum(line_count) FROM marts.spending_by_category "
                            "WHERE unit_code = ?", [UNIT]) == [(Decimal("107.00"), 2)]
    assert query(warehouse, "SELECT count(*) FROM marts.spending_by_project WHERE unit_code = ? "
                            "AND project_code = '#N/A'", [UNIT]) == [(0,)]
    assert query(warehouse, "SELECT sum(budget_final_yuan), sum(spent_yuan) FROM marts.budget_execution "
                            "WHERE unit_code = ?", [UNIT]) == [(Decimal("1000.00"), Decimal("107.00"))]
    assert query(warehouse, "SELECT contract_no, contract_amount FROM core.fact_procurement WHERE unit_code = ?",
                 [UNIT]) == [("HT-2", Decimal("500.00"))]
    indicators = dict(((code, (numerator, denominator, reason)) for code, numerator, denominator, reason in query(
        warehouse, "SELECT indicator_code, numerator, denominator, reason FROM marts.evaluation_indicators "
                   "WHERE unit_code = ? AND fiscal_year = 2021", [UNIT])))
    assert indicators["procurement_execution"] == (Decimal("500.00"), Decimal("800.00"), None)
    # the staffing row is quarantined, not loaded with in_service NULL
    assert query(warehouse, "SELECT count(*) FROM core.fact_staffing WHERE unit_code = ?", [UNIT]) == [(0,)]
    assert indicators["staff_control"] == (None, None, "无人员情况数据 / no staffing data")
