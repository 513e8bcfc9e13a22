"""Ingestion on real files written here, through real loads (Dagster, DuckDB in tmp_path).

A load costs about 7 s of CPU however few rows it reads, so the cases below that need one
load each share one (`shared_load`): a case's builder, registered with @case just above its
tests, writes its files into a folder of its own under a unit code of its own, and its tests
read only that folder's rows (`starts_with(source_file, '<folder>/')`) and that unit's. The
cases of a newer export replacing an older one share two loads (`replacing_loads`). Tests
whose point is a whole load (its row accounting, its transactions) or a sequence of loads
of one landing folder have their own."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import VOUCHER_HEADER, payment, query, run_load, voucher_file, write_csv, write_xlsx


def spending(warehouse, unit="900001", year=2021):
    rows = query(warehouse, "SELECT coalesce(sum(amount_yuan), 0) FROM marts.spending_by_category "
                            "WHERE unit_code = ? AND fiscal_year = ?", [unit, year])
    return rows[0][0]


@dataclass(frozen=True)
class Case:
    unit: str  # its unit code, no other case's
    build: Callable  # build(folder, unit): writes the case's files into its folder


CASES: dict[str, Case] = {}  # folder -> case, of the shared load
REPLACING: dict[str, Case] = {}  # folder -> case, of the two replacing loads (builders yield between them)


def case(folder: str, unit: str, into: dict[str, Case] = CASES):
    """Registers the decorated builder as the case in `folder` of a shared load, for unit `unit`."""

    def register(build):
        assert folder not in into and unit not in {c.unit for c in into.values()}, (folder, unit)
        into[folder] = Case(unit, build)
        return build

    return register


def case_unit(folder: str) -> str:
    return (CASES.get(folder) or REPLACING[folder]).unit


def assert_cases_apart(warehouse: Path, cases: dict[str, Case]) -> None:
    """Every case's files count in its own unit and no other: a case's rows in core and the
    marts, read by its unit, are then its own, all of them."""
    found = query(warehouse, "SELECT DISTINCT split_part(so.source_file, '/', 1), sl.unit_code "
                             "FROM meta.slices sl JOIN meta.sources so USING (source_id) ORDER BY ALL")
    assert found == sorted((folder, c.unit) for folder, c in cases.items())


class SharedLoad(NamedTuple):
    landing: Path
    warehouse: Path


@pytest.fixture(scope="module")
def shared_load(tmp_path_factory) -> SharedLoad:
    """One load of every case registered in CASES, each in its folder of one landing folder.
    No two of their files share a layout that the ingest would write together (_group_key):
    each is written alone, as in a load of its own."""
    tmp = tmp_path_factory.mktemp("cases")
    landing, warehouse = tmp / "landing", tmp / "wh"
    for folder, c in CASES.items():
        c.build(landing / folder, c.unit)
    assert run_load(landing, warehouse) == 0
    assert_cases_apart(warehouse, CASES)
    return SharedLoad(landing, warehouse)


@pytest.fixture
def warehouse(shared_load) -> Path:
    """The shared load's warehouse; read-only for tests."""
    return shared_load.warehouse


@case("gbk", unit="900101")
def _gbk_case(folder, unit):
    lines = payment("2021-01-05", "记-0001", "1,000.00") + [[""] * 12] + payment("2021/1/6", "记-0002", "（200.00）")
    lines += [["", "", "", "本月合计", "", "", "800.00", "800.00"], []]
    lines += payment("2021年2月1日", "记-0001", "１２３．４５", econ="[30211]差旅费", func="2120101-行政运行")
    voucher_file(folder / "序时账.csv", lines, unit=f"{unit} 测试单位", period="2021年1月1日至2021年3月31日")


def test_gbk_csv_with_title_lines_blank_and_footer_rows(warehouse):
    # 4 title rows + header = 5 rows; data starts on row 6. Row 10 is all-empty cells, row 15
    # is the footer, row 16 an empty line.
    rows = query(warehouse, "SELECT source_row, voucher_date::VARCHAR, debit, credit, econ_code FROM staging.voucher_lines "
                            "WHERE account_code = '7101' AND starts_with(source_file, 'gbk/') ORDER BY source_row")
    assert rows == [
        (6, "2021-01-05", Decimal("1000.00"), Decimal("0.00"), "30201"),
        (11, "2021-01-06", Decimal("-200.00"), Decimal("0.00"), "30201"),
        (17, "2021-02-01", Decimal("123.45"), Decimal("0.00"), "30211"),
    ]
    assert spending(warehouse, case_unit("gbk")) == Decimal("923.45")  # 5xxx lines are never spending
    assert query(warehouse, "SELECT rows_raw, rows_footer, header_row FROM meta.sources "
                            "WHERE starts_with(source_file, 'gbk/')") == [(13, 1, 5)]
    assert query(warehouse, "SELECT count(*) FROM quarantine WHERE starts_with(source_file, 'gbk/')") == [(0,)]


