"""fiscal-warehouse: public-spending exports -> DuckDB warehouse -> Parquet marts and the
department's spending performance self-evaluation."""
