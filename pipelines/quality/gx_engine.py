"""How Great Expectations reaches the warehouse: through cursors of the connection the
load already holds, with the one fix GX needs for DuckDB. Used by
`pipelines.quality.gx_duckdb`, which runs the suites.

How GX reaches the data
-----------------------
GX does not open the DuckDB file itself. DuckDB allows one writer process, and a
second ``duckdb.connect()`` to the same file inside our process fails when its
config differs from the open one. Instead GX runs on *cursors of the warehouse
connection we already hold*: :func:`_shared_engine` builds a SQLAlchemy engine
(dialect from duckdb-engine) whose ``creator`` returns
``duckdb_engine.ConnectionWrapper(con.cursor())``. A DuckDB cursor is a second
connection to the same in-process database instance, so GX sees every table our
connection has committed, and our connection keeps working afterwards (GX only
ever closes its own cursors). The ``duckdb:///:memory:`` URL of that engine only
selects the dialect; it is never opened. (GX's usual
``add_sql(connection_string="duckdb:///file")`` cannot work next to our open
connection: duckdb-engine connects with its own config and DuckDB refuses
"a connection to same database file with a different configuration".)

The persistent-connection fix (why it exists, how it is applied)
----------------------------------------------------------------
GX 1.24's ``SqlAlchemyExecutionEngine.execute_query`` runs each query inside
``with engine.connect()`` and calls ``.fetchall()`` on the result *after* that
connection was closed. DuckDB drops a pending result when its connection is
closed or reset, so every expectation fails with a ``MetricResolutionError``
("list index out of range" with a plain ``duckdb:///file`` engine, "No open
result set" with our cursor engine). GX keeps one persistent
connection only for the dialects in ``_PERSISTED_CONNECTION_DIALECTS`` (sqlite,
mssql, bigquery, databricks), not duckdb, and ``poolclass=StaticPool`` does not
help (the pool still resets the connection on return).

The fix lives in exactly one class, :class:`DuckDBExecutionEngine`, a subclass
of GX's engine whose ``get_connection`` opens one SQLAlchemy connection and
reuses it for the engine's lifetime (``close()`` releases it). It is applied
only to DuckDB: the only way this module builds an execution engine is
:class:`DuckDBWarehouseDatasource`, a GX SQL datasource whose
``execution_engine_type`` is that subclass. GX's globals are not patched.
``tests/quality/test_gx_duckdb.py`` shows that the stock GX engine still fails on
the same data, so a GX or duckdb upgrade that changes this fails loudly.

The same class also replaces SQLAlchemy reflection (which fails through
duckdb-engine 0.17 on duckdb 2.0: missing ``pg_catalog.pg_collation``...) with a
small inspector answering GX's two questions (columns, primary key) from
``information_schema`` / ``duckdb_constraints()``. Without it GX falls back to
``SELECT * FROM <table> LIMIT 1`` *without the schema* and cannot find
``staging.voucher_lines``. And the datasource passes ``create_temp_table=False``
to the engine explicitly: built from an ``engine=`` object, GX's engine defaults
to copying the whole table into a ``gx_temp_*`` table before validating.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from typing import Any, Iterator, Literal, Optional, Type

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import duckdb  # noqa: E402
import duckdb_engine  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from great_expectations.compatibility import pydantic  # noqa: E402
from great_expectations.datasource.fluent import SQLDatasource  # noqa: E402
from great_expectations.execution_engine import SqlAlchemyExecutionEngine  # noqa: E402

_DIALECT_ONLY_URL = "duckdb:///:memory:"  # selects duckdb-engine's dialect; never opened


# ------------------------------------------------------------------ engine (the fix)


def _shared_engine(con: duckdb.DuckDBPyConnection) -> sa.Engine:
    """A SQLAlchemy engine whose connections are cursors of ``con``.

    NullPool: every ``engine.connect()`` gets a fresh cursor, closed on release;
    closing a cursor never closes ``con`` itself.
    """

    def creator() -> duckdb_engine.ConnectionWrapper:
        return duckdb_engine.ConnectionWrapper(con.cursor())

    return sa.create_engine(_DIALECT_ONLY_URL, creator=creator, poolclass=sa.pool.NullPool)


_TYPE_ALIASES = {
    "decimal": "numeric",
    "double": "double precision",
    "float": "real",
    "int": "integer",
    "int32": "integer",
    "int64": "bigint",
    "string": "varchar",
    "blob": "bytea",
    "timestamp with time zone": "timestamptz",
}


class _InformationSchemaInspector:
    """Stands in for ``sa.inspect(engine)``: GX asks it for columns and primary keys.

    Plain queries only; SQLAlchemy's pg_catalog-based reflection breaks on duckdb 2.0.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self.dialect = engine.dialect

    def _rows(self, sql: str, **params: Any) -> list[sa.Row]:
        with self._engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).fetchall())

    def _sa_type(self, duckdb_type: str) -> Any:
        base = re.sub(r"\(.*\)", "", duckdb_type).strip().lower()
        base = _TYPE_ALIASES.get(base, base)
        type_cls = self.dialect.ischema_names.get(base)
        if type_cls is None:
            return sa.types.NullType()
        try:
            return type_cls()
        except TypeError:
            return sa.types.NullType()

    def get_columns(self, table_name: str, schema: Optional[str] = None, **_: Any) -> list[dict]:
        rows = self._rows(
            """
            SELECT column_name, data_type, is_nullable
            FROM information_schema.columns
            WHERE lower(table_schema) = lower(coalesce(:schema, current_schema()))
              AND lower(table_name) = lower(:table)
            ORDER BY ordinal_position
            """,
            schema=schema,
            table=str(table_name),
        )
        if not rows:
            raise sa.exc.NoSuchTableError(f"{schema}.{table_name}" if schema else str(table_name))
        return [
            {"name": name, "type": self._sa_type(dtype), "nullable": nullable == "YES"}
            for name, dtype, nullable in rows
        ]

    def get_pk_constraint(self, table_name: str, schema: Optional[str] = None, **_: Any) -> dict:
        rows = self._rows(
            """
            SELECT constraint_column_names
            FROM duckdb_constraints()
            WHERE constraint_type = 'PRIMARY KEY'
              AND lower(schema_name) = lower(coalesce(:schema, current_schema()))
              AND lower(table_name) = lower(:table)
            """,
            schema=schema,
            table=str(table_name),
        )
        return {"constrained_columns": list(rows[0][0]) if rows else [], "name": None}


class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """GX's SQL engine with one persistent connection and no SQLAlchemy reflection.

    See the module docstring for why. Everything else is GX's own code.
    """

    @contextmanager
    def get_connection(self) -> Iterator[sa.Connection]:
        # GX fetches results after leaving this context; DuckDB would have dropped
        # them if the connection were closed/reset here, so it stays open.
        if self._connection is None or self._connection.closed:
            self._connection = self.engine.connect()
        yield self._connection

    def get_inspector(self) -> Any:
        if self._inspector is None:
            self._inspector = _InformationSchemaInspector(self.engine)
        return self._inspector

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
        self.engine.dispose()


class DuckDBWarehouseDatasource(SQLDatasource):
    """A GX SQL datasource over an already-open DuckDB connection.

    Registered with GX as type ``fiscal_warehouse_duckdb`` (``add_fiscal_warehouse_duckdb``
    on ``context.data_sources``) when this module is imported. The connection is
    bound with :meth:`bind_connection`; it is a private attribute, so the
    datasource config stays serialisable and nothing about it is stored.
    """

    type: Literal["fiscal_warehouse_duckdb"] = "fiscal_warehouse_duckdb"  # type: ignore[assignment]
    connection_string: str = _DIALECT_ONLY_URL  # type: ignore[assignment]
    default_schema: Optional[str] = None

    _duckdb_con: Optional[duckdb.DuckDBPyConnection] = pydantic.PrivateAttr(None)

    @property
    def schema_(self) -> str | None:
        return self.default_schema

    def bind_connection(self, con: duckdb.DuckDBPyConnection) -> None:
        self.release()
        self._duckdb_con = con

    def release(self) -> None:
        """Close GX's cursors (never the bound warehouse connection)."""
        if self._execution_engine is not None:
            self._execution_engine.close()
            self._execution_engine = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @property
    def execution_engine_type(self) -> Type[SqlAlchemyExecutionEngine]:
        return DuckDBExecutionEngine

    def _create_engine(self) -> sa.Engine:
        if self._duckdb_con is None:
            raise RuntimeError(f"datasource {self.name!r}: no DuckDB connection bound")
        return _shared_engine(self._duckdb_con)

    def get_execution_engine(self) -> SqlAlchemyExecutionEngine:
        if self._execution_engine is None:
            # create_temp_table must be passed explicitly: the engine's own default is
            # True, which would copy the whole table into a temp table first.
            self._execution_engine = self.execution_engine_type(
                engine=self.get_engine(), create_temp_table=self.create_temp_table
            )
        return self._execution_engine
