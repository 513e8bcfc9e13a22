"""The official definitions, each pinned by a worked example on a real load of a small
landing folder written here (contract 2.1 and domain.md "Common indicators", changed
2026-11-29). Figures are chosen so the expected values can be checked by hand.

A load costs seconds whatever its size, so the examples share ONE load (the fixture
`cases`): each is written into a folder of its own under units of its own, and its tests
read only those units' rows (test_each_case_keeps_to_its_own_units checks that no row
lands under a unit no example wrote). Only the example that needs a rules file of its
own has a load of its own.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import payment, query, run_load, voucher_file, write_csv, write_xlsx

# Each example's units (the shared load keeps them apart).
TYPED = "900001"                                        # spending types
OVER = "900002"                                         # unit over budget with 经营支出
EXACT = "900003"                                        # rates exactly at their standards
UNIT, UNIT_B = "900011", "900012"                       # common indicators (budgeted)
CARRIED_A, CARRIED_B, CARRIED_C = "900021", "900022", "900023"  # 结转结余变动率
STANDARDS = "900031"                                    # every kind of standard (a load of its own)
YEAR = 2021
BUDGET_HEADER = ["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额",
                 "政府采购预算"]
PROJECT_HEADER = ["单位编码", "项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性", "年度"]
INDICATOR_HEADER = ["单位编码", "项目编码", "一级指标", "二级指标", "三级指标", "计量单位", "指标方向", "年度指标值",
                    "实际完成值", "分值", "年度", "得分"]


PROCUREMENT_HEADER = ["单位编码", "年度", "项目编码", "合同编号", "采购方式", "合同金额", "签订日期"]


def budget(kind: str, amount: str, unit: str, econ: str = "30201", project: str = "", fund: str = "一般公共预算",
           procurement: str = "", year: int = YEAR) -> list[object]:
    return [unit, year, f"测财〔{year}〕1号", kind, "2120101", econ, project, fund, amount, procurement]


def closing(date: str, no: str, account: str, amount: str) -> list[list[object]]:
    """A year-end closing entry of the budget book: Dr 6001 / Cr a 结转结余 account (8101 …)."""
    return [[date, no, 1, "年末结转", "6001", "财政拨款预算收入", amount, "", "", "", "", ""],
            [date, no, 2, "年末结转", account, "财政拨款结转", "", amount, "", "", "", ""]]


def landing(root: Path, unit: str, vouchers: list[list[object]], budget_rows: list[list[object]],
            projects: list[list[object]] = (), indicators: list[list[object]] = (),
            extra_files: dict[str, list[list[object]]] | None = None,
            other_units: dict[str, list[list[object]]] | None = None) -> Path:
    """A landing folder of one unit-year (more units' vouchers in other_units): vouchers
    (CSV), budget (CSV), ledger (XLSX), and any extra CSV files."""
    voucher_file(root / "vouchers.csv", vouchers, unit=f"{unit} 测试单位")
    for other, lines in (other_units or {}).items():
        voucher_file(root / f"vouchers_{other}.csv", lines, unit=f"{other} 测试单位乙")
    write_csv(root / "budget.csv", [BUDGET_HEADER, *budget_rows])
    write_xlsx(root / "ledger.xlsx", {
        "项目": [PROJECT_HEADER, *projects],
        "绩效指标": [INDICATOR_HEADER, *indicators],
    })
    for name, rows in (extra_files or {}).items():
        write_csv(root / name, rows)
    return root


def project(unit: str, code: str, name: str, key: str = "否", disclosure: str = "公开") -> list[object]:
    return [unit, code, name, "市政", "城建股", key, disclosure, YEAR]


def indicators_of(wh: Path, unit: str) -> dict[str, tuple]:
    return {code: (value, numerator, denominator, meets, reason) for code, value, numerator, denominator, meets, reason
            in query(wh, "SELECT indicator_code, value, numerator, denominator, meets_standard, reason "
                         "FROM build.evaluation_indicators WHERE unit_code = ? AND fiscal_year = ?", [unit, YEAR])}


# ---------------------------------------------------------------- the shared load


def write_cases(root: Path) -> None:
    """Every example of this module but the one with a rules file of its own, each in a
    folder of its own."""
    write_typed(root / "typed")
    write_over_budget(root / "over_budget")
    write_exact(root / "exact")
    write_budgeted(root / "budgeted")
    write_carried(root / "carried")


CASE_UNIT_YEARS = {(TYPED, YEAR), (OVER, YEAR), (EXACT, YEAR), (UNIT, YEAR), (UNIT_B, YEAR),
                   *((unit, year) for unit in (CARRIED_A, CARRIED_B, CARRIED_C) for year in (2021, 2022))}


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> Path:
    """The examples loaded together, once (OVER's is a warning, nothing blocks: exit 0)."""
    root = tmp_path_factory.mktemp("definitions_landing")
    write_cases(root)
    warehouse = tmp_path_factory.mktemp("definitions_wh")
    assert run_load(root, warehouse) == 0
    return warehouse


def test_each_case_keeps_to_its_own_units(cases):
    # The tests below read their own units' rows: no row may land under a unit no example
    # wrote (no test would see it), and every unit-year is published.
    for table in ("spending_by_year", "spending_by_category", "budget_execution", "evaluation_indicators"):
        assert set(query(cases, f"SELECT DISTINCT unit_code, fiscal_year FROM build.{table}")) == CASE_UNIT_YEARS, table
    assert set(query(cases, "SELECT DISTINCT unit_code, fiscal_year FROM meta.published")) == CASE_UNIT_YEARS


# ---------------------------------------------------------------- spending types (contract 2.1)


def write_typed(root: Path) -> None:
    """TYPED: one voucher on each kind of expenditure account. 7101/7201 split by project
    code; 7301 (even with a project code, paid from 单位资金), 7401, 7501 and 7901 are types of
    their own. Spending: basic 5,550, project 2,000, other types 750, total 8,300; budget
    basic 10,000 and P01 2,500, all 一般公共预算 年初预算: final 12,500."""
    vouchers = [
        *payment("2021-03-01", "记-0001", "1000.00", econ="30201"),                        # 基本, 公用经费
        *payment("2021-03-02", "记-0002", "4000.00", econ="30101"),                        # 基本, personnel
        *payment("2021-03-03", "记-0003", "2000.00", econ="31005", project="P01"),         # 项目
        *payment("2021-03-04", "记-0004", "500.00", econ="30201", account="7201"),        # 基本 (事业支出)
        *payment("2021-03-05", "记-0005", "300.00", econ="30201", project="P01", account="7301",
                 fund="单位资金"),                                                            # 经营支出
        *payment("2021-03-06", "记-0006", "200.00", econ="39999", account="7401"),        # 上缴上级支出
        *payment("2021-03-07", "记-0007", "100.00", econ="31299", account="7501"),        # 对附属单位补助支出
        *payment("2021-03-08", "记-0008", "50.00", econ="30217"),                          # 基本, 公用经费, 三公
        *payment("2021-03-09", "记-0009", "150.00", econ="30217", account="7901"),        # 其他支出: not 三公
    ]
    budget_rows = [budget("年初预算", "6000.00", TYPED), budget("年初预算", "4000.00", TYPED, econ="30101"),
                   budget("年初预算", "2500.00", TYPED, econ="31005", project="P01")]
    landing(root, TYPED, vouchers, budget_rows, projects=[project(TYPED, "P01", "道路维修")])


@pytest.fixture(scope="module")
def typed(cases) -> Path:
    return cases


def test_spending_types_by_account(typed):
    rows = query(typed, "SELECT spending_type, sum(amount_yuan) FROM build.spending_by_category "
                        "WHERE unit_code = ? GROUP BY ALL ORDER BY 1", [TYPED])
    assert dict(rows) == {
        "基本支出": Decimal("5550.00"), "项目支出": Decimal("2000.00"), "经营支出": Decimal("300.00"),
        "上缴上级支出": Decimal("200.00"), "对附属单位补助支出": Decimal("100.00"),
        "其他支出": Decimal("150.00"),
    }


def test_year_totals_keep_other_types_apart(typed):
    assert query(typed, "SELECT basic_yuan, project_yuan, other_yuan, total_yuan, personnel_yuan, public_funds_yuan "
                        "FROM build.spending_by_year WHERE unit_code = ?", [TYPED]) == [
        (Decimal("5550.00"), Decimal("2000.00"), Decimal("750.00"), Decimal("8300.00"), Decimal("4000.00"),
         Decimal("1550.00"))]


def test_three_public_is_basic_or_project_spending_only(typed):
    # The 7901 其他支出 line on 30217 公务接待费 is never 基本 or 项目 (contract 2.1), so not 三公 (contract 3).
    assert query(typed, "SELECT three_public_yuan FROM build.spending_by_year WHERE unit_code = ?", [TYPED]) == [
        (Decimal("50.00"),)]
    assert query(typed, "SELECT spent_yuan FROM build.three_public WHERE item_code = '30217' AND unit_code = ?",
                 [TYPED]) == [(Decimal("50.00"),)]


def test_project_spending_is_only_its_project_lines(typed):
    # The 7301 line names P01 but is 经营支出, not the project's spending.
    assert query(typed, "SELECT project_code, spent_yuan FROM build.spending_by_project WHERE unit_code = ?",
                 [TYPED]) == [
        ("P01", Decimal("2000.00"))]


def test_spending_against_the_budget_is_total_spending(typed):
    # Contract 3: spending = Σ(debit − credit) on 7xxx lines, every type (2.1: basic + project
    # + the other types = total): 5,550 + 2,000 + 750 = 8,300 against the final budget 12,500.
    indicators = indicators_of(typed, TYPED)
    value, numerator, denominator, meets, reason = indicators["budget_completion"]
    assert (numerator, denominator) == (Decimal("8300.00"), Decimal("12500.00"))
    assert value == pytest.approx(0.664)
    assert meets is False and reason is None
    # A closed year: 支付进度率 = 8,300 / (12,500 × 12 / 12); 结转结余 = 12,500 − 8,300.
    assert indicators["payment_progress"][:3] == (pytest.approx(0.664), Decimal("8300.00"), Decimal("12500.00"))
    assert indicators["carryover_rate"][:3] == (pytest.approx(0.336), Decimal("4200.00"), Decimal("12500.00"))


def write_over_budget(root: Path) -> None:
    """OVER: basic 900 ≤ 1,000 alone, but with 200 of 经营支出 the unit spent 1,100."""
    landing(root, OVER, [
        *payment("2021-05-01", "记-0001", "900.00", econ="30201"),
        *payment("2021-05-02", "记-0002", "200.00", econ="30201", account="7301", fund="单位资金"),
    ], [budget("年初预算", "1000.00", OVER)])


def test_unit_over_budget_compares_total_spending(cases):
    # TYPED: 8,300 ≤ 12,500, nothing to say (nor of any other example but OVER). OVER: basic
    # 900 ≤ 1,000 alone, but with 200 of 经营支出 the unit spent 1,100: a warning, not a
    # blocking failure (the load exits 0, `cases`; and OVER is published,
    # test_each_case_keeps_to_its_own_units).
    assert query(cases, "SELECT count(*) FROM quality.results WHERE check_id = 'unit_over_budget' "
                        "AND unit_code = ?", [TYPED]) == [(0,)]
    assert query(cases, "SELECT unit_code, fiscal_year, field, value_provided, value_expected, difference "
                        "FROM quality.results WHERE check_id = 'unit_over_budget'") == [
        (OVER, YEAR, "全年执行数", "1100.00", "≤ 全年预算数 1000.00", Decimal("100.00"))]


def test_self_evaluation_table_rows_add_up_with_other_types(typed):
    # 年度资金总额's 全年执行数 is total spending (8,300 yuan = 0.83 万元; 执行率 0.664, score
    # 6.64); 按支出性质分 lists each other type with spending after 基本 and 项目, without budget
    # or 执行率; the fund-source rows take the other types' spending too (经营支出 from 单位资金:
    # 其他资金), so both blocks add up to the total, in yuan (万元 cells may differ by 尾差).
    import duckdb
    import openpyxl

    from pipelines.evaluation.figures import read_figures
    from pipelines.evaluation.rules import load_rules
    from pipelines.evaluation.scoring import evaluate

    out = typed / "reports" / TYPED / str(YEAR)
    rows = list(openpyxl.load_workbook(out / "部门整体支出绩效自评表.xlsx").active.iter_rows(values_only=True))
    start = rows.index(next(r for r in rows if r[0] == "年度资金总额"))
    assert rows[start:start + 10] == [
        ("年度资金总额", None, 1.25, 1.25, 0.83, 10, 0.664, 6.64),
        ("按资金来源分", "本年财政拨款", 1.25, 1.25, 0.8, None, 0.64, None),
        (None, "上年结转资金", 0, 0, 0, None, None, None),
        (None, "其他资金", 0, 0, 0.03, None, None, None),
        ("按支出性质分", "基本支出", 1, 1, 0.56, None, 0.555, None),
        (None, "项目支出", 0.25, 0.25, 0.2, None, 0.8, None),
        (None, "经营支出", 0, 0, 0.03, None, None, None),
        (None, "上缴上级支出", 0, 0, 0.02, None, None, None),
        (None, "对附属单位补助支出", 0, 0, 0.01, None, None, None),
        (None, "其他支出", 0, 0, 0.02, None, None, None),
    ]
    assert rows[start + 10][0] == "年度总体目标"  # nothing else in the block

    con = duckdb.connect(str(typed / "warehouse.duckdb"), read_only=True)
    try:
        ev = evaluate(read_figures(con, TYPED, YEAR), load_rules())
    finally:
        con.close()
    for group in ("按资金来源分", "按支出性质分"):
        assert sum(r.spent for r in ev.rows if r.group == group) == ev.total_row.spent == Decimal("8300.00")

    # The report, Markdown and DOCX, states the table's figures.
    import docx

    sentence = ("全年支出0.83万元，预算执行率66.40%。其中基本支出0.56万元，项目支出0.20万元，经营支出0.03万元，"
                "上缴上级支出0.02万元，对附属单位补助支出0.01万元，其他支出0.02万元。")
    markdown = (out / "部门整体支出绩效自评报告.md").read_text(encoding="utf-8")
    document = "\n".join(p.text for p in docx.Document(str(out / "部门整体支出绩效自评报告.docx")).paragraphs)
    for report in (markdown, document):
        assert sentence in report
        assert "预算执行率66.40%，预算执行得分6.64分" in report


def test_no_fatal_or_tieout_failure_with_other_types(typed):
    failed = query(typed, "SELECT check_id FROM quality.check_runs WHERE NOT passed AND severity <> 'warning' "
                          "OR check_id LIKE '%tieout%' AND NOT passed")
    assert failed == []


# ---------------------------------------------------------------- common indicators (domain.md)


def write_budgeted(root: Path) -> None:
    """Unit A (UNIT): every budget kind, a key and an ordinary project, payments spread over the
    year, procurement at exactly 90 % of its budget. Unit B (UNIT_B): a year-end 8101 balance and
    procurement at 20 %.

    Budget of A (yuan): basic 30101 年初 5,000; basic 30201 年初 3,000 (procurement 1,000),
    调剂 +300 and −200; P01 (key) 年初 6,000, 追加 2,000; P02 年初 4,000, 追减 1,000,
    上年结转 1,000. Initial 18,000; final 20,100.
    Spending of A: 31 Mar 4,000 (30101); 31 May 1,500 (30201); 15 Aug 6,000 (P01);
    15 Sep 500 (31002 basic, 一般设备购置); 15 Nov 3,000 (P02). Total 15,000.
    """
    vouchers = [
        *payment("2021-03-31", "记-0001", "4000.00", econ="30101"),
        *payment("2021-05-31", "记-0002", "1500.00", econ="30201"),
        *payment("2021-08-15", "记-0003", "6000.00", econ="31005", project="P01"),
        *payment("2021-09-15", "记-0004", "500.00", econ="31002"),
        *payment("2021-11-15", "记-0005", "3000.00", econ="30227", project="P02"),
    ]
    budget_rows = [
        budget("年初预算", "5000.00", UNIT, econ="30101"),
        budget("年初预算", "3000.00", UNIT, econ="30201", procurement="1000.00"),
        budget("调剂", "300.00", UNIT, econ="30201"),
        budget("调剂", "-200.00", UNIT, econ="30201"),
        budget("年初预算", "6000.00", UNIT, econ="31005", project="P01"),
        budget("追加", "2000.00", UNIT, econ="31005", project="P01"),
        budget("年初预算", "4000.00", UNIT, econ="30227", project="P02"),
        budget("追减", "1000.00", UNIT, econ="30227", project="P02"),
        budget("上年结转", "1000.00", UNIT, econ="30227", project="P02"),
        budget("年初预算", "3000.00", UNIT_B, econ="30201", procurement="1000.00"),
    ]
    vouchers_b = [*payment("2021-03-01", "记-0001", "1000.00", econ="30201"),
                  *closing("2021-12-31", "记-0099", "8101", "2345.67")]
    procurement = [PROCUREMENT_HEADER, [UNIT, YEAR, "", "CG-001", "公开招标", "900.00", "2021-04-01"],
                   [UNIT_B, YEAR, "", "CG-101", "询价", "200.00", "2021-04-01"]]
    indicators = [  # department level: a qualitative one scored by hand, one unscored, one over-achieved
        [UNIT, "", "满意度指标", "服务对象满意度指标", "群众满意度", "", "", "较高", "高", 10, YEAR, 8],
        [UNIT, "", "效益指标", "社会效益指标", "群众居住条件改善", "", "", "明显改善", "有所改善", 10, YEAR, ""],
        [UNIT, "", "产出指标", "数量指标", "道路维修里程", "公里", "≥", "100", "150", 20, YEAR, ""],
    ]
    landing(root, UNIT, vouchers, budget_rows,
            projects=[project(UNIT, "P01", "道路维修", key="是"), project(UNIT, "P02", "课题研究")],
            indicators=indicators, extra_files={"procurement.csv": procurement}, other_units={UNIT_B: vouchers_b})


@pytest.fixture(scope="module")
def budgeted(cases) -> Path:
    return cases


def test_key_spending_share_is_on_final_budgets(budgeted):
    # 53号: 重点项目支出 / 项目总支出, both 年度预算安排的: P01 final 8,000 / projects final 12,000.
    value, numerator, denominator, meets, _ = indicators_of(budgeted, UNIT)["key_spending_share"]
    assert (numerator, denominator) == (Decimal("8000.00"), Decimal("12000.00"))
    assert value == pytest.approx(2 / 3)
    assert meets is None  # only reported


def test_budget_adjustment_counts_every_move_and_not_the_carry_over(budgeted):
    # 追加 2,000 + |追减| 1,000 + 调剂 moved in 300 = 3,300 (调出 −200 and 上年结转 1,000 are not
    # adjustments) over the initial 18,000.
    value, numerator, denominator, meets, _ = indicators_of(budgeted, UNIT)["budget_adjustment"]
    assert (numerator, denominator) == (Decimal("3300.00"), Decimal("18000.00"))
    assert value == pytest.approx(3300 / 18000)
    assert meets is None


def test_carryover_is_final_budget_minus_spending_without_balances(budgeted):
    value, numerator, denominator, _, _ = indicators_of(budgeted, UNIT)["carryover_rate"]
    assert (numerator, denominator) == (Decimal("5100.00"), Decimal("20100.00"))
    formula = query(budgeted, "SELECT formula FROM build.evaluation_indicators WHERE unit_code = ? "
                              "AND indicator_code = 'carryover_rate'", [UNIT])[0][0]
    assert "全年预算数 - 全年支出" in formula


def test_carryover_comes_from_the_8xxx_balances_where_booked(budgeted):
    # Unit B closed its year into 8101: the carry-over is that balance, 2,345.67, not 3,000 − 1,000.
    row = query(budgeted, "SELECT numerator, denominator, formula FROM build.evaluation_indicators "
                          "WHERE unit_code = ? AND indicator_code = 'carryover_rate'", [UNIT_B])[0]
    assert row[:2] == (Decimal("2345.67"), Decimal("3000.00"))
    assert "8101" in row[2]


def test_public_funds_control_uses_the_one_definition(budgeted):
    # 公用经费 = basic spending outside 301/303: 1,500 (30201) + 500 (31002 一般设备购置) = 2,000,
    # = spending_by_year.public_funds_yuan; budget: basic outside 301/303 = 3,000 + 300 − 200.
    value, numerator, denominator, meets, _ = indicators_of(budgeted, UNIT)["public_funds_control"]
    assert (numerator, denominator) == (Decimal("2000.00"), Decimal("3100.00"))
    assert query(budgeted, "SELECT public_funds_yuan FROM build.spending_by_year WHERE unit_code = ?", [UNIT]) == [
        (Decimal("2000.00"),)]
    assert meets is True


def test_procurement_execution_between_90_and_100_percent(budgeted):
    a = indicators_of(budgeted, UNIT)["procurement_execution"]
    assert (a[1], a[2], a[3]) == (Decimal("900.00"), Decimal("1000.00"), True)  # 90 %: the bound is included
    b = query(budgeted, "SELECT value, meets_standard, standard FROM build.evaluation_indicators "
                        "WHERE unit_code = ? AND indicator_code = 'procurement_execution'", [UNIT_B])[0]
    assert b[0] == pytest.approx(0.2) and b[1] is False  # "≤ 100 %" used to let this pass
    assert b[2] == "90.0%～100.0%（含）"


def test_payment_progress_of_a_closed_year_with_the_checkpoints_beside_it(budgeted):
    # The value is the contract's (domain.md): spending / (final budget x 12 / 12) for a closed
    # year, 15,000 / 20,100 = 74.63 %. The payments at the rules file's checkpoints are shown in
    # `formula`: by 30 June 5,500 against 50 % of 20,100 (54.73 %), by 30 September 12,000
    # against 75 % (79.60 %).
    value, numerator, denominator, meets, _ = indicators_of(budgeted, UNIT)["payment_progress"]
    assert (numerator, denominator) == (Decimal("15000.00"), Decimal("20100.00"))
    assert value == pytest.approx(15000 / 20100)
    assert meets is False
    formula = query(budgeted, "SELECT formula FROM build.evaluation_indicators WHERE unit_code = ? "
                              "AND indicator_code = 'payment_progress'", [UNIT])[0][0]
    assert "6月30日 累计支出0.55万元，目标50.00%，进度率54.73%" in formula
    assert "9月30日 累计支出1.20万元，目标75.00%，进度率79.60%" in formula


# ---------------------------------------------------------------- verdicts decided exactly


def write_exact(root: Path) -> None:
    """EXACT: final budget 1,000,000.50 (all of it planned for procurement), spending and a
    contract of 900,000.45 (test_a_rate_exactly_at_its_standard_meets_it)."""
    procurement = [PROCUREMENT_HEADER, [EXACT, YEAR, "", "CG-001", "公开招标", "900000.45", "2021-04-01"]]
    landing(root, EXACT, payment("2021-06-30", "记-0001", "900000.45"),
            [budget("年初预算", "1000000.50", EXACT, procurement="1000000.50")],
            extra_files={"procurement.csv": procurement})


def test_a_rate_exactly_at_its_standard_meets_it(cases):
    # Final budget 1,000,000.50 (all of it planned for procurement), spending 900,000.45 and a
    # contract of 900,000.45: 预算完成率, 支付进度率 and 政府采购执行率 are each exactly 90 %, which
    # meets "≥ 90 %" and "between 90 % and 100 %" (both bounds included). In DOUBLE
    # 900000.45 / 1000000.5 is 0.8999999999999999, which did not.
    indicators = indicators_of(cases, EXACT)
    for code in ("budget_completion", "payment_progress", "procurement_execution"):
        assert indicators[code] == (0.9, Decimal("900000.45"), Decimal("1000000.50"), True, None), code
    # The report states the mart's verdict.
    report = (cases / "reports" / EXACT / str(YEAR) / "部门整体支出绩效自评报告.md").read_text(encoding="utf-8")
    assert "预算完成率90.00%（标准≥90.0%，达标）" in report
    assert "支付进度率90.00%（标准≥90.0%，达标）" in report
    assert "政府采购执行率90.00%（标准90.0%～100.0%（含），达标）" in report


def test_every_kind_of_standard_is_decided_exactly(tmp_path, monkeypatch):
    # Each rate below is exactly its threshold, and DOUBLE division misses it by one unit in
    # the last place, one way or the other; a rules file puts each operator on one of them.
    #   预算完成率 = 支付进度率 (closed year): 72,001.71 / 80,001.90 = 0.9 (DOUBLE 0.9000000000000001)
    #   公用经费控制率: (19,000.91 + 8,000.08) / (20,001.00 + 10,000.10) = 0.9 (DOUBLE 0.9000000000000001)
    #   “三公经费”控制率: 8,000.08 / 10,000.10 = 0.8 (DOUBLE 0.7999999999999999)
    #   政府采购执行率: 9,000.18 / 10,000.20 = 0.9 (DOUBLE 0.8999999999999999)
    from pipelines.evaluation.rules import DEFAULT_RULES_FILE

    rules = DEFAULT_RULES_FILE.read_text(encoding="utf-8")
    standards = ('[standards]\nbudget_completion = "> 0.9"\npayment_progress = "between 0.8 0.9"\n'
                 'public_funds_control = "<= 0.9"\nthree_public_control = "< 0.8"\nprocurement_execution = "= 0.9"\n')
    start, end = rules.index("[standards]"), rules.index("[payment_schedule]")
    (tmp_path / "rules.toml").write_text(rules[:start] + standards + "\n" + rules[end:], encoding="utf-8")
    monkeypatch.setenv("FISCAL_RULES_FILE", str(tmp_path / "rules.toml"))
    # A rules file is the whole load's: this example has a load of its own.
    procurement = [PROCUREMENT_HEADER, [STANDARDS, YEAR, "", "CG-001", "公开招标", "9000.18", "2021-04-01"]]
    root = landing(tmp_path / "landing", STANDARDS, [
        *payment("2021-03-31", "记-0001", "45000.72", econ="30101"),
        *payment("2021-05-31", "记-0002", "19000.91", econ="30201"),
        *payment("2021-06-30", "记-0003", "8000.08", econ="30217"),
    ], [budget("年初预算", "50000.80", STANDARDS, econ="30101"),
        budget("年初预算", "20001.00", STANDARDS, procurement="10000.20"),
        budget("年初预算", "10000.10", STANDARDS, econ="30217")], extra_files={"procurement.csv": procurement})
    assert run_load(root, tmp_path / "wh") == 0
    got = {code: (row[1], row[2], row[3]) for code, row in indicators_of(tmp_path / "wh", STANDARDS).items()}
    assert got["budget_completion"] == (Decimal("72001.71"), Decimal("80001.90"), False)        # > 0.9
    assert got["payment_progress"] == (Decimal("72001.71"), Decimal("80001.90"), True)          # ≤ the upper bound
    assert got["public_funds_control"] == (Decimal("27000.99"), Decimal("30001.10"), True)      # <= 0.9
    assert got["three_public_control"] == (Decimal("8000.08"), Decimal("10000.10"), False)      # < 0.8
    assert got["procurement_execution"] == (Decimal("9000.18"), Decimal("10000.20"), True)      # = 0.9
    assert query(tmp_path / "wh", "SELECT indicator_code, standard FROM build.evaluation_indicators "
                                  "WHERE indicator_code IN ('budget_completion', 'payment_progress', "
                                  "'three_public_control') ORDER BY 1") == [
        ("budget_completion", ">90.0%"), ("payment_progress", "80.0%～90.0%（含）"), ("three_public_control", "<80.0%")]


# ---------------------------------------------------------------- 结转结余变动率 compares like with like


def write_carried(root: Path) -> None:
    """Three units (CARRIED_A, _B, _C), 2021 and 2022, each year budget 50,000 then 100,000 (30201 年初预算) and
    spending 40,000 then 80,000: final budget − spending 10,000 then 20,000.
    Unit A closes both years into 8101: 12,000 in 2021, 3,000 more in 2022 (balance 15,000).
    Unit B closes only 2022 into 8101: 15,000. Unit C closes only 2021 into 8101: 12,000."""
    closings = {(CARRIED_A, 2021): "12000.00", (CARRIED_A, 2022): "3000.00", (CARRIED_B, 2022): "15000.00",
                (CARRIED_C, 2021): "12000.00"}
    budget_rows = []
    for unit in (CARRIED_A, CARRIED_B, CARRIED_C):
        for year, planned, spent in ((2021, "50000.00", "40000.00"), (2022, "100000.00", "80000.00")):
            lines = payment(f"{year}-06-30", "记-0001", spent)
            if (unit, year) in closings:
                lines += closing(f"{year}-12-31", "记-0099", "8101", closings[unit, year])
            voucher_file(root / f"vouchers_{unit}_{year}.csv", lines, unit=f"{unit} 测试单位")
            budget_rows.append(budget("年初预算", planned, unit, year=year))
    write_csv(root / "budget.csv", [BUDGET_HEADER, *budget_rows])


@pytest.fixture(scope="module")
def carried(cases) -> Path:
    return cases


def carryover_of(wh: Path, unit: str, code: str) -> tuple:
    return query(wh, "SELECT value, numerator, denominator, meets_standard, formula FROM build.evaluation_indicators "
                     "WHERE unit_code = ? AND fiscal_year = 2022 AND indicator_code = ?", [unit, code])[0]


def test_carryover_change_compares_balances_when_both_years_booked_them(carried):
    # Unit A: 8101 balances 12,000 (2021) and 15,000 (2022): (15,000 − 12,000) / 12,000.
    value, numerator, denominator, meets, formula = carryover_of(carried, CARRIED_A, "carryover_change")
    assert (value, numerator, denominator, meets) == (0.25, Decimal("3000.00"), Decimal("12000.00"), False)
    assert "本年和上年均取凭证中8101、8102、8201、8202科目的年末贷方余额" in formula


@pytest.mark.parametrize("unit", [CARRIED_B, CARRIED_C])
def test_carryover_change_uses_budget_minus_spending_for_both_years_when_one_lacks_balances(carried, unit):
    # Unit B booked 8101 only in 2022, unit C only in 2021: a balance against a budget −
    # spending figure is no change rate, so both years are final budget − spending (domain.md):
    # (20,000 − 10,000) / 10,000.
    value, numerator, denominator, meets, formula = carryover_of(carried, unit, "carryover_change")
    assert (value, numerator, denominator, meets) == (1.0, Decimal("10000.00"), Decimal("10000.00"), False)
    assert "本年和上年均取全年预算数 - 全年支出（只有一年的凭证记了结转结余科目，两年按同一口径比较）" in formula
    # 结转结余率 of the year itself keeps the year's own measure.
    rate = carryover_of(carried, unit, "carryover_rate")
    expected = Decimal("15000.00") if unit == CARRIED_B else Decimal("20000.00")
    assert rate[1:3] == (expected, Decimal("100000.00"))


# ---------------------------------------------------------------- scores and funding rows of the 自评表


def test_qualitative_indicators_take_the_ledger_score_or_stay_unscored(budgeted):
    rows = {name: (weight, score, reason) for name, weight, score, reason in query(
        budgeted, "SELECT name, weight, score, reason FROM build.performance_indicators WHERE unit_code = ?", [UNIT])}
    assert rows["群众满意度"] == (10, 8, "定性指标，得分取自台账“得分”列 / qualitative: the score entered in the ledger")
    weight, score, reason = rows["群众居住条件改善"]
    assert score is None and reason.startswith("指标值或完成值不是数值，需人工评分（在台账“绩效指标”表“得分”列填写）")
    # 150 against a target of 100: capped at full marks (rules file [scoring] completion_cap = 1).
    assert rows["道路维修里程"][:2] == (20, 20)


def test_funding_rows_follow_the_rules_file(budgeted):
    # 本年财政拨款 takes the fiscal lines of kinds 年初/追加/追减/调剂 (initial 18,000; final
    # 18,000 + 2,000 − 1,000 + 300 − 200 = 19,100); 上年结转资金 takes the 1,000 carried over and,
    # spending it first, 1,000 of the 15,000 spent; 本年财政拨款 the other 14,000.
    import duckdb

    from pipelines.evaluation.figures import read_figures
    from pipelines.evaluation.rules import load_rules
    from pipelines.evaluation.scoring import evaluate

    con = duckdb.connect(str(budgeted / "warehouse.duckdb"), read_only=True)
    try:
        ev = evaluate(read_figures(con, UNIT, YEAR), load_rules())
    finally:
        con.close()
    rows = [(r.group, r.label, r.initial, r.final, r.spent) for r in ev.rows]
    assert rows[:4] == [
        ("年度资金总额", "年度资金总额", Decimal("18000.00"), Decimal("20100.00"), Decimal("15000.00")),
        ("按资金来源分", "本年财政拨款", Decimal("18000.00"), Decimal("19100.00"), Decimal("14000.00")),
        ("按资金来源分", "上年结转资金", Decimal("0.00"), Decimal("1000.00"), Decimal("1000.00")),
        ("按资金来源分", "其他资金", Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
    ]
