"""staging -> core -> marts (as DuckDB tables in schema `build`), for a scope of
(unit, fiscal year) pairs: each model deletes the scope's rows and inserts them anew, in
one transaction, so a re-run replaces and an incremental run touches only its scope."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipelines.settings import SQL_DIR
from pipelines.sqltext import model_sql
from pipelines.warehouse.db import table_exists
from pipelines.warehouse.declarations import Mart, check_columns, mart_build_order
from pipelines.warehouse.declarations import marts as declared_marts
from pipelines.warehouse.lineage import build_order

# One model a file in sql/core/, built in the order their SQL's references require.
CORE_MODELS = build_order({path.stem: f"core/{path.name}" for path in sorted((SQL_DIR / "core").glob("*.sql"))}, "core")
# The marts as declared beside their SQL (sql/marts/<name>.toml), in the order they are listed
# (build_marts builds them in the order their SQL's references require).
MART_MODELS = tuple(declared_marts())

Scope = set[tuple[str, int]]


def set_scope(con: duckdb.DuckDBPyConnection, scope: Iterable[tuple[str, int]]) -> None:
    unit_year_table(con, "_scope", sorted(set(scope)))


def unit_year_table(con: duckdb.DuckDBPyConnection, name: str, unit_years) -> None:
    """TEMP TABLE `name`(unit_code, fiscal_year) holding `unit_years`, in one statement
    (executemany is a statement a row)."""
    pairs = list(unit_years)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {name} AS
        SELECT unnest(?::VARCHAR[]) AS unit_code, unnest(?::INTEGER[]) AS fiscal_year""",
        [[u for u, _ in pairs], [y for _, y in pairs]],
    )


def all_unit_years(con: duckdb.DuckDBPyConnection) -> Scope:
    rows = con.execute("SELECT DISTINCT unit_code, fiscal_year FROM meta.slices").fetchall()
    return {(u, y) for u, y in rows}


def with_following_years(con: duckdb.DuckDBPyConnection, scope: Scope) -> Scope:
    """Year-over-year figures of (unit, y+1) depend on (unit, y): rebuild those too."""
    known = all_unit_years(con) | built_unit_years(con)
    return scope | {(u, y + 1) for u, y in scope if (u, y + 1) in known}


def built_unit_years(con) -> Scope:
    """Unit-years the core holds (their landing files may have gone since)."""
    if not table_exists(con, "core.dim_unit_year"):
        return set()
    return {(u, y) for u, y in con.execute("SELECT unit_code, fiscal_year FROM core.dim_unit_year").fetchall()}


def rebuild_model(con: duckdb.DuckDBPyConnection, target: str, model: str) -> int:
    """Replace the scope's rows of `target` by what `sql/<model>.sql` selects; returns rows inserted."""
    return rebuild_from(con, target, model_sql(f"{model}.sql"))


def rebuild_from(con: duckdb.DuckDBPyConnection, target: str, sql: str) -> int:
    """Replace the scope's rows of `target` by what the SELECT `sql` selects; returns rows inserted."""
    if not table_exists(con, target):
        con.execute(f"CREATE TABLE {target} AS SELECT * FROM ({sql}) LIMIT 0")
    con.execute(
        f"DELETE FROM {target} USING _scope s WHERE {target}.unit_code = s.unit_code AND {target}.fiscal_year = s.fiscal_year"
    )
    return con.execute(f"INSERT INTO {target} {sql}").fetchone()[0]


def build_mart(con: duckdb.DuckDBPyConnection, target: str, mart: Mart, sql_file: Path) -> int:
    """Replace the scope's rows of `target` by what `sql_file` (the mart's SELECT, or its public
    copy's) selects, failing, naming both files, when its columns are not the declaration's;
    returns rows inserted."""
    count = rebuild_from(con, target, model_sql(sql_file.as_posix()))
    check_columns(mart, [row[0] for row in con.execute(f"DESCRIBE {target}").fetchall()], sql_file)
    return count


def build_core(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = {}
    for name in CORE_MODELS:
        counts[name] = rebuild_model(con, f"core.{name}", f"core/{name}")
    return counts


def build_marts(con: duckdb.DuckDBPyConnection, names: Iterable[str] = MART_MODELS,
                marts: dict[str, Mart] | None = None) -> dict[str, int]:
    """build.<mart> for the scope, each after the marts it reads; `marts` (default: the
    project's declarations) lets a test build marts declared elsewhere. A mart whose SELECT
    produces other columns than its declaration names fails here, naming both files."""
    marts = marts or declared_marts()
    wanted = set(names)
    counts = {}
    for name in mart_build_order(marts):
        if name not in wanted:
            continue
        counts[name] = build_mart(con, f"build.{name}", marts[name], marts[name].sql_file)
    return {name: counts[name] for name in marts if name in counts}
