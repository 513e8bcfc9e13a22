"""A county's landing folder, as its departments' systems export it: per unit and year,
twelve monthly voucher exports, a budget, a project ledger (sheets 项目 and 绩效指标), a
staffing line and a procurement ledger, CSV and XLSX mixed.

    generate_county(landing, units=300, years=(2020, 2021), lines_per_year=4000)

Every voucher balances, every code is in the reference lists and every project is in
the ledger and the budget, as in a department that keeps its books; the quirks are the
real ones (title lines, `单位：<code> <name>`, a period line, thousands separators, `code
name` classification cells, UTF-8 with and without BOM). CSV files are UTF-8 so that the
benchmark's bare DuckDB read can read them too (DuckDB reads GBK only with a downloaded
extension).
"""

from __future__ import annotations

import calendar
import csv
import io
import random
import shutil
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path

import xlsxwriter

VOUCHER_HEADER = ["凭证日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额", "功能分类",
                  "经济分类", "项目编码", "资金性质"]
BUDGET_HEADER = ["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "项目名称", "资金性质", "金额",
                 "政府采购预算"]
PROJECT_HEADER = ["单位编码", "项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性", "开工日期",
                  "计划完工日期", "状态", "年度"]
INDICATOR_HEADER = ["单位编码", "项目编码", "一级指标", "二级指标", "三级指标", "计量单位", "指标方向", "年度指标值", "实际完成值",
                    "分值", "年度", "偏差原因"]
STAFFING_HEADER = ["单位编码", "年度", "编制数", "实有在职人数", "离退休人数"]
PROCUREMENT_HEADER = ["单位编码", "年度", "项目编码", "合同编号", "合同名称", "采购方式", "供应商", "合同金额", "签订日期"]

BASIC = [("2120101 行政运行", "30101 基本工资"), ("2120101 行政运行", "30102 津贴补贴"),
         ("2120101 行政运行", "30201 办公费"), ("2120101 行政运行", "30211 差旅费"),
         ("2120101 行政运行", "30217 公务接待费"), ("2120101 行政运行", "30231 公务用车运行维护费")]
PROJECT_FUNCS = ["2120399 其他城乡社区公共设施支出", "2120102 一般行政管理事务", "2210108 老旧小区改造"]
PROJECT_ECON = ["30227 委托业务费", "31002 办公设备购置"]
PROJECT_NAMES = ["市政设施维护", "城区道路改造", "老旧小区改造", "排水防涝", "信息化建设"]
DEPARTMENT_INDICATORS = [
    ("产出指标", "数量指标", "完成重点工作任务数", "项", "≥", 10, 11, 20),
    ("产出指标", "质量指标", "工作任务合格率", "%", "≥", 95, 97, 15),
    ("产出指标", "时效指标", "资金拨付及时率", "%", "≥", 100, 100, 15),
    ("效益指标", "社会效益指标", "服务群众人次", "人次", "≥", 5000, 5230, 15),
    ("效益指标", "可持续影响指标", "设施正常运行率", "%", "≥", 95, 98, 15),
    ("满意度指标", "服务对象满意度指标", "服务对象满意度", "%", "≥", 90, 94, 10),
]


YEARS = (2020, 2021)
NARRATIVE = """# {单位名称}

## 职能职责

{单位名称}负责本县城乡建设和市政公用设施的管理工作。

## 机构设置

{单位名称}内设综合股、业务股，编制{编制数}人，{年度}年末在职{在职人数}人，离退休{退休人数}人。

## 绩效评价工作情况

单位成立自评工作小组，对{年度}年度部门整体支出开展绩效自评。

## 存在的问题和建议

预算编制的精细化程度有待提高，下一步将加强项目前期论证。
"""


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def unit_name(unit: str) -> str:
    return f"县第{int(unit[1:])}预算单位"


def _projects(unit: str, year: int) -> list[tuple[str, str]]:
    return [(f"{unit}-{year}-{i + 1:02d}", name) for i, name in enumerate(PROJECT_NAMES)]


