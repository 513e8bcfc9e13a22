"""The warehouse's own layout: the raw tables' DDL and the fingerprint of every shape.

The raw layer keeps every row as read, so its tables follow the header aliases; the
fingerprint covers them and every model in `sql/`. The connection (db.py) checks the
fingerprint and ingest creates the tables; both import this module, which imports
neither. `table_exists` is here, below db.py, for the modules db.py imports itself
(pipelines.warehouse.dirty: an upgrade carries the marks over); db.py passes it on."""

from __future__ import annotations

import hashlib
from functools import cache

import duckdb

from pipelines.landing.headers import ALIASES
from pipelines.settings import SQL_DIR
from pipelines.sqltext import sql_string, sql_text

ROW_KINDS = ("data", "blank", "footer", "header")


def raw_table_ddl(kind: str) -> str:
    """The rows of a kind as read: every cell as text under its canonical name, plus the
    cells of unmapped columns in `extra`; lineage is the view raw.<kind>."""
    canon = ", ".join(f"{c} VARCHAR" for c in ALIASES[kind])
    return (
        f"CREATE TABLE IF NOT EXISTS raw.{kind}__rows (source_key INTEGER NOT NULL, source_row BIGINT NOT NULL, "
        f"row_kind raw.row_kind NOT NULL, {canon}, extra VARCHAR)"
    )


def excel_errors_sql(kind: str) -> str:
    """sql/staging/excel_errors.sql for a kind: its rows of workbooks that passed the model's
    checks but hold an Excel error value (#N/A …) in one of its raw columns are rejected as
    excel_error (the columns in the order of ALIASES: the first such cell is named)."""
    columns = list(ALIASES[kind])
    return sql_text("staging/excel_errors.sql").format(
        kind=kind,
        cells="MAP {" + ", ".join(f"{sql_string(c)}: {c}" for c in columns) + "}",
        any_error=" OR ".join(f"fw_excel_error({c})" for c in columns),
    )


ROW_KIND_DDL = f"CREATE TYPE raw.row_kind AS ENUM ({', '.join(repr(k) for k in ROW_KINDS)})"


@cache
def schema_fingerprint() -> str:
    """Changes whenever a model or the raw layout changes. Tables are created from the
    models' shapes, so a warehouse built by other models is rebuilt from the landing files
    on the next load (everything in it derives from them), never patched."""
    digest = hashlib.sha256(repr(sorted((k, tuple(v)) for k, v in ALIASES.items())).encode())
    digest.update(ROW_KIND_DDL.encode())
    for kind in sorted(ALIASES):
        digest.update(raw_table_ddl(kind).encode())
    for path in sorted(SQL_DIR.rglob("*.sql")):
        digest.update(path.relative_to(SQL_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )
