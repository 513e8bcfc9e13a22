"""A small reader of the demo's landing files, the demo test's own: openpyxl and csv only,
independent of any warehouse code, so that the committed files' figures are checked by
something other than the loader under test."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl

FOOTERS = {"合计", "小计", "本月合计", "本年累计", "本季合计"}

def norm(value) -> str:
    """Text of a cell: NFKC (full-width digits, U+3000, （）：) and stripped."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def read_sheets(path: Path) -> dict[str, list[list]]:
    """All rows of a file: {sheet name: rows}; a CSV is one sheet named ''."""
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, data_only=True)
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        text = raw.decode("utf-8-sig")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
    return {"": [list(r) for r in csv.reader(io.StringIO(text))]}


def split_table(rows: list[list], marker: str) -> tuple[list[str], list[str], list[list]]:
    """(title lines, header, data rows) around the first row that has a cell ``marker``."""
    for i, r in enumerate(rows):
        if marker in [norm(c) for c in r]:
            titles = [norm(c) for t in rows[:i] for c in t if norm(c)]
            return titles, [norm(c) for c in r], rows[i + 1:]
    raise AssertionError(f"no header with {marker}")


def scale_of(titles: list[str]) -> Decimal:
    return Decimal(10000) if "单位:万元" in titles else Decimal(1)


def unit_of(titles: list[str]) -> str | None:
    for t in titles:
        m = re.match(r"^单位(?:名称)?:(\d{6})\s", t)
        if m:
            return m.group(1)
    return None


def amount(value, scale: Decimal = Decimal(1)) -> Decimal:
    if value is None:
        result = Decimal(0)
    elif isinstance(value, (int, float)):
        result = Decimal(repr(value))
    else:
        s = norm(value)
        if s in ("", "-"):
            result = Decimal(0)
        else:
            neg = s.startswith("(") and s.endswith(")")
            result = Decimal(s.strip("()").replace(",", ""))
            result = -result if neg else result
    yuan = result * scale
    assert yuan == yuan.quantize(Decimal("0.01")), f"not exact to the fen: {value!r}"
    return yuan.quantize(Decimal("0.01"))


def as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, (int, float)):
        return date(1899, 12, 30) + timedelta(days=int(value))
    s = norm(value)
    for pattern in (r"^(\d{4})-(\d{1,2})-(\d{1,2})$", r"^(\d{4})/(\d{1,2})/(\d{1,2})$",
                    r"^(\d{4})年(\d{1,2})月(\d{1,2})日$", r"^(\d{4})(\d{2})(\d{2})$"):
        m = re.match(pattern, s)
        if m:
            return date(*map(int, m.groups()))
    raise AssertionError(f"unreadable date {value!r}")


def code(value) -> str:
    m = re.match(r"^\[?(\d+)", norm(value))
    return m.group(1) if m else ""


ALIASES = {
    "unit": ("单位编码", "单位代码"), "date": ("凭证日期", "记账日期", "日期"), "no": ("凭证号", "凭证字号"),
    "summary": ("摘要",), "account": ("科目编码", "会计科目编码"), "debit": ("借方金额", "借方"),
    "credit": ("贷方金额", "贷方"), "func": ("功能分类", "支出功能分类", "功能科目"),
    "econ": ("经济分类", "部门经济分类", "支出经济分类"), "project": ("项目编码", "项目"),
    "fund": ("资金性质", "资金来源"), "year": ("年度", "预算年度"), "kind": ("指标类型",),
    "amount": ("金额",), "procurement": ("政府采购预算",), "contract_amount": ("合同金额",),
}


def columns(header: list[str]) -> dict[str, int]:
    out = {}
    for key, names in ALIASES.items():
        for n in names:
            if n in header:
                out[key] = header.index(n)
                break
    return out


def get(row: list, cols: dict, key: str):
    i = cols.get(key)
    return row[i] if i is not None and i < len(row) else None


def is_footer_or_blank(row: list) -> bool:
    cells = [norm(c) for c in row]
    return not any(cells) or any(c in FOOTERS for c in cells)


def files_with_header(root: Path, marker: str) -> list[Path]:
    found = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".csv", ".xlsx"):
            for rows in read_sheets(p).values():
                if any(marker in [norm(c) for c in r] for r in rows[:10]):
                    found.append(p)
                    break
    return found


def voucher_lines(root: Path) -> list[dict]:
    lines = []
    for path in files_with_header(root, "摘要"):
        (rows,) = read_sheets(path).values()
        titles, header, data = split_table(rows, "摘要")
        cols, scale, title_unit = columns(header), scale_of(titles), unit_of(titles)
        assert ("unit" in cols) != (title_unit is not None), f"{path.name}: unit in a column xor a title line"
        for r in data:
            if is_footer_or_blank(r):
                continue
            d = as_date(get(r, cols, "date"))
            lines.append(dict(
                file=path.name, unit=norm(get(r, cols, "unit")) or title_unit, date=d, no=norm(get(r, cols, "no")),
                account=norm(get(r, cols, "account")), debit=amount(get(r, cols, "debit"), scale),
                credit=amount(get(r, cols, "credit"), scale), func=code(get(r, cols, "func")),
                econ=code(get(r, cols, "econ")), project=norm(get(r, cols, "project")).split(" ")[0],
                fund=norm(get(r, cols, "fund")),
            ))
    return lines


def budget_lines(root: Path) -> list[dict]:
    out = []
    for path in files_with_header(root, "指标类型"):
        (rows,) = read_sheets(path).values()
        titles, header, data = split_table(rows, "指标类型")
        cols, scale = columns(header), scale_of(titles)
        for r in data:
            if is_footer_or_blank(r):
                continue
            kind = norm(get(r, cols, "kind"))
            a = amount(get(r, cols, "amount"), scale)
            out.append(dict(
                unit=norm(get(r, cols, "unit")), year=int(float(norm(get(r, cols, "year")))), kind=kind,
                written=a, amount=-abs(a) if kind == "追减" else a, econ=code(get(r, cols, "econ")),
                project=norm(get(r, cols, "project")), fund=norm(get(r, cols, "fund")),
                procurement=amount(get(r, cols, "procurement"), scale),
            ))
    return out


def contracts(root: Path) -> list[dict]:
    out = []
    for path in files_with_header(root, "合同编号"):
        (rows,) = read_sheets(path).values()
        titles, header, data = split_table(rows, "合同编号")
        cols, scale = columns(header), scale_of(titles)
        for r in data:
            if is_footer_or_blank(r):
                continue
            out.append(dict(year=int(float(norm(get(r, cols, "year")))), project=norm(get(r, cols, "project")),
                            amount=amount(get(r, cols, "contract_amount"), scale)))
    return out


def spending_type(line: dict) -> str:
    return "项目支出" if line["project"] else "基本支出"