@case("xlsx-wan-yuan", unit="900102")
def _xlsx_wan_yuan_case(folder, unit):
    header = ["单位编码", "单位名称", "记账日期", "凭证字号", "会计科目编码", "借方", "贷方", "部门经济分类", "支出功能分类", "资金来源"]
    rows = [["凭证明细"], ["单位：万元"], header,
            [unit, "二号单位", dt.date(2021, 3, 15), "记-1", "7201", 2194.33, None, "30101", "2120101", "一般公共预算"],
            [unit, "二号单位", 44270, "记-1", "6001", None, 2194.33, None, None, "一般公共预算"],
            [unit, "二号单位", "20210316", "记-2", "7201", "0.0001", "-", "30201", "2120101", "单位资金"],
            [unit, "二号单位", "2021-03-16", "记-2", "8001", "", "0.0001", "", "", "单位资金"],
            ["合计", None, None, None, None, 2194.3301, 2194.3301]]
    write_xlsx(folder / "凭证.xlsx", {"Sheet1": rows})


def test_xlsx_with_excel_dates_serials_and_wan_yuan(warehouse):
    assert query(warehouse, "SELECT voucher_date::VARCHAR, debit, credit FROM staging.voucher_lines "
                            "WHERE starts_with(source_file, 'xlsx-wan-yuan/') ORDER BY source_row") == [
        ("2021-03-15", Decimal("21943300.00"), Decimal("0.00")),
        ("2021-03-15", Decimal("0.00"), Decimal("21943300.00")),
        ("2021-03-16", Decimal("1.00"), Decimal("0.00")),
        ("2021-03-16", Decimal("0.00"), Decimal("1.00")),
    ]
    assert spending(warehouse, case_unit("xlsx-wan-yuan")) == Decimal("21943301.00")
    assert query(warehouse, "SELECT sheet, source_row FROM staging.voucher_lines "
                            "WHERE starts_with(source_file, 'xlsx-wan-yuan/') ORDER BY 2 LIMIT 1") == [("Sheet1", 4)]


@case("excel-serial", unit="900103")
def _excel_serial_case(folder, unit):
    header = ["单位编码", "凭证日期", "凭证号", "科目编码", "借方金额", "贷方金额", "经济分类", "功能分类", "资金性质"]
    rows = [header,
            [unit, 44270, "记-1", "7201", 10, None, "30201", "2120101", "一般公共预算"],
            [unit, 44270, "记-1", "6001", None, 10, None, None, "一般公共预算"],
            [unit, 109574, "记-2", "7201", 20, None, "30201", "2120101", "一般公共预算"],
            [unit, 2958465, "记-3", "7201", 30, None, "30201", "2120101", "一般公共预算"],
            [unit, 2958466, "记-4", "7201", 40, None, "30201", "2120101", "一般公共预算"]]
    write_xlsx(folder / "凭证.xlsx", {"Sheet1": rows})


def test_an_excel_serial_of_a_real_day_out_of_bounds_is_out_of_range_not_unreadable(warehouse):
    # contract 1, clarified 2026-11-29: 109574 = 2199-12-31 can be read, so it is out of range;
    # 2958466 is past Excel's last day (9999-12-31), so it is no date at all.
    assert query(warehouse, "SELECT source_row, reason_code FROM quarantine "
                            "WHERE starts_with(source_file, 'excel-serial/') ORDER BY 1") == [
        (4, "date_out_of_range"), (5, "date_out_of_range"), (6, "unreadable_date")]
    assert spending(warehouse, case_unit("excel-serial")) == Decimal("10.00")


@case("ledger-goals", unit="900104")
def _ledger_goals_case(folder, unit):
    write_xlsx(folder / "台账.xlsx", {"项目": [
        ["单位编码", "项目编码", "项目名称", "年度", "年度总体目标 (预期目标)", "实际完成情况（年度总体目标完成情况）"],
        [unit, "P01", "道路维修", 2021, "完成道路维修3公里", "完成3.2公里"],
    ]})


def test_ledger_goal_columns_headed_as_the_contract_writes_them(warehouse):
    assert query(warehouse, "SELECT project_code, goal, goal_result FROM staging.ledger_projects "
                            "WHERE starts_with(source_file, 'ledger-goals/')") == [
        ("P01", "完成道路维修3公里", "完成3.2公里")]


@case("footer-word", unit="900105")
def _footer_word_case(folder, unit):
    lines = payment("2021-03-31", "记-1", "300")
    for line in lines:
        line[3] = "累计折旧计提"
    office = payment("2021-04-01", "记-2", "50")
    office[0][3], office[1][3] = "合计支付办公费", "小计"
    lines += office + [["", "", "", "本月合计", "", "", "350.00", "350.00"], ["合计", "", "", "", "", "", "700", "700"]]
    voucher_file(folder / "v.csv", lines, unit=f"{unit} 测试单位")


