"""SQL as text: the files in `sql/` and string literals, for every layer.

A leaf: it needs no connection and imports nothing of the project but where `sql/` is,
so that readers, reference data, the quality report and the BI writers can build SQL
without importing the warehouse's connection module."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pipelines.settings import SQL_DIR


@cache
def sql_text(relative: str) -> str:
    return (SQL_DIR / relative).read_text(encoding="utf-8")


def split_statements(text: str) -> list[str]:
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


def sql_string(text: str) -> str:
    """`text` as an SQL string literal, for the places DuckDB takes no parameter (views, DDL)."""
    return "'" + text.replace("'", "''") + "'"


def sql_paths(paths) -> str:
    """Files as an SQL list of string literals, for read_csv and read_parquet over several."""
    return "[" + ", ".join(sql_string(Path(p).as_posix()) for p in paths) + "]"


def model_sql(relative: str) -> str:
    """A model file: one SELECT (optionally with CTEs), no trailing semicolon."""
    statements = split_statements(sql_text(relative))
    if len(statements) != 1:
        raise ValueError(f"sql/{relative} must hold exactly one SELECT")
    return statements[0]
