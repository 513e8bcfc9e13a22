"""涉密 never leaks into a public output (issue 12, item 3).

One real `fiscal-warehouse load` of a small landing folder written here, holding each leak
case of the issue: 公开属性 wordings that are not clearly public (不宜公开, 非公开, 内部, and
one the loader does not know), a secret code written full-width in a voucher's 项目 cell,
a 项目 cell holding only a secret project's name, a public project's indicator named after
a secret project, and a narrative that names a secret project. Then every file under
marts_public/ (bytes and decoded strings), the 公开版 reports (Markdown and the DOCX's text)
and the text drawn on the public charts are scanned for every secret code (half- and
full-width) and name; and the totals still add up.
"""

from __future__ import annotations

import contextlib
import io
from decimal import Decimal
from pathlib import Path

import docx
import duckdb
import openpyxl
import pyarrow.parquet as pq
import pytest
from PIL import Image

from pipelines.warehouse.db import load_macros
from tests.conftest import payment, query, run_load, voucher_file, write_csv, write_xlsx

UNIT = "900001"
FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})

# code, name, 公开属性 as written, budget, how the vouchers write the 项目 cell, spent
PROJECTS = [
    ("P-2021-01", "道路维修工程", "公开", "100,000.00", "P-2021-01", "60,000.00"),
    ("P-2021-02", "应急配套设施", "", "80,000.00", "P-2021-02 应急配套设施", "50,000.00"),
    ("4330-01", "涉密工程甲", "涉密", "90,000.00", "４３３０－０１", "70,000.00"),  # full-width code
    ("4330-02", "人防指挥所改造", "不宜公开", "40,000.00", "4330-02 人防指挥所改造", "30,000.00"),
    ("4330-03", "机要通信线路", "非公开", "30,000.00", "【4330-03】机要通信线路", "20,000.00"),
    ("4330-04", "档案库房建设", "内部", "25,000.00", "档案库房建设", "15,000.00"),  # the name only
    ("4330-05", "特别保障项目", "待定", "20,000.00", "4330-05", "12,000.00"),  # wording not known
]
SECRET = [p for p in PROJECTS if p[0].startswith("4330")]
SECRET_INDICATOR = "线缆敷设长度"  # an indicator of a 涉密 project only: no public output names it
BASIC = "200,000.00"


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def write_landing(landing: Path) -> None:
    folder = landing / UNIT / "2021"
    lines = payment("2021-02-10", "记-0001", BASIC, econ="30101")
    for n, (_, _, _, _, cell, spent) in enumerate(PROJECTS, start=2):
        lines += payment(f"2021-{n + 1:02d}-15", f"记-{n:04d}", spent, econ="31005", func="2120399", project=cell)
    voucher_file(folder / "凭证" / "2021年序时账.csv", lines, unit=f"{UNIT} 测试单位")
    budget = [["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额",
               "政府采购预算"],
              [UNIT, 2021, "测财预〔2021〕1号", "年初预算", "2120101", "30101", "", "一般公共预算", "250,000.00", ""]]
    # the budget names 档案库房建设 by its name only, as its vouchers do
    budget += [[UNIT, 2021, "测财预〔2021〕2号", "年初预算", "2120399", "31005", name if code == "4330-04" else code,
                "一般公共预算", amount, ""] for code, name, _, amount, _, _ in PROJECTS]
    write_csv(folder / "预算" / "2021年预算指标.csv", budget)
    header = ["单位编码", "项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性", "年度"]
    indicator_header = ["单位编码", "项目编码", "一级指标", "二级指标", "三级指标", "计量单位", "指标方向",
                        "年度指标值", "实际完成值", "分值", "年度", "偏差原因"]
    write_xlsx(folder / "项目" / "2021年项目台账.xlsx", {
        "项目": [header] + [[UNIT, code, name, "基础设施", "建设股", "否", disclosure or None, 2021]
                          for code, name, disclosure, *_ in PROJECTS],
        "绩效指标": [indicator_header,
                 [UNIT, None, "产出指标", "数量指标", "道路维修完成率", "%", "≥", "95%", "98%", 30, 2021, None],
                 [UNIT, None, "产出指标", "质量指标", "涉密工程甲验收合格率", "%", "≥", "100%", "100%", 20, 2021, None],
                 [UNIT, None, "效益指标", "社会效益指标", "群众满意度", "%", "≥", "90%", "92%", 30, 2021, None],
                 [UNIT, "P-2021-01", "产出指标", "数量指标", "维修道路长度", "km", "≥", "10", "12", 50, 2021, None],
                 [UNIT, "P-2021-02", "产出指标", "数量指标", "人防指挥所改造配套完成率", "%", "≥", "100%", "90%", 50,
                  2021, "４３３０－０２配套工程延期"],
                 [UNIT, "4330-01", "产出指标", "数量指标", "涉密工程甲完成率", "%", "≥", "100%", "100%", 50, 2021,
                  None],
                 [UNIT, "4330-03", "产出指标", "数量指标", SECRET_INDICATOR, "公里", "≥", "40", "40", 50, 2021, None]],
    })
    texts = landing / "_texts" / f"{UNIT}.md"
    texts.parent.mkdir(parents=True, exist_ok=True)
    texts.write_text(
        "## 职能职责\n负责测试。\n\n## 机构设置\n内设建设股。\n\n"
        "## 项目支出说明\n本年完成道路维修工程，另有涉密工程甲（4330-01）及机要通信线路（４３３０－０３）按计划实施，"
        f"{SECRET_INDICATOR}40公里。\n\n"
        "## 绩效评价工作情况\n按要求开展自评。\n\n## 存在的问题和建议\n档案库房建设进度偏慢。\n", encoding="utf-8")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The landing folder loaded once by `fiscal-warehouse load`."""
    root = tmp_path_factory.mktemp("leaks")
    landing, warehouse = root / "landing", root / "warehouse"
    write_landing(landing)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_load(landing, warehouse)
    return warehouse, code, out.getvalue()


def marts_query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """`sql` over the published Parquet files, as a BI tool reads them: views marts.<mart>
    and marts_public.<mart> over marts/<mart>/fiscal_year=*/*.parquet."""
    con = duckdb.connect()
    try:
        for audience in ("marts", "marts_public"):
            con.execute(f"CREATE SCHEMA {audience}")
            for folder in sorted((warehouse / audience).iterdir()):
                con.execute(f"CREATE VIEW {audience}.{folder.name} AS "
                            f"SELECT * FROM read_parquet('{folder.as_posix()}/*/*.parquet')")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def needles() -> set[str]:
    out = {SECRET_INDICATOR}
    for code, name, *_ in SECRET:
        out |= {code, code.translate(FULL_WIDTH), name}
    return out


