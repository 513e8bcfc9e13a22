"""The warehouse as a Dagster resource: where the landing folder and the warehouse are."""

from __future__ import annotations

import dagster as dg
import duckdb

from pipelines.settings import Settings, load_settings
from pipelines.warehouse.db import connect


class WarehouseResource(dg.ConfigurableResource):
    """Paths as configured here, else from the environment variables FISCAL_LANDING_DIR and
    FISCAL_WAREHOUSE_DIR (read when a run starts, not when the code location loads), else
    the bundled demo data and ./warehouse, so that a bare run works."""

    landing_dir: str | None = None
    warehouse_dir: str | None = None

    @property
    def settings(self) -> Settings:
        return load_settings(self.landing_dir, self.warehouse_dir)

    def connect(self, on_wait=None) -> duckdb.DuckDBPyConnection:
        """A writing connection; waits while another process writes (see pipelines.warehouse.db.connect)."""
        return connect(self.settings.db_path, on_wait=on_wait)

