"""The error report finance staff act on, one per load:
`reports/quality/<date>_<time>_质量报告.xlsx` (local time, Asia/Shanghai) and its `.csv` twin.

It lists each problem once, by file and row: every quarantined row of the scope's files,
with the field and the cell as written that staging recorded in the quarantine, and every
offending row of a failed rule or expectation — the checks cover what the quarantine does
not (cross-file checks, tie-outs, our own invariants), so no problem is listed twice. The
workbook is set
up to print: A4 landscape, the header row repeated on every page, fitted to the page width,
long texts wrapped; the words are the finance office's, not the checking library's.
"""

from __future__ import annotations

import csv
import math
import os
import unicodedata
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from pipelines.quality.catalogue import Rule, Scope, Suite, table_label
from pipelines.settings import Settings
from pipelines.sqltext import sql_text
from pipelines.textsafe import csv_safe_row

REPORT_HEADERS = ("文件", "行号", "字段", "实际值", "期望值", "差额", "规则", "级别", "说明")
SEVERITY_LABELS = {"fatal": "致命", "warning": "警告"}
XLSX_MAX_ROWS = 1_048_575  # Excel's limit, less the header row
LOCAL_TIME = ZoneInfo("Asia/Shanghai")  # the department's clock: file names and 生成时间
REPORT_SUFFIX = "质量报告"
SUMMARY_HEADERS = ("规则", "级别", "行数", "说明", "类别", "检查对象")
CATEGORY_LABELS = {
    "field": "单行数据",
    "cross-file": "跨表核对",
    "tie-out": "合计核对",
    "expectation": "入库数据自检",
    "quarantine": "已隔离的行",
}
# Column widths (Excel character units): the nine columns fit A4 landscape at about 100 %.
DETAIL_WIDTHS = (26, 5, 10, 14, 20, 10, 18, 5, 40)
SUMMARY_WIDTHS = (24, 8, 5, 62, 12, 24)

# Quarantine reason -> what was expected (the report's 期望值 for a quarantined row; 当年
# becomes the row's year in sql/quality/report_rows.sql).
_EXPECTED = {
    "unknown_econ_code": "当年部门预算支出经济分类中的编码",
    "unknown_func_code": "当年支出功能分类中的编码",
    "unreadable_date": "可识别的日期（如 2021-03-15）",
    "date_out_of_range": "文件标题所注期间内，且在 2000-01-01 至一年后之间的日期",
    "unreadable_amount": "可识别的金额（如 1,234.56）",
    "unreadable_year": "2000 年至明年之间的年度",
    "unreadable_number": "可识别的数字",
    "unknown_budget_kind": "年初预算、追加、追减、调剂、上年结转之一",
    "unbalanced_voucher": "同一凭证、同一账套借方合计 = 贷方合计",
    "missing_required": "必填，不能为空",
    "unreadable_text": "正确编码的文本（UTF-8 或 GBK）",
    "excel_error": "单元格的值，而不是 Excel 错误值（#N/A、#REF! 等：公式未能算出结果）",
    "unreadable_file": "可读取的 CSV / XLSX 文件",
    "unreadable_sheet": "可识别的表头（见合同第2节）",
}


def _report_rows(con, load_id: str) -> list[tuple]:
    """The report's lines (sql/quality/report_rows.sql), in the REPORT_HEADERS columns."""
    con.execute("CREATE OR REPLACE TEMP TABLE _report_expected (reason_code VARCHAR, expected VARCHAR)")
    con.executemany("INSERT INTO _report_expected VALUES (?, ?)", list(_EXPECTED.items()))
    try:
        return con.execute(sql_text("quality/report_rows.sql").rstrip().rstrip(";"), {
            "load_id": load_id, "fatal": SEVERITY_LABELS["fatal"], "warning": SEVERITY_LABELS["warning"],
        }).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _report_expected")


