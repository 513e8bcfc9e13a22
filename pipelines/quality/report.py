"""The error report finance staff act on."""

from __future__ import annotations

import csv
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pipelines.quality.catalogue import Rule, Scope, Suite
from pipelines.settings import Settings
from pipelines.textsafe import csv_safe_row

REPORT_HEADERS = ("文件", "行号", "字段", "实际值", "期望值", "差额", "规则", "级别", "说明")
SEVERITY_LABELS = {"fatal": "致命", "warning": "警告"}
XLSX_MAX_ROWS = 1_048_575  # Excel's limit, less the header row

# Quarantine reason -> (canonical column of the row's kind, what was expected). missing_required
# and the amount/number codes name their column in the reason text (see _FIELD_FROM_REASON).
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
    "unreadable_file": "可读取的 CSV / XLSX 文件",
    "unreadable_sheet": "可识别的表头（见合同第2节）",
}


def _quarantine_field_sql() -> str:
    """CASE giving the canonical column a quarantined row is about (by kind, code and reason)."""
    pairs = [
        ("q.reason_code = 'unknown_econ_code'", "econ_class"),
        ("q.reason_code = 'unknown_func_code'", "func_class"),
        ("q.reason_code = 'unknown_budget_kind'", "budget_kind"),
        ("q.reason_code = 'unreadable_year'", "fiscal_year"),
        ("q.reason_code IN ('unreadable_date', 'date_out_of_range') AND q.kind = 'voucher_lines'", "voucher_date"),
        ("q.reason_code IN ('unreadable_date', 'date_out_of_range') AND q.kind = 'procurement'", "date"),
        ("q.reason_code = 'unreadable_date' AND contains(q.reason, '开工')", "start_date"),
        ("q.reason_code = 'unreadable_date'", "end_date"),
        ("q.reason_code = 'unreadable_amount' AND contains(q.reason, '借方')", "debit"),
        ("q.reason_code = 'unreadable_amount' AND contains(q.reason, '贷方')", "credit"),
        ("q.reason_code = 'unreadable_amount' AND contains(q.reason, '政府采购预算')", "procurement_amount"),
        ("q.reason_code = 'unreadable_amount' AND q.kind = 'procurement'", "contract_amount"),
        ("q.reason_code = 'unreadable_amount'", "amount"),
        ("q.reason_code = 'unreadable_number' AND contains(q.reason, '编制')", "authorized"),
        ("q.reason_code = 'unreadable_number' AND contains(q.reason, '在职')", "in_service"),
        ("q.reason_code = 'unreadable_number' AND contains(q.reason, '离退休')", "retired"),
        ("q.reason_code = 'unreadable_number'", "weight"),
        ("q.reason_code = 'unbalanced_voucher'", "debit"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '单位编码')", "unit_code"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '经济分类')", "econ_class"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '科目编码')", "account_code"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '凭证日期')", "voucher_date"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '凭证号')", "voucher_no"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '项目编码')", "project_code"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '三级指标')", "name"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '合同金额')", "contract_amount"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '金额')", "amount"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '年度')", "fiscal_year"),
    ]
    return "CASE " + " ".join(f"WHEN {cond} THEN '{col}'" for cond, col in pairs) + " END"


def _report_rows(con, load_id: str) -> list[tuple]:
    """Every offending row of this load's failed checks and every quarantined row of the
    scope's files (and of files that count for no unit-year, or could not be read)."""
    expected = "CASE q.reason_code " + " ".join(
        f"WHEN '{code}' THEN '{text}'" for code, text in _EXPECTED.items()) + " END"
    severity = "CASE r.severity " + " ".join(
        f"WHEN '{code}' THEN '{label}'" for code, label in SEVERITY_LABELS.items()) + " END"
    return con.execute(
        f"""WITH scope_files AS (
            SELECT so.source_file FROM meta.slices a
            JOIN meta.sources so ON so.source_id = a.source_id
            JOIN _scope s ON s.unit_code = a.unit_code AND s.fiscal_year = a.fiscal_year
            WHERE a.status = 'active'
            UNION SELECT so.source_file FROM meta.sources so
            WHERE NOT EXISTS (SELECT 1 FROM meta.slices a WHERE a.source_id = so.source_id)
            UNION SELECT source_file FROM meta.files WHERE status = 'unreadable'
        ),
        q AS (
            SELECT q.*, so.headers, {_quarantine_field_sql()} AS canonical
            FROM quarantine q
            LEFT JOIN meta.sources so
              ON so.source_file = q.source_file AND so.sheet IS NOT DISTINCT FROM q.sheet AND so.kind = q.kind
            WHERE q.source_file IN (SELECT source_file FROM scope_files)
        ),
        q_fields AS (  -- headers as the file wrote them; read as MAPs: any header text is a valid key
            SELECT q.*,
                   json_transform(q.headers, '"MAP(VARCHAR, VARCHAR)"')[q.canonical] AS header,
                   json_transform(q.headers, '"MAP(VARCHAR, VARCHAR)"')['credit'] AS credit_header,
                   json_transform(q.raw, '"MAP(VARCHAR, VARCHAR)"') AS cells
            FROM q
        ),
        quarantined AS (
            SELECT
                q.source_file || coalesce(' [' || q.sheet || ']', '') AS file, q.source_row AS row_no,
                CASE WHEN q.reason_code = 'unbalanced_voucher'
                     THEN coalesce(q.header, '借方') || ' / ' || coalesce(q.credit_header, '贷方')
                     ELSE coalesce(q.header, q.canonical) END AS field,
                CASE WHEN q.reason_code = 'unbalanced_voucher'
                     THEN coalesce(q.cells[q.header], '') || ' / ' || coalesce(q.cells[q.credit_header], '')
                     WHEN q.header IS NOT NULL THEN q.cells[q.header] END AS provided,
                {expected} AS expected,
                NULL::DECIMAL(18, 2) AS difference,
                'quarantine:' || q.reason_code AS rule,
                '警告' AS severity,
                '已隔离，未计入：' || q.reason AS note
            FROM q_fields q
        ),
        checked AS (
            SELECT
                r.source_file AS file, r.source_row AS row_no, r.field, r.value_provided AS provided,
                r.value_expected AS expected, r.difference, r.check_id AS rule, {severity} AS severity,
                CASE WHEN r.source_file IS NULL AND r.unit_code IS NOT NULL
                     THEN '单位 ' || r.unit_code || '，' || r.fiscal_year::VARCHAR || '年度：' ELSE '' END
                    || r.message || coalesce('（' || r.detail || '）', '') AS note
            FROM quality.results r WHERE r.load_id = ?
        )
        SELECT DISTINCT * FROM (SELECT * FROM checked UNION ALL SELECT * FROM quarantined)
        ORDER BY file NULLS LAST, row_no NULLS FIRST, rule, field, provided""",
        [load_id],
    ).fetchall()


def _summary_rows(rules: list[Rule], suites: list[Suite], runs: dict, detail: list[tuple]) -> list[tuple]:
    """规则, 级别, 行数, 说明, 类别, 检查对象: every check of the load, then quarantine codes."""
    counts: dict[str, int] = {}
    for row in detail:
        counts[row[6]] = counts.get(row[6], 0) + 1
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
                    f"Great Expectations 期望集 {suite.table}（{'未通过' if counts.get(suite.check_id) else '通过'}）",
                    "expectation", suite.table))
    for rule in rules:
        out.append((rule.id, SEVERITY_LABELS[rule.severity], counts.get(rule.id, 0),
                    f"{rule.message_zh} / {rule.message_en}", rule.category, rule.target_table))
    for code in sorted(c for c in counts if c.startswith("quarantine:")):
        reason = code.split(":", 1)[1]
        out.append((code, "警告", counts[code], f"已隔离的行：{_EXPECTED.get(reason, reason)}（期望值）",
                    "quarantine", "quarantine"))
    return out


