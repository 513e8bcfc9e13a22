"""Shipped reference data: the expenditure economic and functional classifications.

The two CSVs beside this file (see README.md for where they come from) hold one row per
code and validity range: ``code, name, level, parent_code, valid_from, valid_to``.
``valid_to`` empty means the row is still valid. A code that is valid in a year is
found with ``valid_from <= year AND (valid_to IS NULL OR year <= valid_to)``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.sqltext import sql_string

REFERENCE_DIR: Path = Path(__file__).resolve().parent

#: table name in schema ``ref`` -> CSV file in REFERENCE_DIR
REFERENCE_TABLES: dict[str, str] = {
    "econ_class": "econ_class.csv",
    "func_class": "func_class.csv",
}

#: Explicit column types: codes stay VARCHAR (leading digits matter, never inferred).
COLUMN_TYPES: dict[str, str] = {
    "code": "VARCHAR",
    "name": "VARCHAR",
    "level": "INTEGER",
    "parent_code": "VARCHAR",
    "valid_from": "INTEGER",
    "valid_to": "INTEGER",
}


def _columns_literal() -> str:
    return "{" + ", ".join(f"'{col}': '{typ}'" for col, typ in COLUMN_TYPES.items()) + "}"


def load_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace ``ref.econ_class`` and ``ref.func_class`` from the shipped CSVs."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ref")
    columns = _columns_literal()
    for table, filename in REFERENCE_TABLES.items():
        path = sql_string((REFERENCE_DIR / filename).as_posix())
        con.execute(
            f"""
            CREATE OR REPLACE TABLE ref.{table} AS
            SELECT
                code,
                name,
                level,
                NULLIF(parent_code, '') AS parent_code,
                valid_from,
                valid_to
            FROM read_csv(
                {path},
                header = true,
                delim = ',',
                quote = '"',
                encoding = 'utf-8',
                auto_detect = false,
                columns = {columns}
            )
            ORDER BY code, valid_from
            """
        )
