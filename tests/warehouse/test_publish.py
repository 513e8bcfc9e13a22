"""Publishing costs what its rows cost: a fixed number of statements per mart whatever the
number of unit-years, every written partition recorded with its content hash, unchanged
partitions left alone, and what a crashed publish left in its working folder never published."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse import publish
from pipelines.warehouse.db import connect
from pipelines.warehouse.transform import MART_MODELS, all_unit_years


class CountingConnection:
    """A DuckDB connection that counts the statements it is given."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con, self.statements = con, 0

    def execute(self, *args, **kwargs):
        self.statements += 1
        return self.con.execute(*args, **kwargs)

    def executemany(self, *args, **kwargs):
        self.statements += len(args[1]) if len(args) > 1 else 1
        return self.con.executemany(*args, **kwargs)


@pytest.fixture
def warehouse(demo_warehouse, tmp_path) -> tuple[Path, duckdb.DuckDBPyConnection]:
    """The demo's warehouse.duckdb (marts built) in a folder of its own, nothing published yet."""
    shutil.copy(demo_warehouse.db_path, tmp_path / "warehouse.duckdb")
    con = connect(tmp_path / "warehouse.duckdb")
    con.execute("DROP TABLE IF EXISTS meta.published")
    yield tmp_path, con
    con.close()


def published_files(warehouse_dir: Path) -> dict[str, bytes]:
    live = Path(os.path.realpath(warehouse_dir / "marts")).parent
    return {p.relative_to(live).as_posix(): p.read_bytes() for p in sorted(live.rglob("*.parquet"))}


def test_statements_do_not_grow_with_the_unit_years(warehouse):
    warehouse_dir, con = warehouse
    scope = sorted(all_unit_years(con))
    assert len(scope) >= 2
    counted = []
    for part in ([scope[0]], scope):
        con.execute("DROP TABLE IF EXISTS meta.published")
        shutil.rmtree(warehouse_dir / ".snapshots", ignore_errors=True)
        for link in ("marts", "marts_public"):
            (warehouse_dir / link).unlink(missing_ok=True)
        counting = CountingConnection(con)
        result = publish.publish(counting, warehouse_dir, set(part))
        assert len(result.written) == 2 * len(MART_MODELS) * len(part)
        counted.append(counting.statements)
    assert counted[0] == counted[1], counted


def test_every_written_partition_is_recorded_with_its_hash(demo_warehouse, warehouse):
    warehouse_dir, con = warehouse
    result = publish.publish(con, warehouse_dir, all_unit_years(con))
    recorded = con.execute("SELECT path, row_count, content_hash FROM meta.published ORDER BY path").fetchall()
    assert sorted(result.written) == [path for path, _, _ in recorded]
    for path, rows, content_hash in recorded:
        mart, audience = path.split("/")[1], "public" if path.startswith("marts_public/") else "internal"
        year, unit = int(path.split("/")[2].removeprefix("fiscal_year=")), Path(path).stem
        table = f"{publish.AUDIENCES[audience][0]}.{mart}"
        expected = con.execute(
            f"SELECT count(*), sum(hash(t))::HUGEINT + {publish.LAYOUT_VERSION} FROM {table} t "
            "WHERE unit_code = ? AND fiscal_year = ?", [unit, year]).fetchone()
        assert (rows, content_hash) == expected, path
        assert con.execute(f"SELECT count(*) FROM read_parquet('{warehouse_dir / path}')").fetchone()[0] == rows
    # the same files, byte for byte, as the demo's own load wrote them
    assert published_files(warehouse_dir) == published_files(demo_warehouse.warehouse_dir)
    again = publish.publish(con, warehouse_dir, all_unit_years(con))
    assert (again.written, again.deleted, again.unchanged, again.snapshot) == ([], [], len(recorded), None)


def test_what_a_crashed_publish_left_behind_is_never_published(demo_warehouse, warehouse):
    warehouse_dir, con = warehouse
    scope = all_unit_years(con)
    unit, year = sorted(scope)[0]
    # A crashed publish's files in the working folder: one where this publish writes, one where it does not.
    for written_unit in (unit, "999999"):
        leftover = (warehouse_dir / ".work" / "publish" / "internal" / "spending_by_year" / f"_year={year}"
                    / f"_unit={written_unit}" / "part0.parquet")
        leftover.parent.mkdir(parents=True)
        con.execute(f"COPY (SELECT 'stale' AS junk) TO '{leftover}' (FORMAT parquet)")
    publish.publish(con, warehouse_dir, scope)
    files = published_files(warehouse_dir)
    assert files == published_files(demo_warehouse.warehouse_dir)
    assert not any("999999" in path for path in files)