def write_report(con, settings: Settings, load_id: str, scope: Scope, rules: list[Rule], suites: list[Suite],
                 runs: dict) -> tuple[Path, Path]:
    """reports/quality/<load_id>.xlsx (问题清单 + 汇总 + 说明) and .csv (问题清单), always."""
    import xlsxwriter

    folder = settings.reports_dir / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    xlsx_path, csv_path = folder / f"{load_id}.xlsx", folder / f"{load_id}.csv"
    detail = _report_rows(con, load_id)
    summary = _summary_rows(rules, suites, runs, detail)

    tmp_csv = csv_path.with_suffix(".csv.tmp")
    with open(tmp_csv, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_HEADERS)
        for row in detail:
            # export text (a quarantined row's cells) must not run as a formula; 行号 and 差额 are ours
            writer.writerow(csv_safe_row(row, numeric_columns={1, 5}))
    os.replace(tmp_csv, csv_path)

    tmp_xlsx = xlsx_path.with_suffix(".xlsx.tmp")
    book = xlsxwriter.Workbook(str(tmp_xlsx), {"constant_memory": True, "strings_to_numbers": False})
    try:
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        money = book.add_format({"num_format": "#,##0.00"})
        whole = book.add_format({"num_format": "#,##0"})
        sheet = book.add_worksheet("问题清单")
        for col, (title, width) in enumerate(zip(REPORT_HEADERS, (46, 8, 22, 26, 34, 16, 30, 8, 80))):
            sheet.write(0, col, title, head)
            sheet.set_column(col, col, width)
        sheet.freeze_panes(1, 0)
        for number, row in enumerate(detail[:XLSX_MAX_ROWS], 1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if col == 5:
                    value = Decimal(value)
                    sheet.write_number(number, col, float(value), whole if value == value.to_integral() else money)
                elif col == 1:
                    sheet.write_number(number, col, int(value))
                else:
                    sheet.write_string(number, col, str(value))
        if detail:
            sheet.autofilter(0, 0, min(len(detail), XLSX_MAX_ROWS), len(REPORT_HEADERS) - 1)

        sheet = book.add_worksheet("汇总")
        for col, (title, width) in enumerate(zip(("规则", "级别", "行数", "说明", "类别", "检查对象"),
                                                 (32, 8, 10, 90, 12, 34))):
            sheet.write(0, col, title, head)
            sheet.set_column(col, col, width)
        sheet.freeze_panes(1, 0)
        for number, row in enumerate(summary, 1):
            for col, value in enumerate(row):
                if col == 2:
                    sheet.write_number(number, col, value)
                else:
                    sheet.write_string(number, col, str(value))

        sheet = book.add_worksheet("说明")
        sheet.set_column(0, 0, 16)
        sheet.set_column(1, 1, 100)
        fatal = [r for r in detail if r[7] == SEVERITY_LABELS["fatal"]]
        conclusion = (
            "未发现问题。/ No problems found." if not detail else
            f"共 {len(detail):,} 行问题，其中致命 {len(fatal):,} 行。致命问题所涉单位年度的数据不予发布（保留上次发布的数据）；"
            "警告已随数据发布，请按“问题清单”逐行核对并修正导出文件后重新放入。"
        )
        info = [
            ("加载编号", load_id),
            ("生成时间", datetime.now().strftime("%Y-%m-%d %H:%M:%S")),
            ("检查范围", "，".join(f"{u}/{y}" for u, y in sorted(scope)) or "（本次无变更的单位年度）"),
            ("结论", conclusion),
        ]
        if len(detail) > XLSX_MAX_ROWS:
            info.append(("提示", f"问题清单超过 Excel 行数上限，仅列出前 {XLSX_MAX_ROWS:,} 行；完整清单见 {csv_path.name}"))
        for number, (key, value) in enumerate(info):
            sheet.write_string(number, 0, key, head)
            sheet.write_string(number, 1, value)
    finally:
        book.close()
    os.replace(tmp_xlsx, xlsx_path)
    return xlsx_path, csv_path
