"""The marts' data dictionary: sql/marts/columns.toml -> docs/marts.md (and column
descriptions for the Dagster UI).

    .venv/bin/python -m pipelines.warehouse.dictionary            # rewrite docs/marts.md
"""

from __future__ import annotations

import tomllib
from functools import cache

from pipelines.settings import PROJECT_DIR, SQL_DIR

DICTIONARY_FILE = SQL_DIR / "marts" / "columns.toml"
DOC_FILE = PROJECT_DIR / "docs" / "marts.md"


@cache
def dictionary() -> dict:
    return tomllib.loads(DICTIONARY_FILE.read_text(encoding="utf-8"))


def column_descriptions(mart: str) -> dict[str, str]:
    data = dictionary()
    return {**data["common"]["columns"], **data[mart]["columns"]}


def column_labels(mart: str) -> dict[str, str]:
    """Chinese column headers (the [zh.*] tables), for the XLSX exports."""
    zh = dictionary()["zh"]
    return {**zh["common"], **zh.get(mart, {})}


def chinese_title(mart: str) -> str:
    return dictionary()["zh"]["titles"][mart]


def render(column_types: dict[str, list[tuple[str, str]]]) -> str:
    """Markdown for every mart; column_types: mart -> [(column, DuckDB type)] in table order."""
    data = dictionary()
    lines = [
        "# The marts: data dictionary",
        "",
        "Generated from `sql/marts/columns.toml` by `python -m pipelines.warehouse.dictionary`; do not edit by hand.",
        "",
        "Where: `warehouse/marts/<mart>/fiscal_year=<YYYY>/<unit_code>.parquet` (Hive-partitioned by year, one file",
        "per unit, `fiscal_year` also inside each file), the redacted copy in `warehouse/marts_public/`, and the",
        "same names as tables `marts.<mart>` / `marts_public.<mart>` in `warehouse/bi.duckdb`, the file BI tools",
        "open (read-only; PostgreSQL, XLSX and each client's settings: [bi.md](bi.md)). Money is DECIMAL(18,2)",
        "yuan; rates are DOUBLE fractions (0.965 = 96.5 %). The example queries run on bi.duckdb (and on the",
        "loader's views in `warehouse.duckdb`); on the files use",
        "`read_parquet('warehouse/marts/<mart>/*/*.parquet', hive_types = {'fiscal_year': INTEGER})`.",
        "",
        "Reading them elsewhere:",
        "",
        "```python",
        "import polars as pl",
        "pl.scan_parquet('warehouse/marts/spending_by_category/**/*.parquet', hive_partitioning=True)",
        "import pyarrow.dataset as ds",
        "ds.dataset('warehouse/marts/spending_by_category', format='parquet', partitioning='hive')",
        "```",
        "",
    ]
    for mart, columns in column_types.items():
        section = data[mart]
        described = column_descriptions(mart)
        lines += [f"## {mart} — {section['title']}", "", f"**Grain:** {section['grain']}  ",
                  f"**Keys:** {', '.join(f'`{k}`' for k in section['keys'])}", ""]
        if section.get("notes"):
            lines += [section["notes"], ""]
        lines += ["| column | type | meaning |", "| --- | --- | --- |"]
        for name, kind in columns:
            lines.append(f"| `{name}` | {kind} | {described.get(name, '')} |")
        lines.append("")
        for number, item in enumerate(section.get("questions", []), 1):
            lines += [f"{number}. {item['question']}", "", "```sql", item["sql"].strip(), "```", ""]
    return "\n".join(lines)


def column_types_from(con) -> dict[str, list[tuple[str, str]]]:
    from pipelines.warehouse.transform import MART_MODELS

    return {mart: [(r[0], r[1]) for r in con.execute(f"DESCRIBE build.{mart}").fetchall()] for mart in MART_MODELS}


def main() -> None:
    """Build the marts on the demo data in a scratch warehouse and write docs/marts.md."""
    import tempfile

    from pipelines.cli import main as cli
    from pipelines.warehouse.db import connect

    with tempfile.TemporaryDirectory() as scratch:
        if cli(["load", "--warehouse", scratch, "--quiet"]) != 0:
            raise SystemExit("the demo load failed")
        from pathlib import Path

        con = connect(Path(scratch) / "warehouse.duckdb", read_only=True)
        text = render(column_types_from(con))
        con.close()
    DOC_FILE.parent.mkdir(parents=True, exist_ok=True)
    DOC_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_FILE}")


if __name__ == "__main__":
    main()
