"""No formula from input (issue 12, item 4).

Spreadsheet formulas typed into export cells — `=HYPERLINK(...)`, `+1+1+cmd|' /C calc'!A0`,
`@SUM(A1)`, `-2+3`, and the same behind a leading tab or carriage return — go through a
real `fiscal-warehouse load` as indicator names, targets and 偏差原因, a project name, a
voucher summary, narrative text and the cells of quarantined rows (a voucher CSV and a
ledger XLSX). Then every XLSX the
warehouse wrote is opened with openpyxl (no cell is a formula, the text is kept) and every
CSV is read back (no field starts with a formula character unless escaped with `'`, except
numbers we wrote ourselves).
"""

from __future__ import annotations

import contextlib
import csv
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl
import pytest

from pipelines.textsafe import FORMULA_STARTS, csv_safe, csv_safe_row
from tests.conftest import payment, run_load, voucher_file, write_csv, write_xlsx

UNIT = "900002"
LINK = '=HYPERLINK("http://x","点击查看")'
CMD = "+1+1+cmd|' /C calc'!A0"
SUM = "@SUM(A1)"
ARITH = "-2+3"
TAB = "\t=1+1"
CR = "\r+2+2"


def write_landing(landing: Path) -> None:
    folder = landing / UNIT / "2021"
    lines = payment("2021-03-10", "记-0001", "100,000.00", econ="30101")
    lines += payment("2021-04-10", "记-0002", "40,000.00", econ="31005", func="2120399", project="P-2021-01")
    for line in lines:
        line[3] = ARITH  # 摘要
    # quarantined rows: their cells as written go into the error report
    lines += [["2021-05-10", "记-0003", 1, "支付", "7101", "行政支出", "500.00", "", "2120101", LINK, "", "一般公共预算"],
              [SUM, "记-0004", 1, "支付", "7101", "行政支出", "600.00", "", "2120101", "30201", "", "一般公共预算"],
              ["2021-05-12", "记-0005", 1, "支付", "7101", "行政支出", TAB, "", "2120101", "30201", "", "一般公共预算"],
              ["2021-05-13", "记-0006", 1, "支付", "7101", "行政支出", "", CR, "2120101", "30201", "", "一般公共预算"]]
    voucher_file(folder / "凭证" / "2021年序时账.csv", lines, unit=f"{UNIT} 测试单位三", encoding="utf-8")
    write_csv(folder / "预算" / "2021年预算指标.csv", [
        ["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额", "政府采购预算"],
        [UNIT, 2021, "测财预〔2021〕1号", "年初预算", "2120101", "30101", "", "一般公共预算", "120,000.00", ""],
        [UNIT, 2021, "测财预〔2021〕2号", "年初预算", "2120399", "31005", "P-2021-01", "一般公共预算", "50,000.00", ""]])
    indicator_header = ["单位编码", "项目编码", "一级指标", "二级指标", "三级指标", "计量单位", "指标方向",
                        "年度指标值", "实际完成值", "分值", "年度", "偏差原因"]
    ledger = write_xlsx(folder / "项目" / "2021年项目台账.xlsx", {
        "项目": [["单位编码", "项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性", "开工日期", "年度"],
                 [UNIT, "P-2021-01", SUM, "基础设施", CMD, "否", "公开", None, 2021],
                 [UNIT, "P-2021-02", "测试项目", "基础设施", "建设股", "否", "公开", CR, 2021]],  # quarantined: date
        "绩效指标": [indicator_header,
                 [UNIT, None, "产出指标", "数量指标", CMD, "%", "=", "100", "100", 30, 2021, None],  # shown =100%
                 [UNIT, None, "产出指标", "质量指标", ARITH, "%", "≥", "95", "90", 20, 2021, LINK],
                 [UNIT, None, "效益指标", "社会效益指标", SUM, "%", "≥", "90", "92", 30, 2021, "@偏差"],
                 [UNIT, "P-2021-01", "产出指标", "数量指标", "+维修长度", "km", "≥", "10", "8", 50, 2021, LINK]],
    })
    # openpyxl writes a str starting with `=` as a formula: an export holds such text as text
    workbook = openpyxl.load_workbook(ledger)
    for sheet in workbook:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    workbook.save(ledger)
    texts = landing / "_texts" / f"{UNIT}.md"
    texts.parent.mkdir(parents=True, exist_ok=True)
    texts.write_text(f"## 职能职责\n{LINK}\n\n## 机构设置\n{CMD}\n\n## 绩效评价工作情况\n{SUM}\n\n"
                     f"## 存在的问题和建议\n{ARITH}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("injection")
    write_landing(root / "landing")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_load(root / "landing", root / "warehouse")
    assert code == 0, out.getvalue()
    return root / "warehouse"


def is_number(text: str) -> bool:
    try:
        Decimal(text.replace(",", ""))
    except InvalidOperation:
        return False
    return True


def test_csv_safe_escapes_formula_starts_and_keeps_our_numbers():
    assert [csv_safe(v) for v in (LINK, CMD, SUM, ARITH, TAB, CR, "正常", 12, None)] == [
        "'" + LINK, "'" + CMD, "'" + SUM, "'" + ARITH, "'" + TAB, "'" + CR, "正常", 12, ""]
    assert csv_safe_row(["-2+3", 7, "x", "-1500.00"], numeric_columns={1, 3}) == ["'-2+3", 7, "x", "-1500.00"]


def test_no_xlsx_cell_is_a_formula_and_the_text_is_kept(warehouse):
    books = sorted(warehouse.rglob("*.xlsx"))
    assert any(p.name == "部门整体支出绩效自评表.xlsx" for p in books)
    assert any(p.parent.name == "quality" for p in books)
    texts: dict[str, set[str]] = {}
    for path in books:
        workbook = openpyxl.load_workbook(path)
        for sheet in workbook:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, sheet.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        texts.setdefault(path, set()).add(cell.value)
    table = texts[warehouse / "reports" / UNIT / "2021" / "部门整体支出绩效自评表.xlsx"]
    assert {CMD, ARITH, SUM, LINK, "=100%", "@偏差"} <= table  # names, a target, 偏差原因, as text
    [quality] = [v for k, v in texts.items() if k.parent.name == "quality"]
    assert {LINK, SUM, TAB} <= quality  # a quarantined row's cells as written (CR: openpyxl reads _x000D_)


def test_no_csv_field_starts_a_formula(warehouse):
    files = sorted(warehouse.rglob("*.csv"))
    assert files, "the quality report's CSV"
    fields: list[str] = []
    for path in files:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                fields.extend(row)
    for field in fields:
        assert not field.startswith(FORMULA_STARTS) or is_number(field), field
    assert {"'" + LINK, "'" + SUM, "'" + TAB, "'" + CR} <= set(fields)  # escaped, the text kept
    assert fields.count("'" + CR) == 2  # the voucher CSV's cell and the ledger XLSX's
