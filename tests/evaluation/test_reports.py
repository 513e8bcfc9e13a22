"""The self-evaluation outputs of the demo data, FY2021, against the seed report's figures.

One real load (module fixture `loaded`), then the files it wrote are read back: the
Markdown as text, the DOCX with python-docx, the XLSX with openpyxl. Exact values.
"""

from __future__ import annotations

import time
import zipfile
from decimal import Decimal
from pathlib import Path

import docx
import duckdb
import openpyxl
import pytest

from pipelines.evaluation.outputs import (
    CHART_FILES,
    PUBLIC_CHART_FILES,
    PUBLIC_STEM,
    REPORT_STEM,
    TABLE_FILE,
    write_reports,
    write_unit_year,
)
from pipelines.evaluation.report import SECRET_NOTE
from pipelines.evaluation.rules import load_rules
from pipelines.evaluation.texts import SECTIONS
from pipelines.settings import Settings

UNIT, YEAR = "117001", 2021
# The seed's project lines (万元, printed with two decimals), largest first in the seed's own order.
SEED_PROJECTS = {
    "施工图审查": "120.00",
    "市政设施建设": "1000.00",
    "城市基础设施建设及城区道路改造": "1500.00",
    "老旧小区改造": "4300.00",
    "城区排水防涝": "1205.00",
    "棚户区改造": "674.50",
    "地下管线普查及信息化平台建设": "66.36",
    "城市建设开发公司解困资金、社保和就业资金、泉峰市场补贴资金": "378.00",
    "污水处理费服务费及管网维护费": "1384.98",
    "危房改造": "172.93",
    "乡镇污水处理奖补及配套": "1709.36",
    "自来水公司塔岭水厂债券资金": "1000.00",
    "运转类经费": "600.00",
}
SECRET_NAME = "人防演练、临时指挥所、人防档案库房建设及疏散基地建设"
SECRET_AMOUNT = "206.80"
SEED_SENTENCES = ["工资福利支出共计2194.33万元", "商品和服务支出共计149.68万元", "项目支出共计14317.93万元"]
SEED_OUTPUTS = ["13191.68", "15013"]  # asphalt ㎡; civil-defence basements approved ㎡ (a 涉密 project's indicator)


# ------------------------------------------------------------------ readers