def chart_text(path: Path) -> str:
    """Every text drawn on a chart: charts.py stores it in the PNG's Description."""
    with Image.open(path) as image:
        image.load()
        return image.text["Description"]


def public_report_texts(warehouse: Path) -> dict[str, str]:
    """name -> text of every public report file and of every chart the public report shows."""
    folder = warehouse / "reports" / UNIT / "2021"
    md = folder / "部门整体支出绩效自评报告（公开版）.md"
    document = docx.Document(str(folder / "部门整体支出绩效自评报告（公开版）.docx"))
    docx_text = "\n".join([p.text for p in document.paragraphs]
                          + [c.text for t in document.tables for row in t.rows for c in row.cells])
    texts = {md.name: md.read_text(encoding="utf-8"), "public docx": docx_text}
    shown = [p for p in folder.glob("图*.png") if p.name in texts[md.name]]
    assert len(shown) == 4, sorted(p.name for p in folder.glob("图*.png"))  # the public report shows its charts
    texts.update({f"chart {p.name}": chart_text(p) for p in shown})
    return texts


def file_text(path: Path) -> str:
    """The text a reader of the file sees: cells of an XLSX, paragraphs and tables of a DOCX,
    the text drawn on a PNG chart, else the file decoded as UTF-8."""
    if path.suffix == ".xlsx":
        workbook = openpyxl.load_workbook(path)
        return "\n".join(str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row
                         if c.value is not None) + "\n" + "\n".join(workbook.sheetnames)
    if path.suffix == ".docx":
        document = docx.Document(str(path))
        return "\n".join([p.text for p in document.paragraphs]
                         + [c.text for t in document.tables for row in t.rows for c in row.cells])
    if path.suffix == ".png":
        return chart_text(path)
    return path.read_bytes().decode("utf-8", errors="replace")


