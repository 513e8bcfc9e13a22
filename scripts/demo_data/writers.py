"""The writers: each landing file as the department's systems export it (CSV in GBK or
UTF-8 with or without BOM, XLSX with title lines, 万元 files, footers, odd cells).
Deterministic: fixed seeds, fixed XLSX document properties."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from scripts.demo_data.budget import BudgetLine
from scripts.demo_data.figures import (
    ACCOUNTS, ECON, FUNC, PROJECT_INFO, P_RF, SPEC, STAFFING, SUPPLIERS, UNITF, UNIT_CODE, UNIT_LINE, UNIT_NAME,
    XLSX_PROPERTIES,
)
from scripts.demo_data.values import D, ZERO, cn_date, fmt_amount, fmt_cls, fullwidth, month_end, wan, xlsx_float
from scripts.demo_data.vouchers import Line, Voucher

# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------


def write_csv(path: Path, rows: list[list[str]], encoding: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for r in rows:
        w.writerow(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))  # strict: fails on anything GBK cannot hold


def new_workbook(path: Path) -> xlsxwriter.Workbook:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties(dict(XLSX_PROPERTIES))
    return wb


class Noise:
    """Stray half- and full-width spaces around some values."""

    def __init__(self, seed: int, p: float):
        self.rng = random.Random(seed)
        self.p = p

    def __call__(self, s: str) -> str:
        if not s or self.rng.random() >= self.p:
            return s
        sp = self.rng.choice([" ", "\u3000", "  "])
        where = self.rng.randrange(3)
        return sp + s if where == 0 else s + sp if where == 1 else sp + s + sp


def voucher_months(vouchers, months) -> list[Voucher]:
    return [v for v in vouchers if v.date.month in months]


def month_totals(vouchers) -> tuple[Decimal, Decimal]:
    dr = sum((ln.debit for v in vouchers for ln in v.lines), ZERO)
    cr = sum((ln.credit for v in vouchers for ln in v.lines), ZERO)
    return dr, cr


# CSV voucher files: per-file configuration of headers and value formats.
CSV_VOUCHER_FILES = {
    "Q1": dict(
        months=(1, 2, 3), encoding="gbk", unit_title=True, pad_titles=True,
        headers=["凭证日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额",
                 "功能分类", "经济分类", "项目编码", "资金性质", "支付方式"],
        date=lambda d, r: cn_date(d) if r.random() < 0.1 else d.isoformat(),
        amount_style="comma", zero="", neg="paren_full", cls=("space", 0.15, "plain"), project="code",
        fullwidth=0.01, noise=0.03, label_col="摘要", blank_after_month=True, end=["合计"],
    ),
    "Q2": dict(
        months=(4, 5, 6), encoding="gbk", unit_title=False, pad_titles=False,
        headers=["单位编码", "单位名称", "记账日期", "凭证字号", "序号", "摘要", "会计科目编码", "会计科目",
                 "借方", "贷方", "支出功能分类", "部门经济分类", "项目", "资金来源"],
        date=lambda d, r: f"{d.year}/{d.month}/{d.day}",
        amount_style="plain", zero="-", neg="paren_full", cls=("bracket", 0.1, "space"), project="code name",
        fullwidth=0.0, noise=0.02, label_col="摘要", blank_after_month=False, end=["本年累计"],
    ),
    "Q3": dict(
        months=(7, 8, 9), encoding="utf-8-sig", unit_title=True, pad_titles=False,
        headers=["日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额",
                 "功能科目", "支出经济分类", "项目编码", "资金性质"],
        date=lambda d, r: d.isoformat() if r.random() < 0.1 else d.strftime("%Y%m%d"),
        amount_style="comma", zero="0.00", neg="paren", cls=("dash", 0.1, "plain"), project="code",
        fullwidth=0.02, noise=0.03, label_col="日期", blank_after_month=False, end=["合计", "本年累计"],
    ),
}

COLUMN_KEYS = {
    "单位编码": "unit_code", "单位名称": "unit_name",
    "凭证日期": "date", "记账日期": "date", "日期": "date",
    "凭证号": "no", "凭证字号": "no", "分录号": "line_no", "序号": "line_no", "摘要": "summary",
    "科目编码": "account", "会计科目编码": "account", "科目名称": "account_name", "会计科目": "account_name",
    "借方金额": "debit", "借方": "debit", "贷方金额": "credit", "贷方": "credit",
    "功能分类": "func", "支出功能分类": "func", "功能科目": "func",
    "经济分类": "econ", "部门经济分类": "econ", "支出经济分类": "econ",
    "项目编码": "project", "项目": "project", "资金性质": "fund", "资金来源": "fund", "支付方式": "paymethod",
}


def account_of(ln: Line, sub: bool) -> tuple[str, str]:
    """Account code and name; the 2020 export uses the system's sub-accounts for 7101 and 5001."""
    code, name = ln.account, ACCOUNTS[ln.account]
    if not sub:
        return code, name
    if code == "7101":
        suffix = {SPEC: ("02", "非财政专项资金支出"), UNITF: ("03", "其他资金支出")}.get(ln.fund, ("01", "财政拨款支出"))
        return code + suffix[0], f"{name}-{suffix[1]}"
    if code == "5001":
        if ln.econ is None:
            return "500104", f"{name}-固定资产折旧费"
        if ln.econ.startswith("301"):
            return "500101", f"{name}-工资福利费用"
        return "500102", f"{name}-商品和服务费用"
    return code, name


