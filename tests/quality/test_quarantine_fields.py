"""Every way a staging model rejects a row names the field the problem is in (its contract
name) and the cell as the file wrote it, in the quarantine (field, value beside
reason_code) and in quarantine/quarantine.parquet: one load of small exports with one
broken row per reject, each case checked on its own."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import VOUCHER_HEADER, query, run_load, voucher_file, write_csv, write_xlsx

UNIT = "900001"
VOUCHERS = f"{UNIT}/2021/2021年序时账.csv"
NO_UNIT = "无单位序时账.csv"
LOSSY = f"{UNIT}/2021/2021年12月序时账.csv"  # GB18030 with a byte that is not GB18030
BUDGET = f"{UNIT}/2021/2021年预算指标.csv"
LEDGER = f"{UNIT}/2021/2021年项目台账.xlsx"
STAFFING = f"{UNIT}/2021/2021年人员情况.csv"
PROCUREMENT = f"{UNIT}/2021/2021年政府采购台账.csv"


def _line(date="2021-03-15", no="记-0001", account="7101", name="行政支出", debit="100.00", credit="",
          func="2120101", econ="30201", summary="测试") -> list[object]:
    return [date, no, 1, summary, account, name, debit, credit, func, econ, "", "一般公共预算"]


# (file, sheet, physical row) -> (reason_code, field, value). Voucher rows start on row 6
# (three title lines and the header); each broken line is a voucher of its own, so that no
# other line is left unbalanced by its rejection.
VOUCHER_CASES = [
    (_line(account="", name="行政支出", no="记-0101"), ("missing_required", "account_code", None)),
    (_line(date="", no="记-0102"), ("missing_required", "voucher_date", None)),
    (_line(no=""), ("missing_required", "voucher_no", None)),
    (_line(account="行政支出", no="记-0104"), ("missing_required", "account_code", "行政支出")),
    (_line(date="2021-13-45", no="记-0105"), ("unreadable_date", "voucher_date", "2021-13-45")),
    (_line(debit="12,3x4.00", no="记-0106"), ("unreadable_amount", "debit", "12,3x4.00")),
    (_line(debit="", credit="壹佰元", no="记-0107"), ("unreadable_amount", "credit", "壹佰元")),
    (_line(date="2022-01-05", no="记-0108"), ("date_out_of_range", "voucher_date", "2022-01-05")),
    (_line(econ="", no="记-0109"), ("missing_required", "econ_class", None)),
    (_line(econ="39998 未知分类", no="记-0110"), ("unknown_econ_code", "econ_class", "39998 未知分类")),
    (_line(func="2129998", no="记-0111"), ("unknown_func_code", "func_class", "2129998")),
    # an unbalanced voucher: each line names the side it is booked on
    (_line(no="记-0112", debit="100.00"), ("unbalanced_voucher", "debit", "100.00")),
    (_line(no="记-0112", account="6001", name="财政拨款预算收入", debit="", credit="90.00", func="", econ=""),
     ("unbalanced_voucher", "credit", "90.00")),
]

BUDGET_HEADER = ["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额",
                 "政府采购预算"]


def _budget(unit=UNIT, year="2021", kind="年初预算", func="2120101", econ="30201", amount="1,000.00",
            procurement="") -> list[object]:
    return [unit, year, "测财〔2021〕1号", kind, func, econ, "", "一般公共预算", amount, procurement]


BUDGET_CASES = [  # rows from 2 (the header on row 1)
    (_budget(unit=""), ("missing_required", "unit_code", None)),
    (_budget(amount=""), ("missing_required", "amount", None)),
    (_budget(year=""), ("missing_required", "fiscal_year", None)),
    (_budget(year="1899"), ("unreadable_year", "fiscal_year", "1899")),
    (_budget(amount="1,0OO.00"), ("unreadable_amount", "amount", "1,0OO.00")),
    (_budget(procurement="若干"), ("unreadable_amount", "procurement_amount", "若干")),
    (_budget(kind="年出预算"), ("unknown_budget_kind", "budget_kind", "年出预算")),
    (_budget(econ="39998 未知分类"), ("unknown_econ_code", "econ_class", "39998 未知分类")),
    (_budget(func="2129998 未知分类"), ("unknown_func_code", "func_class", "2129998 未知分类")),
]

PROJECT_HEADER = ["单位编码", "项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性", "开工日期",
                  "计划完工日期", "状态", "年度"]


def _project(code="900001-2021-01", start="2021-03-01", end="2021-12-31", year=2021) -> list[object]:
    return [UNIT, code, "测试项目", "业务类", "办公室", "否", "公开", start, end, "实施中", year]


PROJECT_CASES = [
    (_project(code=None), ("missing_required", "project_code", None)),
    (_project(year="二〇二一年"), ("unreadable_year", "fiscal_year", "二〇二一年")),
    (_project(start="2021-02-30"), ("unreadable_date", "start_date", "2021-02-30")),
    (_project(end="年底"), ("unreadable_date", "end_date", "年底")),
]

INDICATOR_HEADER = ["单位编码", "项目编码", "一级指标", "二级指标", "三级指标", "计量单位", "指标方向", "年度指标值",
                    "实际完成值", "分值", "年度", "得分"]


def _indicator(name="维修里程", weight=10, score=None) -> list[object]:
    return [UNIT, "900001-2021-01", "产出指标", "数量指标", name, "公里", "≥", 10, 10, weight, 2021, score]


INDICATOR_CASES = [
    (_indicator(name=None), ("missing_required", "name", None)),
    (_indicator(weight="十分"), ("unreadable_number", "weight", "十分")),
    (_indicator(score="优"), ("unreadable_number", "score", "优")),
]

STAFFING_HEADER = ["单位编码", "年度", "编制数", "实有在职人数", "离退休人数"]
STAFFING_CASES = [
    ([UNIT, "", 20, 18, 3], ("missing_required", "fiscal_year", None)),
    ([UNIT, 2021, "二十", 18, 3], ("unreadable_number", "authorized", "二十")),
    ([UNIT, 2021, 20, "约18", 3], ("unreadable_number", "in_service", "约18")),
    ([UNIT, 2021, 20, 18, "3人左右"], ("unreadable_number", "retired", "3人左右")),
]

PROCUREMENT_HEADER = ["单位编码", "年度", "项目编码", "合同编号", "采购方式", "合同金额", "签订日期"]


def _contract(year="2021", amount="50,000.00", date="2021/5/10", no="HT-01") -> list[object]:
    return [UNIT, year, "900001-2021-01", no, "询价", amount, date]


PROCUREMENT_CASES = [
    (_contract(year="", date=""), ("missing_required", "fiscal_year", None)),
    (_contract(date="2021/2/30"), ("unreadable_date", "date", "2021/2/30")),
    (_contract(year="今年"), ("unreadable_year", "fiscal_year", "今年")),
    (_contract(year="", date="1999/3/1"), ("unreadable_year", "date", "1999/3/1")),  # the year read from the date
    (_contract(amount="五万元"), ("unreadable_amount", "contract_amount", "五万元")),
    (_contract(date="1999/3/1"), ("date_out_of_range", "date", "1999/3/1")),
]


def _cases() -> dict[tuple[str, str | None, int], tuple[str, str, str | None]]:
    cases = {(VOUCHERS, None, 6 + i): want for i, (_, want) in enumerate(VOUCHER_CASES)}
    cases[(NO_UNIT, None, 2)] = ("missing_required", "unit_code", None)
    cases[(LOSSY, None, 8)] = ("unreadable_text", "summary", "坏\ufffd字")
    cases |= {(BUDGET, None, 2 + i): want for i, (_, want) in enumerate(BUDGET_CASES)}
    cases |= {(LEDGER, "项目", 2 + i): want for i, (_, want) in enumerate(PROJECT_CASES)}
    cases |= {(LEDGER, "绩效指标", 2 + i): want for i, (_, want) in enumerate(INDICATOR_CASES)}
    cases |= {(STAFFING, None, 2 + i): want for i, (_, want) in enumerate(STAFFING_CASES)}
    cases |= {(PROCUREMENT, None, 2 + i): want for i, (_, want) in enumerate(PROCUREMENT_CASES)}
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    landing = tmp_path_factory.mktemp("rejects") / "landing"
    good = [_line(no="记-0001"), _line(no="记-0001", account="6001", name="财政拨款预算收入", debit="", credit="100.00",
                                       func="", econ="")]
    voucher_file(landing / VOUCHERS, [line for line, _ in VOUCHER_CASES] + good,
                 unit=f"{UNIT} 测试单位", period="2021年1月1日至2021年12月31日", encoding="utf-8")
    write_csv(landing / NO_UNIT, [VOUCHER_HEADER, _line()])
    # the undecodable byte past the first 256 KiB, which decode as GB18030 (readers.HEAD_BYTES):
    # a balanced voucher with a long summary first
    filler = [_line(date="2021-12-01", no="记-1200", summary="备注" * 140_000),
              _line(date="2021-12-01", no="记-1200", account="6001", name="财政拨款预算收入", debit="",
                    credit="100.00", func="", econ="")]
    lossy = voucher_file(landing / LOSSY, filler + [_line(date="2021-12-01", no="记-1201", summary="坏X字")],
                         unit=f"{UNIT} 测试单位", period="2021年12月1日至2021年12月31日")
    lossy.write_bytes(lossy.read_bytes().replace(b"X", b"\x80"))
    write_csv(landing / BUDGET, [BUDGET_HEADER] + [row for row, _ in BUDGET_CASES] + [_budget()])
    write_xlsx(landing / LEDGER, {
        "项目": [PROJECT_HEADER] + [row for row, _ in PROJECT_CASES] + [_project()],
        "绩效指标": [INDICATOR_HEADER] + [row for row, _ in INDICATOR_CASES] + [_indicator()],
    })
    write_csv(landing / STAFFING, [STAFFING_HEADER] + [row for row, _ in STAFFING_CASES] + [[UNIT, 2021, 20, 18, 3]])
    write_csv(landing / PROCUREMENT, [PROCUREMENT_HEADER] + [row for row, _ in PROCUREMENT_CASES] + [_contract()]
              + [_contract(amount="", no="HT-EMPTY")])
    warehouse = tmp_path_factory.mktemp("rejects_warehouse")
    assert run_load(landing, warehouse) == 0
    return warehouse


@pytest.fixture(scope="module")
def quarantined(warehouse) -> dict[tuple, tuple]:
    rows = query(warehouse, "SELECT source_file, sheet, source_row, reason_code, field, value FROM quarantine")
    return {(f, s, r): (code, field, value) for f, s, r, code, field, value in rows}


def test_the_quarantine_holds_the_broken_rows_and_no_other(quarantined):
    assert set(quarantined) == set(CASES)


@pytest.mark.parametrize("key", list(CASES), ids=[f"{f.rsplit('/', 1)[-1]}{f'[{s}]' if s else ''}:{r}"
                                                    for f, s, r in CASES])
def test_each_reject_names_its_field_and_value(quarantined, key):
    assert quarantined[key] == CASES[key]


def test_the_published_quarantine_carries_field_and_value(warehouse, quarantined):
    published = query(warehouse, "SELECT source_file, sheet, source_row, reason_code, field, value "
                                 f"FROM read_parquet('{warehouse / 'quarantine' / 'quarantine.parquet'}')")
    assert {(f, s, r): (code, field, value) for f, s, r, code, field, value in published} == quarantined


def test_an_empty_contract_amount_is_zero(warehouse):
    # contract 2: "`-` or empty for zero"; missing_required names the budget line's amount only.
    assert query(warehouse, "SELECT contract_amount, reject_code FROM staging.procurement WHERE contract_no = 'HT-EMPTY'"
                 ) == [(Decimal("0.00"), None)]
