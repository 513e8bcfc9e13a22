"""Scores and grades of the self-evaluation table.

Indicator scores are computed in SQL (sql/marts/performance_indicators.sql): run here on a
tmp DuckDB with hand-made core.fact_indicators rows. Budget-execution score, grades and
the money/percent formatting are Python (pipelines/evaluation).
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from pipelines.evaluation.numbers import fmt_pct, fmt_wan, round2, to_wan
from pipelines.evaluation.rules import RulesError, load_rules, register_rules
from pipelines.evaluation.scoring import budget_score, grade_of
from pipelines.settings import SQL_DIR

MART_SQL = (SQL_DIR / "marts" / "performance_indicators.sql").read_text(encoding="utf-8")


def scored(rows: list[tuple]) -> dict[str, tuple[float, float | None]]:
    """{name: (weight, score)} for indicator rows (project_code, level1, name, direction, target, actual, weight)."""
    con = duckdb.connect()
    try:
        con.execute("CREATE SCHEMA core")
        con.execute("CREATE TABLE core.dim_unit_year(unit_code VARCHAR, fiscal_year INTEGER, unit_name VARCHAR)")
        con.execute("INSERT INTO core.dim_unit_year VALUES ('900001', 2021, '测试单位')")
        con.execute("""CREATE TABLE core.fact_indicators(
            unit_code VARCHAR, fiscal_year INTEGER, project_code VARCHAR, level1 VARCHAR, level2 VARCHAR,
            name VARCHAR, measure_unit VARCHAR, direction VARCHAR, target_text VARCHAR, target DOUBLE,
            actual_text VARCHAR, actual DOUBLE, weight DOUBLE, note VARCHAR, hand_score DOUBLE,
            source_id VARCHAR, source_file VARCHAR, source_row INTEGER)""")
        for i, (project, level1, name, direction, target, actual, weight) in enumerate(rows, start=2):
            con.execute(
                "INSERT INTO core.fact_indicators VALUES ('900001', 2021, ?, ?, '数量指标', ?, '个', ?, ?, ?, ?, ?, ?,"
                " NULL, NULL, 's', 'ledger.xlsx', ?)",
                [project, level1, name, direction, None if target is None else str(target), target,
                 None if actual is None else str(actual), actual, weight, i])
        con.execute("CREATE TEMP TABLE _scope(unit_code VARCHAR, fiscal_year INTEGER)")
        con.execute("INSERT INTO _scope VALUES ('900001', 2021)")
        register_rules(con, load_rules())
        result = con.execute(f"SELECT name, weight, score FROM ({MART_SQL})").fetchall()
    finally:
        con.close()
    return {name: (weight, score) for name, weight, score in result}


@pytest.mark.parametrize("direction,target,actual,expected", [
    # ≥: w × min(actual / target, 1)
    ("≥", 100, 80, 8.0),
    ("≥", 100, 100, 10.0),
    ("≥", 100, 250, 10.0),
    ("≥", 100, 0, 0.0),
    # ≤: w when actual ≤ target, else w × target / actual
    ("≤", 100, 80, 10.0),
    ("≤", 100, 100, 10.0),
    ("≤", 100, 125, 8.0),
    ("≤", 100, 400, 2.5),
    # =: w × max(0, 1 − |actual − target| / target)
    ("=", 100, 100, 10.0),
    ("=", 100, 90, 9.0),
    ("=", 100, 110, 9.0),
    ("=", 100, 250, 0.0),
])
def test_score_per_direction(direction, target, actual, expected):
    weight, score = scored([(None, "产出指标", "指标", direction, target, actual, 10.0)])["指标"]
    assert weight == 10.0
    assert score == pytest.approx(expected)


def test_indicator_without_numbers_is_not_scored():
    assert scored([(None, "产出指标", "指标", "≥", None, 5, 10.0)])["指标"] == (10.0, None)


def test_level_points_are_shared_when_the_ledger_gives_no_weight():
    result = scored([
        (None, "产出指标", "甲", "≥", 10, 10, None),
        (None, "产出指标", "乙", "≥", 10, 5, None),
        (None, "效益指标", "丙", "≥", 10, 10, None),
        (None, "满意度指标", "丁", "≥", 90, 95, None),
    ])
    assert result["甲"] == (25.0, 25.0)  # 产出 50 points over 2 indicators
    assert result["乙"] == (25.0, 12.5)
    assert result["丙"] == (30.0, 30.0)
    assert result["丁"] == (10.0, 10.0)


@pytest.mark.parametrize("rate,expected", [
    (Decimal("0.9753475"), Decimal("9.753475")),
    (Decimal("1"), Decimal("10")),
    (Decimal("1.2"), Decimal("10")),  # over-execution scores no more than the points
    (Decimal("0"), Decimal("0")),
    (None, None),  # no final budget: no rate, no score
])
def test_budget_execution_score(rate, expected):
    assert budget_score(rate, Decimal("10")) == expected


@pytest.mark.parametrize("score,grade", [
    ("100", "优"), ("90", "优"), ("89.99", "良"), ("80", "良"), ("79.99", "中"), ("60", "中"), ("59.99", "差"), ("0", "差"),
    ("89.998", "优"),  # shown as 90.00: graded as shown
    ("89.994", "良"),
])
def test_grade_boundaries(score, grade):
    assert grade_of(Decimal(score), load_rules()) == grade


def test_grades_follow_the_rules_file(tmp_path):
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(
        '[points]\n"产出指标" = 50\n"效益指标" = 30\n"满意度指标" = 10\n"预算执行" = 10\n'
        '[grades]\n"优" = 95\n"良" = 85\n"中" = 70\n', encoding="utf-8")
    rules = load_rules(rules_file)
    assert [grade_of(Decimal(s), rules) for s in ("95", "94.99", "85", "70", "69.99")] == ["优", "良", "良", "中", "差"]


POINTS = '[points]\n"产出指标" = 50\n"效益指标" = 30\n"满意度指标" = 10\n"预算执行" = 10\n'


@pytest.mark.parametrize("indicators,total,grade", [
    # budget 10 + one 产出 indicator of 50, met: 60.00 shown -> 中 (read as 60 / 60 × 100 it was 优)
    ([("维修道路", "50", "50")], Decimal("60"), "中"),
    # 10 + 75 of 80: 85.00 -> 良 (85 / 90 × 100 = 94.4 was 优)
    ([("维修道路", "80", "75")], Decimal("85"), "良"),
    # a full set of 90 points: as before
    ([("维修道路", "50", "50"), ("道路通行", "30", "30"), ("群众满意", "10", "9")], Decimal("99"), "优"),
    # no indicators: not graded
    ([], Decimal("10"), "未评级（项目台账未填报绩效指标）"),
])
def test_a_project_is_graded_on_the_total_shown(indicators, total, grade):
    # domain.md: "Grade: ≥ 90 优, ≥ 80 良, ≥ 60 中, else 差" on the total, as the department's
    # table grades its total (the project spent its whole budget: 预算执行 10 of 10).
    from pipelines.evaluation.figures import Figures, Indicator, Project
    from pipelines.evaluation.numbers import ZERO
    from pipelines.evaluation.scoring import evaluate_projects

    spent = Decimal("1000.00")
    fig = Figures("900001", "测试单位", 2021, False, [], [], [], ZERO, spent, spent, ZERO, [],
                  [Indicator("P01", "道路维修", "产出指标", "数量指标", name, None, "≥", "1", "1", Decimal(weight),
                             Decimal(score), None, None) for name, weight, score in indicators], [], None)
    fig.all_projects = [Project("P01", "道路维修", None, None, "公开", spent, spent, spent)]
    (project,) = evaluate_projects(fig, load_rules())
    assert (project.total_score, project.grade) == (total, grade)


def test_a_standard_may_be_a_range(tmp_path):
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(POINTS + '[standards]\nprocurement_execution = "between 0.9 1"\n', encoding="utf-8")
    assert load_rules(rules_file).standards["procurement_execution"] == ("between", Decimal("0.9"), Decimal("1"))
    rules_file.write_text(POINTS + '[standards]\nprocurement_execution = "between 1 0.9"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="wrong way round"):
        load_rules(rules_file)


def test_a_threshold_is_an_exact_decimal(tmp_path):
    # Thresholds are compared in DECIMAL(18, 6) (evaluation_indicators.sql): kept as written,
    # and one the column cannot hold exactly is refused, not rounded.
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(POINTS + '[standards]\nbudget_completion = ">= 0.925"\n', encoding="utf-8")
    assert load_rules(rules_file).standards["budget_completion"] == (">=", Decimal("0.925"), None)
    rules_file.write_text(POINTS + '[standards]\nbudget_completion = ">= 0.9999995"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="at most 6 decimals"):
        load_rules(rules_file)


def test_funding_rows_of_a_province(tmp_path):
    # 四川: 财政资金 / 财政专户管理资金 / 单位资金 / 其他资金, each by fund source.
    from pipelines.evaluation.scoring import allocate_funding

    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(POINTS + """
