"""`<warehouse>/bi.duckdb`: the marts as tables, for BI tools, never locked by a load.

The loader's DuckDB file allows one process at a time (a BI tool holding it open stalls
the load; a load running makes the BI tool fail). So BI tools get their own file: after a
publish that changed anything, the marts of the live snapshot are copied into a new
DuckDB file beside the warehouse (schemas `marts` and `marts_public`, the Parquet marts'
names and columns, described with COMMENT ON from the data dictionary), which then
replaces bi.duckdb in one rename. A reader holding the old file keeps reading it (its
inode stays until it lets go); the next connection opens the new one. Any number of
readers may open it read-only while loads run.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.warehouse.db import sql_string
from pipelines.warehouse.dictionary import column_descriptions, dictionary
from pipelines.warehouse.publish import AUDIENCES
from pipelines.warehouse.transform import MART_MODELS

BI_FILE = "bi.duckdb"
STATE_DDL = "CREATE TABLE IF NOT EXISTS meta.bi_file(snapshot VARCHAR, built_at TIMESTAMP)"


def bi_file_is_current(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, snapshot: Path | None) -> bool:
    con.execute(STATE_DDL)
    row = con.execute("SELECT max(snapshot) FROM meta.bi_file").fetchone()
    return (warehouse_dir / BI_FILE).exists() and snapshot is not None and row[0] == snapshot.name


def build_bi_file(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, snapshot: Path) -> Path:
    """Write bi.duckdb from `snapshot` (a folder with marts/ and marts_public/); returns its path."""
    work = warehouse_dir / ".work"
    work.mkdir(parents=True, exist_ok=True)
    temporary = work / f"bi-{uuid.uuid4().hex[:8]}.duckdb"
    alias = "bi_build"
    con.execute(f"ATTACH {sql_string(temporary.as_posix())} AS {alias}")
    try:
        for _, (schema, folder) in AUDIENCES.items():
            con.execute(f"CREATE SCHEMA {alias}.{folder}")
            for mart in MART_MODELS:
                _copy_mart(con, alias, schema, folder, mart, snapshot / folder / mart)
        con.execute(f"CREATE TABLE {alias}.main.published(snapshot VARCHAR, published_at TIMESTAMP)")
        con.execute(f"INSERT INTO {alias}.main.published VALUES (?, ?)", [snapshot.name, datetime.now()])
        con.execute(f"COMMENT ON TABLE {alias}.main.published IS "
                    + sql_string("The publish this file holds: the snapshot folder's name and when it was built."))
    except BaseException:
        con.execute(f"DETACH {alias}")
        temporary.unlink(missing_ok=True)
        raise
    con.execute(f"DETACH {alias}")  # checkpoints: the file is whole, no .wal beside it
    final = warehouse_dir / BI_FILE
    os.replace(temporary, final)
    con.execute(STATE_DDL)
    con.execute("DELETE FROM meta.bi_file")
    con.execute("INSERT INTO meta.bi_file VALUES (?, ?)", [snapshot.name, datetime.now()])
    return final


def _copy_mart(con, alias: str, schema: str, folder: str, mart: str, directory: Path) -> None:
    columns = [row[0] for row in con.execute(f"DESCRIBE {schema}.{mart}").fetchall()]
    column_list = ", ".join(f'"{c}"' for c in columns)
    table = f"{alias}.{folder}.{mart}"
    if any(directory.glob("fiscal_year=*/*.parquet")):
        pattern = sql_string((directory / "*" / "*.parquet").as_posix())
        con.execute(
            f"""CREATE TABLE {table} AS SELECT {column_list} FROM read_parquet({pattern}, hive_partitioning = true,
                hive_types = {{'fiscal_year': INTEGER}}, union_by_name = true) ORDER BY fiscal_year, unit_code"""
        )
    else:
        con.execute(f"CREATE TABLE {table} AS SELECT {column_list} FROM {schema}.{mart} WHERE false")
    section = dictionary()[mart]
    audience = "public copy: 涉密 projects folded into one UNDISCLOSED line" if folder == "marts_public" else "internal"
    con.execute(f"COMMENT ON TABLE {table} IS "
                + sql_string(f"{section['title']} ({audience}). Grain: {section['grain']}."))
    described = column_descriptions(mart)
    for column in columns:
        if described.get(column):
            con.execute(f'COMMENT ON COLUMN {table}."{column}" IS {sql_string(described[column])}')