def write_voucher_csv(path: Path, vouchers_all: list[Voucher], key: str, seed: int) -> None:
    cfg = CSV_VOUCHER_FILES[key]
    rng = random.Random(seed)
    noise = Noise(seed + 1, cfg["noise"])
    months = cfg["months"]
    year = vouchers_all[0].date.year
    ncol = len(cfg["headers"])
    start, end = date(year, months[0], 1), month_end(year, months[-1])

    def title(text: str) -> list[str]:
        return [text] + [""] * (ncol - 1) if cfg["pad_titles"] else [text]

    rows = [title("序时账")]
    if cfg["unit_title"]:
        rows.append(title(UNIT_LINE))
    rows.append(title(f"{cn_date(start)}至{cn_date(end)}"))
    rows.append(title("单位：元"))
    rows.append(list(cfg["headers"]))

    def amount(value: Decimal) -> str:
        if value == 0:
            return cfg["zero"]
        style = cfg["amount_style"]
        if style == "plain" and rng.random() < 0.3:
            style = "comma"
        s = fmt_amount(value, style, cfg["neg"])
        if value > 0 and rng.random() < cfg["fullwidth"]:
            s = fullwidth(s)
        return noise(s)

    def cls(code: str | None, names: dict) -> str:
        if not code:
            return ""
        main, p_alt, alt = cfg["cls"]
        return noise(fmt_cls(code, names, alt if rng.random() < p_alt else main))

    def footer(label: str, dr: Decimal, cr: Decimal) -> list[str]:
        row = [""] * ncol
        row[cfg["headers"].index(cfg["label_col"])] = label
        row[[COLUMN_KEYS[h] for h in cfg["headers"]].index("debit")] = fmt_amount(dr, "comma", "minus")
        row[[COLUMN_KEYS[h] for h in cfg["headers"]].index("credit")] = fmt_amount(cr, "comma", "minus")
        return row

    for m in months:
        month_vs = voucher_months(vouchers_all, (m,))
        for v in month_vs:
            dtext = cfg["date"](v.date, rng)
            for n, ln in enumerate(v.lines, start=1):
                acode, aname = account_of(ln, sub=False)
                values = {
                    "unit_code": UNIT_CODE, "unit_name": UNIT_NAME, "date": noise(dtext), "no": noise(v.no),
                    "line_no": str(n), "summary": noise(v.summary), "account": noise(acode), "account_name": aname,
                    "debit": amount(ln.debit), "credit": amount(ln.credit),
                    "func": cls(ln.func, FUNC), "econ": cls(ln.econ, ECON),
                    "project": "" if not ln.project else noise(
                        ln.project if cfg["project"] == "code" else f"{ln.project} {PROJECT_INFO[ln.project][0]}"),
                    "fund": noise(ln.fund or ""), "paymethod": v.paymethod,
                }
                rows.append([values[COLUMN_KEYS[h]] for h in cfg["headers"]])
        dr, cr = month_totals(month_vs)
        rows.append(footer("本月合计", dr, cr))
        if cfg["blank_after_month"]:
            rows.append([""] * ncol if cfg["pad_titles"] else [])
    if key == "Q3":
        rows.append([])
    for label in cfg["end"]:
        scope = voucher_months(vouchers_all, months if label == "合计" else range(1, months[-1] + 1))
        rows.append(footer(label, *month_totals(scope)))
    write_csv(path, rows, cfg["encoding"])