def md_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def md_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row."""
    return [[c.strip().strip("*") for c in line.strip().strip("|").split(" | ")]
            for line in text.splitlines() if line.startswith("| ")]


def docx_parts(path: Path) -> tuple[list[str], list[list[str]]]:
    """(paragraph texts, table rows as cell texts)."""
    document = docx.Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    rows = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    return paragraphs, rows


def docx_all_xml(path: Path) -> str:
    """Every XML part of the package (body, headers, properties): nothing may hide anywhere."""
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels")))


@pytest.fixture(scope="module")
def internal_md(report_dir) -> str:
    return md_text(report_dir / f"{REPORT_STEM}.md")


@pytest.fixture(scope="module")
def public_md(report_dir) -> str:
    return md_text(report_dir / f"{PUBLIC_STEM}.md")


@pytest.fixture(scope="module")
def internal_docx(report_dir):
    return docx_parts(report_dir / f"{REPORT_STEM}.docx")


@pytest.fixture(scope="module")
def public_docx(report_dir):
    return docx_parts(report_dir / f"{PUBLIC_STEM}.docx")


@pytest.fixture(scope="module")
def sheet(report_dir):
    return openpyxl.load_workbook(report_dir / TABLE_FILE)["自评表"]


def find_row(rows: list[list[str]], first: str, column: int = 1) -> list[str]:
    matches = [r for r in rows if len(r) > column and r[column] == first]
    assert len(matches) == 1, f"{first!r}: {len(matches)} rows"
    return matches[0]


# ------------------------------------------------------------------ files


def test_the_load_writes_every_output(report_dir):
    names = {p.name for p in report_dir.iterdir()}
    expected = {TABLE_FILE, f"{REPORT_STEM}.md", f"{REPORT_STEM}.docx", f"{PUBLIC_STEM}.md", f"{PUBLIC_STEM}.docx",
                *CHART_FILES.values(), *PUBLIC_CHART_FILES.values(),
                "项目支出绩效自评表", "项目支出绩效自评表.xlsx", "项目支出绩效自评表（公开版）", "项目支出绩效自评表（公开版）.xlsx"}
    assert names == expected
    # One table per project of the year (14), the public set without the 涉密 one.
    internal = {p.stem for p in (report_dir / "项目支出绩效自评表").iterdir()}
    public = {p.stem for p in (report_dir / "项目支出绩效自评表（公开版）").iterdir()}
    assert len(internal) == 14 and internal - public == {"117001-2020-11"}
    for name in (*CHART_FILES.values(), *PUBLIC_CHART_FILES.values()):
        assert (report_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_charts_are_embedded_in_both_reports(report_dir):
    for stem in (REPORT_STEM, PUBLIC_STEM):
        assert len(docx.Document(str(report_dir / f"{stem}.docx")).inline_shapes) == 4
    assert "](图2_支出最多的十个项目（公开版）.png)" in md_text(report_dir / f"{PUBLIC_STEM}.md")


# ------------------------------------------------------------------ internal report


@pytest.mark.parametrize("sentence", SEED_SENTENCES)
def test_internal_report_has_the_seed_spending_figures(internal_md, internal_docx, sentence):
    paragraphs, _ = internal_docx
    assert sentence in internal_md
    assert any(sentence in p for p in paragraphs)


@pytest.mark.parametrize("name,amount", SEED_PROJECTS.items())
def test_internal_report_lists_each_seed_project_with_its_amount(internal_md, internal_docx, name, amount):
    _, docx_rows = internal_docx
    # columns: 序号, 项目名称, 全年预算数, 全年执行数, 执行率
    assert find_row(md_rows(internal_md), name)[3] == amount
    assert find_row(docx_rows, name)[3] == amount


def test_internal_report_lists_projects_largest_first(internal_md):
    rows = [r for r in md_rows(internal_md) if len(r) == 5 and r[0].isdigit()]
    spent = [Decimal(r[3]) for r in rows]
    assert spent == sorted(spent, reverse=True)
    assert len(rows) == 14
    total = find_row(md_rows(internal_md), "合计")
    assert total[3] == "14317.93"
    assert sum(spent) == Decimal("14317.93")


def test_internal_report_shows_the_secret_project(internal_md, internal_docx):
    _, docx_rows = internal_docx
    row = find_row(md_rows(internal_md), f"{SECRET_NAME}（涉密，不予公开）")
    assert row[3] == SECRET_AMOUNT
    assert find_row(docx_rows, f"{SECRET_NAME}（涉密，不予公开）")[3] == SECRET_AMOUNT


def test_internal_report_has_the_staffing_figures(internal_md, internal_docx):
    _, docx_rows = internal_docx
    assert ["编制数（人）", "实有在职人数（人）", "离退休人数（人）"] in docx_rows
    assert ["301", "301", "89"] in docx_rows
    assert ["301", "301", "89"] in md_rows(internal_md)
    # and in the department's own sentence, through the tokens of the text file
    assert "编制人数为301人，实际在职301人，退休89人" in internal_md


@pytest.mark.parametrize("figure", SEED_OUTPUTS)
def test_internal_report_has_the_seed_output_figures(internal_md, internal_docx, figure):
    _, docx_rows = internal_docx
    assert any(figure in c for r in md_rows(internal_md) for c in r)
    assert any(figure in c for r in docx_rows for c in r)


def test_internal_report_has_the_common_indicators(internal_md, internal_docx):
    _, docx_rows = internal_docx
    # columns: 指标, 指标值, 分子 / 分母, 评价标准, 结论, 说明
    for rows in (md_rows(internal_md), docx_rows):
        assert find_row(rows, "在职人员控制率", 0)[1:5] == ["100.00%", "301人 / 301人", "≤100.0%", "达标"]
        assert find_row(rows, "预算完成率", 0)[1:5] == ["97.53%", "16661.94万元 / 17083.08万元", "≥90.0%", "达标"]
        assert find_row(rows, "公用经费控制率", 0)[1:3] == ["96.96%", "149.68万元 / 154.38万元"]
        assert find_row(rows, "重点支出安排率", 0)[4] == "仅报告"
    assert "总分99.33分（满分100.00分），评价等级为“优”" in internal_md


def test_internal_report_narrative_comes_from_the_text_file(internal_md, demo_texts_file):
    text = demo_texts_file.read_text(encoding="utf-8")
    assert "22、完成市委、市政府和上级主管部门交办的其他任务。" in text
    assert "22、完成市委、市政府和上级主管部门交办的其他任务。" in internal_md
    assert "强化绩效管理意识。" in internal_md
    # The seed states no 年度总体目标: only those two parts show the placeholder.
    assert internal_md.count("本部分由单位填写") == 2
    assert "## 年度总体目标 下填写" in internal_md and "## 年度总体目标完成情况 下填写" in internal_md


# ------------------------------------------------------------------ public report


def test_public_report_has_no_secret_detail(report_dir, public_md, public_docx):
    paragraphs, rows = public_docx
    docx_text = "\n".join(paragraphs + [c for r in rows for c in r])
    for text in (public_md, docx_text, docx_all_xml(report_dir / f"{PUBLIC_STEM}.docx")):
        assert SECRET_AMOUNT not in text
        assert SECRET_NAME not in text
        assert "批复结建工程面积" not in text  # the secret project's indicator
        assert "220.00" not in text  # its budget


def test_public_report_keeps_the_totals_and_marks_the_undisclosed_line(public_md, public_docx):
    paragraphs, rows = public_docx
    for table, text in ((md_rows(public_md), public_md), (rows, "\n".join(paragraphs))):
        assert find_row(table, "涉密项目（不予公开）")[2:] == ["不予公开", "不予公开", "不予公开"]
        assert find_row(table, "合计")[3] == "14317.93"
        assert SECRET_NOTE in text
        assert "项目支出共计14317.93万元" in text
        for name, amount in SEED_PROJECTS.items():
            assert find_row(table, name)[3] == amount
    # the undisclosed line comes last, as in the seed
    numbered = [r for r in md_rows(public_md) if len(r) == 5 and r[0].isdigit()]
    assert numbered[-1][1] == "涉密项目（不予公开）"


# ------------------------------------------------------------------ the table (XLSX)


def xlsx_row(sheet, label: str, column: int) -> tuple:
    rows = [r for r in sheet.iter_rows(values_only=True) if r[column] == label]
    assert len(rows) == 1, f"{label!r}: {len(rows)} rows"
    return rows[0]


def test_xlsx_budget_block(sheet):
    # columns: A group, B label, C 年初预算数, D 全年预算数, E 全年执行数, F 分值, G 执行率, H 得分
    assert xlsx_row(sheet, "年度资金总额", 0)[2:] == (15259.58, 17083.08, 16661.94, 10, 0.9753, 9.75)
    # The funding rows of the rules file (财预〔2020〕10号): 本年财政拨款 = the fiscal lines of
    # kinds 年初/追加/追减/调剂; 上年结转资金 = the 330.00 carried over, spent first; 其他资金 =
    # 财政专户管理资金 94.00 + 单位资金 7.18.
    fund_rows = {r[1]: r[2:5] for r in sheet.iter_rows(values_only=True)
                 if r[1] in ("本年财政拨款", "上年结转资金", "其他资金")}
    assert fund_rows == {
        "本年财政拨款": (15158.40, 16651.90, 16235.11),
        "上年结转资金": (0.00, 330.00, 330.00),
        "其他资金": (101.18, 101.18, 96.83),
    }
    assert xlsx_row(sheet, "本年财政拨款", 1)[0] == "按资金来源分"
    assert xlsx_row(sheet, "基本支出", 1)[2:5] == (2315.58, 2375.58, 2344.01)
    assert xlsx_row(sheet, "项目支出", 1)[2:5] == (12944.00, 14707.50, 14317.93)
    assert xlsx_row(sheet, "本年财政拨款", 1)[6] == 0.9750  # 162351140 / 166519000 = 0.974970…


def test_xlsx_fund_rows_match_the_warehouse(loaded, sheet):
    con = duckdb.connect(str(loaded / "warehouse.duckdb"), read_only=True)
    try:
        final, spent = con.execute("""
            SELECT sum(budget_final_yuan), sum(spent_yuan) FROM build.budget_execution
            WHERE unit_code = ? AND fiscal_year = ? AND spending_type IN ('基本支出', '项目支出')""",
                                   [UNIT, YEAR]).fetchone()
    finally:
        con.close()
    rows = [r for r in sheet.iter_rows(values_only=True) if r[0] == "按资金来源分" or r[1] in ("上年结转资金", "其他资金")]
    assert sum(Decimal(str(r[3])) for r in rows) == (final / 10000).quantize(Decimal("0.01"))
    assert sum(Decimal(str(r[4])) for r in rows) == (spent / 10000).quantize(Decimal("0.01"))


def indicator_rows(sheet) -> list[tuple]:
    """The rows between the block-2 header (一级指标) and 总分."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "一级指标") + 1
    end = next(i for i, r in enumerate(rows) if r[0] == "总分")
    return rows[start:end]


