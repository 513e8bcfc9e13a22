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


# ---------------------------------------------------------------- limits on what one landing file may cost

MAX_CELL_BYTES_ENV = "FISCAL_MAX_CELL_BYTES"
MAX_SHEET_CELLS_ENV = "FISCAL_MAX_SHEET_CELLS"
MAX_UNCOMPRESSED_BYTES_ENV = "FISCAL_MAX_UNCOMPRESSED_BYTES"


@dataclass(frozen=True)
class ReadLimits:
    """What one landing file may cost the reader; a file over a limit is reported unreadable
    (with the limit and its setting) and the rest of the landing folder loads.

    The defaults leave room for three times the largest real export seen (a workbook of
    200,000 lines × 15 columns is 3,000,000 cells and about 100 MB of sheet XML), and stop
    what no export system writes: a sheet whose used range is a million rows by thousands
    of columns (the Excel reader would allocate all of it), a zip bomb, a 10 MB cell."""

    # One CSV cell, in characters as read. DuckDB's reader stops at a line of 2 MB and hands
    # such a file to Python's csv module, which holds a cell in memory: this bounds it there.
    max_cell_bytes: int = 1024 * 1024
    max_sheet_cells: int = 10_000_000  # rows × columns of a sheet's used range (<dimension>)
    max_uncompressed_bytes: int = 512 * 1024 * 1024  # a workbook's zip members, inflated


def _positive_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a whole number") from None
    if value <= 0:
        raise ValueError(f"{name}={text!r} must be positive")
    return value


def read_limits() -> ReadLimits:
    """ReadLimits from FISCAL_MAX_CELL_BYTES, FISCAL_MAX_SHEET_CELLS and
    FISCAL_MAX_UNCOMPRESSED_BYTES, else the defaults."""
    default = ReadLimits()
    return ReadLimits(
        max_cell_bytes=_positive_int(MAX_CELL_BYTES_ENV, default.max_cell_bytes),
        max_sheet_cells=_positive_int(MAX_SHEET_CELLS_ENV, default.max_sheet_cells),
        max_uncompressed_bytes=_positive_int(MAX_UNCOMPRESSED_BYTES_ENV, default.max_uncompressed_bytes),
    )


# ---------------------------------------------------------------- worker processes

WORKERS_ENV = "FISCAL_WORKERS"


def usable_cpu_count() -> int:
    """The CPUs this process may run on: its CPU set (a container's, `taskset`'s, a pinned
    worker's), not the machine's count. Two processes of Python on one such CPU take
    longer than one doing both (the suites' workers: 2.2 s against 1.8-2.1 s at the county)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count() -> int:
    """How many processes per-unit-year work (the reports, the checks) fans out to:
    FISCAL_WORKERS, else one per CPU this process may run on (usable_cpu_count).
    `fiscal-warehouse load --workers N` sets FISCAL_WORKERS."""
    text = os.environ.get(WORKERS_ENV, "").strip()
    if not text:
        return usable_cpu_count()
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{WORKERS_ENV}={text!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"{WORKERS_ENV}={text!r} must be at least 1")
    return value
