"""Honest figures: a unit-year with quarantined rows says so in its 自评表, in its internal
report (how many rows, how much money could be read, which files, where the error
report is), in its public report (provisional) and in the load's summary."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import openpyxl
import pytest

from pipelines.evaluation.provisional import PUBLIC_NOTE
from tests.conftest import payment, run_load
from tests.evaluation.test_definitions import UNIT, YEAR, budget, landing, project

OUT = Path("reports") / UNIT / str(YEAR)


@pytest.fixture(scope="module")
def provisional(tmp_path_factory) -> tuple[Path, str]:
    """Vouchers with a bad date (7101, 1,000.00 readable), a bad amount, and one voucher
    whose budget book does not balance (7101 800.00 against 6001 700.00): 6 rows quarantined,
    1,800.00 yuan of spending readable on them."""
    root = tmp_path_factory.mktemp("provisional_landing")
    good = payment("2021-03-01", "记-0001", "5000.00")
    bad_date = payment("2021-03-02", "记-0002", "1000.00")
    bad_date[0][0] = "2021-13-45"
    bad_amount = payment("2021-03-03", "记-0003", "500.00")
    bad_amount[0][6] = "5x0.00"
    unbalanced = payment("2021-03-04", "记-0004", "800.00")
    unbalanced[1][7] = "700.00"
    landing(root, UNIT, [*good, *bad_date, *bad_amount, *unbalanced], [budget("年初预算", "10000.00", UNIT)],
            projects=[project(UNIT, "P01", "道路维修")])
    warehouse = tmp_path_factory.mktemp("provisional_wh")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run_load(root, warehouse) == 0
    return warehouse, out.getvalue()


def table_text(path: Path) -> str:
    sheet = openpyxl.load_workbook(path).active
    return "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)


def test_the_table_carries_a_note(provisional):
    warehouse, _ = provisional
    text = table_text(warehouse / OUT / "部门整体支出绩效自评表.xlsx")
    assert "本年度有6行导出数据未通过检查，已隔离、未计入本表，涉及可读金额支出0.18万元（另有1行金额无法识别，未计入）" in text
    assert "涉及文件：vouchers.csv" in text
    assert re.search(r"明细见错误报告 reports/quality/[^ ]+\.xlsx。", text)  # this load's report, by name


def test_the_internal_report_has_a_paragraph(provisional):
    warehouse, _ = provisional
    text = (warehouse / OUT / "部门整体支出绩效自评报告.md").read_text(encoding="utf-8")
    assert "数据质量说明：6行导出数据未通过检查，已隔离，未计入本报告的任何数据，涉及可读金额支出0.18万元" in text
    assert "涉及文件：vouchers.csv。逐行原因见错误报告 reports/quality/" in text


def test_the_public_report_says_provisional_only(provisional):
    warehouse, _ = provisional
    text = (warehouse / OUT / "部门整体支出绩效自评报告（公开版）.md").read_text(encoding="utf-8")
    assert PUBLIC_NOTE in text
    assert "6行" not in text and "vouchers.csv" not in text


def test_the_summary_names_the_unit_year(provisional):
    _, printed = provisional
    assert f"PROVISIONAL (quarantined rows left out of the figures): {UNIT}/{YEAR} (6 rows)" in printed



def test_a_row_dated_outside_its_file_period_belongs_to_the_years_the_file_covers(tmp_path):
    # A 2021 export (January to September) holding a voucher dated 5 January 2022: its four
    # lines are out of range, and provisional for 2021 only; 2022 (another file) is final.
    from tests.conftest import voucher_file

    root = tmp_path / "landing"
    landing(root, UNIT, payment("2021-03-01", "记-0001", "5000.00"), [budget("年初预算", "10000.00", UNIT),
                                                               budget("年初预算", "10000.00", UNIT, year=2022)])
    voucher_file(root / "vouchers.csv", [*payment("2021-03-01", "记-0001", "5000.00"),
                                         *payment("2022-01-05", "记-0002", "100.00")],
                 unit=f"{UNIT} 测试单位", period="2021年1月1日至2021年9月30日")
    voucher_file(root / "vouchers_2022.csv", payment("2022-02-01", "记-0001", "300.00"), unit=f"{UNIT} 测试单位")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run_load(root, tmp_path / "wh") == 0
    assert f"{UNIT}/2021 (4 rows)" in out.getvalue() and f"{UNIT}/2022 (" not in out.getvalue()
    report_2022 = (tmp_path / "wh" / "reports" / UNIT / "2022" / "部门整体支出绩效自评报告.md").read_text(encoding="utf-8")
    assert "数据质量说明" not in report_2022
