"""A unit-year is marked to rebuild in the transaction that changes its rows, and recorded
as done only once its reports are written: a load that dies in between (killed, or failing
on a later step) leaves it marked, and the next plain load finishes the job.

The kill itself (SIGKILL at moments spread over a real load) is tests/warehouse/test_kill.py;
these reproduce the two holes of issue 12 item 1 and 2 deterministically, in-process; and
the BI work a publish owes (the XLSX exports, the PostgreSQL mirror) when the load dies
right after the snapshot switch."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipelines.bi.publishing import XLSX_ENV
from pipelines.bi.xlsx import unit_year_export_path
from pipelines.evaluation import outputs
from pipelines.settings import load_settings
from pipelines.warehouse import dirty
from pipelines.warehouse import load as stages
from pipelines.warehouse.db import connect
from pipelines.warehouse.dictionary import chinese_title
from tests.conftest import copy_loaded, load_saying, payment, query, run_load, voucher_file


class Killed(BaseException):
    """Stands for the process dying: nothing of ours catches it."""


def _mart_rows(warehouse: Path) -> dict[str, list[tuple]]:
    """Every published Parquet file's rows, ordered, by path."""
    out = {}
    with duckdb.connect() as con:
        for path in sorted(warehouse.glob("marts*/*/fiscal_year=*/*.parquet")):
            out[path.relative_to(warehouse).as_posix()] = con.execute(
                f"SELECT * FROM read_parquet('{path.as_posix()}') ORDER BY ALL").fetchall()
    return out


def _totals(warehouse: Path) -> list[tuple]:
    pattern = (warehouse / "marts" / "spending_by_year" / "*" / "*.parquet").as_posix()
    with duckdb.connect() as con:
        return con.execute(f"SELECT unit_code, total_yuan FROM read_parquet('{pattern}') ORDER BY 1").fetchall()


def _marked(warehouse: Path) -> list[tuple]:
    return query(warehouse, "SELECT unit_code, fiscal_year FROM meta.dirty ORDER BY ALL")


def _two_months(landing: Path) -> None:
    """900001's January and February 2021 (10 and 20 yuan)."""
    voucher_file(landing / "900001" / "2021-01.csv", payment("2021-01-05", "记-1", "10.00"), unit="900001 甲",
                 period="2021年01月01日至2021年01月31日")
    voucher_file(landing / "900001" / "2021-02.csv", payment("2021-02-05", "记-1", "20.00"), unit="900001 甲",
                 period="2021年02月01日至2021年02月28日")


@pytest.fixture(scope="module")
def two_months_loaded(tmp_path_factory) -> tuple[Path, Path]:
    """_two_months loaded once for the module: (landing, warehouse), never changed; take copy_loaded."""
    base = tmp_path_factory.mktemp("two_months_loaded")
    landing, warehouse = base / "landing", base / "wh"
    _two_months(landing)
    assert run_load(landing, warehouse) == 0
    return landing, warehouse


def test_removed_file_is_rebuilt_when_the_load_dies_right_after_the_ingest_began(tmp_path, two_months_loaded):
    landing, warehouse = copy_loaded(two_months_loaded, tmp_path)
    clean = tmp_path / "clean"
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


def test_report_command_clears_no_mark(tmp_path, two_months_loaded):
    """`report` rebuilds marts and reports from core as it is: a unit-year marked because
    its rows changed (core not rebuilt) stays marked for the next load."""
    landing, warehouse = copy_loaded(two_months_loaded, tmp_path)
    assert _marked(warehouse) == []
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


# ------------------------------------------------------------------ BI work owed by a publish


def _export_total(warehouse: Path, unit: str, year: int) -> Decimal:
    """支出合计 in the unit-year's XLSX export of the public marts, as Excel shows it."""
    workbook = openpyxl.load_workbook(unit_year_export_path(warehouse, unit, year), read_only=True)
    try:
        header, row = list(workbook[chinese_title("spending_by_year")].iter_rows(values_only=True))
    finally:
        workbook.close()
    return Decimal(str(row[header.index("支出合计（元）")])).quantize(Decimal("0.01"))