def test_xlsx_indicator_block(sheet):
    # columns: A 一级, B 二级, C 三级, D 年度指标值, E 实际完成值, F 分值, G 得分, H 偏差原因
    indicators = {r[2]: r[3:7] for r in indicator_rows(sheet)}
    assert len(indicators) == 16
    assert indicators["铺设沥青混凝土"] == ("≥12000㎡", "13191.68㎡", 6, 6)
    assert indicators["危房改造完成"] == ("≥180户", "176户", 5, 4.89)
    assert indicators["老旧小区改造惠及居民户数"] == ("≥2500户", "2368户", 6, 5.68)
    assert indicators["工程造价控制在批复概算内"] == ("≤100%", "98.6%", 5, 5)
    assert indicators["服务对象满意度"] == ("≥90%", "95%", 10, 10)
    assert "批复结建工程面积" not in indicators  # project-level, and 涉密
    assert xlsx_row(sheet, "危房改造完成", 2)[7] == "4户农户因自身原因放弃改造，已按程序退出"
    scores = [Decimal(str(r[6])) for r in indicator_rows(sheet)]
    assert sum(scores) == Decimal("89.57")  # the shown scores; the total adds the unrounded ones


def test_xlsx_total_and_grade(sheet):
    assert xlsx_row(sheet, "总分", 0)[5:7] == (100, 99.33)
    assert xlsx_row(sheet, "评价等级", 0)[5] == "优"


