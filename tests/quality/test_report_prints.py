"""The error report as a finance officer gets it: a copy of the demo with five broken rows
gives five problems, each once, in a workbook named by local time that prints on A4
landscape with its header row repeated and its texts wrapped."""

from __future__ import annotations

import csv
import re
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from pipelines.quality.report import LOCAL_TIME, REPORT_HEADERS, report_paths
from pipelines.settings import DEMO_LANDING_DIR
from tests.conftest import query, run_load

BUDGET = "117001/2021/预算/2021年预算指标明细.csv"
PROCUREMENT = "117001/2020/采购/2020年政府采购台账.csv"


def _break_line(path: Path, encoding: str, number: int, old: str, new: str) -> None:
    """Replace `old` by `new` in physical line `number` (1-based) of a CSV, keeping its
    encoding, BOM and CRLF line ends."""
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig" if bom else encoding).split("\r\n")
    assert lines[number - 1].count(old) == 1, lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\r\n".join(lines).encode(encoding))


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    landing = tmp_path_factory.mktemp("broken") / "landing"
    shutil.copytree(DEMO_LANDING_DIR, landing)
    budget, procurement = landing / BUDGET, landing / PROCUREMENT
    _break_line(budget, "utf-8", 19, "30207 邮电费", "39998 邮电费")  # an economic class that does not exist
    _break_line(budget, "utf-8", 21, "2120101 行政运行", "2120188 行政运行")  # a functional class that does not exist
    _break_line(budget, "utf-8", 16, '"43,600.00"', '"43,6OO.00"')  # a wrong amount: letters O for zeros
    _break_line(budget, "utf-8", 12, "年初预算", "年出预算")  # a budget kind misspelt
    _break_line(procurement, "gbk", 4, "2020/3/2", "2020/2/30")  # a date that does not exist
    warehouse = tmp_path_factory.mktemp("broken_warehouse")
    assert run_load(landing, warehouse) == 0  # problems in the exports are warnings
    return warehouse


def _rows(path: Path, sheet: str) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()


def test_five_broken_rows_are_five_problems(broken):
    reports = sorted((broken / "reports" / "quality").glob("*.xlsx"))
    assert len(reports) == 1
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_\d{4}_质量报告\.xlsx", reports[0].name)
    xlsx = reports[0]

    # the quarantine holds the five rows, with the field each problem is in and the cell as written
    assert query(broken, "SELECT source_file, source_row, reason_code, field, value FROM quarantine ORDER BY ALL") == [
        (PROCUREMENT, 4, "unreadable_date", "date", "2020/2/30"),
        (BUDGET, 12, "unknown_budget_kind", "budget_kind", "年出预算"),
        (BUDGET, 16, "unreadable_amount", "amount", "43,6OO.00"),
        (BUDGET, 19, "unknown_econ_code", "econ_class", "39998 邮电费"),
        (BUDGET, 21, "unknown_func_code", "func_class", "2120188 行政运行"),
    ]
    # no check names them again: rules cover what the quarantine does not
    assert query(broken, "SELECT count(*) FROM quality.results") == [(0,)]

    rows = _rows(xlsx, "问题清单")
    assert rows[0] == REPORT_HEADERS
    problems = rows[1:]
    assert len(problems) == 5  # five broken rows, five problems
    assert [(r[0], r[1], r[6]) for r in problems] == [
        (PROCUREMENT, 4, "quarantine:unreadable_date"),
        (BUDGET, 12, "quarantine:unknown_budget_kind"),
        (BUDGET, 16, "quarantine:unreadable_amount"),
        (BUDGET, 19, "quarantine:unknown_econ_code"),
        (BUDGET, 21, "quarantine:unknown_func_code"),
    ]
    # the field as the file's header names it, the cell as written, what was expected (in the row's year)
    assert problems[3][2:8] == ("经济分类", "39998 邮电费", "2021年度部门预算支出经济分类中的编码", None,
                                "quarantine:unknown_econ_code", "警告")
    assert problems[4][2:5] == ("功能分类", "2120188 行政运行", "2021年度支出功能分类中的编码")
    assert problems[1][2:5] == ("指标类型", "年出预算", "年初预算、追加、追减、调剂、上年结转之一")
    assert problems[2][2:4] == ("金额", "43,6OO.00")
    assert problems[0][2:4] == ("签订日期", "2020/2/30")
    assert problems[0][8] == "已隔离，未计入：无法识别的签订日期"  # the finance office's words, not the English half

    about = dict(_rows(xlsx, "说明"))
    assert about["结论"].startswith("共 5 个问题，其中致命 0 个。")
    summary = {r[0]: r for r in _rows(xlsx, "汇总")[1:]}
    assert sum(r[2] for r in summary.values()) == 5
    assert summary["quarantine:unknown_econ_code"][2] == 1
    assert summary["tieout_year_total"][2:] == (0, "核对不平：年度支出汇总表与支出事实表不一致", "合计核对",
                                                 "marts.spending_by_year")
    assert summary["gx_staging_budget_lines"][3] == "整理后的预算指标（staging.budget_lines）：入库数据自检通过"

    with open(xlsx.with_suffix(".csv"), encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert len(lines) == 6 and tuple(lines[0]) == REPORT_HEADERS


def test_the_report_prints_on_a4_landscape(broken):
    xlsx = next((broken / "reports" / "quality").glob("*.xlsx"))
    book = openpyxl.load_workbook(xlsx)
    try:
        for name in ("问题清单", "汇总"):
            sheet = book[name]
            assert sheet.page_setup.orientation == "landscape", name
            assert sheet.page_setup.paperSize == 9, name  # A4
            assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
            assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0, name  # None: the default, 1
            assert sheet.print_title_rows == "$1:$1", name  # the header row on every page
        detail = book["问题清单"]
        note = detail.cell(row=2, column=len(REPORT_HEADERS))
        assert note.value.startswith("已隔离，未计入：") and note.alignment.wrap_text
        assert "第 &P 页，共 &N 页" in detail.oddFooter.center.text
    finally:
        book.close()


def test_loads_in_the_same_minute_get_their_own_workbook(tmp_path):
    at = datetime(2026, 11, 29, 14, 30, 5, tzinfo=LOCAL_TIME)
    names = [report_paths(tmp_path, at)[0].name for _ in range(3)]
    assert names == ["2026-11-29_1430_质量报告.xlsx", "2026-11-29_143005_质量报告.xlsx", "2026-11-29_143005-2_质量报告.xlsx"]
    # reserved at once (the workbook's temporary file): no two loads share one name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n + ".tmp" for n in names)