def test_a_voucher_line_whose_summary_starts_with_a_footer_word_is_data(warehouse):
    # 累计折旧计提 and 合计支付办公费 are 摘要 of real lines; a 摘要 of just 小计 on a line with its
    # account code too. Only a row without account code and voucher number is a footer.
    where = "WHERE starts_with(source_file, 'footer-word/')"
    assert query(warehouse, f"SELECT count(*) FROM staging.voucher_lines {where}") == [(8,)]
    assert query(warehouse, f"SELECT rows_footer FROM meta.sources {where}") == [(2,)]
    assert query(warehouse, f"SELECT count(*) FROM quarantine {where}") == [(0,)]
    assert spending(warehouse, case_unit("footer-word")) == Decimal("350.00")


BAD_BYTES_ENCODINGS = {"gb18030": "900106", "utf-8": "900107"}  # encoding -> its case's unit


def _bad_bytes_case(folder, unit, encoding):
    path = voucher_file(folder / "v.csv", payment("2021-01-05", "记-1", "100") + payment("2021-01-06", "记-2", "7"),
                        unit=f"{unit} 测试单位", encoding=encoding)
    data = path.read_bytes()
    marker = "支付".encode(encoding)
    at = data.index(marker, data.index("记-2".encode(encoding)))
    path.write_bytes(data[:at] + b"\xff\xfe" + data[at + len(marker):])


for _encoding, _unit in BAD_BYTES_ENCODINGS.items():
    case(f"bad-bytes-{_encoding}", unit=_unit)(partial(_bad_bytes_case, encoding=_encoding))


@pytest.mark.parametrize("encoding", list(BAD_BYTES_ENCODINGS))
def test_a_few_bad_bytes_lose_their_rows_not_the_file(warehouse, encoding):
    # One damaged cell (bytes no encoding reads) in an otherwise good export: that line is
    # quarantined as unreadable text (its voucher's other line then unbalanced), the rest loads.
    folder = f"bad-bytes-{encoding}"
    assert query(warehouse, "SELECT reason_code, field FROM quarantine WHERE reason_code = 'unreadable_text' "
                            "AND starts_with(source_file, ?)", [f"{folder}/"]) == [("unreadable_text", "summary")]
    assert spending(warehouse, case_unit(folder)) == Decimal("100.00")
    assert query(warehouse, "SELECT count(*) FROM meta.files WHERE status = 'unreadable' "
                            "AND starts_with(source_file, ?)", [f"{folder}/"]) == [(0,)]


BAD_ROWS = [
    # (row cells, expected reason) — each bad row in its own voucher with a balancing partner
    (["2021-01-10", "记-0101", 1, "坏金额", "7101", "行政支出", "12x", "", "2120101", "30201", "", "一般公共预算"], "unreadable_amount"),
    (["2021-13-45", "记-0102", 1, "坏日期", "7101", "行政支出", "10", "", "2120101", "30201", "", "一般公共预算"], "unreadable_date"),
    (["1999-12-31", "记-0103", 1, "太早", "7101", "行政支出", "10", "", "2120101", "30201", "", "一般公共预算"], "date_out_of_range"),
    (["2099-01-01", "记-0104", 1, "太晚", "7101", "行政支出", "10", "", "2120101", "30201", "", "一般公共预算"], "date_out_of_range"),
    (["2021-07-01", "记-0105", 1, "期外", "7101", "行政支出", "10", "", "2120101", "30201", "", "一般公共预算"], "date_out_of_range"),
    (["2021-01-11", "记-0106", 1, "坏经济", "7101", "行政支出", "10", "", "2120101", "39998", "", "一般公共预算"], "unknown_econ_code"),
    (["2021-01-12", "记-0107", 1, "坏功能", "7101", "行政支出", "10", "", "2129998", "30201", "", "一般公共预算"], "unknown_func_code"),
    (["2021-01-13", "记-0108", 1, "无科目", "", "行政支出", "10", "", "2120101", "30201", "", "一般公共预算"], "missing_required"),
    (["", "记-0109", 1, "无日期", "7101", "行政支出", "10", "", "2120101", "30201", "", "一般公共预算"], "missing_required"),
    (["2021-01-14", "", 1, "无凭证号", "7101", "行政支出", "10", "", "2120101", "30201", "", "一般公共预算"], "missing_required"),
    (["2021-01-15", "记-0110", 1, "无经济分类", "7101", "行政支出", "10", "", "2120101", "", "", "一般公共预算"], "missing_required"),
]