def test_xlsx_layout(sheet):
    merged = {str(m) for m in sheet.merged_cells.ranges}
    assert "A1:H1" in merged  # title
    level1 = [m for m in sheet.merged_cells.ranges if m.min_col == 1 and m.max_col == 1
              and sheet.cell(m.min_row, 1).value in ("产出指标", "效益指标")]
    assert sorted(m.max_row - m.min_row + 1 for m in level1) == [5, 10]  # 产出 10 rows, 效益 5 rows
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0  # 1 wide (the default)
    assert sheet.print_title_rows == "$1:$3"


# ------------------------------------------------------------------ regeneration


def test_regenerating_one_unit_year_takes_seconds(loaded):
    settings = Settings(landing_dir=Path(__file__).resolve().parents[2] / "pipelines" / "demo" / "landing",
                        warehouse_dir=loaded)
    con = duckdb.connect(str(loaded / "warehouse.duckdb"), read_only=True)
    try:
        started = time.perf_counter()
        written = write_reports(con, settings, {(UNIT, YEAR)}, load_rules(), lambda _: None)
        took = time.perf_counter() - started
    finally:
        con.close()
    assert written[0] == f"reports/{UNIT}/{YEAR}/{TABLE_FILE}"
    # 11 files of the 部门整体 outputs, 14 + 1 project tables, 13 + 1 public ones.
    assert len(written) == 11 + 15 + 14 and all((loaded / p).is_file() for p in written)
    assert took < 15, f"regenerating one unit-year took {took:.1f} s"


