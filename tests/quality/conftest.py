"""Fixtures of the quality tests.

Two landing folders, each loaded once per session:

- **clean**: a copy of the bundled demo data (unit 117001, 2020 and 2021) plus a small
  second unit written here (117002, 2021). Every rule and every suite passes on it.
- **messy**: the same plus one instance of every warning rule's failure, injected into
  copies of the demo's own files (appended CSV rows, a changed cell, ledger rows added
  with openpyxl) and one supplementary voucher file, and rows that staging rejects (an
  unbalanced voucher, unknown codes, a missing economic class, a date outside the file's
  period). `inject_warnings` returns, per rule, the exact rows the rule must report:
  (unit_code, fiscal_year, source_file, source_row), and the rows the quarantine must hold
  with their reason, field and value — no rule reports those again.

Fatal rules are not injected into files (contract problems never are fatal): their failing
fixtures alter a copy of the clean warehouse (see test_rules.py).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipelines.settings import DEMO_LANDING_DIR, Settings, load_settings
from tests.conftest import payment, run_load, voucher_file, write_csv

UNIT1, UNIT2 = "117001", "117002"
Q3 = "117001/2021/凭证/2021年7-9月序时账.csv"
SUPPLEMENT = "117001/2021/凭证/2021年9月补充序时账.csv"
BUDGET_2021 = "117001/2021/预算/2021年预算指标明细.csv"
LEDGER_2021 = "117001/2021/项目/2021年项目台账.xlsx"
STAFFING_2021 = "117001/2021/人员/2021年人员情况.csv"
PROCUREMENT_2020 = "117001/2020/采购/2020年政府采购台账.csv"
UNIT2_VOUCHERS = "117002/2021/凭证/2021年序时账.csv"

Row = tuple[str, int, str | None, int | None]  # unit_code, fiscal_year, source_file, source_row
Rejected = dict[tuple[str, int], tuple[str, str, str | None]]  # (file, row) -> reason_code, field, value


def write_second_unit(landing: Path) -> None:
    """Unit 117002, FY2021: a handful of balanced vouchers, budget, ledger, staffing and
    procurement that satisfy every rule (spending within budget, contracts within the
    procurement budget, 在职 ≤ 编制, every project in ledger and budget)."""
    folder = landing / UNIT2 / "2021"
    lines = (payment("2021-03-15", "记-0001", "100,000.00", econ="30101")
             + payment("2021-06-15", "记-0002", "50,000.00", econ="31005", func="2120399", project="117002-2021-01")
             + payment("2021-09-15", "记-0003", "20,000.00", econ="30201"))
    voucher_file(landing / UNIT2_VOUCHERS, lines, unit="117002 常宁市测试二局")
    write_csv(folder / "预算" / "2021年预算指标.csv", [
        ["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额", "政府采购预算"],
        [UNIT2, 2021, "测财预〔2021〕1号", "年初预算", "2120101", "30101", "", "一般公共预算", "150,000.00", ""],
        [UNIT2, 2021, "测财预〔2021〕1号", "年初预算", "2120101", "30201", "", "一般公共预算", "30,000.00", ""],
        [UNIT2, 2021, "测财预〔2021〕2号", "年初预算", "2120399", "31005", "117002-2021-01", "一般公共预算",
         "80,000.00", "60,000.00"],
    ])
    write_csv(folder / "项目" / "2021年项目台账.csv", [
        ["单位编码", "项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性", "年度"],
        [UNIT2, "117002-2021-01", "测试道路维修", "基础设施", "办公室", "是", "公开", 2021],
    ])
    write_csv(folder / "人员" / "2021年人员情况.csv", [
        ["单位编码", "年度", "编制数", "实有在职人数", "离退休人数"], [UNIT2, 2021, 20, 18, 3]])
    write_csv(folder / "采购" / "2021年政府采购台账.csv", [
        ["单位编码", "年度", "项目编码", "合同编号", "采购方式", "合同金额", "签订日期"],
        [UNIT2, 2021, "117002-2021-01", "HT-2021-01", "询价", "50,000.00", "2021/5/10"]])


def clean_landing(folder: Path) -> Path:
    shutil.copytree(DEMO_LANDING_DIR, folder)  # copy2: keeps the demo files' modification times
    write_second_unit(folder)
    return folder


def _append_csv(path: Path, rows: list[str], encoding: str) -> list[int]:
    """Append CSV lines (CRLF, as the demo writes them); returns their physical row numbers."""
    data = path.read_bytes()
    existing = len(data.decode(encoding).splitlines())
    if not data.endswith(b"\n"):
        data += b"\r\n"
    path.write_bytes(data + "".join(row + "\r\n" for row in rows).encode(encoding.replace("-sig", "")))
    return [existing + 1 + i for i in range(len(rows))]


def _q3_voucher(date: str, no: str, lines: list[tuple]) -> list[str]:
    """Rows of the Q3 file's layout: 日期,凭证号,分录号,摘要,科目编码,科目名称,借方金额,贷方金额,功能科目,支出经济分类,项目编码,资金性质."""
    out = []
    for n, (account, name, debit, credit, func, econ, project, fund) in enumerate(lines, 1):
        out.append(",".join([date, no, str(n), "测试凭证", account, name, f'"{debit}"', f'"{credit}"',
                             func, econ, project, fund]))
    return out