def _messy_lines() -> list[list[object]]:
    """One voucher file's lines with one bad row of each kind, plus an unbalanced voucher."""
    lines = payment("2021-01-05", "记-0001", "500.00")
    for row, _ in BAD_ROWS:
        lines.append(row)
        lines.append([row[0], row[1], 2, row[3], "6001", "财政拨款预算收入", "", "10", "", "", "", "一般公共预算"])
    # An unbalanced voucher: 7101 100 against 6001 90; its financial book balances.
    lines += [
        ["2021-01-20", "记-0200", 1, "不平", "7101", "行政支出", "100", "", "2120101", "30201", "", "一般公共预算"],
        ["2021-01-20", "记-0200", 2, "不平", "6001", "财政拨款预算收入", "", "90", "", "", "", "一般公共预算"],
        ["2021-01-20", "记-0200", 3, "不平", "5001", "业务活动费用", "100", "", "", "", "", ""],
        ["2021-01-20", "记-0200", 4, "不平", "4001", "财政拨款收入", "", "100", "", "", "", ""],
    ]
    return lines


MESSY_LINES = _messy_lines()


@case("messy", unit="900108")
def _messy_case(folder, unit):
    voucher_file(folder / "q1.csv", MESSY_LINES, unit=f"{unit} 测试单位", period="2021年1月1日至2021年3月31日")


def test_each_bad_row_goes_to_quarantine_with_its_reason(warehouse):
    reasons = dict(query(warehouse, "SELECT source_row, reason_code FROM quarantine WHERE source_file = 'messy/q1.csv'"))
    first_bad = 6 + 4  # after the good payment's four lines
    for i, (_, reason) in enumerate(BAD_ROWS):
        assert reasons[first_bad + 2 * i] == reason
        # Its partner line shares the date and voucher number: it fails the same check when
        # the problem is there, else its voucher no longer balances without the bad line.
        assert reasons[first_bad + 2 * i + 1] in (reason, "unbalanced_voucher")


def test_unbalanced_voucher_quarantines_only_its_book(warehouse):
    first = 6 + 4 + 2 * len(BAD_ROWS)
    assert query(warehouse, "SELECT source_row FROM quarantine WHERE reason_code = 'unbalanced_voucher' "
                            "AND raw LIKE '%记-0200%' AND source_file = 'messy/q1.csv' ORDER BY 1") == [(first,), (first + 1,)]
    # Its financial-book lines balance and stay; none of its spending counts.
    assert query(warehouse, "SELECT count(*) FROM staging.voucher_lines WHERE voucher_no = '记-0200' "
                            "AND reject_code IS NULL AND source_file = 'messy/q1.csv'") == [(2,)]


def test_quarantine_row_has_raw_cells_by_header_and_reason(warehouse):
    raw, reason, sheet, source_file = query(
        warehouse, "SELECT raw, reason, sheet, source_file FROM quarantine WHERE reason_code = 'unreadable_amount' "
                   "AND starts_with(source_file, 'messy/')")[0]
    cells = json.loads(raw)
    assert list(cells)[:4] == VOUCHER_HEADER[:4] or set(VOUCHER_HEADER) <= set(cells)
    assert cells["借方金额"] == "12x" and cells["凭证号"] == "记-0101"
    assert "12x" in reason and sheet is None and source_file == "messy/q1.csv"


def test_rows_in_equal_loaded_plus_quarantined(warehouse):
    lines = MESSY_LINES
    data_rows = len([line for line in lines if any(str(c) for c in line)])
    loaded = query(warehouse, "SELECT count(*) FROM staging.voucher_lines WHERE reject_code IS NULL "
                              "AND source_file = 'messy/q1.csv'")[0][0]
    quarantined = query(warehouse, "SELECT count(*) FROM quarantine WHERE source_file = 'messy/q1.csv'")[0][0]
    assert loaded + quarantined == data_rows
    assert spending(warehouse, case_unit("messy")) == Decimal("500.00")