def _owed(warehouse: Path, table: str) -> list[tuple]:
    """The unit-years owed the output kept in `table` (none when there is no such table)."""
    schema, name = table.split(".")
    if not query(warehouse, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                 [schema, name])[0][0]:
        return []
    return query(warehouse, f"SELECT unit_code, fiscal_year FROM {table} ORDER BY ALL")


def test_exports_owed_by_a_load_that_died_right_after_the_snapshot_switch_are_written_by_the_next(
        tmp_path, monkeypatch, two_months_loaded):
    """The publish commits meta.published and switches the snapshot; the exports and the
    mirror come after. A load dying in between leaves them owed (in the publish's own
    transaction), and the next load writes them although every Parquet file is unchanged."""
    landing, warehouse = copy_loaded(two_months_loaded, tmp_path)
    february = landing / "900001" / "2021-02.csv"
    assert _export_total(warehouse, "900001", 2021) == Decimal("30.00")

    february.unlink()

    def die_after_the_switch(*args, **kwargs):  # publish() returned: committed and switched
        raise Killed("right after the snapshot switch")

    monkeypatch.setattr(stages, "after_publish", die_after_the_switch)
    assert run_load(landing, warehouse) == 1  # the run failed in its publishing step
    monkeypatch.undo()
    assert _totals(warehouse) == [("900001", Decimal("10.00"))]  # published: the new snapshot is live
    assert _export_total(warehouse, "900001", 2021) == Decimal("30.00")  # not written yet
    owed_exports, owed_mirror = _owed(warehouse, "meta.bi_exports_pending"), _owed(warehouse, "meta.bi_mirror_pending")

    code, said = load_saying(landing, warehouse)
    assert code == 0, said
    assert "0 partition files written, 0 deleted" in said  # nothing to publish again …
    assert _export_total(warehouse, "900001", 2021) == Decimal("10.00")  # … and the export written all the same
    assert (owed_exports, owed_mirror) == ([("900001", 2021)], [("900001", 2021)])  # owed with the publish
    assert _owed(warehouse, "meta.bi_exports_pending") == []
    assert _owed(warehouse, "meta.bi_mirror_pending") == [("900001", 2021)]  # no mirror configured: kept for one

    code, said = load_saying(landing, warehouse)
    assert code == 0 and "nothing to do" in said, said
    assert _export_total(warehouse, "900001", 2021) == Decimal("10.00")
    assert _owed(warehouse, "meta.bi_exports_pending") == []


def test_exports_owed_are_written_by_a_load_with_nothing_to_rebuild(tmp_path, monkeypatch, two_months_loaded):
    """Exports owed with no unit-year left to rebuild (a load with FISCAL_BI_XLSX=0 owed them):
    the next load, with no landing change, catches them up as it does the mirror."""
    landing, warehouse = copy_loaded(two_months_loaded, tmp_path)
    (landing / "900001" / "2021-02.csv").unlink()
    monkeypatch.setenv(XLSX_ENV, "0")
    assert run_load(landing, warehouse) == 0
    assert _marked(warehouse) == []
    assert _export_total(warehouse, "900001", 2021) == Decimal("30.00")
    owed = _owed(warehouse, "meta.bi_exports_pending")

    monkeypatch.delenv(XLSX_ENV)
    code, said = load_saying(landing, warehouse)
    assert code == 0 and "nothing to do" not in said, said
    assert "xlsx exports:     1 workbook(s)" in said
    assert _export_total(warehouse, "900001", 2021) == Decimal("10.00")
    assert owed == [("900001", 2021)]
    assert _owed(warehouse, "meta.bi_exports_pending") == []
    code, said = load_saying(landing, warehouse)
    assert code == 0 and "nothing to do" in said, said