def write_voucher_xlsx(path: Path, vouchers: list[Voucher], months, seed: int, in_wan: bool) -> None:
    """Q4 2021 (yuan, 单位编码 column) or FY2020 (万元, unit on a title line, sub-accounts)."""
    rng = random.Random(seed)
    noise = Noise(seed + 1, 0.02)
    year = vouchers[0].date.year
    wb = new_workbook(path)
    ws = wb.add_worksheet("序时账")
    f_title = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
    f_head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    f_money = wb.add_format({"num_format": "#,##0.00####" if in_wan else "#,##0.00"})
    f_bold_money = wb.add_format({"bold": True, "num_format": "#,##0.00####" if in_wan else "#,##0.00"})
    f_bold = wb.add_format({"bold": True})
    if in_wan:
        headers = ["凭证日期", "凭证字号", "序号", "摘要", "会计科目编码", "会计科目", "借方", "贷方",
                   "功能分类", "部门经济分类", "项目", "资金来源", "支付方式"]
        titles = ["序时账", f"单位名称：{UNIT_CODE} {UNIT_NAME}",
                  f"{cn_date(date(year, months[0], 1))}至{cn_date(month_end(year, months[-1]))}", "单位：万元"]
    else:
        headers = ["单位编码", "记账日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额",
                   "功能分类", "经济分类", "项目编码", "资金性质", "支付方式"]
        titles = ["序时账", f"{cn_date(date(year, months[0], 1))}至{cn_date(month_end(year, months[-1]))}", "单位：元"]
    keys = [COLUMN_KEYS[h] for h in headers]
    ws.merge_range(0, 0, 0, len(headers) - 1, titles[0], f_title)
    for r, t in enumerate(titles[1:], start=1):
        ws.write_string(r, 0, t)
    row = len(titles)
    ws.write_row(row, 0, headers, f_head)
    ws.set_column(0, 0, 12)
    ws.set_column(keys.index("summary"), keys.index("summary"), 36)
    ws.set_column(keys.index("debit"), keys.index("credit"), 16)
    row += 1
    ws.freeze_panes(row, 0)
    serial_base = date(1899, 12, 30)

    def put_amount(r: int, c: int, value: Decimal, fmt=f_money, plain=False) -> None:
        v = wan(value) if in_wan else value
        if value == 0:
            if in_wan and rng.random() < 0.1:
                ws.write_string(r, c, "-")
            return
        if not plain and rng.random() < 0.05:
            ws.write_string(r, c, noise(fmt_amount(v, "comma", "minus")))
        else:
            ws.write_number(r, c, xlsx_float(v), fmt)

    def put_date(r: int, c: int, d: date) -> None:
        x = rng.random()
        if x < 0.12:
            ws.write_number(r, c, (d - serial_base).days)  # a bare Excel serial number
        elif x < 0.2:
            ws.write_string(r, c, cn_date(d) if in_wan or x < 0.16 else d.isoformat())
        else:
            ws.write_datetime(r, c, datetime(d.year, d.month, d.day), f_date)

    def footer(label: str, dr: Decimal, cr: Decimal) -> None:
        nonlocal row
        ws.write_string(row, keys.index("summary"), label, f_bold)
        put_amount(row, keys.index("debit"), dr, f_bold_money, plain=True)
        put_amount(row, keys.index("credit"), cr, f_bold_money, plain=True)
        row += 1

    cls_styles = ["space", "plain"] if in_wan else ["plain", "plain", "plain", "space"]
    for m in months:
        month_vs = voucher_months(vouchers, (m,))
        for v in month_vs:
            for n, ln in enumerate(v.lines, start=1):
                acode, aname = account_of(ln, sub=in_wan)
                for c, k in enumerate(keys):
                    if k == "unit_code":
                        ws.write_string(row, c, UNIT_CODE)
                    elif k == "date":
                        put_date(row, c, v.date)
                    elif k == "no":
                        ws.write_string(row, c, v.no)
                    elif k == "line_no":
                        ws.write_number(row, c, n)
                    elif k == "summary":
                        ws.write_string(row, c, noise(v.summary))
                    elif k == "account":
                        ws.write_string(row, c, noise(acode))
                    elif k == "account_name":
                        ws.write_string(row, c, aname)
                    elif k in ("debit", "credit"):
                        put_amount(row, c, ln.debit if k == "debit" else ln.credit)
                    elif k in ("func", "econ") and getattr(ln, k):
                        names = FUNC if k == "func" else ECON
                        ws.write_string(row, c, noise(fmt_cls(getattr(ln, k), names, rng.choice(cls_styles))))
                    elif k == "project" and ln.project:
                        text = f"{ln.project} {PROJECT_INFO[ln.project][0]}" if in_wan else ln.project
                        ws.write_string(row, c, noise(text))
                    elif k == "fund" and ln.fund:
                        ws.write_string(row, c, noise(ln.fund))
                    elif k == "paymethod" and v.paymethod:
                        ws.write_string(row, c, v.paymethod)
                row += 1
        footer("本月合计", *month_totals(month_vs))
        if in_wan and m % 4 == 0:
            row += 1  # a blank row now and then
    row += 1
    footer("本年累计", *month_totals(voucher_months(vouchers, range(1, months[-1] + 1))))
    wb.close()


