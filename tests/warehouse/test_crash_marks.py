"""A unit-year is marked to rebuild in the transaction that changes its rows, and recorded
as done only once its reports are written: a load that dies in between (killed, or failing
on a later step) leaves it marked, and the next plain load finishes the job.

The kill itself (SIGKILL at moments spread over a real load) is tests/warehouse/test_kill.py;
these reproduce the two holes of issue 12 item 1 and 2 deterministically, in-process."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.evaluation import outputs
from pipelines.settings import load_settings
from pipelines.warehouse import dirty
from pipelines.warehouse import load as stages
from pipelines.warehouse.db import connect
from tests.conftest import payment, query, run_load, voucher_file


class Killed(BaseException):
    """Stands for the process dying: nothing of ours catches it."""


def _mart_rows(warehouse: Path) -> dict[str, list[tuple]]:
    """Every published Parquet file's rows, ordered, by path."""
    out = {}
    for path in sorted(warehouse.glob("marts*/*/fiscal_year=*/*.parquet")):
        out[path.relative_to(warehouse).as_posix()] = duckdb.sql(
            f"SELECT * FROM read_parquet('{path.as_posix()}') ORDER BY ALL").fetchall()
    return out


def _totals(warehouse: Path) -> list[tuple]:
    pattern = (warehouse / "marts" / "spending_by_year" / "*" / "*.parquet").as_posix()
    return duckdb.sql(f"SELECT unit_code, total_yuan FROM read_parquet('{pattern}') ORDER BY 1").fetchall()


def _marked(warehouse: Path) -> list[tuple]:
    return query(warehouse, "SELECT unit_code, fiscal_year FROM meta.dirty ORDER BY ALL")


def test_removed_file_is_rebuilt_when_the_load_dies_right_after_the_ingest_began(tmp_path):
    landing, warehouse, clean = tmp_path / "landing", tmp_path / "wh", tmp_path / "clean"
    voucher_file(landing / "900001" / "2021-01.csv", payment("2021-01-05", "记-1", "10.00"), unit="900001 甲",
                 period="2021年01月01日至2021年01月31日")
    voucher_file(landing / "900001" / "2021-02.csv", payment("2021-02-05", "记-1", "20.00"), unit="900001 甲",
                 period="2021年02月01日至2021年02月28日")
    assert run_load(landing, warehouse) == 0
    assert _totals(warehouse) == [("900001", Decimal("30.00"))]

    # February's export is withdrawn and another unit's arrives; the load dies as it
    # starts reading the new file, after the withdrawn file's rows were deleted.
    (landing / "900001" / "2021-02.csv").unlink()
    voucher_file(landing / "900002" / "2021.csv", payment("2021-03-05", "记-1", "5.00"), unit="900002 乙")

    def die_at_first_file(message: str) -> None:
        if message.startswith("[1/"):
            raise Killed(message)

    con = connect(load_settings(landing, warehouse).db_path)
    try:
        with pytest.raises(Killed):
            stages.stage_ingest(con, load_settings(landing, warehouse), die_at_first_file)
    finally:
        con.close()
    assert query(warehouse, "SELECT count(*) FROM meta.files WHERE source_file LIKE '%2021-02.csv'") == [(0,)]
    assert _marked(warehouse) == [("900001", 2021)]  # marked with the deletion

    assert run_load(landing, warehouse) == 0
    assert run_load(landing, clean) == 0
    assert _totals(warehouse) == [("900001", Decimal("10.00")), ("900002", Decimal("5.00"))]
    assert _mart_rows(warehouse) == _mart_rows(clean)
    assert _marked(warehouse) == []


def test_unit_years_whose_reports_failed_stay_marked_and_the_next_load_rebuilds_them(tmp_path, monkeypatch):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10.00"), unit="900001 甲")
    voucher_file(landing / "b.csv", payment("2021-01-05", "记-1", "20.00"), unit="900002 乙")
    real_gather = outputs.gather_unit_year

    def fail_for_900002(con, settings, unit_code, year, *args, **kwargs):
        if unit_code == "900002":
            raise OSError("disk full, say")
        return real_gather(con, settings, unit_code, year, *args, **kwargs)

    monkeypatch.setattr(outputs, "gather_unit_year", fail_for_900002)
    assert run_load(landing, warehouse) == 1  # the run failed in the reports
    # published, but not every report written: not done
    assert (warehouse / "marts" / "spending_by_year" / "fiscal_year=2021" / "900002.parquet").exists()
    assert _marked(warehouse) == [("900001", 2021), ("900002", 2021)]

    monkeypatch.setattr(outputs, "gather_unit_year", real_gather)
    assert run_load(landing, warehouse) == 0
    assert _marked(warehouse) == []
    last_scope = query(warehouse, "SELECT scope FROM meta.loads ORDER BY started_at DESC LIMIT 1")[0][0]
    assert last_scope == '[["900001", 2021], ["900002", 2021]]'
    assert (warehouse / "reports" / "900002" / "2021" / "部门整体支出绩效自评报告.md").is_file()


def test_report_command_clears_no_mark(tmp_path):
    """`report` rebuilds marts and reports from core as it is: a unit-year marked because
    its rows changed (core not rebuilt) stays marked for the next load."""
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10.00"), unit="900001 甲")
    assert run_load(landing, warehouse) == 0
    con = connect(warehouse / "warehouse.duckdb")
    try:
        dirty.mark(con, {("900001", 2021)})
    finally:
        con.close()
    from pipelines.cli import main as cli_main

    assert cli_main(["report", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    assert _marked(warehouse) == [("900001", 2021)]
    assert run_load(landing, warehouse) == 0
    assert _marked(warehouse) == []


def test_a_mark_made_after_a_run_fixed_its_scope_survives_that_run(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA meta")
    dirty.mark(con, {("900001", 2021), ("900002", 2021)})
    scope, up_to = dirty.marked(con)
    assert scope == {("900001", 2021), ("900002", 2021)}
    dirty.mark(con, {("900001", 2021)})  # another run's ingest, while this run builds
    dirty.unmark(con, scope, up_to)
    assert dirty.marked(con)[0] == {("900001", 2021)}
