"""bi.duckdb, the published snapshots and self-describing Parquet, on real loads.

One warehouse for the module: the demo plus a small unit 900001, loaded; then the unit's
file changes and a second load runs while another process holds bi.duckdb open; then a
third load with nothing to do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.settings import DEMO_LANDING_DIR
from pipelines.warehouse.db import WarehouseBusy, connect
from pipelines.warehouse.transform import MART_MODELS
from tests.conftest import payment, run_load, voucher_file

READER = textwrap.dedent("""
    import duckdb, sys, time
    from pathlib import Path
    bi, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    con = duckdb.connect(bi, read_only=True)
    sql = "SELECT total_yuan FROM marts.spending_by_year WHERE unit_code = '900001'"
    first = con.execute(sql).fetchall()
    ready.write_text("open")
    deadline = time.monotonic() + 300
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    second = con.execute(sql).fetchall()
    print(first[0][0], second[0][0])
""")


def _mtimes(warehouse: Path) -> dict[str, int]:
    files = {}
    for top in ("marts", "marts_public", "quarantine", ".snapshots"):
        for path in (warehouse / top).rglob("*"):
            files[path.relative_to(warehouse).as_posix()] = path.lstat().st_mtime_ns
    files["bi.duckdb"] = (warehouse / "bi.duckdb").stat().st_mtime_ns
    return files


@pytest.fixture(scope="module")
def loads(tmp_path_factory):
    root = tmp_path_factory.mktemp("bi")
    landing, warehouse = root / "landing", root / "wh"
    shutil.copytree(DEMO_LANDING_DIR, landing)
    unit_file = voucher_file(landing / "900001" / "2021.csv", payment("2021-03-01", "记-1", "10"))
    assert run_load(landing, warehouse) == 0
    first_snapshot = os.path.realpath(warehouse / "marts")
    marts_before = {p.relative_to(warehouse).as_posix(): p.stat().st_ino for p in (warehouse / "marts").rglob("*.parquet")}

    # A BI reader holds bi.duckdb open (read-only, in its own process) while the next load runs.
    ready, go = root / "reader-ready", root / "reader-go"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse / "bi.duckdb"), str(ready), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert reader.poll() is None and time.monotonic() < deadline, reader.stderr.read() if reader.poll() else "slow"
        time.sleep(0.1)
    voucher_file(unit_file, payment("2021-03-01", "记-1", "10") + payment("2021-03-02", "记-2", "5"))
    second_exit = run_load(landing, warehouse)
    go.write_text("go")
    out, err = reader.communicate(timeout=60)
    return {"warehouse": warehouse, "landing": landing, "second_exit": second_exit, "reader": (reader.returncode, out, err),
            "first_snapshot": first_snapshot, "marts_before": marts_before}


def test_a_bi_reader_and_a_load_run_together(loads):
    warehouse = loads["warehouse"]
    assert loads["second_exit"] == 0
    code, out, err = loads["reader"]
    assert code == 0, err
    assert out.split() == ["10.00", "10.00"]  # the reader kept its file: one whole state
    con = duckdb.connect(str(warehouse / "bi.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT total_yuan FROM marts.spending_by_year WHERE unit_code = '900001'"
                           ).fetchall() == [(Decimal("15.00"),)]
        tables = con.execute("SELECT schema_name, table_name, comment FROM duckdb_tables() "
                             "WHERE schema_name IN ('marts', 'marts_public') ORDER BY 1, 2").fetchall()
        assert [(s, t) for s, t, _ in tables] == [(s, m) for s in ("marts", "marts_public") for m in sorted(MART_MODELS)]
        assert all(comment for _, _, comment in tables)
        assert con.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = 'marts' "
                           "AND table_name = 'spending_by_year' AND column_name = 'total_yuan'").fetchone()[0]
        assert con.execute("SELECT data_type FROM duckdb_columns() WHERE schema_name = 'marts_public' "
                           "AND table_name = 'three_public' AND column_name = 'fiscal_year'").fetchone()[0] == "INTEGER"
    finally:
        con.close()
    # bi.duckdb holds exactly what the Parquet marts hold.
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{warehouse / 'bi.duckdb'}' AS bi (READ_ONLY)")
        for folder in ("marts", "marts_public"):
            for mart in MART_MODELS:
                from_bi = con.execute(f"SELECT * FROM bi.{folder}.{mart} ORDER BY ALL").fetchall()
                columns = ", ".join(r[0] for r in con.execute(f"DESCRIBE bi.{folder}.{mart}").fetchall())
                from_parquet = con.execute(
                    f"SELECT {columns} FROM read_parquet('{warehouse}/{folder}/{mart}/*/*.parquet', "
                    "hive_partitioning = false) ORDER BY ALL").fetchall()
                assert from_bi == from_parquet, (folder, mart)
    finally:
        con.close()


def test_each_publish_is_a_snapshot_switched_at_once(loads):
    warehouse = loads["warehouse"]
    assert os.readlink(warehouse / "marts") == ".snapshots/current/marts"
    assert os.readlink(warehouse / "marts_public") == ".snapshots/current/marts_public"
    live = Path(os.path.realpath(warehouse / "marts")).parent
    previous = Path(loads["first_snapshot"]).parent
    assert live != previous
    # The previous snapshot stays until the next publish; older ones go.
    assert sorted(p.name for p in (warehouse / ".snapshots").iterdir()) == sorted([live.name, previous.name, "current"])
    after = {p.relative_to(warehouse).as_posix(): p.stat().st_ino for p in (warehouse / "marts").rglob("*.parquet")}
    assert after.keys() == loads["marts_before"].keys()
    changed = sorted(p for p in after if after[p] != loads["marts_before"][p])
    # Only the changed unit's files are new; every other file is a hard link to the previous snapshot's.
    assert "marts/spending_by_year/fiscal_year=2021/900001.parquet" in changed
    assert all(p.endswith("/fiscal_year=2021/900001.parquet") for p in changed), changed
    assert (warehouse / "marts" / "spending_by_year" / "fiscal_year=2021" / "117001.parquet").is_file()


def test_parquet_files_describe_themselves(loads):
    path = loads["warehouse"] / "marts_public" / "spending_by_project" / "fiscal_year=2021" / "117001.parquet"
    parquet = pq.ParquetFile(path)
    table = parquet.read()
    assert str(table.schema.field("fiscal_year").type) == "int32"
    assert set(table.column("fiscal_year").to_pylist()) == {2021}
    metadata = parquet.schema_arrow.metadata
    assert metadata[b"fiscal_warehouse.mart"] == b"spending_by_project"
    assert metadata[b"fiscal_warehouse.audience"] == b"public"
    descriptions = json.loads(metadata[b"fiscal_warehouse.column_descriptions"])
    assert set(table.column_names) <= set(descriptions)
    assert "UNDISCLOSED" in descriptions["project_code"]


def test_a_copied_warehouse_reads_its_own_files(loads, tmp_path):
    copy = tmp_path / "moved"
    shutil.copytree(loads["warehouse"], copy, symlinks=True, ignore=shutil.ignore_patterns(".dagster"))
    (copy / "marts" / "spending_by_year" / "fiscal_year=2021" / "900001.parquet").unlink()
    con = connect(copy / "warehouse.duckdb", read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM marts.spending_by_year WHERE unit_code = '900001'").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM marts.spending_by_year WHERE unit_code = '117001'").fetchone() == (2,)
        assert con.execute("SELECT typeof(fiscal_year) FROM marts_public.three_public LIMIT 1").fetchone() == ("INTEGER",)
    finally:
        con.close()


def test_a_load_with_nothing_to_do_writes_nothing(loads):
    warehouse = loads["warehouse"]
    before = _mtimes(warehouse)
    time.sleep(0.05)
    assert run_load(loads["landing"], warehouse) == 0
    assert _mtimes(warehouse) == before
    # A unit rebuilt on request, with the same figures: no mart, quarantine or BI file is rewritten.
    assert run_load(loads["landing"], warehouse, "--unit", "117001") == 0
    assert _mtimes(warehouse) == before


def test_a_held_warehouse_file_is_named_and_waited_for(tmp_path, capsys):
    db = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(db)).close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(60)", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(WarehouseBusy) as raised:
            connect(db, wait=1.5)
        assert 1.5 <= time.monotonic() - started < 10
        assert f"process {holder.pid}" in str(raised.value)
        notice = capsys.readouterr().err
        assert f"waiting for warehouse.duckdb: held by process {holder.pid}" in notice
        assert "s left (FISCAL_LOCK_TIMEOUT)" in notice
    finally:
        holder.kill()
        holder.wait()


def test_bi_tables_hold_each_unit_years_rows_in_the_published_order(loads):
    """A BI tool reading a table without ORDER BY sees each unit-year's rows as the Parquet
    file holds them (the mart's order), not shuffled by the copy's sort on (year, unit)."""
    warehouse = loads["warehouse"]
    bi, files = duckdb.connect(str(warehouse / "bi.duckdb"), read_only=True), duckdb.connect()
    try:
        for folder in ("marts", "marts_public"):
            for mart in MART_MODELS:
                stored = bi.execute(f"SELECT * FROM {folder}.{mart}").fetchall()
                columns = [d[0] for d in bi.description]
                unit_at, year_at = columns.index("unit_code"), columns.index("fiscal_year")
                for path in sorted((warehouse / folder / mart).glob("fiscal_year=*/*.parquet")):
                    published = files.execute(
                        f"SELECT {', '.join(columns)} FROM read_parquet('{path.as_posix()}', hive_partitioning = true, "
                        "hive_types = {'fiscal_year': INTEGER})").fetchall()
                    key = (path.stem, int(path.parent.name.split("=")[1]))
                    assert [row for row in stored if (row[unit_at], row[year_at]) == key] == published, (mart, key)
    finally:
        bi.close()
        files.close()
