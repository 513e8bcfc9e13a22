"""The error report finance staff act on: reports/quality/<load_id>.xlsx and .csv."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import openpyxl

from pipelines.quality.run import REPORT_HEADERS, run_quality
from pipelines.settings import load_settings
from pipelines.warehouse.db import Writer, connect
from tests.quality.conftest import ALL_UNIT_YEARS, BUDGET_2021, Q3

SHEETS = ["问题清单", "汇总", "说明"]


def quality_report(settings, load_id: str) -> Path:
    """The load's error report, as its summary in meta.loads names it."""
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        summary = con.execute("SELECT summary FROM meta.loads WHERE load_id = ?", [load_id]).fetchone()[0]
    finally:
        con.close()
    return Path(json.loads(summary)["quality_report"])


def _sheet(path, name) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(row) for row in book[name].iter_rows(values_only=True)]
    finally:
        book.close()


def test_report_lists_every_offending_and_quarantined_row(messy):
    xlsx = quality_report(messy.settings, messy.load_id)
    assert openpyxl.load_workbook(xlsx, read_only=True).sheetnames == SHEETS
    rows = _sheet(xlsx, "问题清单")
    assert rows[0] == REPORT_HEADERS == ("文件", "行号", "字段", "实际值", "期望值", "差额", "规则", "级别", "说明")
    body = rows[1:]

    by_rule = {}
    for file, row, *_, rule, level, _note in body:
        by_rule.setdefault(rule, set()).add((file, row))
        assert level == "警告"  # nothing fatal in the messy data: contract problems are warnings

    # one line per quarantined row of the scope's files, under its reason code, with the field
    # (as the file's header names it) and the cell as written ...
    con = duckdb.connect(str(messy.settings.db_path), read_only=True)
    try:
        quarantined = con.execute("SELECT source_file, source_row, reason_code FROM quarantine").fetchall()
    finally:
        con.close()
    assert len(quarantined) == 12
    assert {(file, row): code for file, row, code in quarantined} == {
        key: code for key, (code, _, _) in messy.rejected.items()}
    for file, row, code in quarantined:
        assert by_rule[f"quarantine:{code}"] >= {(file, row)}

    # ... and one per offending row of every failing rule: no rule names a quarantined row,
    # so each problem is listed once
    for rule, expected in messy.expected.items():
        assert by_rule.get(rule, set()) == {(f, r) for _, _, f, r in expected}, rule
    assert len(body) == sum(len(v) for v in messy.expected.values()) + len(quarantined)

    unbalanced = [r for r in body if r[6] == "quarantine:unbalanced_voucher"]
    # each line of the voucher with the side it is booked on; the totals in 说明
    assert [r[:6] for r in unbalanced] == [
        (Q3, 659, "借方金额", "1,000.00", "同一凭证、同一账套借方合计 = 贷方合计", None),
        (Q3, 660, "贷方金额", "900.00", "同一凭证、同一账套借方合计 = 贷方合计", None)]
    assert unbalanced[0][8] == "已隔离，未计入：凭证借贷不平衡（预算会计）：借方合计 1000.00，贷方合计 900.00"
    econ = next(r for r in body if r[6] == "quarantine:unknown_econ_code" and r[0] == BUDGET_2021)
    assert econ[:6] == (BUDGET_2021, 81, "经济分类", "39998 未知分类", "2021年度部门预算支出经济分类中的编码", None)
    outside = [r[:4] for r in body if r[6] == "quarantine:date_out_of_range"]
    assert outside == [(Q3, 667, "日期", "20211005"), (Q3, 668, "日期", "20211005")]
    over = next(r for r in body if r[6] == "unit_over_budget")
    assert over[:2] == (None, None) and over[8].startswith("单位 117001，2021年度：")

    # sorted by file and row (rows about a whole unit-year last)
    keys = [(r[0] is None, r[0] or "", -1 if r[1] is None else r[1]) for r in body]
    assert keys == sorted(keys)

    summary = _sheet(xlsx, "汇总")
    assert summary[0] == ("规则", "级别", "行数", "说明", "类别", "检查对象")
    counts = {r[0]: r[2] for r in summary[1:]}
    assert counts["voucher_line_in_two_files"] == 8 and counts["row_accounting"] == 0
    assert counts["quarantine:unknown_econ_code"] == 3 and counts["gx_staging_voucher_lines"] == 0

    with open(xlsx.with_suffix(".csv"), encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert tuple(lines[0]) == REPORT_HEADERS
    assert len(lines) == len(rows)
    assert [line[0] for line in lines[1:]] == [r[0] or "" for r in body]


def test_report_is_written_when_there_is_nothing_to_report(clean):
    xlsx = quality_report(clean.settings, clean.load_id)
    assert _sheet(xlsx, "问题清单") == [REPORT_HEADERS]
    info = dict(_sheet(xlsx, "说明"))
    assert info["结论"] == "未发现问题。"
    assert info["检查范围"] == "117001/2020，117001/2021，117002/2021"
    with open(xlsx.with_suffix(".csv"), encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [list(REPORT_HEADERS)]


def test_data_docs_on_request(clean, tmp_path, monkeypatch):
    shutil.copy(clean.settings.db_path, tmp_path / "warehouse.duckdb")
    settings = load_settings(clean.settings.landing_dir, tmp_path)
    con = connect(settings.db_path)
    try:
        writer = Writer(settings.db_path, con)
        outcome = run_quality(writer, settings, ALL_UNIT_YEARS, "no-docs")
        con = writer.con
        assert outcome.data_docs_path is None and not (tmp_path / "reports" / "quality" / "data_docs").exists()
        monkeypatch.setenv("FISCAL_DATA_DOCS", "1")
        writer = Writer(settings.db_path, con)
        outcome = run_quality(writer, settings, ALL_UNIT_YEARS, "docs")
        con = writer.con
        views = con.execute("SELECT count(*) FROM duckdb_views() WHERE schema_name = 'quality'").fetchone()[0]
    finally:
        con.close()
    index = tmp_path / "reports" / "quality" / "data_docs" / "index.html"
    assert outcome.data_docs_path == str(index) and index.exists()
    assert len(list((index.parent / "validations").rglob("*.html"))) == 19
    assert views == 0  # the scoped views GX validated are dropped again