def budget_csv(path: Path, lines: list[BudgetLine], year: int) -> None:
    rows = [[f"{year}年度部门预算指标明细表"], ["单位：元"],
            ["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "项目名称",
             "资金性质", "金额", "政府采购预算"]]
    noise = Noise(year * 7, 0.04)
    for bl in lines:
        econ_style = "space" if len(bl.econ) == 5 else "plain"
        rows.append([
            UNIT_CODE, str(year), bl.doc, noise(bl.kind), noise(fmt_cls(bl.func, FUNC, "space")),
            fmt_cls(bl.econ, ECON, econ_style), bl.project or "",
            PROJECT_INFO[bl.project][0] if bl.project else "", noise(bl.fund),
            fmt_amount(bl.amount, "comma", "minus"),
            fmt_amount(bl.procurement, "comma") if bl.procurement else "",
        ])
    total = sum((bl.effective for bl in lines), ZERO)
    proc = sum((bl.procurement or ZERO for bl in lines), ZERO)
    rows.append(["合计", "", "", "", "", "", "", "", "", fmt_amount(total, "comma"), fmt_amount(proc, "comma")])
    write_csv(path, rows, "utf-8-sig")


def budget_xlsx_wan(path: Path, lines: list[BudgetLine], year: int) -> None:
    wb = new_workbook(path)
    ws = wb.add_worksheet("预算指标")
    f_head = wb.add_format({"bold": True, "border": 1})
    f_money = wb.add_format({"num_format": "#,##0.00####"})
    ws.write_string(0, 0, f"{year}年预算指标台账", wb.add_format({"bold": True, "font_size": 14}))
    ws.write_string(1, 0, "单位：万元")
    headers = ["单位编码", "预算年度", "文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额", "政府采购预算"]
    ws.write_row(2, 0, headers, f_head)
    ws.set_column(2, 2, 20)
    ws.set_column(4, 4, 30)
    r = 3
    for i, bl in enumerate(lines):
        ws.write_string(r, 0, UNIT_CODE)
        ws.write_number(r, 1, year)
        ws.write_string(r, 2, bl.doc)
        ws.write_string(r, 3, bl.kind)
        ws.write_string(r, 4, fmt_cls(bl.func, FUNC, "bracket"))
        ws.write_string(r, 5, bl.econ)
        if bl.project:
            ws.write_string(r, 6, bl.project)
        ws.write_string(r, 7, bl.fund)
        if i % 9 == 4:
            ws.write_string(r, 8, fmt_amount(wan(bl.amount), "comma", "minus"))  # some amounts as text
        else:
            ws.write_number(r, 8, xlsx_float(wan(bl.amount)), f_money)
        if bl.procurement:
            ws.write_number(r, 9, xlsx_float(wan(bl.procurement)), f_money)
        r += 1
    ws.write_string(r, 0, "合计")
    ws.write_number(r, 8, xlsx_float(wan(sum((bl.effective for bl in lines), ZERO))), f_money)
    wb.close()