@case("unreadable", unit="900109")
def _unreadable_case(folder, unit):
    voucher_file(folder / "good.csv", payment("2021-01-05", "记-1", "10"), unit=f"{unit} 测试单位")
    (folder / "corrupt.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    write_csv(folder / "no_header.csv", [["a", "b"], ["1", "2"]])
    (folder / "empty.csv").write_bytes(b"")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4")
    write_xlsx(folder / "notes.xlsx", {"说明": [["这是说明"]], "预算": [["单位编码", "年度", "指标类型", "金额"],
                                                                   [unit, 2021, "年初预算", 100]]})


def test_unreadable_files_are_reported_and_the_load_goes_on(warehouse):
    rows = query(warehouse, "SELECT source_file, sheet, source_row, reason_code FROM quarantine "
                            "WHERE starts_with(source_file, 'unreadable/') ORDER BY 1")
    assert rows == [
        ("unreadable/corrupt.xlsx", None, None, "unreadable_file"),
        ("unreadable/empty.csv", None, None, "unreadable_file"),
        ("unreadable/no_header.csv", None, None, "unreadable_file"),
        ("unreadable/notes.xlsx", "说明", None, "unreadable_sheet"),
        ("unreadable/scan.pdf", None, None, "unreadable_file"),
    ]
    unit = case_unit("unreadable")
    assert spending(warehouse, unit) == Decimal("10.00")
    assert query(warehouse, "SELECT sum(amount) FROM core.fact_budget WHERE unit_code = ?", [unit]) == [(Decimal("100.00"),)]


@case("budget-missing", unit="900110")
def _budget_missing_case(folder, unit):
    write_csv(folder / "budget.csv", [
        ["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额"],
        [unit, "2021", "文1", "年初预算", "2120101", "30201", "", "一般公共预算", "1,000"],
        ["", "2021", "文2", "追加", "2120101", "30201", "", "一般公共预算", "10"],
        [unit, "", "文3", "追加", "2120101", "30201", "", "一般公共预算", "10"],
        [unit, "2021", "文4", "追加", "2120101", "30201", "", "一般公共预算", ""],
        [unit, "2021", "文5", "追减", "2120101", "30201", "", "一般公共预算", "100"],
        [unit, "2021", "文6", "追减", "2120101", "30201", "", "一般公共预算", "-50"],
        [unit, "2021", "文7", "调剂", "2120101", "30201", "", "一般公共预算", "-20"],
        [unit, "2021", "文8", "上年结转", "2120101", "30201", "", "一般公共预算", "5"],
        [unit, "2021", "文9", "乱写", "2120101", "30201", "", "一般公共预算", "5"],
    ], encoding="utf-8-sig")


def test_budget_rows_missing_unit_year_or_amount(warehouse):
    assert query(warehouse, "SELECT source_row, reason_code FROM quarantine "
                            "WHERE starts_with(source_file, 'budget-missing/') ORDER BY 1") == [
        (3, "missing_required"), (4, "missing_required"), (5, "missing_required"), (10, "unknown_budget_kind")]
    assert query(warehouse, "SELECT budget_initial_yuan, budget_final_yuan, adjustment_yuan FROM marts.budget_execution "
                            "WHERE unit_code = ?", [case_unit("budget-missing")]) == [
        (Decimal("1000.00"), Decimal("835.00"), Decimal("-165.00"))]


@case("procurement-budget", unit="900111")
def _procurement_budget_case(folder, unit):
    write_csv(folder / "budget.csv", [
        ["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额", "政府采购预算"],
        [unit, "2021", "文1", "年初预算", "2120101", "30201", "", "一般公共预算", "1,000", "600"],
        [unit, "2021", "文2", "追减", "2120101", "30201", "", "一般公共预算", "100", "80"],
        [unit, "2021", "文3", "追减", "2120101", "30201", "", "一般公共预算", "-50", "-20"],
        [unit, "2021", "文4", "调剂（调出）", "2120101", "30201", "", "一般公共预算", "30", "10"],
        [unit, "2021", "文5", "调剂（调入）", "2120101", "30201", "", "一般公共预算", "-40", "-15"],
        [unit, "2021", "文6", "追加", "2120101", "30201", "", "一般公共预算", "70", "5"],
    ], encoding="utf-8-sig")


def test_procurement_budget_is_signed_as_its_line_counts(warehouse):
    # 政府采购预算 is the part of the amount planned for procurement (contract 2.2): a 追减
    # takes it away whatever sign is written, a 调出 too, a 调入 adds it.
    unit = case_unit("procurement-budget")
    assert query(warehouse, "SELECT doc_no, amount, procurement_amount FROM core.fact_budget WHERE unit_code = ? "
                            "ORDER BY doc_no", [unit]) == [
        ("文1", Decimal("1000.00"), Decimal("600.00")), ("文2", Decimal("-100.00"), Decimal("-80.00")),
        ("文3", Decimal("-50.00"), Decimal("-20.00")), ("文4", Decimal("-30.00"), Decimal("-10.00")),
        ("文5", Decimal("40.00"), Decimal("15.00")), ("文6", Decimal("70.00"), Decimal("5.00"))]
    assert query(warehouse, "SELECT denominator FROM marts.evaluation_indicators "
                            "WHERE indicator_code = 'procurement_execution' AND unit_code = ?", [unit]) == [
        (Decimal("510.00"),)]


@case("contract-period", unit="900070")
def _contract_period_case(folder, unit):
    write_csv(folder / "proc.csv", [
        ["政府采购台账"], [f"单位：{unit} 测试七十局"], ["2021年1月1日至2021年12月31日"],
        ["年度", "项目编码", "合同编号", "采购方式", "合同金额", "签订日期"],
        ["2021", "P1", "HT-1", "公开招标", "100.00", "2021-04-01"],
        ["2021", "P1", "HT-2", "公开招标", "5.00", "1999-12-31"],   # row 6: before 2000
        ["2021", "P1", "HT-3", "公开招标", "5.00", "2022-01-05"],   # row 7: after the title's period
        ["2021", "P1", "HT-4", "公开招标", "5.00", "2021-01-01"],   # the period's first day
        ["2021", "P1", "HT-5", "公开招标", "7.00", "2021-12-31"],   # and its last
    ], encoding="utf-8")
    write_xlsx(folder / "ledger.xlsx", {"项目": [
        [f"单位：{unit} 测试七十局"], ["2021年1月1日至2021年12月31日"],
        ["项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性", "开工日期", "计划完工日期", "状态", "年度"],
        ["P1", "项目一", "基建", "规划股", "否", "公开", "1990-01-01", "2035-12-31", "在建", "2021"]]})


def test_a_contract_signed_outside_the_title_period_is_out_of_range(warehouse):
    # contract 2: date_out_of_range is "before 2000-01-01, after today + 1 year, or outside
    # the period on the file's title line"; a contract's 签订日期 is a transaction date and is
    # range-checked like a voucher's date. A project's 开工/计划完工 dates are not (README).
    unit = case_unit("contract-period")
    assert query(warehouse, "SELECT source_file, source_row, reason_code, field, value FROM quarantine "
                            "WHERE starts_with(source_file, 'contract-period/') ORDER BY 1, 2") == [
        ("contract-period/proc.csv", 6, "date_out_of_range", "date", "1999-12-31"),
        ("contract-period/proc.csv", 7, "date_out_of_range", "date", "2022-01-05")]
    assert query(warehouse, "SELECT fiscal_year, sum(contract_amount) FROM core.fact_procurement WHERE unit_code = ? "
                            "GROUP BY 1", [unit]) == [(2021, Decimal("112.00"))]
    assert query(warehouse, "SELECT numerator FROM marts.evaluation_indicators "
                            "WHERE indicator_code = 'procurement_execution' AND fiscal_year = 2021 AND unit_code = ?",
                 [unit]) == [(Decimal("112.00"),)]
    assert query(warehouse, "SELECT start_date, end_date, reject_code FROM staging.ledger_projects "
                            "WHERE starts_with(source_file, 'contract-period/')") == [
        (dt.date(1990, 1, 1), dt.date(2035, 12, 31), None)]


def _spending_sources(warehouse, folder):
    return query(warehouse, "SELECT so.source_file, sl.status, sl.overlaps_with IS NOT NULL FROM meta.slices sl "
                            "JOIN meta.sources so USING (source_id) WHERE starts_with(so.source_file, ?) ORDER BY 1",
                 [f"{folder}/"])


def _touch(path, seconds):
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9))


