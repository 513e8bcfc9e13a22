"""Contract problems in the exports never block a load: they are quarantined, reported as
warnings, and the marts are published (`fiscal-warehouse load` exits 0)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from pathlib import Path

from pipelines.quality.run import REPORT_HEADERS
from tests.conftest import VOUCHER_HEADER, payment, query, run_load, voucher_file, write_csv


def test_messy_exports_are_reported_not_blocking(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    good = payment(  # rows 6-9 (four title lines, the header on row 5)
        "2021-01-05", "记-0001", "1,000.00")
    voucher_file(landing / "900001" / "2021年1-3月序时账.csv", good + [
        # an unreadable amount: that line is quarantined, the rest of its voucher no longer balances
        ["2021-01-06", "记-0002", 1, "坏金额", "7101", "行政支出", "12,3x4.00", "", "2120101", "30201", "", "一般公共预算"],
        ["2021-01-06", "记-0002", 2, "坏金额", "6001", "财政拨款预算收入", "", "12,304.00", "", "", "", "一般公共预算"],
        ["2021-13-45", "记-0003", 1, "坏日期", "5001", "业务活动费用", "5.00", "", "2120101", "30201", "", ""],
        ["2021-02-01", "记-0004", 1, "缺经济分类", "7101", "行政支出", "100.00", "", "2120101", "", "", "一般公共预算"],
        ["2021-02-01", "记-0004", 2, "缺经济分类", "6001", "财政拨款预算收入", "", "100.00", "", "", "", "一般公共预算"],
    ], unit="900001 测试单位", period="2021年1月1日至2021年3月31日")
    # every date outside the title's period: a file that counts for no unit-year at all
    voucher_file(landing / "900001" / "错期间.csv", payment("1999-05-05", "记-0001", "10.00"),
                 unit="900001 测试单位", period="2021年1月1日至2021年3月31日")
    # no unit anywhere (neither a column nor a title line)
    write_csv(landing / "无单位.csv", [VOUCHER_HEADER] + payment("2021-01-05", "记-0001", "10.00"))
    (landing / "坏文件.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")

    out = io.StringIO()
    home = os.environ.get("DAGSTER_HOME")
    try:
        with contextlib.redirect_stdout(out):
            code = run_load(landing, warehouse)
    finally:
        os.environ.pop("DAGSTER_HOME", None) if home is None else os.environ.__setitem__("DAGSTER_HOME", home)
    summary = out.getvalue()
    assert code == 0, summary
    assert "(0 blocking)" in summary

    load_id = query(warehouse, "SELECT load_id FROM meta.loads ORDER BY started_at DESC LIMIT 1")[0][0]
    assert query(warehouse, "SELECT count(*) FROM quality.results WHERE load_id = ? AND severity = 'fatal'",
                 [load_id]) == [(0,)]
    assert query(warehouse, "SELECT DISTINCT unit_code, fiscal_year FROM meta.published") == [("900001", 2021)]
    assert query(warehouse, "SELECT spent_yuan FROM marts.budget_execution") == [(1000,)]
    failing = {r[0] for r in query(warehouse, "SELECT DISTINCT check_id FROM quality.results WHERE load_id = ?",
                                   [load_id])}
    assert "unit_over_budget" in failing  # the rejected rows are the quarantine's: no rule lists them again
    assert not {"voucher_unbalanced", "voucher_missing_econ_class"} & failing

    report = json.loads(query(warehouse, "SELECT summary FROM meta.loads WHERE load_id = ?", [load_id])[0][0])
    with open(Path(report["quality_report"]).with_suffix(".csv"), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == REPORT_HEADERS
    by_rule = {}
    for file, row, field, provided, expected, difference, rule, level, note in rows[1:]:
        by_rule.setdefault(rule, []).append((file, row, field, provided))
    main = "900001/2021年1-3月序时账.csv"
    assert by_rule["quarantine:unreadable_amount"] == [(main, "10", "借方金额", "12,3x4.00")]
    assert by_rule["quarantine:unreadable_date"] == [(main, "12", "凭证日期", "2021-13-45")]
    assert sorted(by_rule["quarantine:unbalanced_voucher"]) == [  # the side each line is booked on
        (main, "11", "贷方金额", "12,304.00"), (main, "14", "贷方金额", "100.00")]
    assert by_rule["quarantine:missing_required"][0] == (main, "13", "经济分类", "")
    # files that count for no unit-year, and the unreadable one, are in the report too
    assert {r[0] for r in by_rule["quarantine:date_out_of_range"]} == {"900001/错期间.csv"}
    assert {r[0] for r in by_rule["quarantine:missing_required"]} >= {"无单位.csv"}
    assert [r[0] for r in by_rule["quarantine:unreadable_file"]] == ["坏文件.xlsx"]