[[funding_rows]]
label = "财政资金"
fund_sources = ["一般公共预算", "政府性基金预算", "国有资本经营预算"]
[[funding_rows]]
label = "财政专户管理资金"
fund_sources = ["财政专户管理资金"]
[[funding_rows]]
label = "单位资金"
fund_sources = ["单位资金"]
[[funding_rows]]
label = "其他资金"
""", encoding="utf-8")
    lines = [("一般公共预算", "年初预算", Decimal("100")), ("一般公共预算", "上年结转", Decimal("20")),
             ("单位资金", "年初预算", Decimal("5")), ("捐赠", "追加", Decimal("1"))]
    spent = {"一般公共预算": Decimal("110"), "单位资金": Decimal("4"), "捐赠": Decimal("1")}
    rows = [(r.label, r.initial, r.final, r.spent) for r in allocate_funding(load_rules(rules_file), lines, spent)]
    assert rows == [("财政资金", Decimal("100"), Decimal("120"), Decimal("110")),
                    ("财政专户管理资金", Decimal("0"), Decimal("0"), Decimal("0")),
                    ("单位资金", Decimal("5"), Decimal("5"), Decimal("4")),
                    ("其他资金", Decimal("0"), Decimal("1"), Decimal("1"))]


@pytest.mark.parametrize("yuan,wan", [
    (Decimal("21943300.00"), "2194.33"),
    (Decimal("1200000.00"), "120.00"),
    (Decimal("6745000.00"), "674.50"),
    (Decimal("12250.00"), "1.23"),  # half-up, not banker's rounding (1.22)
    (Decimal("12249.99"), "1.22"),
    (Decimal("-2285300.00"), "-228.53"),
    (Decimal("0"), "0.00"),
])
def test_wan_is_rounded_half_up_once(yuan, wan):
    assert fmt_wan(yuan) == wan
    assert to_wan(yuan) == Decimal(wan)


def test_sum_is_rounded_once_at_the_end():
    parts = [Decimal("50.00")] * 3  # 0.005 万元 each
    assert [fmt_wan(p) for p in parts] == ["0.01"] * 3
    assert fmt_wan(sum(parts)) == "0.02"  # the yuan sum rounded once, not 0.01 × 3


@pytest.mark.parametrize("rate,text", [
    (Decimal("0.97525"), "97.53%"),  # half-up (banker's would give 97.52%)
    (Decimal("1"), "100.00%"),
    (Decimal("-0.4983970514"), "-49.84%"),
    (None, "—"),
])
def test_percent_format(rate, text):
    assert fmt_pct(rate) == text


def test_round2_is_half_up():
    assert round2(Decimal("4.885")) == Decimal("4.89")
    assert round2(Decimal("5.6832")) == Decimal("5.68")


@pytest.mark.parametrize(("direction", "target", "unit", "shown"), [
    ("≥", "95", "%", "≥95%"),
    ("≤", "≤3", "天", "≤3天"),  # the ledger wrote the sign: not added again
    ("≥", "按期完成", None, "按期完成"),  # qualitative: its direction is only the default, no sign
])
def test_a_target_reads_as_the_ledger_wrote_it(direction, target, unit, shown):
    from pipelines.evaluation.figures import Indicator

    indicator = Indicator(None, None, "产出指标", "时效指标", "完成时间", unit, direction, target, None, None, None,
                          None, None)
    assert indicator.target_display == shown


def test_two_projects_never_share_a_table_file():
    from pipelines.evaluation.project_table import _file_names

    # `A/B` cannot be a file name: it becomes A_B, which the project A_B holds as it is.
    assert _file_names(["A/B", "A_B", "P01", "C:1"]) == {"A_B": "A_B", "P01": "P01", "A/B": "A_B~2", "C:1": "C_1"}