@pytest.fixture(scope="module")
def replacing_loads(tmp_path_factory) -> tuple[Path, Path]:
    """Two loads of the cases in REPLACING: each builder writes its files of the first load,
    yields, then writes those of the second. The warehouse as the first load left it (a
    copy), and as the second left it."""
    tmp = tmp_path_factory.mktemp("replacing")
    landing, warehouse = tmp / "landing", tmp / "wh"
    builders = [c.build(landing / folder, c.unit) for folder, c in REPLACING.items()]
    for builder in builders:
        next(builder)
    assert run_load(landing, warehouse) == 0
    assert_cases_apart(warehouse, REPLACING)
    first = shutil.copytree(warehouse, tmp / "wh_after_first_load", symlinks=True)
    for builder in builders:
        next(builder, None)
    assert run_load(landing, warehouse) == 0
    assert_cases_apart(warehouse, REPLACING)
    return first, warehouse


@case("ytd", unit="900121", into=REPLACING)
def _year_to_date_case(folder, unit):
    q1 = voucher_file(folder / "a_q1.csv", payment("2021-01-05", "记-1", "100"), unit=f"{unit} 测试单位",
                      period="2021年1月1日至2021年3月31日")
    _touch(q1, 1_700_000_000)
    yield  # the first load
    ytd = voucher_file(folder / "b_ytd.csv", payment("2021-01-05", "记-1", "100") + payment("2021-05-05", "记-1", "50"),
                       unit=f"{unit} 测试单位", period="2021年1月1日至2021年6月30日")
    _touch(ytd, 1_700_000_100)


def test_year_to_date_export_replaces_quarterly_one(replacing_loads):
    after_first, warehouse = replacing_loads
    unit = case_unit("ytd")
    assert spending(after_first, unit) == Decimal("100.00")
    assert spending(warehouse, unit) == Decimal("150.00")
    assert _spending_sources(warehouse, "ytd") == [("ytd/a_q1.csv", "replaced", False), ("ytd/b_ytd.csv", "active", False)]