def voucher_rows(unit: str, year: int, month: int, lines: int, rng: random.Random) -> tuple[list[list[str]], dict]:
    """`lines` voucher lines (a multiple of 4: direct payments in both books) in one month,
    and what they spent by (func, econ, project) for the budget."""
    rows: list[list[str]] = []
    spent: dict[tuple[str, str, str], Decimal] = {}
    days = calendar.monthrange(year, month)[1]
    projects = _projects(unit, year)
    for v in range(lines // 4):
        day = date(year, month, 1 + (v * 7) % days).isoformat()
        number = f"记-{month:02d}{v + 1:04d}"
        amount = Decimal(rng.randrange(10_000, 5_000_000)) / 100
        if v % 3 == 0:
            code, _ = projects[v % len(projects)]
            func, econ = PROJECT_FUNCS[v % len(PROJECT_FUNCS)], PROJECT_ECON[v % len(PROJECT_ECON)]
        else:
            code = ""
            func, econ = BASIC[v % len(BASIC)]
        spent[(func, econ, code)] = spent.get((func, econ, code), Decimal(0)) + amount
        text = "支付" + (projects[v % len(projects)][1] if code else "日常运转") + "款项"
        a = money(amount)
        rows += [
            [day, number, "1", text, "7101", "行政支出", a, "", func, econ, code, "一般公共预算"],
            [day, number, "2", text, "6001", "财政拨款预算收入", "", a, "", "", "", "一般公共预算"],
            [day, number, "3", text, "5001", "业务活动费用", a, "", func, econ, code, "一般公共预算"],
            [day, number, "4", text, "4001", "财政拨款收入", "", a, "", "", "", "一般公共预算"],
        ]
    return rows, spent


def write_csv(path: Path, rows: list[list[object]], bom: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig" if bom else "utf-8"))


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value in ("", None):
                    continue
                if isinstance(value, (int, float)):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, str(value))
    workbook.close()


def _xlsx_values(rows: list[list[str]], money_columns: tuple[int, ...]) -> list[list[object]]:
    """Amount cells as numbers, as a spreadsheet export holds them."""
    return [[float(v.replace(",", "")) if i in money_columns and v else v for i, v in enumerate(row)] for row in rows]


def voucher_file(folder: Path, unit: str, year: int, month: int, lines: int, rng: random.Random,
                 as_xlsx: bool) -> dict:
    rows, spent = voucher_rows(unit, year, month, lines, rng)
    last = calendar.monthrange(year, month)[1]
    period = f"{year}年{month}月1日至{year}年{month}月{last}日"
    title = [["序时账"], [f"单位：{unit} {unit_name(unit)}"], [period], ["单位：元"]]
    if as_xlsx:
        write_xlsx(folder / f"{year}年{month:02d}月序时账.xlsx", {"序时账": title + [VOUCHER_HEADER] + _xlsx_values(rows, (6, 7))})
    else:
        write_csv(folder / f"{year}年{month:02d}月序时账.csv", title + [VOUCHER_HEADER] + rows, bom=month % 2 == 0)
    return spent


def unit_year(landing: Path, unit: str, year: int, lines_per_year: int, seed: int) -> int:
    """Writes one unit-year's sixteen files; returns how many."""
    rng = random.Random(seed)
    base = landing / unit / str(year)
    n = int(unit[1:])
    per_month = max(4, lines_per_year // 12 // 4 * 4)
    spent: dict[tuple[str, str, str], Decimal] = {}
    for month in range(1, 13):
        # about a quarter of the monthly exports come as workbooks
        for key, value in voucher_file(base / "凭证", unit, year, month, per_month, rng, (n + month) % 4 == 0).items():
            spent[key] = spent.get(key, Decimal(0)) + value
    projects = dict(_projects(unit, year))
    budget = [[f"{year}年度部门预算指标明细表"], ["单位：元"], BUDGET_HEADER]
    for number, ((func, econ, code), amount) in enumerate(sorted(spent.items())):
        planned = (amount * Decimal("1.08")).quantize(Decimal("1000"))
        budget.append([unit, str(year), f"县财预〔{year}〕{number + 1}号", "年初预算", func, econ, code,
                       projects.get(code, ""), "一般公共预算", money(planned), money(planned) if code else ""])
    if n % 2:
        write_xlsx(base / "预算" / f"{year}年预算指标.xlsx", {"预算指标": budget[2:]})
    else:
        write_csv(base / "预算" / f"{year}年预算指标明细.csv", budget, bom=True)
    ledger = [PROJECT_HEADER] + [
        [unit, code, name, "业务类", "综合股", "否", "公开", f"{year}-01-01", f"{year}-12-31", "持续实施", year]
        for code, name in projects.items()
    ]
    indicators = [INDICATOR_HEADER] + [[unit, "", *row[:7], row[7], year, ""] for row in DEPARTMENT_INDICATORS] + [
        [unit, code, "产出指标", "数量指标", f"{name}完成数", "项", "≥", 4, 4, 20, year, ""] for code, name in projects.items()
    ]
    write_xlsx(base / "项目" / f"{year}年项目台账.xlsx", {"项目": ledger, "绩效指标": indicators})
    posts = 20 + n % 40
    write_csv(base / "人员" / f"{year}年人员情况.csv",
              [STAFFING_HEADER, [unit, str(year), str(posts), str(posts - n % 3), str(5 + n % 7)]], bom=False)
    procurement = [[unit, str(year), code, f"XCG-{unit}-{year}-{i + 1:03d}", f"{name}服务采购", "公开招标", "县建设工程有限公司",
                    money(Decimal(100_000 + 1_000 * i)), f"{year}-0{3 + i}-15"]
                   for i, (code, name) in enumerate(projects.items())]
    if n % 2:
        write_xlsx(base / "采购" / f"{year}年政府采购台账.xlsx",
                   {"政府采购台账": [PROCUREMENT_HEADER] + _xlsx_values(procurement, (7,))})
    else:
        write_csv(base / "采购" / f"{year}年政府采购台账.csv",
                  [[f"{year}年政府采购合同台账"], ["单位：元"], PROCUREMENT_HEADER] + procurement, bom=True)
    if year == min(YEARS):
        texts = landing / "_texts" / f"{unit}.md"
        texts.parent.mkdir(parents=True, exist_ok=True)
        texts.write_text(NARRATIVE, encoding="utf-8")
    return 16


def _units_batch(landing: Path, units: list[str], years: tuple[int, ...], lines_per_year: int) -> int:
    return sum(unit_year(landing, unit, year, lines_per_year, seed=int(unit) * 10_000 + year)
               for unit in units for year in years)


def generate_county(landing: Path, units: int = 300, years: tuple[int, ...] = YEARS,
                    lines_per_year: int = 4000, processes: int = 2) -> int:
    """Writes the landing folder afresh; returns the number of files."""
    if landing.exists():
        shutil.rmtree(landing)
    codes = [f"7{n:05d}" for n in range(units)]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        return sum(pool.map(_units_batch, [landing] * processes, [codes[i::processes] for i in range(processes)],
                            [years] * processes, [lines_per_year] * processes))


def csv_title_lines(path: Path) -> int:
    """How many lines stand above the header row of one of these CSV files (for the bare read)."""
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle):
            if line.startswith(("凭证日期", "单位编码")):
                return number
    return 0