def test_missing_text_file_gives_placeholders(loaded, tmp_path):
    settings = Settings(landing_dir=tmp_path / "landing_without_texts", warehouse_dir=tmp_path / "wh")
    messages: list[str] = []
    con = duckdb.connect(str(loaded / "warehouse.duckdb"), read_only=True)
    try:
        written = write_unit_year(con, settings, UNIT, YEAR, load_rules(), messages.append)
    finally:
        con.close()
    assert any("no narrative file" in m for m in messages)
    text = md_text(tmp_path / "wh" / "reports" / UNIT / str(YEAR) / f"{REPORT_STEM}.md")
    paragraphs, _ = docx_parts(tmp_path / "wh" / "reports" / UNIT / str(YEAR) / f"{REPORT_STEM}.docx")
    for key, (required, _) in SECTIONS.items():
        placeholder = f"（本部分由单位填写：在 _texts/{UNIT}.md 的 ## {key} 下填写）"
        assert (placeholder in text) == required
        assert (placeholder in paragraphs) == required
    assert "工资福利支出共计2194.33万元" in text  # the figures are all there
    assert len(written) == 11 + 15 + 14


def test_partial_text_file_fills_what_it_has(loaded, tmp_path):
    texts = tmp_path / "landing" / "_texts"
    texts.mkdir(parents=True)
    (texts / f"{UNIT}.md").write_text(
        "注释：第一个标题之前的内容不进报告。\n\n## 职能职责\n\n负责{单位名称}的全部工作。\n\n"
        "## 存在的问题和建议\n\n内部版的问题。\n\n## 存在的问题和建议（公开版）\n\n公开版的问题。\n\n## 不认识的部分\n\n忽略。\n",
        encoding="utf-8")
    settings = Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")
    messages: list[str] = []
    con = duckdb.connect(str(loaded / "warehouse.duckdb"), read_only=True)
    try:
        write_unit_year(con, settings, UNIT, YEAR, load_rules(), messages.append)
    finally:
        con.close()
    out = tmp_path / "wh" / "reports" / UNIT / str(YEAR)
    internal, public = md_text(out / f"{REPORT_STEM}.md"), md_text(out / f"{PUBLIC_STEM}.md")
    assert "负责常宁市住房和城乡建设局的全部工作。" in internal
    assert "注释" not in internal and "忽略。" not in internal
    assert "内部版的问题。" in internal and "公开版的问题。" not in internal
    assert "公开版的问题。" in public and "内部版的问题。" not in public
    assert "## 机构设置 下填写）" in internal
    assert any("## 不认识的部分" in m for m in messages)


def test_indicator_without_prior_year_is_empty_with_its_reason(loaded):
    text = md_text(loaded / "reports" / UNIT / "2020" / f"{REPORT_STEM}.md")
    rows = md_rows(text)
    for name in ("“三公经费”变动率", "结转结余变动率"):
        row = find_row(rows, name, 0)
        assert row[1] == "—" and row[4] == "无法计算"
        assert row[5] == "无上年数据 / no prior year in the warehouse"
    assert find_row(rows, "预算完成率", 0)[4] == "达标"
