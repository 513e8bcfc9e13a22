"""meta.dirty: the unit-years whose outputs are not all in place.

A unit-year is marked in the same transaction that changes the rows it is built from (a
landing file's rows deleted, replaced or staged, a slice starting or ceasing to count),
and unmarked only when its marts, public marts and reports have all been written. A load
killed anywhere in between leaves it marked, and the next load builds it again.

Each mark carries a number from a sequence. A run notes the highest number when it fixes
the unit-years it builds, and unmarks only marks up to that number: a unit-year that
another run's ingest marked again meanwhile (with rows this run did not build from)
stays marked.

The same goes for the outputs made from the published snapshot after a publish
(pipelines.bi.publishing): the unit-years whose XLSX exports are to be written again
(meta.bi_exports_pending) and those the PostgreSQL mirror has not taken yet
(meta.bi_mirror_pending) are owed in the transaction that records the publish
(meta.published), and settled only once written. A load killed in between leaves them
owed, and the next load writes them, one with nothing to rebuild too.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from pipelines.warehouse.schema import table_exists

Scope = set[tuple[str, int]]

DIRTY_DDL = (
    "CREATE TABLE IF NOT EXISTS meta.dirty(unit_code VARCHAR, fiscal_year INTEGER, mark BIGINT, "
    "PRIMARY KEY (unit_code, fiscal_year))"
)


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DIRTY_DDL)
    # Warehouses from before the marks were numbered: their marks count as number 0.
    con.execute("ALTER TABLE meta.dirty ADD COLUMN IF NOT EXISTS mark BIGINT")
    con.execute("CREATE SEQUENCE IF NOT EXISTS meta.dirty_marks")


def mark(con: duckdb.DuckDBPyConnection, unit_years: Iterable[tuple[str, int]]) -> None:
    """Mark unit-years to rebuild, in the caller's transaction (if any)."""
    rows = sorted(set(unit_years))
    if not rows:
        return
    ensure(con)
    number = con.execute("SELECT nextval('meta.dirty_marks')").fetchall()[0][0]
    con.execute("INSERT OR REPLACE INTO meta.dirty SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[]), ?",
                [*_columns(rows), number])


def marked(con: duckdb.DuckDBPyConnection) -> tuple[Scope, int]:
    """The marked unit-years and the highest mark number among them (0 when none). Reads only
    (the sensors look with a read-only connection)."""
    if not table_exists(con, "meta.dirty"):
        return set(), 0
    rows = con.execute("SELECT unit_code, fiscal_year, coalesce(mark, 0) FROM meta.dirty").fetchall()
    return {(u, y) for u, y, _ in rows}, max((m for _, _, m in rows), default=0)


def unmark(con: duckdb.DuckDBPyConnection, unit_years: Iterable[tuple[str, int]], up_to: int) -> None:
    """Record unit-years as done: remove their marks numbered `up_to` or lower."""
    rows = sorted(set(unit_years))
    if not rows:
        return
    ensure(con)
    con.execute(
        "DELETE FROM meta.dirty WHERE (unit_code, fiscal_year) IN (SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[])) "
        "AND coalesce(mark, 0) <= ?",
        [*_columns(rows), up_to],
    )


EXPORTS_OWED = "meta.bi_exports_pending"
MIRROR_OWED = "meta.bi_mirror_pending"
OWED = (EXPORTS_OWED, MIRROR_OWED)


def owe(con: duckdb.DuckDBPyConnection, table: str, unit_years: Iterable[tuple[str, int]]) -> None:
    """Owe the output kept in `table` (one of OWED) for unit-years, in the caller's transaction (if any)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {table}(unit_code VARCHAR NOT NULL, fiscal_year INTEGER NOT NULL, "
                "PRIMARY KEY (unit_code, fiscal_year))")
    rows = sorted(set(unit_years))
    if rows:
        con.execute(f"INSERT OR IGNORE INTO {table} SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[])",
                    [*_columns(rows)])


def owed(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, int]]:
    """The unit-years owed the output kept in `table`, by year and unit. Reads only."""
    if not table_exists(con, table):
        return []
    return [(u, y) for u, y in con.execute(
        f"SELECT unit_code, fiscal_year FROM {table} ORDER BY fiscal_year, unit_code").fetchall()]


def settle(con: duckdb.DuckDBPyConnection, table: str, unit_years: Iterable[tuple[str, int]]) -> None:
    """Record the output kept in `table` as written for unit-years."""
    rows = sorted(set(unit_years))
    if rows and table_exists(con, table):
        con.execute(f"DELETE FROM {table} WHERE (unit_code, fiscal_year) IN "
                    "(SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[]))", [*_columns(rows)])


def _columns(unit_years: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    """The units and the years as two lists: one statement for all the rows (executemany
    is a statement a row, seconds for a county's hundreds)."""
    return [u for u, _ in unit_years], [y for _, y in unit_years]