def test_rows_of_no_unit_year_go_with_their_file_when_it_is_replaced(tmp_path):
    # An unreadable date belongs to no unit-year: quarantined while its file counts, superseded
    # with it once a year-to-date export replaces it; the accounting says what the quarantine shows.
    import duckdb

    from pipelines.warehouse.load import row_accounting

    def accounting():
        con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
        try:
            counts = row_accounting(con)["voucher_lines"]
            shown = con.execute("SELECT count(*) FROM quarantine WHERE kind = 'voucher_lines'").fetchone()[0]
        finally:
            con.close()
        assert counts["read"] == counts["loaded"] + counts["quarantined"] + counts["superseded"]
        return counts["loaded"], counts["quarantined"], counts["superseded"], shown

    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    bad_date = payment("2021-02-05", "记-2", "30")[:2]
    for line in bad_date:
        line[0] = "2021-13-45"
    q1 = voucher_file(landing / "a_q1.csv", payment("2021-01-05", "记-1", "100") + bad_date,
                      period="2021年1月1日至2021年3月31日")
    _touch(q1, 1_700_000_000)
    assert run_load(landing, warehouse) == 0
    assert accounting() == (4, 2, 0, 2)
    ytd = voucher_file(landing / "b_ytd.csv", payment("2021-01-05", "记-1", "100") + payment("2021-05-05", "记-1", "50"),
                       period="2021年1月1日至2021年6月30日")
    _touch(ytd, 1_700_000_100)
    assert run_load(landing, warehouse) == 0
    assert accounting() == (8, 0, 6, 0)


@case("corrected", unit="900122", into=REPLACING)
def _corrected_case(folder, unit):
    _touch(voucher_file(folder / "jan.csv", payment("2021-01-05", "记-1", "100"), unit=f"{unit} 测试单位"), 1_700_000_000)
    _touch(voucher_file(folder / "feb.csv", payment("2021-02-05", "记-1", "20"), unit=f"{unit} 测试单位"), 1_700_000_010)
    yield  # the first load
    # A corrected January export under another name: same kind, unit, year and period.
    _touch(voucher_file(folder / "jan_corrected.csv", payment("2021-01-05", "记-1", "90"), unit=f"{unit} 测试单位"),
           1_700_000_020)


def test_corrected_file_with_same_identity_replaces_and_disjoint_periods_add_up(replacing_loads):
    after_first, warehouse = replacing_loads
    unit = case_unit("corrected")
    assert spending(after_first, unit) == Decimal("120.00")
    assert spending(warehouse, unit) == Decimal("110.00")
    assert _spending_sources(warehouse, "corrected") == [
        ("corrected/feb.csv", "active", False), ("corrected/jan.csv", "replaced", False),
        ("corrected/jan_corrected.csv", "active", False)]


@case("overlap", unit="900112")
def _overlap_case(folder, unit):
    _touch(voucher_file(folder / "full.csv", payment("2021-06-05", "记-1", "100"), unit=f"{unit} 测试单位",
                        period="2021年1月1日至2021年12月31日"), 1_700_000_000)
    # A December supplement after a full-year export: inside the older period.
    _touch(voucher_file(folder / "dec.csv", payment("2021-12-05", "记-9", "7"), unit=f"{unit} 测试单位",
                        period="2021年12月1日至2021年12月31日"), 1_700_000_010)


def test_overlapping_files_are_both_kept_and_flagged(warehouse):
    assert spending(warehouse, case_unit("overlap")) == Decimal("107.00")
    assert _spending_sources(warehouse, "overlap") == [("overlap/dec.csv", "active", True), ("overlap/full.csv", "active", True)]