def ledger_xlsx(path: Path, year: int, entries, indicators, unit_as_column: bool) -> None:
    wb = new_workbook(path)
    f_head = wb.add_format({"bold": True, "border": 1, "bg_color": "#E2EFDA"})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    rng = random.Random(year * 11)

    def sheet(name: str, headers: list[str]):
        ws = wb.add_worksheet(name)
        r = 0
        if not unit_as_column:
            ws.write_string(0, 0, UNIT_LINE)
            r = 1
        ws.write_row(r, 0, (["单位编码"] if unit_as_column else []) + headers, f_head)
        return ws, r + 1

    ws, r = sheet("项目", ["项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性",
                         "开工日期", "计划完工日期", "状态", "年度"])
    ws.set_column(0, 3, 18)
    ws.set_column(2 if unit_as_column else 1, 2 if unit_as_column else 1, 48)
    for code, start, end, status in entries:
        name, category, office, is_key, _ = PROJECT_INFO[code]
        values = [code, name, category, office, is_key, "涉密" if code == P_RF else "公开", start, end, status, year]
        if unit_as_column:
            values = [UNIT_CODE] + values
        for c, v in enumerate(values):
            if isinstance(v, date):
                if unit_as_column:
                    ws.write_datetime(r, c, datetime(v.year, v.month, v.day), f_date)
                else:
                    ws.write_string(r, c, cn_date(v) if rng.random() < 0.5 else f"{v.year}/{v.month}/{v.day}")
            elif isinstance(v, int):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, v)
        r += 1

    ws, r = sheet("绩效指标", ["项目编码", "一级指标", "二级指标", "三级指标", "计量单位", "指标方向", "年度指标值",
                           "实际完成值", "分值", "年度", "偏差原因"])
    ws.set_column(3 if unit_as_column else 2, 3 if unit_as_column else 2, 30)
    for proj, l1, l2, name, unit, direction, target, actual, weight, note in indicators:
        values = [proj or "", l1, l2, name, unit, direction, D(target), D(actual),
                  D(weight) if weight else "", year, note]
        if unit_as_column:
            values = [UNIT_CODE] + values
        for c, v in enumerate(values):
            if isinstance(v, Decimal):
                ws.write_number(r, c, xlsx_float(v))
            elif isinstance(v, int):
                ws.write_number(r, c, v)
            elif v:
                ws.write_string(r, c, v)
        r += 1
    wb.close()


def staffing_csv(path: Path, year: int) -> None:
    a, i, r = STAFFING[year]
    write_csv(path, [["单位编码", "年度", "编制数", "实有在职人数", "离退休人数"],
                     [UNIT_CODE, str(year), str(a), str(i), str(r)]], "utf-8")


def procurement_xlsx(path: Path, year: int, contracts) -> None:
    wb = new_workbook(path)
    ws = wb.add_worksheet("政府采购台账")
    f_head = wb.add_format({"bold": True, "border": 1})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    f_money = wb.add_format({"num_format": "#,##0.00"})
    headers = ["单位编码", "年度", "项目编码", "合同编号", "合同名称", "采购方式", "供应商", "合同金额", "签订日期"]
    ws.write_row(0, 0, headers, f_head)
    ws.set_column(3, 6, 24)
    r = 1
    for proj, no, name, method, amount, d, sup in contracts:
        ws.write_string(r, 0, UNIT_CODE)
        ws.write_number(r, 1, year)
        if proj:
            ws.write_string(r, 2, proj)
        ws.write_string(r, 3, no)
        ws.write_string(r, 4, name)
        ws.write_string(r, 5, method)
        ws.write_string(r, 6, SUPPLIERS[sup])
        ws.write_number(r, 7, xlsx_float(D(amount)), f_money)
        ws.write_datetime(r, 8, datetime(d.year, d.month, d.day), f_date)
        r += 1
    ws.write_string(r, 0, "合计")
    ws.write_number(r, 7, xlsx_float(sum((D(c[4]) for c in contracts), ZERO)), f_money)
    wb.close()


def procurement_csv_gbk(path: Path, year: int, contracts) -> None:
    rows = [[f"{year}年政府采购合同台账"], ["单位：元"],
            ["单位编码", "年度", "项目编码", "合同编号", "合同名称", "采购方式", "供应商", "合同金额", "签订日期"]]
    for i, (proj, no, name, method, amount, d, sup) in enumerate(contracts):
        dtext = cn_date(d) if i % 3 == 2 else f"{d.year}/{d.month}/{d.day}"
        rows.append([UNIT_CODE, str(year), proj or "", no, name, method, SUPPLIERS[sup],
                     fmt_amount(D(amount), "comma"), dtext])
    rows.append(["合计", "", "", "", "", "", "", fmt_amount(sum((D(c[4]) for c in contracts), ZERO), "comma"), ""])
    write_csv(path, rows, "gbk")
