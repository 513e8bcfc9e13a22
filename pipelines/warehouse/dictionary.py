"""The marts' data dictionary, from their declarations (sql/marts/<mart>.toml, read by
pipelines.warehouse.declarations): the column descriptions and Chinese labels the Dagster
UI, the Parquet metadata, bi.duckdb, PostgreSQL and the XLSX exports show. docs/marts.md
is written from it by pipelines.warehouse.marts_doc.
"""

from __future__ import annotations

from pipelines.warehouse.declarations import marts


def dictionary() -> dict[str, dict]:
    """mart -> its section: title, grain, keys, notes (when any), columns (name -> description), questions."""
    return {name: mart.as_dictionary() for name, mart in marts().items()}


def column_descriptions(mart: str) -> dict[str, str]:
    return marts()[mart].column_descriptions()


def column_labels(mart: str) -> dict[str, str]:
    """Chinese column headers, for the XLSX exports."""
    return marts()[mart].column_labels()


def chinese_title(mart: str) -> str:
    return marts()[mart].label
