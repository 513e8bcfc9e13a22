"""Rule row_accounting when a newer export replaces one unit's slice of an older
multi-unit file (README: identity is per unit and year inside a file).

The older budget and voucher files hold units 900060 and 900061, each with a rejected
row, and the budget file a row with no unit; newer files replace 900060's slice. The
replaced slice's rows, rejected ones included, are superseded (contract 1 and 2: rows in
= rows loaded + rows quarantined, nothing silently dropped). The rule must count as the
load's summary does, whatever the order the files came in and whether the warehouse was
refreshed: exit 0, the rule passes, and 900061 — not replaced — is published.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.quality.run import load_catalogue
from pipelines.warehouse.db import load_macros
from pipelines.warehouse.load import row_accounting
from pipelines.warehouse.transform import set_scope
from tests.conftest import query, run_load, write_csv

OLDER, NEWER = 1_700_000_000, 1_700_000_100
FUND = "一般公共预算"
BUDGET_HEADER = ["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额"]
VOUCHER_HEADER = ["单位编码", "凭证日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额",
                  "功能分类", "经济分类", "项目", "资金性质"]
TITLE = [["序时账"], ["2021年1月1日至2021年3月31日"]]


def _budget(unit: str, kind: str, amount: str) -> list[str]:
    return [unit, "2021", "文", kind, "2120101", "30201", "", FUND, amount]


def _payment(unit: str, amount: str) -> list[list[str]]:
    return [[unit, "2021-01-05", "记-1", "1", "支付", "7101", "", amount, "", "2120101", "30201", "", FUND],
            [unit, "2021-01-05", "记-1", "2", "支付", "6001", "", "", amount, "", "", "", FUND]]


def _bad_line(unit: str) -> list[str]:
    return [unit, "2021-01-06", "记-9", "1", "x", "7101", "", "zz", "", "2120101", "30201", "", FUND]


def _write(path: Path, rows: list[list[str]], mtime: int) -> None:
    write_csv(path, rows, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def write_older(landing: Path) -> None:
    """Both units; 900060 with an empty amount (row 3), 900061 with an unreadable one (row 5),
    a row with no unit (row 6); vouchers with a bad line for each unit (rows 6 and 9)."""
    _write(landing / "budget_all.csv", [BUDGET_HEADER, _budget("900060", "年初预算", "100.00"),
                                        _budget("900060", "追加", ""), _budget("900061", "年初预算", "200.00"),
                                        _budget("900061", "追加", "abc"), _budget("", "追加", "10.00")], OLDER)
    _write(landing / "v_all.csv", TITLE + [VOUCHER_HEADER] + _payment("900060", "10.00") + [_bad_line("900060")]
           + _payment("900061", "20.00") + [_bad_line("900061")], OLDER)


def write_newer(landing: Path) -> None:
    """900060's slice again, corrected."""
    _write(landing / "budget_60.csv", [BUDGET_HEADER, _budget("900060", "年初预算", "150.00")], NEWER)
    _write(landing / "v_60.csv", TITLE + [VOUCHER_HEADER] + _payment("900060", "15.00"), NEWER)


SEQUENCES = {
    "one load": [(write_older, write_newer)],
    "older, then newer": [(write_older,), (write_newer,)],
    "newer, then older": [(write_newer,), (write_older,)],
}


def _rule_everywhere(warehouse: Path) -> list[tuple]:
    """The rule over every unit-year of the warehouse, not only those the last load checked."""
    rule = next(r for r in load_catalogue() if r.id == "row_accounting")
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
    try:
        load_macros(con)
        set_scope(con, con.execute("SELECT DISTINCT unit_code, fiscal_year FROM meta.slices").fetchall())
        return con.execute(rule.sql).fetchall()
    finally:
        con.close()


def _accounting(warehouse: Path) -> dict[str, tuple[int, int, int, int]]:
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
    try:
        counts = row_accounting(con)
    finally:
        con.close()
    return {kind: (c["read"], c["loaded"], c["quarantined"], c["superseded"])
            for kind, c in counts.items() if c["read"]}


def _mart(warehouse: Path, mart: str, column: str, unit: str) -> Decimal:
    path = warehouse / "marts" / mart / "fiscal_year=2021" / f"{unit}.parquet"
    assert path.exists(), f"{mart} of {unit}/2021 not published"
    with duckdb.connect() as con:  # not the module's shared connection: fetchone leaves its result open
        return con.execute(f"SELECT sum({column}) FROM read_parquet('{path.as_posix()}')").fetchone()[0]


def _assert_state(warehouse: Path) -> None:
    # the last load's own run of the rule: passed, nothing failing
    assert query(warehouse, "SELECT passed, failing, fatal_failing FROM quality.check_runs "
                            "WHERE check_id = 'row_accounting' AND load_id = "
                            "(SELECT load_id FROM meta.loads ORDER BY started_at DESC LIMIT 1)") == [(True, 0, 0)]
    assert _rule_everywhere(warehouse) == []
    assert _accounting(warehouse) == {"voucher_lines": (8, 4, 1, 3), "budget_lines": (6, 2, 2, 2)}
    assert query(warehouse, "SELECT source_file, source_row, reason_code FROM quarantine ORDER BY 1, 2") == [
        ("budget_all.csv", 5, "unreadable_amount"), ("budget_all.csv", 6, "missing_required"),
        ("v_all.csv", 9, "unreadable_amount")]
    # 900061 is not replaced: published from the older files; 900060 from the newer ones
    assert _mart(warehouse, "spending_by_year", "total_yuan", "900061") == Decimal("20.00")
    assert _mart(warehouse, "budget_execution", "budget_final_yuan", "900061") == Decimal("200.00")
    assert _mart(warehouse, "spending_by_year", "total_yuan", "900060") == Decimal("15.00")
    assert _mart(warehouse, "budget_execution", "budget_final_yuan", "900060") == Decimal("150.00")
    assert (warehouse / "reports" / "900061" / "2021").is_dir()


# 'one load' is in the slow suite only (-m slow): 'older, then newer' ends with a
# --full-refresh, which reads the same files again in one load (every file as new, the
# older and the newer in one ingest) and asserts the same state, in the default suite.
@pytest.mark.parametrize("sequence", [pytest.param(s, marks=pytest.mark.slow) if s == "one load" else s
                                      for s in SEQUENCES])
def test_a_replaced_slice_of_a_multi_unit_file_is_accounted_as_superseded(tmp_path, sequence):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    for writers in SEQUENCES[sequence]:
        for write in writers:
            write(landing)
        assert run_load(landing, warehouse) == 0, sequence
    _assert_state(warehouse)
    if sequence == "older, then newer":  # the same files read again from scratch: the same result
        assert run_load(landing, warehouse, "--full-refresh") == 0
        _assert_state(warehouse)