@pytest.mark.parametrize("written, disclosure, known", [
    (None, "公开", True), ("", "公开", True), ("公开", "公开", True), ("是", "公开", True), (" 公 开　", "公开", True),
    ("涉密", "涉密", True), ("否", "涉密", True), ("不宜公开", "涉密", True), ("非公开", "涉密", True),
    ("内部", "涉密", True), ("保密（机密级）", "涉密", True), ("待定", "涉密", False), ("不涉密", "涉密", False),
    ("Y", "涉密", False), ("依申请公开", "涉密", False),
])
def test_disclosure_wording(written, disclosure, known):
    con = duckdb.connect()
    load_macros(con)
    assert con.execute("SELECT fw_disclosure(?), fw_disclosure_known(?)", [written, written]).fetchone() == \
        (disclosure, known)


@pytest.mark.parametrize("cell, code", [
    ("4330-01", "4330-01"), ("４３３０－０１", "4330-01"), ("　４３３０－０１ 涉密工程甲", "4330-01"),
    ("【４３３０－０１】涉密工程甲", "4330-01"), ("[4330-01]涉密工程甲", "4330-01"), ("ＡＢ－０１", "AB-01"),
    ("涉密工程甲", "涉密工程甲"),  # a name only: matched against the ledger's names in core.fact_spending
])
def test_project_codes_are_folded(cell, code):
    con = duckdb.connect()
    load_macros(con)
    assert con.execute("SELECT fw_project_code(?)", [cell]).fetchone() == (code,)


def test_the_load_succeeds(loaded):
    assert loaded[1] == 0, loaded[2]


def test_every_wording_not_clearly_public_is_secret(loaded):
    warehouse = loaded[0]
    rows = dict(query(warehouse, "SELECT project_code, disclosure FROM core.dim_project WHERE unit_code = ?", [UNIT]))
    assert rows == {"P-2021-01": "公开", "P-2021-02": "公开", "4330-01": "涉密", "4330-02": "涉密",
                    "4330-03": "涉密", "4330-04": "涉密", "4330-05": "涉密"}


def test_full_width_code_and_name_only_cells_are_the_ledger_projects(loaded):
    """Vouchers (full-width code, name only, `code name`, `【code】name`) and a budget line (name only)."""
    warehouse = loaded[0]
    spent = dict(marts_query(warehouse, "SELECT project_code, spent_yuan FROM marts.spending_by_project "
                                  "WHERE unit_code = ? AND fiscal_year = 2021", [UNIT]))
    assert spent == {code: money(amount) for code, _, _, _, _, amount in PROJECTS}
    budget = dict(marts_query(warehouse, "SELECT project_code, budget_final_yuan FROM marts.spending_by_project "
                                         "WHERE unit_code = ? AND fiscal_year = 2021", [UNIT]))
    assert budget == {code: money(amount) for code, _, _, amount, _, _ in PROJECTS}


def test_unknown_wording_is_warned_about(loaded):
    warehouse = loaded[0]
    rows = query(warehouse, "SELECT severity, source_file, source_row, value_provided FROM quality.results "
                            "WHERE check_id = 'ledger_unknown_disclosure'")
    assert rows == [("warning", f"{UNIT}/2021/项目/2021年项目台账.xlsx", 8, "待定")]


