"""Fixtures shared by the landing tests."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.warehouse.db import load_macros


@pytest.fixture(scope="module")
def con():
    """An in-memory DuckDB with the SQL macros staging uses (sql/macros/)."""
    connection = duckdb.connect()
    load_macros(connection)
    yield connection
    connection.close()