def inject_warnings(landing: Path) -> tuple[dict[str, set[Row]], Rejected]:
    """One instance of every warning rule's failure, and rows staging rejects; returns the
    rows each rule must report and the rows the quarantine must hold."""
    expect: dict[str, set[Row]] = {}
    rejected: Rejected = {}
    q3 = landing / Q3
    fund, basic = "一般公共预算", ""

    def vouchers(rule: str | None, date: str, no: str, lines: list[tuple], report: list[int] | None = None,
                 rejects: list[tuple[str, str, str | None]] | None = None) -> list[int]:
        rows = _append_csv(q3, _q3_voucher(date, no, lines), "utf-8-sig")
        if report is not None:
            expect[rule] = {(UNIT1, 2021, Q3, rows[i]) for i in report}
        for row, reject in zip(rows, rejects or []):
            rejected[(Q3, row)] = reject
        return rows

    # rows staging rejects, with the field and the cell as written: each voucher is built so
    # that all its lines are rejected for the same reason (a voucher left half-rejected would
    # also be unbalanced)
    vouchers(None, "20210915", "记-9001", [
        ("7101", "行政支出", "1,000.00", "0.00", "2120101", "30201", basic, fund),
        ("6001", "财政拨款预算收入", "0.00", "900.00", "", "", "", "")],
        rejects=[("unbalanced_voucher", "debit", "1,000.00"), ("unbalanced_voucher", "credit", "900.00")])
    vouchers(None, "20210916", "记-9002", [
        ("7101", "行政支出", "500.00", "0.00", "2120101", "39998", basic, fund),
        ("6001", "财政拨款预算收入", "0.00", "500.00", "", "39998", "", "")],
        rejects=[("unknown_econ_code", "econ_class", "39998")] * 2)
    vouchers(None, "20210916", "记-9003", [
        ("7101", "行政支出", "400.00", "0.00", "2129998", "30201", basic, fund),
        ("6001", "财政拨款预算收入", "0.00", "400.00", "2129998", "", "", "")],
        rejects=[("unknown_func_code", "func_class", "2129998")] * 2)
    vouchers(None, "20210917", "记-9004", [
        ("7101", "行政支出", "300.00", "0.00", "2120101", "", basic, fund),
        ("7101", "行政支出", "0.00", "300.00", "2120101", "", basic, fund)],
        rejects=[("missing_required", "econ_class", None)] * 2)
    vouchers(None, "20211005", "记-9005", [
        ("7101", "行政支出", "200.00", "0.00", "2120101", "30201", basic, fund),
        ("6001", "财政拨款预算收入", "0.00", "200.00", "", "", "", "")],
        rejects=[("date_out_of_range", "voucher_date", "20211005")] * 2)
    # cross-file rules fed by vouchers
    vouchers("project_not_in_ledger", "20210920", "记-9006", [  # a refund booked to an old project code
        ("8001", "资金结存", "1,500.00", "0.00", "", "", "", ""),
        ("7101", "行政支出", "0.00", "1,500.00", "2120101", "30201", "117001-2019-99", fund)], report=[1])
    vouchers("project_over_budget", "20210921", "记-9007", [  # 塔岭水厂 was spent to 100 %
        ("7101", "行政支出", "10,000.00", "0.00", "2120399", "31005", "117001-2021-03", "政府性基金预算"),
        ("6001", "财政拨款预算收入", "0.00", "10,000.00", "", "", "", "")])
    expect["project_over_budget"] = {(UNIT1, 2021, None, None)}
    vouchers("unit_over_budget", "20210922", "记-9008", [  # 5 M basic spending: the unit's total passes its budget
        ("7101", "行政支出", "5,000,000.00", "0.00", "2120101", "30299", basic, fund),
        ("6001", "财政拨款预算收入", "0.00", "5,000,000.00", "", "", "", "")])
    expect["unit_over_budget"] = {(UNIT1, 2021, None, None)}

    # the same voucher in a second, overlapping file: a September supplement (its period lies
    # inside Q3's) repeating voucher 记-0005 of 2021-09-03 (Q3 rows 401-404, basic 30201)
    q3_rows = q3.read_text(encoding="utf-8-sig").splitlines()
    copied = q3_rows[400:404]
    assert all(line.startswith("20210903,记-0005,") for line in copied), copied
    supplement = landing / SUPPLEMENT
    supplement.write_text("\r\n".join(["序时账", "单位：117001 常宁市住房和城乡建设局", "2021年9月1日至2021年9月30日",
                                       "单位：元", q3_rows[4], *copied]) + "\r\n", encoding="utf-8-sig")
    newest = max(p.stat().st_mtime_ns for p in landing.rglob("*") if p.is_file())
    os.utime(supplement, ns=(newest + 10**10, newest + 10**10))  # the newer of the two files
    expect["voucher_line_in_two_files"] = (
        {(UNIT1, 2021, Q3, r) for r in range(401, 405)} | {(UNIT1, 2021, SUPPLEMENT, r) for r in range(6, 10)})
    expect["overlapping_files"] = {(UNIT1, 2021, Q3, None), (UNIT1, 2021, SUPPLEMENT, None)}

    # budget lines: 单位编码,年度,指标文号,指标类型,功能分类,经济分类,项目编码,项目名称,资金性质,金额,政府采购预算
    budget_rows = _append_csv(landing / BUDGET_2021, [
        '117001,2021,测试〔2021〕1号,年初预算,2120101 行政运行,30201 办公费,117001-2021-90,新增测试项目甲,一般公共预算,"50,000.00",',
        '117001,2021,测试〔2021〕1号,年初预算,2120101 行政运行,30201 办公费,117001-2021-92,预算中的项目,一般公共预算,"80,000.00",',
        '117001,2021,测试〔2021〕1号,年初预算,2120101 行政运行,39998 未知分类,,,一般公共预算,"1,000.00",',
        '117001,2021,测试〔2021〕1号,年初预算,2129998 未知分类,30201 办公费,,,一般公共预算,"1,000.00",',
    ], "utf-8-sig")
    expect["budget_project_not_in_ledger"] = {(UNIT1, 2021, BUDGET_2021, budget_rows[1])}
    rejected[(BUDGET_2021, budget_rows[2])] = ("unknown_econ_code", "econ_class", "39998 未知分类")
    rejected[(BUDGET_2021, budget_rows[3])] = ("unknown_func_code", "func_class", "2129998 未知分类")

    # the ledger: a budgeted project never spent on (budget line above), one without budget
    workbook = openpyxl.load_workbook(landing / LEDGER_2021)
    sheet = workbook["项目"]
    for code, name in (("117001-2021-90", "新增测试项目甲"), ("117001-2021-91", "新增测试项目乙")):
        sheet.append([UNIT1, code, name, "业务类", "办公室（财务审计股）", "否", "公开", None, None, "未开工", 2021])
    # a 公开属性 the loader does not know (施工图审查, row 2): read as 涉密, reported
    assert (sheet["G1"].value, sheet["G2"].value) == ("公开属性", "公开")
    sheet["G2"] = "待定"
    expect["ledger_unknown_disclosure"] = {(UNIT1, 2021, LEDGER_2021, 2)}
    workbook.save(landing / LEDGER_2021)
    expect["ledger_project_never_spent"] = {(UNIT1, 2021, LEDGER_2021, sheet.max_row - 1)}
    expect["ledger_project_without_budget"] = {(UNIT1, 2021, LEDGER_2021, sheet.max_row)}

    staffing = landing / STAFFING_2021
    text = staffing.read_text(encoding="utf-8")
    assert "117001,2021,301,301,89" in text
    staffing.write_text(text.replace("117001,2021,301,301,89", "117001,2021,301,305,89"), encoding="utf-8")
    expect["staff_over_authorized"] = {(UNIT1, 2021, STAFFING_2021, 2)}

    # 单位编码,年度,项目编码,合同编号,合同名称,采购方式,供应商,合同金额,签订日期 (GBK), a project without procurement budget
    procurement_rows = _append_csv(landing / PROCUREMENT_2020, [
        '117001,2020,117001-2020-99,CNZJCG-2020-099,测试合同,询价,测试供应商,"120,000.00",2020/11/20'], "gbk")
    expect["procurement_over_budget"] = {(UNIT1, 2020, PROCUREMENT_2020, procurement_rows[0])}
    return expect, rejected


