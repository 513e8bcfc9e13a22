"""What BI tools read, built after each publish from the published snapshot: bi.duckdb, the
PostgreSQL mirror, the XLSX exports. None of them ever touches the loader's DuckDB file."""