def _summary_rows(rules: list[Rule], suites: list[Suite], runs: dict, lines: list[tuple]) -> list[tuple]:
    """规则, 级别, 行数, 说明, 类别, 检查对象: what was found first (the quarantine codes, then
    the checks that failed), then every check that passed — the sheet also says what was
    checked. 行数 counts the lines of 问题清单 under the code or check."""
    counts: dict[str, int] = {}
    for line in lines:
        counts[line[6]] = counts.get(line[6], 0) + 1

    out = []
    for suite in suites:
        run = runs.get(suite.check_id, {})
        if run.get("failing"):
            label = SEVERITY_LABELS[run["severity"]]
        else:  # what a failure would be: critical expectations are fatal, the others warnings
            kinds = {e.get("severity") for e in suite.raw["expectations"]}
            label = "/".join(SEVERITY_LABELS[k] for k in ("fatal", "warning")
                             if {"fatal": "critical", "warning": "warning"}[k] in kinds)
        out.append((suite.check_id, label, counts.get(suite.check_id, 0),
                    f"{table_label(suite.table)}：入库数据自检{'未通过' if counts.get(suite.check_id) else '通过'}",
                    CATEGORY_LABELS["expectation"], suite.table))
    for rule in rules:
        out.append((rule.id, SEVERITY_LABELS[rule.severity], counts.get(rule.id, 0), rule.message_zh,
                    CATEGORY_LABELS.get(rule.category, rule.category), rule.target_table))
    quarantined = []
    for code in sorted(c for c in counts if c.startswith("quarantine:")):
        reason = code.split(":", 1)[1]
        quarantined.append((code, "警告", counts[code], f"已隔离、未计入的行；应为：{_EXPECTED.get(reason, reason)}",
                            CATEGORY_LABELS["quarantine"], "quarantine"))
    found = [row for row in out if counts.get(row[0])]
    return quarantined + found + [row for row in out if row not in found]


def report_paths(folder: Path, at: datetime) -> tuple[Path, Path]:
    """`<date>_<HHMM>_质量报告.xlsx` / `.csv` in local time; a second load in the same
    minute gets the seconds too, and a third one within the same second a counter. The
    name is reserved by creating the workbook's temporary file exclusively (partitions run
    side by side in the UI must not write one report over the other); a load killed while
    writing leaves that `.tmp`, never an empty `.xlsx`."""
    stem = at.strftime("%Y-%m-%d_%H%M")
    candidates = [stem, at.strftime("%Y-%m-%d_%H%M%S")]
    candidates += [f"{candidates[1]}-{n}" for n in range(2, 1000)]
    for name in candidates:
        xlsx = folder / f"{name}_{REPORT_SUFFIX}.xlsx"
        if xlsx.exists() or xlsx.with_suffix(".csv").exists():
            continue
        try:
            _temporary(xlsx).open("x").close()  # xlsxwriter writes it, then it is renamed into place
        except FileExistsError:
            continue
        return xlsx, xlsx.with_suffix(".csv")
    raise FileExistsError(f"{folder}: no free name for the quality report of {stem}")


def write_report(con, settings: Settings, load_id: str, scope: Scope, rules: list[Rule], suites: list[Suite],
                 runs: dict, now: datetime | None = None) -> tuple[Path, Path]:
    """The load's report (问题清单 + 汇总 + 说明) as XLSX, and 问题清单 as CSV, always."""
    local = (now or datetime.now()).astimezone(LOCAL_TIME)
    folder = settings.reports_dir / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    detail = _report_rows(con, load_id)
    summary = _summary_rows(rules, suites, runs, detail)
    xlsx_path, csv_path = report_paths(folder, local)
    try:
        _write_csv(csv_path, detail)
        _write_xlsx(xlsx_path, csv_path, load_id, local, scope, detail, summary)
    except BaseException:
        _temporary(xlsx_path).unlink(missing_ok=True)  # the name reserved for this report
        raise
    return xlsx_path, csv_path


def _temporary(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _write_csv(csv_path: Path, detail: list[tuple]) -> None:
    tmp_csv = _temporary(csv_path)
    with open(tmp_csv, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_HEADERS)
        for row in detail:
            # export text (a quarantined row's cells) must not run as a formula; 行号 and 差额 are ours
            writer.writerow(csv_safe_row(row, numeric_columns={1, 5}))
    os.replace(tmp_csv, csv_path)


def _write_xlsx(xlsx_path: Path, csv_path: Path, load_id: str, local: datetime, scope: Scope, detail: list[tuple],
                summary: list[tuple]) -> None:
    import xlsxwriter

    tmp_xlsx = _temporary(xlsx_path)
    book = xlsxwriter.Workbook(str(tmp_xlsx), {"constant_memory": True, "strings_to_numbers": False})
    try:
        formats = {
            "head": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                     "valign": "vcenter"}),
            "text": book.add_format({"text_wrap": True, "valign": "top", "border": 1}),
            "number": book.add_format({"num_format": "#,##0", "valign": "top", "border": 1}),
            "money": book.add_format({"num_format": "#,##0.00", "valign": "top", "border": 1}),
        }
        title = f"数据质量问题清单（{local:%Y-%m-%d %H:%M}）"
        _detail_sheet(book, formats, detail, title)
        _summary_sheet(book, formats, summary, title)
        fatal = sum(1 for r in detail if r[7] == SEVERITY_LABELS["fatal"])
        _about_sheet(book, formats, load_id, local, scope, detail, fatal, csv_path)
    finally:
        book.close()
    os.replace(tmp_xlsx, xlsx_path)


