"""The warehouse's work, as plain functions over one DuckDB connection; the Dagster assets
in `pipelines.defs` call these."""
