"""Publishing the marts as Parquet for BI tools, and the DuckDB views over them.

Layout (contract §1): `<dir>/<mart>/fiscal_year=<YYYY>/<unit_code>.parquet`, zstd, rows
sorted by the mart's keys, the year in the path only (readers add it back from the Hive
partition). Publishing is per (year, unit) partition and atomic per file: each file is
written beside the marts, under `.work/`, then renamed into place, so a reader sees the
old or the new partition, never half of one. A partition is rewritten only when its
content hash changed; a partition that lost all its rows is deleted.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.warehouse.db import sql_string, table_exists
from pipelines.warehouse.transform import MART_MODELS

# Sort order inside each file: the filters BI queries use most.
SORT_KEYS: dict[str, str] = {
    "spending_by_category": "spending_type, econ_code, func_code, fund_source",
    "spending_by_project": "project_code",
    "spending_by_year": "unit_code",
    "budget_execution": "spending_type, fund_source",
    "three_public": "item_order",
    "performance_indicators": "project_code NULLS FIRST, level1, level2, name",
    "evaluation_indicators": "indicator_order",
}
# Public marts that differ from the internal ones have a model in sql/marts_public/.
REDACTED_MARTS = ("spending_by_project", "performance_indicators")
AUDIENCES = {"internal": ("build", "marts"), "public": ("build_public", "marts_public")}

PUBLISHED_DDL = """CREATE TABLE IF NOT EXISTS meta.published (
    mart VARCHAR NOT NULL, audience VARCHAR NOT NULL, fiscal_year INTEGER NOT NULL, unit_code VARCHAR NOT NULL,
    content_hash HUGEINT NOT NULL, row_count BIGINT NOT NULL, path VARCHAR NOT NULL, published_at TIMESTAMP NOT NULL,
    PRIMARY KEY (mart, audience, fiscal_year, unit_code))"""


@dataclass
class PublishResult:
    written: list[str] = field(default_factory=list)  # paths relative to the warehouse folder
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    withheld: list[tuple[str, int]] = field(default_factory=list)


def file_stem(unit_code: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.\-]", "_", unit_code)


def build_public(con: duckdb.DuckDBPyConnection) -> None:
    """build_public.<mart> for the scope: the redaction rule of contract §3."""
    from pipelines.warehouse.transform import rebuild_model

    for mart in MART_MODELS:
        if mart in REDACTED_MARTS:
            rebuild_model(con, f"build_public.{mart}", f"marts_public/{mart}")
        else:
            target = f"build_public.{mart}"
            if not table_exists(con, target):
                con.execute(f"CREATE TABLE {target} AS SELECT * FROM build.{mart} LIMIT 0")
            con.execute(
                f"DELETE FROM {target} USING _scope s WHERE {target}.unit_code = s.unit_code "
                f"AND {target}.fiscal_year = s.fiscal_year"
            )
            con.execute(
                f"INSERT INTO {target} SELECT b.* FROM build.{mart} b "
                "JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year"
            )


def publish(
    con: duckdb.DuckDBPyConnection,
    warehouse_dir: Path,
    scope: set[tuple[str, int]],
    withheld: set[tuple[str, int]] = frozenset(),
) -> PublishResult:
    """Write the changed partitions of every mart in scope, both audiences; skip `withheld`."""
    con.execute(PUBLISHED_DDL)
    result = PublishResult(withheld=sorted(withheld & scope))
    publishable = sorted(scope - set(withheld))
    staging_dir = warehouse_dir / ".work" / f"publish-{uuid.uuid4().hex[:8]}"
    con.execute("CREATE OR REPLACE TEMP TABLE _publish(unit_code VARCHAR, fiscal_year INTEGER)")
    if publishable:
        con.executemany("INSERT INTO _publish VALUES (?, ?)", publishable)
    try:
        for audience, (schema, folder) in AUDIENCES.items():
            for mart in MART_MODELS:
                _publish_mart(con, f"{schema}.{mart}", mart, audience, warehouse_dir / folder / mart, staging_dir,
                              warehouse_dir, result)
    finally:
        shutil.rmtree(staging_dir, ignore_errors=True)
    return result


def _publish_mart(con, table, mart, audience, out_dir: Path, staging_dir: Path, warehouse_dir: Path,
                  result: PublishResult) -> None:
    current = {
        (year, unit): (content_hash, rows)
        for year, unit, content_hash, rows in con.execute(
            f"""SELECT t.fiscal_year, t.unit_code, sum(hash(t))::HUGEINT, count(*)
            FROM {table} t JOIN _publish p ON p.unit_code = t.unit_code AND p.fiscal_year = t.fiscal_year
            GROUP BY ALL"""
        ).fetchall()
    }
    previous = {
        (year, unit): (content_hash, path)
        for year, unit, content_hash, path in con.execute(
            """SELECT m.fiscal_year, m.unit_code, m.content_hash, m.path FROM meta.published m
            JOIN _publish p ON p.unit_code = m.unit_code AND p.fiscal_year = m.fiscal_year
            WHERE m.mart = ? AND m.audience = ?""",
            [mart, audience],
        ).fetchall()
    }
    to_write = []
    for key, (content_hash, _) in current.items():
        before = previous.get(key)
        path = out_dir / f"fiscal_year={key[0]}" / f"{file_stem(key[1])}.parquet"
        if before and before[0] == content_hash and path.exists():
            result.unchanged += 1
        else:
            to_write.append(key)
    now = datetime.now().replace(microsecond=0)
    if to_write:
        con.execute("CREATE OR REPLACE TEMP TABLE _write(unit_code VARCHAR, fiscal_year INTEGER)")
        con.executemany("INSERT INTO _write VALUES (?, ?)", [(u, y) for y, u in to_write])
        target = staging_dir / audience / mart
        target.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"""COPY (
                SELECT t.* EXCLUDE (fiscal_year), t.fiscal_year AS _year,
                       regexp_replace(t.unit_code, '[^0-9A-Za-z_.\\-]', '_', 'g') AS _unit
                FROM {table} t JOIN _write w ON w.unit_code = t.unit_code AND w.fiscal_year = t.fiscal_year
                ORDER BY t.unit_code, {SORT_KEYS[mart]}
            ) TO {sql_string(target.as_posix())} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (_year, _unit),
                OVERWRITE_OR_IGNORE true, FILENAME_PATTERN 'part')"""
        )
        for year, unit in to_write:
            written = target / f"_year={year}" / f"_unit={file_stem(unit)}" / "part0.parquet"
            final = out_dir / f"fiscal_year={year}" / f"{file_stem(unit)}.parquet"
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(written, final)
            content_hash, rows = current[(year, unit)]
            con.execute(
                "INSERT OR REPLACE INTO meta.published VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [mart, audience, year, unit, content_hash, rows, final.relative_to(warehouse_dir).as_posix(), now],
            )
            result.written.append(final.relative_to(warehouse_dir).as_posix())
    for key in set(previous) - set(current):
        year, unit = key
        final = out_dir / f"fiscal_year={year}" / f"{file_stem(unit)}.parquet"
        final.unlink(missing_ok=True)
        if final.parent.exists() and not any(final.parent.iterdir()):
            final.parent.rmdir()
        con.execute(
            "DELETE FROM meta.published WHERE mart = ? AND audience = ? AND fiscal_year = ? AND unit_code = ?",
            [mart, audience, year, unit],
        )
        result.deleted.append(final.relative_to(warehouse_dir).as_posix())


def create_views(con: duckdb.DuckDBPyConnection, warehouse_dir: Path) -> None:
    """Views marts.<mart> and marts_public.<mart> over the published Parquet files."""
    for _, (schema, folder) in AUDIENCES.items():
        for mart in MART_MODELS:
            directory = warehouse_dir / folder / mart
            if any(directory.glob("fiscal_year=*/*.parquet")):
                pattern = sql_string((directory / "*" / "*.parquet").as_posix())
                source = (
                    f"SELECT fiscal_year, * EXCLUDE (fiscal_year) FROM read_parquet({pattern}, "
                    "hive_partitioning = true, hive_types = {'fiscal_year': INTEGER}, union_by_name = true)"
                )
            else:
                source = f"SELECT * FROM {schema}.{mart} WHERE false"
            con.execute(f"CREATE OR REPLACE VIEW {folder}.{mart} AS {source}")


def write_quarantine_parquet(con: duckdb.DuckDBPyConnection, quarantine_dir: Path) -> Path:
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    final = quarantine_dir / "quarantine.parquet"
    temporary = quarantine_dir.parent / ".work" / f"quarantine-{uuid.uuid4().hex[:8]}.parquet"
    temporary.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY (SELECT * FROM quarantine ORDER BY source_file, sheet, source_row) TO {sql_string(temporary.as_posix())} "
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    os.replace(temporary, final)
    return final

