"""A fatal failure withholds exactly its unit-year: the previous Parquet files stay, the
other unit's marts are republished. Runs the load stages of pipelines/warehouse/load.py
directly so that a staged row can be lost between staging and the checks."""

from __future__ import annotations

import shutil
from decimal import Decimal

import duckdb

from pipelines.evaluation.rules import load_rules
from pipelines.quality.run import run_quality
from pipelines.settings import load_settings
from pipelines.warehouse import load as stages
from pipelines.warehouse.db import Writer, connect
from tests.conftest import payment, voucher_file
from tests.quality.conftest import Q3, UNIT1, UNIT2, UNIT2_VOUCHERS, _append_csv, _q3_voucher


def _parquet(warehouse, audience: str, unit: str, year: int):
    return warehouse / audience / "spending_by_year" / f"fiscal_year={year}" / f"{unit}.parquet"


def _total(path) -> Decimal:
    with duckdb.connect() as con:
        return con.execute(f"SELECT total_yuan FROM read_parquet('{path.as_posix()}')").fetchall()[0][0]


def test_fatal_failure_withholds_only_its_unit_year(clean, tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    shutil.copytree(clean.settings.landing_dir, landing)  # same paths, bytes and mtimes: nothing new to read
    shutil.copytree(clean.settings.warehouse_dir, warehouse, symlinks=True)  # marts/ link to the live snapshot
    settings = load_settings(landing, warehouse)
    files = {(unit, audience): _parquet(warehouse, audience, unit, 2021)
             for unit in (UNIT1, UNIT2) for audience in ("marts", "marts_public")}
    before = {key: path.stat().st_mtime_ns for key, path in files.items()}
    assert _total(files[(UNIT1, "marts")]) == Decimal("166619400.00")
    assert _total(files[(UNIT2, "marts")]) == Decimal("170000.00")

    # both units send a corrected export with one more payment of 1,000.00
    _append_csv(landing / Q3, _q3_voucher("20210930", "记-9100", [
        ("7101", "行政支出", "1,000.00", "0.00", "2120101", "30201", "", "一般公共预算"),
        ("6001", "财政拨款预算收入", "0.00", "1,000.00", "", "", "", "")]), "utf-8-sig")
    voucher_file(landing / UNIT2_VOUCHERS,
                 payment("2021-03-15", "记-0001", "100,000.00", econ="30101")
                 + payment("2021-06-15", "记-0002", "50,000.00", econ="31005", func="2120399",
                           project="117002-2021-01")
                 + payment("2021-09-15", "记-0003", "20,000.00", econ="30201")
                 + payment("2021-10-15", "记-0004", "1,000.00", econ="30201"),
                 unit="117002 常宁市测试二局")

    con = connect(settings.db_path)
    try:
        stages.stage_ingest(con, settings)
        scope, up_to = stages.dirty_scope_and_mark(con)
        assert scope == {(UNIT1, 2021), (UNIT2, 2021)}
        stages.stage_core(con, scope)
        stages.stage_marts(con, scope, load_rules())
        # a bug loses a staged row of 117001's Q3 file (a financial-book line: no amount moves)
        lost = con.execute(f"DELETE FROM staging.voucher_lines__rows WHERE source_row = 385 AND source_key = "
                           f"(SELECT source_key FROM meta.sources WHERE source_file = '{Q3}')").fetchone()[0]
        assert lost == 1
        writer = Writer(settings.db_path, con)
        outcome = run_quality(writer, settings, scope, "withhold-test")
        con = writer.con
        assert outcome.withheld == {(UNIT1, 2021)}
        assert [(f["id"], f["severity"], f["unit_years"]) for f in outcome.failed] == [
            ("row_accounting", "fatal", [[UNIT1, 2021]])]
        result = stages.stage_publish(con, settings, scope, outcome.withheld)
        stages.mark_done(con, scope - outcome.withheld, up_to)  # as the reports step does, after the reports
        dirty = con.execute("SELECT unit_code, fiscal_year FROM meta.dirty").fetchall()
    finally:
        con.close()

    assert result.withheld == [(UNIT1, 2021)]
    for audience in ("marts", "marts_public"):
        # 117001/2021: the previous files stay, untouched
        assert files[(UNIT1, audience)].stat().st_mtime_ns == before[(UNIT1, audience)]
        assert _total(files[(UNIT1, audience)]) == Decimal("166619400.00")
        # 117002/2021: republished with the new payment
        assert files[(UNIT2, audience)].stat().st_mtime_ns > before[(UNIT2, audience)]
        assert _total(files[(UNIT2, audience)]) == Decimal("171000.00")
    assert dirty == [(UNIT1, 2021)]  # stays marked: the next load tries it again
