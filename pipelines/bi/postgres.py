"""The PostgreSQL mirror of the marts, for BI tools that speak SQL (FineBI, Superset,
Excel through ODBC, Power BI), with access by role.

Switched on by FISCAL_BI_POSTGRES_DSN (a libpq connection string or URL of the loader's
own role). After each publish, every unit-year whose Parquet files changed is mirrored
from the live snapshot in one transaction: its rows of every mart, internal (`marts`) and
public (`marts_public`), deleted and inserted. BI readers see a unit-year's old or new
figures, never half. What is not mirrored yet (the database was down) stays in
meta.bi_mirror_pending and goes with the next load. Tables whose columns differ from the
marts' (a new column) are dropped, created again and filled from every published
unit-year. `fiscal-warehouse bi-setup` creates the schemas and the two reader roles
(sql/bi/setup.sql).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.settings import SQL_DIR
from pipelines.sqltext import sql_string
from pipelines.warehouse import dirty
from pipelines.warehouse.dictionary import column_descriptions, dictionary
from pipelines.warehouse.publish import AUDIENCES, partition_path
from pipelines.warehouse.transform import MART_MODELS

PUBLIC_ROLE, INTERNAL_ROLE = "fiscal_bi_public", "fiscal_bi_internal"
CONNECT_TIMEOUT = 10  # seconds: a database that is down must not hold up the load


def pg_type(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.replace("DECIMAL", "numeric")
    return {"VARCHAR": "text", "INTEGER": "integer", "BIGINT": "bigint", "DOUBLE": "double precision",
            "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP": "timestamp", "HUGEINT": "numeric(38)",
            "SMALLINT": "smallint", "FLOAT": "real"}.get(duckdb_type, "text")


def mart_columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(folder, mart) -> [(column, PostgreSQL type)] in the marts' column order."""
    return {
        (folder, mart): [(r[0], pg_type(r[1])) for r in con.execute(f"DESCRIBE {schema}.{mart}").fetchall()]
        for _, (schema, folder) in AUDIENCES.items()
        for mart in MART_MODELS
    }


def connect_postgres(dsn: str):
    import psycopg

    return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True)


def mirror(con: duckdb.DuckDBPyConnection, dsn: str, snapshot: Path) -> int:
    """Mirror the pending unit-years from `snapshot`; returns how many were mirrored."""
    columns = mart_columns(con)
    with connect_postgres(dsn) as pg:
        if _ensure_tables(pg, columns):
            dirty.owe(con, dirty.MIRROR_OWED,
                      con.execute("SELECT DISTINCT unit_code, fiscal_year FROM meta.published").fetchall())
        pending = dirty.owed(con, dirty.MIRROR_OWED)
        for unit, year in pending:
            with pg.transaction(), pg.cursor() as cursor:
                for (folder, mart), cols in columns.items():
                    _mirror_partition(con, cursor, folder, mart, [c for c, _ in cols], snapshot, unit, year)
            dirty.settle(con, dirty.MIRROR_OWED, [(unit, year)])
    return len(pending)


def _mirror_partition(con, cursor, folder: str, mart: str, names: list[str], snapshot: Path, unit: str,
                      year: int) -> None:
    from psycopg import sql

    table = sql.Identifier(folder, mart)
    cursor.execute(sql.SQL("DELETE FROM {} WHERE fiscal_year = %s AND unit_code = %s").format(table), [year, unit])
    path = snapshot / folder / partition_path(mart, year, unit)
    if not path.exists():
        return  # the unit-year has no rows in this mart any more
    column_list = ", ".join(f'"{c}"' for c in names)
    rows = con.execute(
        f"SELECT {column_list} FROM read_parquet({sql_string(path.as_posix())}, hive_partitioning = true, "
        "hive_types = {'fiscal_year': INTEGER})"
    ).fetchall()
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(table, sql.SQL(", ").join(map(sql.Identifier, names)))
    with cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)


def _ensure_tables(pg, columns: dict[tuple[str, str], list[tuple[str, str]]]) -> bool:
    """Create missing tables, recreate those whose columns differ; True if any was (re)created."""
    from psycopg import sql

    existing: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, kind in pg.execute(
        """SELECT table_schema, table_name, column_name, format_type(a.atttypid, a.atttypmod)
        FROM information_schema.columns c
        JOIN pg_attribute a ON a.attrelid = format('%I.%I', table_schema, table_name)::regclass
                           AND a.attname = c.column_name
        WHERE table_schema IN ('marts', 'marts_public') ORDER BY table_schema, table_name, ordinal_position"""
    ).fetchall():
        existing.setdefault((schema, table), []).append((column, kind))
    created = False
    for (folder, mart), cols in columns.items():
        if existing.get((folder, mart)) == cols:
            continue
        table = sql.Identifier(folder, mart)
        with pg.transaction():
            pg.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(folder)))
            pg.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
            pg.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(kind)) for c, kind in cols)))
            pg.execute(sql.SQL("CREATE INDEX ON {} (fiscal_year, unit_code)").format(table))
            section = dictionary()[mart]
            pg.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(
                table, sql.Literal(f"{section['title']} ({folder}). Grain: {section['grain']}.")))
            described = column_descriptions(mart)
            for c, _ in cols:
                if described.get(c):
                    pg.execute(sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                        table, sql.Identifier(c), sql.Literal(described[c])))
        created = True
    return created


def setup(dsn: str, public_role: str = PUBLIC_ROLE, internal_role: str = INTERNAL_ROLE,
          passwords: dict[str, str] | None = None) -> None:
    """Schemas, the two reader roles and their grants (sql/bi/setup.sql); passwords if given."""
    from psycopg import sql

    text = (SQL_DIR / "bi" / "setup.sql").read_text(encoding="utf-8")
    names = {"public_role": sql.Identifier(public_role), "internal_role": sql.Identifier(internal_role),
             "public_name": sql.Literal(public_role), "internal_name": sql.Literal(internal_role)}
    with connect_postgres(dsn) as pg, pg.transaction():
        for statement in _statements(text):
            pg.execute(sql.SQL(statement).format(**names))
        for role, password in (passwords or {}).items():
            pg.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))


def _statements(text: str) -> list[str]:
    """Statements of setup.sql: split at `;` ending a line, keeping the DO block whole."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    statements, current = [], []
    for line in body.splitlines():
        current.append(line)
        if line.rstrip().endswith(";") and (not current[0].lstrip().startswith("DO") or line.strip() == "END $$;"):
            statements.append("\n".join(current).strip().rstrip(";"))
            current = []
    return [s for s in statements if s]
