"""docs/marts.md, the marts' data dictionary for people: written from the declarations
(through pipelines.warehouse.dictionary) and the column types of marts built over an empty
landing folder. Apart from the dictionary, which the publishing and BI modules import,
because building the marts needs the load's stages, which import those modules.

    .venv/bin/python -m pipelines.warehouse.marts_doc            # rewrite docs/marts.md
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipelines.evaluation.rules import load_rules
from pipelines.settings import PROJECT_DIR, load_settings
from pipelines.warehouse import load as stages
from pipelines.warehouse.db import connect
from pipelines.warehouse.declarations import marts
from pipelines.warehouse.dictionary import column_descriptions, dictionary

DOC_FILE = PROJECT_DIR / "docs" / "marts.md"


def render(column_types: dict[str, list[tuple[str, str]]]) -> str:
    """Markdown for every mart; column_types: mart -> [(column, DuckDB type)] in table order."""
    data = dictionary()
    lines = [
        "# The marts: data dictionary",
        "",
        "Generated from the declarations `sql/marts/<mart>.toml` by `python -m pipelines.warehouse.marts_doc`; do not edit by hand.",
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
    return {mart: [(r[0], r[1]) for r in con.execute(f"DESCRIBE build.{mart}").fetchall()] for mart in marts()}


def empty_warehouse_types() -> dict[str, list[tuple[str, str]]]:
    """Every mart's columns and types, from building them over an empty landing folder: a
    model's types do not depend on its rows, so no data (and no CLI) is needed."""
    with tempfile.TemporaryDirectory() as scratch:
        settings = load_settings(Path(scratch) / "landing", Path(scratch) / "warehouse")
        settings.landing_dir.mkdir()
        con = connect(settings.db_path)
        try:
            stages.stage_ingest(con, settings)
            stages.stage_core(con, set())
            stages.stage_marts(con, set(), load_rules())
            return column_types_from(con)
        finally:
            con.close()


def main() -> None:
    """Write docs/marts.md from the declarations and the marts' column types."""
    text = render(empty_warehouse_types())
    DOC_FILE.parent.mkdir(parents=True, exist_ok=True)
    DOC_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_FILE}")


if __name__ == "__main__":
    main()
