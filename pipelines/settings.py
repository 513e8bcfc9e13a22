"""Where things are: every path the warehouse uses, from the environment, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
SQL_DIR = PROJECT_DIR / "sql"
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
DEMO_LANDING_DIR = PACKAGE_DIR / "demo" / "landing"

LANDING_ENV = "FISCAL_LANDING_DIR"
WAREHOUSE_ENV = "FISCAL_WAREHOUSE_DIR"


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path

    @property
    def db_path(self) -> Path:
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def marts_dir(self) -> Path:
        return self.warehouse_dir / "marts"

    @property
    def marts_public_dir(self) -> Path:
        return self.warehouse_dir / "marts_public"

    @property
    def reports_dir(self) -> Path:
        return self.warehouse_dir / "reports"

    @property
    def quarantine_dir(self) -> Path:
        return self.warehouse_dir / "quarantine"

    @property
    def work_dir(self) -> Path:
        """Scratch space (transcoded files, files being published); same disk as the marts."""
        return self.warehouse_dir / ".work"

    @property
    def dagster_home(self) -> Path:
        return self.warehouse_dir / ".dagster"

    @property
    def texts_dir(self) -> Path:
        """Per-unit narrative texts for the report (`<unit_code>.md`), kept in the landing folder."""
        return self.landing_dir / "_texts"


def load_settings(landing_dir: str | Path | None = None, warehouse_dir: str | Path | None = None) -> Settings:
    """Settings from arguments, else FISCAL_LANDING_DIR / FISCAL_WAREHOUSE_DIR, else defaults."""
    landing = landing_dir or os.environ.get(LANDING_ENV) or DEMO_LANDING_DIR
    warehouse = warehouse_dir or os.environ.get(WAREHOUSE_ENV) or "warehouse"
    return Settings(Path(landing).expanduser().resolve(), Path(warehouse).expanduser().resolve())
