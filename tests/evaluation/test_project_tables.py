"""项目支出绩效自评表 for every project, and 年度总体目标 (ledger columns for a project,
`_texts` sections for the department), on a real load of a small landing folder."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.conftest import payment, run_load, write_xlsx
from tests.evaluation.test_definitions import INDICATOR_HEADER, UNIT, YEAR, budget, landing

OUT = Path("reports") / UNIT / str(YEAR)
SECOND_UNIT = "900002"
PROJECT_HEADER = ["单位编码", "项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性", "年度",
                  "年度总体目标", "实际完成情况"]
TEXTS = """# 测试单位
## 年度总体目标
完成{年度}年道路维修任务。
## 年度总体目标完成情况
全年完成道路维修100公里。
"""


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Path:
    """P01 (budget 10,000 年初 + 2,000 上年结转, spent 9,000, goal and result in the ledger,
    one numeric and one hand-scored indicator); P02 涉密 (spent 1,000; targets written with
    their sign and unit); P03 in the ledger
    only (no money, no goal, no indicator)."""
    root = tmp_path_factory.mktemp("tables_landing")
    vouchers = [*payment("2021-04-01", "记-0001", "9000.00", econ="31005", project="P01"),
                *payment("2021-04-02", "记-0002", "1000.00", econ="30227", project="P02")]
    budget_rows = [budget("年初预算", "10000.00", UNIT, econ="31005", project="P01"),
                   budget("上年结转", "2000.00", UNIT, econ="31005", project="P01"),
                   budget("年初预算", "1000.00", UNIT, econ="30227", project="P02")]
    # a second unit with one public and one 涉密 project: its public book holds one project
    second = [*payment("2021-05-01", "记-0001", "500.00", econ="31005", project="Q01"),
              *payment("2021-05-02", "记-0002", "700.00", econ="30227", project="Q02")]
    landing(root, UNIT, vouchers, budget_rows, other_units={SECOND_UNIT: second})
    write_xlsx(root / "ledger.xlsx", {
        "项目": [PROJECT_HEADER,
                 [UNIT, "P01", "道路维修", "市政", "城建股", "是", "公开", YEAR, "=维修道路120公里", "完成100公里"],
                 [UNIT, "P02", "人防工程", "人防", "人防股", "否", "涉密", YEAR, "人防目标", "人防完成"],
                 [UNIT, "P03", "课题研究", "其他", "办公室", "否", "公开", YEAR, "", ""],
                 [SECOND_UNIT, "Q01", "绿化养护", "市政", "城建股", "否", "公开", YEAR, "", ""],
                 [SECOND_UNIT, "Q02", "保密工程", "人防", "人防股", "否", "涉密", YEAR, "", ""]],
        "绩效指标": [INDICATOR_HEADER,
                     [UNIT, "P01", "产出指标", "数量指标", "维修道路", "公里", "≥", "120", "100", 50, YEAR, ""],
                     [UNIT, "P01", "满意度指标", "服务对象满意度指标", "群众满意", "", "", "满意", "满意", 10, YEAR, 9],
                     [UNIT, "P02", "产出指标", "数量指标", "人防工程数", "处", "≥", "2", "2", 50, YEAR, ""],
                     # the target and actual written as they read, sign and unit included
                     [UNIT, "P02", "效益指标", "社会效益指标", "工程合格率", "%", "≥", "≥95%", "96%", 10, YEAR, ""],
                     [UNIT, "P02", "效益指标", "社会效益指标", "设施完好率", "%", "", "95%以上", "97", 10, YEAR, ""]],
    })
    book = openpyxl.load_workbook(root / "ledger.xlsx")  # the goal typed as text that starts with "="
    book["项目"]["I2"].data_type = "s"
    book.save(root / "ledger.xlsx")
    (root / "_texts").mkdir()
    (root / "_texts" / f"{UNIT}.md").write_text(TEXTS, encoding="utf-8")
    warehouse = tmp_path_factory.mktemp("tables_wh")
    assert run_load(root, warehouse) == 0
    return warehouse / OUT


def cells(path: Path, sheet: str | None = None) -> list[tuple]:
    book = openpyxl.load_workbook(path)
    return [r for r in (book[sheet] if sheet else book.active).iter_rows(values_only=True)]


def row_of(rows: list[tuple], label: str, col: int) -> tuple:
    return next(r for r in rows if r[col] == label)


def test_every_project_has_its_table_and_the_public_set_no_secret_one(tables):
    assert sorted(p.name for p in (tables / "项目支出绩效自评表").iterdir()) == ["P01.xlsx", "P02.xlsx", "P03.xlsx"]
    assert sorted(p.name for p in (tables / "项目支出绩效自评表（公开版）").iterdir()) == ["P01.xlsx", "P03.xlsx"]
    assert openpyxl.load_workbook(tables / "项目支出绩效自评表.xlsx").sheetnames == ["P01", "P02", "P03"]
    assert openpyxl.load_workbook(tables / "项目支出绩效自评表（公开版）.xlsx").sheetnames == ["P01", "P03"]
    public_text = "".join(str(c) for path in (tables / "项目支出绩效自评表（公开版）").iterdir()
                          for r in cells(path) for c in r if c is not None)
    assert "人防" not in public_text and "P02" not in public_text


def test_a_public_book_of_one_project_names_its_sheet_after_it(tables):
    # the project's own file has one sheet, 自评表; a book of that one project is another
    # workbook, though it shows the same sheet
    out = tables.parents[2] / "reports" / SECOND_UNIT / str(YEAR)
    assert openpyxl.load_workbook(out / "项目支出绩效自评表.xlsx").sheetnames == ["Q02", "Q01"]  # by spending
    assert openpyxl.load_workbook(out / "项目支出绩效自评表（公开版）.xlsx").sheetnames == ["Q01"]
    assert openpyxl.load_workbook(out / "项目支出绩效自评表（公开版）" / "Q01.xlsx").sheetnames == ["自评表"]
    assert cells(out / "项目支出绩效自评表（公开版）.xlsx") == cells(out / "项目支出绩效自评表（公开版）" / "Q01.xlsx")


def test_project_table_figures(tables):
    rows = cells(tables / "项目支出绩效自评表" / "P01.xlsx")
    assert rows[2][2] == "道路维修（P01）"
    assert row_of(rows, "主管部门", 0)[2] == f"测试单位（{UNIT}）"
    assert row_of(rows, "主管部门", 0)[7] == "测试单位（城建股）"
    # 年初预算数, 全年预算数, 全年执行数 (万元), 分值, 执行率, 得分: 9,000 / 12,000 = 75 %.
    assert row_of(rows, "年度资金总额", 0)[2:] == (1.0, 1.2, 0.9, 10, 0.75, 7.5)
    # The carry-over is spent first: 2,000 of the 9,000; 本年财政拨款 the other 7,000.
    assert row_of(rows, "本年财政拨款", 1)[2:5] == (1.0, 1.0, 0.7)
    assert row_of(rows, "上年结转资金", 1)[2:5] == (0, 0.2, 0.2)
    # Indicators: 100 of 120 km -> 50 × 100/120; the qualitative one takes the ledger's 得分 9.
    assert row_of(rows, "维修道路", 2)[3:7] == ("≥120公里", "100公里", 50, 41.67)
    assert row_of(rows, "群众满意", 2)[5:7] == (10, 9)
    # 总分 7.5 + 41.6667 + 9 = 58.17 of 70 points, graded on the total shown -> 差 (not on
    # 58.17 / 70 × 100 = 83.1, which gave 良).
    assert row_of(rows, "总分", 0)[5:7] == (70, 58.17)
    assert row_of(rows, "评价等级", 0)[5] == "差"
    assert any("按总分评定" in str(r[0]) for r in rows) and not any("折算百分制" in str(r[0]) for r in rows)


def test_a_target_written_with_its_sign_and_unit_shows_them_once(tables):
    rows = cells(tables / "项目支出绩效自评表" / "P02.xlsx")
    assert row_of(rows, "人防工程数", 2)[3:5] == ("≥2处", "2处")
    assert row_of(rows, "工程合格率", 2)[3:5] == ("≥95%", "96%")  # was ≥≥95%% and 96%%
    assert row_of(rows, "设施完好率", 2)[3:5] == ("95%以上", "97%")


def test_project_goal_from_the_ledger_never_a_formula(tables):
    rows = cells(tables / "项目支出绩效自评表" / "P01.xlsx")
    goal_row = rows[rows.index(row_of(rows, "年度总体目标", 0)) + 1]
    assert goal_row[2] == "=维修道路120公里"  # a string cell, as written
    assert goal_row[5] == "完成100公里"
    empty = cells(tables / "项目支出绩效自评表" / "P03.xlsx")
    goal_row = empty[empty.index(row_of(empty, "年度总体目标", 0)) + 1]
    assert goal_row[2] == "（台账“项目”表未填写年度总体目标，请在“年度总体目标”列填写）"
    assert row_of(empty, "评价等级", 0)[5] == "未评级（项目台账未填报绩效指标）"


def test_department_goal_from_the_texts_in_table_and_report(tables):
    rows = cells(tables / "部门整体支出绩效自评表.xlsx")
    goal_row = rows[rows.index(row_of(rows, "年度总体目标", 0)) + 1]
    assert (goal_row[2], goal_row[5]) == (f"完成{YEAR}年道路维修任务。", "全年完成道路维修100公里。")
    report = (tables / "部门整体支出绩效自评报告.md").read_text(encoding="utf-8")
    assert "（三）年度总体目标及完成情况" in report
    assert f"完成{YEAR}年道路维修任务。" in report and "全年完成道路维修100公里。" in report