LINE_HEIGHT = 16  # points, one line of the default 11 pt font in a CJK font (15 for Latin text)


def _row_height(values, widths) -> float:
    """The height that shows every wrapped cell of a row whole. Spreadsheets fit a row to
    wrapped text only when they lay the sheet out themselves, which LibreOffice does not
    do on opening an XLSX: the row would print one line high and cut the text. A Chinese
    character is two width units, anything else one."""
    lines = 1
    for value, width in zip(values, widths):
        if value is None:
            continue
        text = str(value)
        units = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
        lines = max(lines, math.ceil(units * 1.1 / max(width - 1, 1)))
    return LINE_HEIGHT * lines + 3


def _print_setup(sheet, title: str, repeat_header: bool = True) -> None:
    """A4 landscape, as wide as the page, header row on every page, page numbers."""
    sheet.set_paper(9)  # A4
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # one page wide, as many pages tall as needed
    sheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    sheet.set_header(f"&L&\"-,Bold\"{title}&R&A", {"margin": 0.3})
    sheet.set_footer("&C第 &P 页，共 &N 页", {"margin": 0.3})
    if repeat_header:
        sheet.repeat_rows(0)


def _table_sheet(book, name: str, title: str, headers, widths, formats: dict):
    """A sheet set up for print with its header row (widths, frozen) written."""
    sheet = book.add_worksheet(name)
    _print_setup(sheet, title)
    for col, (header, width) in enumerate(zip(headers, widths)):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, header, formats["head"])
    sheet.freeze_panes(1, 0)
    return sheet


def _detail_sheet(book, formats: dict, detail: list[tuple], title: str) -> None:
    sheet = _table_sheet(book, "问题清单", title, REPORT_HEADERS, DETAIL_WIDTHS, formats)
    for number, row in enumerate(detail[:XLSX_MAX_ROWS], 1):
        sheet.set_row(number, _row_height(row, DETAIL_WIDTHS))  # before the cells: constant_memory writes rows in order
        for col, value in enumerate(row):
            if value is None:
                sheet.write_blank(number, col, None, formats["text"])
            elif col == 5:
                value = Decimal(value)
                fmt = formats["number"] if value == value.to_integral() else formats["money"]
                sheet.write_number(number, col, float(value), fmt)
            elif col == 1:
                sheet.write_number(number, col, int(value), formats["number"])
            else:
                sheet.write_string(number, col, str(value), formats["text"])
    if detail:
        sheet.autofilter(0, 0, min(len(detail), XLSX_MAX_ROWS), len(REPORT_HEADERS) - 1)


def _summary_sheet(book, formats: dict, summary: list[tuple], title: str) -> None:
    sheet = _table_sheet(book, "汇总", title, SUMMARY_HEADERS, SUMMARY_WIDTHS, formats)
    for number, row in enumerate(summary, 1):
        sheet.set_row(number, _row_height(row, SUMMARY_WIDTHS))
        for col, value in enumerate(row):
            if col == 2:
                sheet.write_number(number, col, value, formats["number"])
            else:
                sheet.write_string(number, col, str(value), formats["text"])


def _about_sheet(book, formats: dict, load_id: str, local: datetime, scope: Scope, detail: list[tuple],
                 fatal: int, csv_path: Path) -> None:
    sheet = book.add_worksheet("说明")
    _print_setup(sheet, "数据质量报告说明", repeat_header=False)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 100)
    conclusion = (
        "未发现问题。" if not detail else
        f"共 {len(detail):,} 个问题，其中致命 {fatal:,} 个。致命问题所涉单位年度的数据不予发布（保留上次发布的数据）；"
        "警告已随数据发布，请按“问题清单”逐行核对，修正导出文件后重新放入。"
    )
    info = [
        ("加载编号", load_id),
        ("生成时间", f"{local:%Y-%m-%d %H:%M:%S}（北京时间）"),
        ("检查范围", "，".join(f"{u}/{y}" for u, y in sorted(scope)) or "（本次无变更的单位年度）"),
        ("结论", conclusion),
    ]
    if len(detail) > XLSX_MAX_ROWS:
        info.append(("提示", f"问题清单超过 Excel 行数上限，仅列出前 {XLSX_MAX_ROWS:,} 行；完整清单见 {csv_path.name}"))
    for number, (key, value) in enumerate(info):
        sheet.set_row(number, _row_height((key, value), (14, 100)))
        sheet.write_string(number, 0, key, formats["head"])
        sheet.write_string(number, 1, value, formats["text"])