def test_no_public_mart_file_holds_a_secret(loaded):
    warehouse = loaded[0]
    files = [p for p in (warehouse / "marts_public").rglob("*") if p.is_file()]
    assert len(files) >= 7
    for path in files:
        data = path.read_bytes()
        for needle in needles():
            assert needle.encode("utf-8") not in data, (path, needle)
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            values = [str(v) for column in table.columns for v in column.to_pylist() if v is not None]
            values += [str(table.schema.metadata or "")]
            for value in values:
                assert not any(n in value for n in needles()), (path, value)


def test_public_reports_and_charts_hold_no_secret(loaded):
    warehouse = loaded[0]
    texts = public_report_texts(warehouse)
    for name, text in texts.items():
        for needle in needles():
            assert needle not in text, (name, needle)
    # the public report still tells the story: the public project, the undisclosed line, the masked narrative
    md = texts["部门整体支出绩效自评报告（公开版）.md"]
    assert "道路维修工程" in md and "涉密项目（不予公开）" in md and "（涉密内容，不予公开）" in md
    assert "（（涉密内容" not in md  # a name with its code in brackets reads as one mask
    assert "人防指挥所改造配套完成率" not in md and "道路维修完成率" in md
    # the internal report keeps everything
    internal = (warehouse / "reports" / UNIT / "2021" / "部门整体支出绩效自评报告.md").read_text(encoding="utf-8")
    assert "涉密工程甲" in internal and "人防指挥所改造配套完成率" in internal


def test_no_file_named_public_holds_a_secret(loaded):
    """Whatever else is published: every file under exports/ and reports/ whose path says
    公开 (公开版, 公开数据), read as its reader sees it."""
    warehouse = loaded[0]
    files = [p for folder in ("exports", "reports") for p in (warehouse / folder).rglob("*")
             if p.is_file() and "公开" in p.relative_to(warehouse).as_posix()]
    assert len(files) >= 4, files
    for path in files:
        text = file_text(path)
        for needle in needles():
            assert needle not in text, (path, needle)


def test_indicators_naming_a_secret_are_not_published(loaded):
    warehouse = loaded[0]
    public = {r[0] for r in marts_query(warehouse, "SELECT name FROM marts_public.performance_indicators")}
    internal = {r[0] for r in marts_query(warehouse, "SELECT name FROM marts.performance_indicators")}
    assert public == {"道路维修完成率", "群众满意度", "维修道路长度"}
    assert internal == public | {"涉密工程甲验收合格率", "人防指挥所改造配套完成率", "涉密工程甲完成率", SECRET_INDICATOR}


def test_totals_still_add_up(loaded):
    warehouse = loaded[0]
    total = money(BASIC) + sum(money(p[5]) for p in PROJECTS)
    secret_spent = sum(money(p[5]) for p in SECRET)
    secret_budget = sum(money(p[3]) for p in SECRET)
    assert marts_query(warehouse, "SELECT project_code, budget_final_yuan, spent_yuan "
                                  "FROM marts_public.spending_by_project WHERE unit_code = ? ORDER BY project_code",
                       [UNIT]) == [
        ("P-2021-01", Decimal("100000.00"), Decimal("60000.00")),
        ("P-2021-02", Decimal("80000.00"), Decimal("50000.00")),
        ("UNDISCLOSED", secret_budget, secret_spent)]
    for mart, column in [("spending_by_project", "spent_yuan"), ("spending_by_category", "amount_yuan"),
                         ("spending_by_year", "total_yuan"), ("budget_execution", "spent_yuan")]:
        public = marts_query(warehouse, f"SELECT sum({column}) FROM marts_public.{mart} WHERE unit_code = ?", [UNIT])
        internal = marts_query(warehouse, f"SELECT sum({column}) FROM marts.{mart} WHERE unit_code = ?", [UNIT])
        assert public == internal, mart
    year_total = marts_query(warehouse, "SELECT total_yuan FROM marts_public.spending_by_year WHERE unit_code = ?", [UNIT])
    assert year_total == [(total,)]
