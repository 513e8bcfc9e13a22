"""The bundled demo landing folder: reproducible, and its figures are the seed's.

Two kinds of test:
- the generator rewrites the committed files byte for byte (into tmp_path);
- the committed files, read back here with openpyxl / csv and a small reader of this
  test's own (independent of any warehouse code), give the expected totals: FY2021 is
  the seed report to the fen, FY2020 the prior year the demo was designed with.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from scripts.demo_data.generate import generate
from tests.demo.landing_reader import (
    budget_lines, contracts, files_with_header, is_footer_or_blank, norm, read_sheets, spending_type, split_table,
    unit_of, voucher_lines,
)

ROOT = Path(__file__).resolve().parents[2]
LANDING = ROOT / "pipelines" / "demo" / "landing"
UNIT = "117001"
FISCAL = ("一般公共预算", "政府性基金预算", "国有资本经营预算")
THREE_PUBLIC = ("30212", "30217", "31013", "30231")  # 30913 counts as 31013
D = Decimal
Y = lambda s: Decimal(s)  # noqa: E731  (yuan literal)

# ---------------------------------------------------------------------------
# Expected figures (yuan)
# ---------------------------------------------------------------------------

PROJECTS_2021 = {
    "117001-2020-01": Y("1200000.00"),  # 施工图审查 120
    "117001-2020-02": Y("10000000.00"),  # 市政设施建设 1000
    "117001-2020-03": Y("15000000.00"),  # 城市基础设施建设及城区道路改造 1500
    "117001-2020-04": Y("43000000.00"),  # 老旧小区改造 4300
    "117001-2020-05": Y("12050000.00"),  # 城区排水防涝 1205
    "117001-2020-06": Y("6745000.00"),  # 棚户区改造 674.5
    "117001-2021-02": Y("663600.00"),  # 地下管线普查及信息化平台建设 66.36
    "117001-2021-01": Y("3780000.00"),  # 解困资金、社保和就业资金、泉峰市场补贴资金 378
    "117001-2020-07": Y("13849800.00"),  # 污水处理费服务费及管网维护费 1384.98
    "117001-2020-08": Y("1729300.00"),  # 危房改造 172.93
    "117001-2020-09": Y("17093600.00"),  # 乡镇污水处理奖补及配套 1709.36
    "117001-2021-03": Y("10000000.00"),  # 自来水公司塔岭水厂债券资金 1000
    "117001-2020-10": Y("6000000.00"),  # 运转类经费 600
    "117001-2020-11": Y("2068000.00"),  # 人防 206.80 (涉密)
}
PROJECTS_2020 = {
    "117001-2020-01": Y("1080000.00"),
    "117001-2020-02": Y("9500000.00"),
    "117001-2020-03": Y("18500000.00"),
    "117001-2020-04": Y("36200000.00"),
    "117001-2020-05": Y("9800000.00"),
    "117001-2020-06": Y("11268000.00"),
    "117001-2020-07": Y("12964500.00"),
    "117001-2020-08": Y("2486000.00"),
    "117001-2020-09": Y("12100000.00"),
    "117001-2020-10": Y("5600000.00"),
    "117001-2020-11": Y("1885000.00"),
    "117001-2020-12": Y("4198765.44"),
    "117001-2020-13": Y("3561234.56"),
}

EXPECTED = {
    2021: dict(
        total=Y("166619400.00"),
        basic_by_class={"301": Y("21943300.00"), "302": Y("1496800.00")},
        basic_301_codes={"30101", "30102", "30103", "30107", "30108", "30109", "30110", "30112", "30113"},
        basic_302_codes={"30201", "30202", "30205", "30206", "30207", "30211", "30213", "30215", "30216",
                         "30217", "30228", "30231", "30299"},
        projects=PROJECTS_2021,
        by_type_fund={
            ("基本支出", "一般公共预算"): Y("23371840.00"),
            ("基本支出", "单位资金"): Y("68260.00"),
            ("项目支出", "一般公共预算"): Y("118429500.00"),
            ("项目支出", "政府性基金预算"): Y("23849800.00"),
            ("项目支出", "财政专户管理资金"): Y("900000.00"),
        },
        three_public={"30212": Y("0"), "30217": Y("80200.00"), "31013": Y("0"), "30231": Y("149800.00")},
        budget={  # (type, fund): (initial, final)
            ("基本支出", "一般公共预算"): (Y("23084000.00"), Y("23684000.00")),
            ("基本支出", "单位资金"): (Y("71800.00"), Y("71800.00")),
            ("项目支出", "一般公共预算"): (Y("114500000.00"), Y("122135000.00")),
            ("项目支出", "政府性基金预算"): (Y("14000000.00"), Y("24000000.00")),
            ("项目支出", "财政专户管理资金"): (Y("940000.00"), Y("940000.00")),
        },
        procurement_budget=Y("54310000.00"),
        contracts=Y("50543000.00"),
        staffing=(301, 301, 89),
        ledger_projects=14,
    ),
    2020: dict(
        total=Y("151597100.00"),
        basic_by_class={"301": Y("20715200.00"), "302": Y("1523600.00"), "310": Y("214800.00")},
        projects=PROJECTS_2020,
        by_type_fund={
            ("基本支出", "一般公共预算"): Y("22391100.00"),
            ("基本支出", "单位资金"): Y("62500.00"),
            ("项目支出", "一般公共预算"): Y("111180234.56"),
            ("项目支出", "政府性基金预算"): Y("17163265.44"),
            ("项目支出", "财政专户管理资金"): Y("800000.00"),
        },
        three_public={"30212": Y("0"), "30217": Y("98380.00"), "31013": Y("179800.00"), "30231": Y("180350.00")},
        budget={
            ("基本支出", "一般公共预算"): (Y("22193800.00"), Y("22693800.00")),
            ("基本支出", "单位资金"): (Y("65800.00"), Y("65800.00")),
            ("项目支出", "一般公共预算"): (Y("105686000.00"), Y("116886000.00")),
            ("项目支出", "政府性基金预算"): (Y("17800000.00"), Y("17800000.00")),
            ("项目支出", "财政专户管理资金"): (Y("850000.00"), Y("850000.00")),
        },
        procurement_budget=Y("53821300.00"),
        contracts=Y("52024400.00"),
        staffing=(301, 298, 86),
        ledger_projects=13,
    ),
}

# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lines() -> list[dict]:
    return voucher_lines(LANDING)


@pytest.fixture(scope="module")
def spending(lines) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for ln in lines:
        if ln["account"].startswith("7"):
            out[ln["date"].year].append(ln)
    return out


@pytest.fixture(scope="module")
def budgets() -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for b in budget_lines(LANDING):
        out[b["year"]].append(b)
    return out


def total(rows, pred=lambda r: True, field="amount") -> Decimal:
    return sum((r[field] for r in rows if pred(r)), D(0))


def spent(rows, pred=lambda r: True) -> Decimal:
    return sum((r["debit"] - r["credit"] for r in rows if pred(r)), D(0))


# ---------------------------------------------------------------------------
# Reproducibility
# ---------------------------------------------------------------------------


def test_generator_rewrites_the_committed_files_byte_for_byte(tmp_path):
    out = tmp_path / "landing"
    written = generate(out)
    new = {p.relative_to(out).as_posix(): p.read_bytes() for p in written}
    committed = {p.relative_to(LANDING).as_posix(): p.read_bytes() for p in LANDING.rglob("*")
                 if p.is_file() and "_texts" not in p.relative_to(LANDING).parts}
    assert sorted(new) == sorted(committed)
    changed = [name for name in new if new[name] != committed[name]]
    assert not changed, f"regenerate the demo (.venv/bin/python -m scripts.demo_data): {changed}"


def test_generator_is_deterministic_across_runs(tmp_path):
    a = {p.name: p.read_bytes() for p in generate(tmp_path / "a")}
    b = {p.name: p.read_bytes() for p in generate(tmp_path / "b")}
    assert a == b


# ---------------------------------------------------------------------------
# Vouchers
# ---------------------------------------------------------------------------


def test_volume_is_modest(lines):
    per_year = defaultdict(int)
    for ln in lines:
        per_year[ln["date"].year] += 1
    assert set(per_year) == {2020, 2021}
    assert all(2000 <= n <= 4000 for n in per_year.values()), per_year
    assert sum(per_year.values()) <= 8000


def test_every_line_has_unit_account_date_and_voucher_number(lines):
    assert {ln["unit"] for ln in lines} == {UNIT}
    assert all(ln["account"] and ln["no"] for ln in lines)
    assert all(re.fullmatch(r"记-\d{4}", ln["no"]) for ln in lines)


def test_every_voucher_balances_per_book(lines):
    books: dict[tuple, list[Decimal]] = defaultdict(lambda: [D(0), D(0)])
    for ln in lines:
        book = "budget" if ln["account"][0] in "678" else "financial"
        key = (ln["unit"], ln["date"], ln["no"], book)
        books[key][0] += ln["debit"]
        books[key][1] += ln["credit"]
    unbalanced = {k: v for k, v in books.items() if v[0] != v[1]}
    assert not unbalanced


def test_voucher_numbers_restart_each_month(lines):
    firsts = {(ln["date"].year, ln["date"].month) for ln in lines if ln["no"] == "记-0001"}
    assert len(firsts) == 24


def test_spending_lines_carry_classifications(spending):
    for rows in spending.values():
        for ln in rows:
            assert len(ln["func"]) == 7 and len(ln["econ"]) == 5 and ln["fund"], ln


@pytest.mark.parametrize("year", [2021, 2020])
def test_spending_totals(spending, year):
    exp, rows = EXPECTED[year], spending[year]
    assert spent(rows) == exp["total"]
    basic = [r for r in rows if not r["project"]]
    by_class = defaultdict(D)
    for r in basic:
        by_class[r["econ"][:3]] += r["debit"] - r["credit"]
    assert dict(by_class) == exp["basic_by_class"]
    by_project = defaultdict(D)
    for r in rows:
        if r["project"]:
            by_project[r["project"]] += r["debit"] - r["credit"]
    assert dict(by_project) == exp["projects"]
    by_type_fund = defaultdict(D)
    for r in rows:
        by_type_fund[(spending_type(r), r["fund"])] += r["debit"] - r["credit"]
    assert dict(by_type_fund) == exp["by_type_fund"]


def test_seed_figures_2021(spending):
    rows = spending[2021]
    wan = lambda x: (x / 10000).quantize(D("0.01"))  # noqa: E731
    basic = [r for r in rows if not r["project"]]
    assert wan(spent(basic, lambda r: r["econ"].startswith("301"))) == D("2194.33")
    assert wan(spent(basic, lambda r: r["econ"].startswith("302"))) == D("149.68")
    projects = [r for r in rows if r["project"]]
    assert wan(spent(projects)) == D("14317.93")
    assert wan(spent(projects, lambda r: r["project"] != "117001-2020-11")) == D("14111.13")
    assert wan(spent(projects, lambda r: r["project"] == "117001-2020-11")) == D("206.80")
    assert {r["econ"] for r in basic if r["econ"].startswith("301")} == EXPECTED[2021]["basic_301_codes"]
    assert {r["econ"] for r in basic if r["econ"].startswith("302")} == EXPECTED[2021]["basic_302_codes"]


@pytest.mark.parametrize("year", [2021, 2020])
def test_three_public(spending, year):
    rows = spending[year]
    got = {c: spent(rows, lambda r, c=c: r["fund"] in FISCAL and (r["econ"] == c or (c == "31013" and r["econ"] == "30913")))
           for c in THREE_PUBLIC}
    assert got == EXPECTED[year]["three_public"]
    # project spending takes part in 三公, and 单位资金 spending on 30217 is not 三公
    assert spent(rows, lambda r: r["project"] and r["econ"] in THREE_PUBLIC) > 0
    assert spent(rows, lambda r: r["fund"] == "单位资金" and r["econ"] == "30217") > 0


def test_three_public_falls_year_over_year():
    a = sum(EXPECTED[2021]["three_public"].values())
    b = sum(EXPECTED[2020]["three_public"].values())
    assert a < b


def test_financial_book_mirrors_spending(lines):
    for year in (2020, 2021):
        expense = spent(lines, lambda r: r["date"].year == year and r["account"].startswith("5"))
        assert expense > D("0.9") * EXPECTED[year]["total"]  # adding 5xxx would double the figure


def test_prior_year_is_five_to_ten_percent_lower():
    change = (EXPECTED[2021]["total"] - EXPECTED[2020]["total"]) / EXPECTED[2020]["total"]
    assert D("0.05") <= change / (1 + change) <= D("0.10")


def test_corrections_net_to_zero(spending):
    negative_debits = [r for rows in spending.values() for r in rows if r["debit"] < 0]
    credits = [r for rows in spending.values() for r in rows if r["credit"] > 0]
    assert len(negative_debits) >= 3 and len(credits) >= 1


# ---------------------------------------------------------------------------
# Budget, procurement, staffing, ledger
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2021, 2020])
def test_budget_totals(budgets, year):
    rows = budgets[year]
    assert {b["unit"] for b in rows} == {UNIT}
    got = defaultdict(lambda: [D(0), D(0)])
    for b in rows:
        key = ("项目支出" if b["project"] else "基本支出", b["fund"])
        got[key][1] += b["amount"]
        if b["kind"] == "年初预算":
            got[key][0] += b["amount"]
    assert {k: tuple(v) for k, v in got.items()} == EXPECTED[year]["budget"]


@pytest.mark.parametrize("year", [2021, 2020])
def test_budget_against_spending(budgets, spending, year):
    rows, sp = budgets[year], spending[year]
    final = total(rows)
    initial = total(rows, lambda b: b["kind"] == "年初预算")
    execution = spent(sp) / final
    assert D("0.95") <= execution <= D("0.99"), execution
    assert D("0.05") <= (final - initial) / initial <= D("0.15")
    for key, (_, fin) in EXPECTED[year]["budget"].items():
        assert fin >= EXPECTED[year]["by_type_fund"][key]
    basic_302_budget = total(rows, lambda b: not b["project"] and b["econ"].startswith("302"))
    assert basic_302_budget >= spent(sp, lambda r: not r["project"] and r["econ"].startswith("302"))
    tp_budget = total(rows, lambda b: b["fund"] in FISCAL and b["econ"] in THREE_PUBLIC + ("30913",))
    assert tp_budget >= sum(EXPECTED[year]["three_public"].values())


def test_projects_2021_execute_between_90_and_100_percent(budgets, spending):
    for code, spent_amount in PROJECTS_2021.items():
        final = total(budgets[2021], lambda b, c=code: b["project"] == c)
        assert D("0.90") <= spent_amount / final <= 1, (code, spent_amount, final)


def test_budget_kinds_and_signs_2021(budgets):
    rows = budgets[2021]
    assert {b["kind"] for b in rows} == {"年初预算", "追加", "追减", "调剂", "上年结转"}
    cuts = [b["written"] for b in rows if b["kind"] == "追减"]
    assert any(c > 0 for c in cuts) and any(c < 0 for c in cuts)
    transfers = [b["written"] for b in rows if b["kind"] == "调剂"]
    assert any(t > 0 for t in transfers) and any(t < 0 for t in transfers)
    assert total(rows, lambda b: b["project"] == "117001-2020-11") > 0  # 人防 has its budget


@pytest.mark.parametrize("year", [2021, 2020])
def test_procurement_within_budget(budgets, year):
    rows = [c for c in contracts(LANDING) if c["year"] == year]
    assert len(rows) >= 12
    assert total(rows) == EXPECTED[year]["contracts"]
    proc_budget = total(budgets[year], field="procurement")
    assert proc_budget == EXPECTED[year]["procurement_budget"] >= total(rows)
    for project in {c["project"] for c in rows}:
        assert total(rows, lambda c: c["project"] == project) <= total(
            budgets[year], lambda b: b["project"] == project, field="procurement"), project


@pytest.mark.parametrize("year", [2021, 2020])
def test_staffing(year):
    found = []
    for path in files_with_header(LANDING, "编制数"):
        (rows,) = read_sheets(path).values()
        _, header, data = split_table(rows, "编制数")
        for r in data:
            rec = dict(zip(header, r))
            if int(rec["年度"]) == year:
                found.append((rec["单位编码"], int(rec["编制数"]), int(rec["实有在职人数"]), int(rec["离退休人数"])))
    assert found == [(UNIT, *EXPECTED[year]["staffing"])]


def ledger(year: int) -> tuple[list[dict], list[dict], dict[str, bool]]:
    for path in files_with_header(LANDING, "项目名称"):
        sheets = read_sheets(path)
        out, unit_on_title = {}, {}
        for name, marker in (("项目", "项目名称"), ("绩效指标", "三级指标")):
            titles, header, data = split_table(sheets[name], marker)
            unit_on_title[name] = unit_of(titles) == UNIT
            recs = [dict(zip(header, r)) for r in data if not is_footer_or_blank(r)]
            for rec in recs:
                rec["单位编码"] = norm(rec.get("单位编码")) or unit_of(titles)
            out[name] = recs
        if out["项目"] and int(out["项目"][0]["年度"]) == year:
            return out["项目"], out["绩效指标"], unit_on_title
    raise AssertionError(f"no ledger for {year}")


@pytest.mark.parametrize("year", [2021, 2020])
def test_ledger_projects(year, budgets, spending):
    projects, indicators, unit_on_title = ledger(year)
    assert len(projects) == EXPECTED[year]["ledger_projects"]
    assert all(p["单位编码"] == UNIT for p in projects + indicators)
    assert all(unit_on_title.values()) == (year == 2020)  # 2020: title line; 2021: a column
    codes = {p["项目编码"] for p in projects}
    assert codes == set(EXPECTED[year]["projects"])
    assert {b["project"] for b in budgets[year] if b["project"]} == codes
    assert {r["project"] for r in spending[year] if r["project"]} == codes
    secret = [p for p in projects if p["公开属性"] == "涉密"]
    assert [p["项目编码"] for p in secret] == ["117001-2020-11"]
    others = [p for p in projects if p["公开属性"] == "公开"]
    assert len(others) == len(projects) - 1
    assert secret[0]["责任股室"] not in {p["责任股室"] for p in others}
    assert secret[0]["项目类别"] not in {p["项目类别"] for p in others}
    assert sum(p["是否重点项目"] == "是" for p in projects) >= 4


def test_ledger_indicators_2021():
    _, indicators, _ = ledger(2021)
    dept = [i for i in indicators if not i["项目编码"]]
    weights = defaultdict(D)
    for i in dept:
        weights[i["一级指标"]] += D(repr(i["分值"]))
    assert dict(weights) == {"产出指标": 50, "效益指标": 30, "满意度指标": 10}
    by_name = {i["三级指标"]: i for i in indicators}
    assert by_name["铺设沥青混凝土"]["实际完成值"] == 13191.68
    assert by_name["铺设污水、雨水管"]["实际完成值"] == 12526.6
    assert by_name["砌筑雨（污）水井"]["实际完成值"] == 1189
    assert by_name["铺设交通标线"]["实际完成值"] == 4645.8
    assert by_name["更换LED灯泡"]["实际完成值"] == 260
    assert by_name["城区污水处理量"]["实际完成值"] == 736.67
    assert by_name["COD削减量"]["实际完成值"] == 1058.72
    assert by_name["污水处理率"]["实际完成值"] == 96.5
    assert by_name["人防易地建设费收取"]["实际完成值"] == 529
    area = by_name["批复结建工程面积"]
    assert (area["项目编码"], area["年度指标值"], area["实际完成值"]) == ("117001-2020-11", 6000, 15013)
    assert any(i["项目编码"] and i["项目编码"] != "117001-2020-11" for i in indicators)


def test_ledger_indicators_2020_have_no_weights():
    _, indicators, _ = ledger(2020)
    assert indicators and all(i["分值"] in (None, "") for i in indicators)


# ---------------------------------------------------------------------------
# The quirks the demo exists to exercise
# ---------------------------------------------------------------------------


def test_quirks_are_present():
    texts = {}
    for p in LANDING.rglob("*.csv"):
        (rows,) = read_sheets(p).values()
        texts[p.name] = "\n".join(",".join(r) for r in rows)
    q1, q2, q3 = (texts[f"2021年{m}月序时账.csv"] for m in ("1-3", "4-6", "7-9"))
    assert (LANDING / UNIT / "2021" / "凭证" / "2021年1-3月序时账.csv").read_bytes()[:2] != b"\xef\xbb"
    assert (LANDING / UNIT / "2021" / "凭证" / "2021年7-9月序时账.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "（1,234.56）" in q2 and "(2,580.00)" in q3
    assert re.search(r"\d{1,3}(,\d{3})+\.\d{2}", q1)
    assert re.search(r"[０-９]", q1 + q3) and "\u3000" in q1 + q2 + q3
    assert ",-," in q2 and re.search(r"\n2021年\d+月\d+日,", q1) and "2021/4/" in q2 and "\n20210" in q3
    assert re.search(r"2120101 行政运行", q1) and "[2120101]行政运行" in q2 and "2120101-行政运行" in q3
    assert re.search(r"117001-2020-04 老旧小区改造", q2)
    for label in ("本月合计", "合计", "本年累计"):
        assert label in q1 + q2 + q3
    wb = openpyxl.load_workbook(LANDING / UNIT / "2021" / "凭证" / "2021年10-12月序时账.xlsx")
    cells = [c for row in wb.active.iter_rows(min_row=5, max_col=2, values_only=True) for c in row]
    assert any(isinstance(c, datetime) for c in cells) and any(isinstance(c, int) and 44400 < c < 44600 for c in cells)
