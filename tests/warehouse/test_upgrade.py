"""An upgrade: a warehouse built by other models (another schema fingerprint in
meta.schema_version, as the code of an earlier release left it) is dropped and rebuilt from
the landing folder by the next load (README, "Upgrading"). What it had published carries
over: a unit-year whose files left the landing folder before the upgrade is removed
everywhere — Parquet marts, bi.duckdb, reports, exports — as on any load, and the BI work
it owed stays owed. The upgrade is one transaction: one that dies half-way leaves the
warehouse as it was."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.bi.xlsx import unit_year_export_path
from pipelines.warehouse import db
from pipelines.warehouse import load as stages
from tests.conftest import copy_loaded, load_saying, payment, query, run_load, voucher_file
from tests.warehouse.test_crash_marks import Killed, _export_total, _mart_rows, _owed


@pytest.fixture(scope="module")
def two_units_loaded(tmp_path_factory) -> tuple[Path, Path]:
    """Two units' 2021 loaded once for the module: (landing, warehouse), never changed; take copy_loaded."""
    base = tmp_path_factory.mktemp("two_units_loaded")
    landing, warehouse = base / "landing", base / "wh"
    voucher_file(landing / "900001" / "2021.csv", payment("2021-01-05", "记-1", "10.00"), unit="900001 甲")
    voucher_file(landing / "900002" / "2021.csv", payment("2021-01-05", "记-1", "5.00"), unit="900002 乙")
    assert run_load(landing, warehouse) == 0
    return landing, warehouse


def _built_by_other_models(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"))
    try:
        con.execute("UPDATE meta.schema_version SET version = 'an earlier release'")
    finally:
        con.close()


def _outputs_of(warehouse: Path, unit: str) -> list[str]:
    """Every file of the unit: Parquet marts of both audiences, reports, exports; and its rows in bi.duckdb."""
    files = [p.relative_to(warehouse).as_posix() for p in sorted(warehouse.glob(f"marts*/*/fiscal_year=*/{unit}.parquet"))]
    for top in ("reports", "exports"):
        files += [p.relative_to(warehouse).as_posix() for p in sorted((warehouse / top / unit).rglob("*")) if p.is_file()]
    con = duckdb.connect(str(warehouse / "bi.duckdb"), read_only=True)
    try:
        for schema in ("marts", "marts_public"):
            rows = con.execute(f"SELECT count(*) FROM {schema}.spending_by_year WHERE unit_code = ?", [unit]).fetchall()
            files += [f"bi.duckdb {schema}.spending_by_year: {rows[0][0]} row(s)"] if rows[0][0] else []
    finally:
        con.close()
    return files


def test_a_unit_year_removed_before_an_upgrade_is_removed_everywhere(tmp_path, monkeypatch, two_units_loaded):
    landing, warehouse = copy_loaded(two_units_loaded, tmp_path)
    clean = tmp_path / "clean"
    assert _outputs_of(warehouse, "900002")  # published, reported, exported

    shutil.rmtree(landing / "900002")
    _built_by_other_models(warehouse)

    # An upgrade that dies once the old schemas are dropped leaves the warehouse as it was.
    real_run_sql_file = db.run_sql_file

    def die_creating_the_tables(con, relative):
        if relative == "meta/tables.sql":
            raise Killed("during the upgrade")
        real_run_sql_file(con, relative)

    monkeypatch.setattr(db, "run_sql_file", die_creating_the_tables)
    with pytest.raises(Killed):
        db.connect(warehouse / "warehouse.duckdb")
    monkeypatch.undo()
    assert query(warehouse, "SELECT version FROM meta.schema_version") == [("an earlier release",)]
    assert query(warehouse, "SELECT DISTINCT unit_code FROM meta.published ORDER BY 1") == [("900001",), ("900002",)]

    code, said = load_saying(landing, warehouse)
    assert code == 0, said
    assert _outputs_of(warehouse, "900002") == []
    assert not (warehouse / "exports" / "900002").exists() and not (warehouse / "reports" / "900002").exists()
    assert query(warehouse, "SELECT unit_code, total_yuan FROM marts.spending_by_year") == [("900001", Decimal("10.00"))]
    assert query(warehouse, "SELECT count(*) FROM meta.dirty") == [(0,)]
    code, said = load_saying(landing, warehouse)
    assert code == 0 and "nothing to do" in said, said

    assert run_load(landing, clean) == 0
    assert _mart_rows(warehouse) == _mart_rows(clean)


def test_bi_work_owed_before_an_upgrade_stays_owed(tmp_path, monkeypatch, two_units_loaded):
    """A load removing a unit-year dies right after the snapshot switch (its export owed);
    the code is upgraded before the next load, which removes the export all the same."""
    landing, warehouse = copy_loaded(two_units_loaded, tmp_path)
    shutil.rmtree(landing / "900002")

    def die_after_the_switch(*args, **kwargs):
        raise Killed("right after the snapshot switch")

    monkeypatch.setattr(stages, "after_publish", die_after_the_switch)
    assert run_load(landing, warehouse) == 1
    monkeypatch.undo()
    assert unit_year_export_path(warehouse, "900002", 2021).exists()  # not removed yet
    owed = _owed(warehouse, "meta.bi_exports_pending")
    _built_by_other_models(warehouse)

    code, said = load_saying(landing, warehouse)
    assert code == 0, said
    assert _outputs_of(warehouse, "900002") == []
    assert owed == [("900002", 2021)]
    assert _owed(warehouse, "meta.bi_exports_pending") == []
    assert _export_total(warehouse, "900001", 2021) == Decimal("10.00")