@dataclass
class Loaded:
    settings: Settings
    load_id: str
    scope: set[tuple[str, int]]
    exit_code: int | None = None
    stdout: str = ""
    result: object = None  # the Dagster ExecuteInProcessResult, for the messy load
    expected: dict | None = None  # rule -> the rows it must report (the messy load)
    rejected: dict | None = None  # (file, row) -> the quarantine's reason_code, field, value (the messy load)


def latest_load_id(settings: Settings) -> str:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return con.execute("SELECT load_id FROM meta.loads ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    finally:
        con.close()


ALL_UNIT_YEARS = {(UNIT1, 2020), (UNIT1, 2021), (UNIT2, 2021)}


@pytest.fixture(scope="session")
def clean(tmp_path_factory) -> Loaded:
    """The clean landing folder loaded by `fiscal-warehouse load` (exit code and summary kept)."""
    root = tmp_path_factory.mktemp("quality_clean")
    landing = clean_landing(root / "landing")
    out = io.StringIO()
    home = os.environ.get("DAGSTER_HOME")
    try:
        with contextlib.redirect_stdout(out):
            code = run_load(landing, root / "warehouse")
    finally:
        if home is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = home
    settings = load_settings(landing, root / "warehouse")
    return Loaded(settings, latest_load_id(settings), set(ALL_UNIT_YEARS), code, out.getvalue())


MESSY_LOAD_ID = "messy-load"


@pytest.fixture(scope="session")
def messy(tmp_path_factory) -> Loaded:
    """The messy landing folder materialized through Dagster (assets and asset checks)."""
    import dagster as dg

    from pipelines.cli import definitions_for
    from pipelines.defs.jobs import execute_load

    root = tmp_path_factory.mktemp("quality_messy")
    landing = clean_landing(root / "landing")
    expected, rejected = inject_warnings(landing)
    settings = load_settings(landing, root / "warehouse")
    # The load as the CLI runs it: the ingest run, then the partitioned runs (their results together).
    result = execute_load(definitions_for(settings, lambda message: None), dg.DagsterInstance.ephemeral(), settings,
                          MESSY_LOAD_ID)
    return Loaded(settings, MESSY_LOAD_ID, set(ALL_UNIT_YEARS), result=result, expected=expected, rejected=rejected)


def results(settings: Settings, load_id: str, check_id: str | None = None) -> list[tuple]:
    """(check_id, severity, unit_code, fiscal_year, source_file, source_row) of a load."""
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        sql = ("SELECT check_id, severity, unit_code, fiscal_year, source_file, source_row FROM quality.results "
               "WHERE load_id = ?" + (" AND check_id = ?" if check_id else "") + " ORDER BY ALL")
        return con.execute(sql, [load_id] + ([check_id] if check_id else [])).fetchall()
    finally:
        con.close()