def test_reload_changes_nothing_and_removing_a_file_takes_its_rows_out(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    voucher_file(landing / "jan.csv", payment("2021-01-05", "记-1", "100"))
    voucher_file(landing / "other.csv", payment("2021-01-05", "记-1", "5"), unit="900009 其他单位")
    assert run_load(landing, warehouse) == 0
    marts = sorted((warehouse / "marts").rglob("*.parquet"))
    before = {p: p.stat().st_mtime_ns for p in marts}
    counts = query(warehouse, "SELECT count(*) FROM staging.voucher_lines")
    assert run_load(landing, warehouse) == 0
    assert {p: p.stat().st_mtime_ns for p in sorted((warehouse / "marts").rglob("*.parquet"))} == before
    assert query(warehouse, "SELECT count(*) FROM staging.voucher_lines") == counts
    (landing / "jan.csv").unlink()
    assert run_load(landing, warehouse) == 0
    assert spending(warehouse) == Decimal("0")
    assert not (warehouse / "marts" / "spending_by_category" / "fiscal_year=2021" / "900001.parquet").exists()
    assert spending(warehouse, "900009") == Decimal("5.00")


def test_a_csv_duckdb_refuses_between_good_files_loses_nothing(tmp_path):
    """The files of a load are written to raw in one transaction, which an error aborts:
    the files before the bad one must be written again, the bad one read by Python."""
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10"), encoding="utf-8")
    ragged = payment("2021-02-05", "记-2", "20")
    ragged[0] = ragged[0] + ["多出的单元格"]  # one cell beyond the header: DuckDB's strict reader stops
    ragged[2][3] = "支付\n（续）"  # a line break inside a quoted cell
    voucher_file(landing / "b.csv", ragged, encoding="utf-8")
    (landing / "c.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    voucher_file(landing / "d.csv", payment("2021-03-05", "记-3", "30"), encoding="utf-8")
    assert run_load(landing, warehouse) == 0
    assert query(warehouse, "SELECT source_file, count(*), min(source_row), max(source_row) FROM staging.voucher_lines "
                            "WHERE reject_code IS NULL GROUP BY 1 ORDER BY 1") == [
        ("a.csv", 4, 5, 8), ("b.csv", 4, 5, 8), ("d.csv", 4, 5, 8)]
    # b's row 7 spans two lines of text but is one row, as a spreadsheet shows it (contract: source_row)
    assert query(warehouse, "SELECT source_row, summary FROM staging.voucher_lines WHERE source_file = 'b.csv' "
                            "AND source_row >= 7 ORDER BY 1") == [(7, "支付\n（续）"), (8, "支付")]
    assert query(warehouse, "SELECT extra FROM raw.voucher_lines WHERE source_file = 'b.csv' AND source_row = 5"
                 ) == [('{"超出表头的单元格":"[\\"多出的单元格\\"]"}',)]
    assert query(warehouse, "SELECT source_file, reason_code FROM quarantine") == [("c.xlsx", "unreadable_file")]
    assert spending(warehouse) == Decimal("60.00")


@case("lineage", unit="900113")
def _lineage_case(folder, unit):
    voucher_file(folder / "2021" / "序时账.csv", payment("2021-01-05", "记-1", "10") + [["", "", "", "合计"]],
                 unit=f"{unit} 测试单位")


def test_raw_rows_carry_their_lineage(shared_load):
    import hashlib

    landing, warehouse = shared_load
    path = landing / "lineage" / "2021" / "序时账.csv"
    rows = query(warehouse, "SELECT source_file, sheet, source_row, row_kind::VARCHAR, file_sha256, loaded_at IS NOT NULL "
                            "FROM raw.voucher_lines WHERE starts_with(source_file, 'lineage/') ORDER BY source_row")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert rows == [("lineage/2021/序时账.csv", None, row, "data", sha, True) for row in range(5, 9)] + [
        ("lineage/2021/序时账.csv", None, 9, "footer", sha, True)]


@case("long", unit="900114")
def _long_case(folder, unit):
    lines = []
    for n in range(30_000):
        lines += payment("2021-01-05", f"记-{n}", "1.00")
        if n % 7_000 == 3:
            lines.append([])
        if n % 11_000 == 5:
            lines += [["", "", "", "本月合计", "", "", "4.00", "4.00"], VOUCHER_HEADER]
    voucher_file(folder / "long.csv", lines, unit=f"{unit} 测试单位", encoding="utf-8")


def test_source_rows_follow_the_file_over_many_reader_buffers(shared_load):
    """Row numbers come from the order DuckDB's reader hands the rows over in; a long file
    with empty lines, footers and a repeated header checks them all."""
    landing, warehouse = shared_load
    path = landing / "long" / "long.csv"
    # The physical line of every data row, as a spreadsheet would number it.
    text = path.read_text(encoding="utf-8").splitlines()
    expected = [(number, line.split(",")[1]) for number, line in enumerate(text, 1) if line.startswith("2021-")]
    assert len(expected) == 120_000
    got = query(warehouse, "SELECT source_row, voucher_no FROM staging.voucher_lines "
                           "WHERE starts_with(source_file, 'long/') ORDER BY source_row")
    assert got == expected
    assert query(warehouse, "SELECT rows_raw, rows_footer FROM meta.sources "
                            "WHERE starts_with(source_file, 'long/')") == [(120_000 + 6, 6)]


def test_a_file_that_vanishes_before_it_is_written_again_is_reported_not_lost(tmp_path):
    """RawBatch writes the files again after a failure aborted its transaction; one that
    cannot be written again (removed meanwhile) goes to on_lost, the others are kept."""
    import duckdb

    from pipelines.warehouse.raw_batches import RawBatch

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE t (f VARCHAR, x VARCHAR)")
    files = {}
    for name, body in (("a", "1\n2\n"), ("b", "3\n"), ("c", "4,5\n6\n")):  # c: two cells, one column
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_text(body)

    def read(name, progress=None):
        con.execute(f"INSERT INTO t SELECT '{name}', x FROM read_csv('{files[name].as_posix()}', header=false, "
                    "auto_detect=false, strict_mode=true, columns={'x': 'VARCHAR'})")
        return [name]

    lost = []
    batch = RawBatch(con, on_lost=lambda key, error: lost.append((key, type(error).__name__)))
    assert batch.write("a", lambda **_: read("a")) == ["a"]
    assert batch.write("b", lambda **_: read("b")) == ["b"]
    files["b"].unlink()
    with pytest.raises(duckdb.InvalidInputException):
        batch.write("c", lambda **_: read("c"))
    batch.commit()
    assert lost == [("b", "IOException")]
    assert con.execute("SELECT f, x FROM t ORDER BY x").fetchall() == [("a", "1"), ("a", "2")]
    assert con.execute("SELECT current_setting('threads')").fetchall()[0][0] > 1  # given back
    con.close()
