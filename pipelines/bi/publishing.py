"""The BI steps after each publish: bi.duckdb, the public marts as XLSX per changed
unit-year, then the PostgreSQL mirror when configured.

Called by pipelines.warehouse.load.stage_publish. The outcome goes into the load's summary
(one line each) and a failed mirror makes the load exit 1 while the Parquet marts and
bi.duckdb stay published. The exports and the mirror write what the publish left owed
(meta.bi_exports_pending, meta.bi_mirror_pending: pipelines.warehouse.dirty, recorded in
the publish's transaction) and settle it once written; what a killed load or a database
that is down leaves owed, the next load writes, one with nothing to rebuild too
(pipelines.defs.jobs.catch_up_bi).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import duckdb

from pipelines.bi.bi_file import bi_file_is_current, build_bi_file
from pipelines.bi.postgres import mirror
from pipelines.bi.xlsx import write_unit_year_exports
from pipelines.settings import Settings
from pipelines.warehouse import dirty
from pipelines.warehouse.publish import PublishResult
from pipelines.warehouse.snapshots import Snapshots

POSTGRES_DSN_ENV = "FISCAL_BI_POSTGRES_DSN"
XLSX_ENV = "FISCAL_BI_XLSX"  # 0: no XLSX per unit-year after a publish (about 0.1-0.3 s each)


@dataclass
class BiOutcome:
    lines: list[str] = field(default_factory=list)  # one line each for the load's summary
    failed: bool = False


def _exports_on() -> bool:
    return os.environ.get(XLSX_ENV, "1") != "0"


def bi_work_pending(con: duckdb.DuckDBPyConnection, warehouse_dir) -> bool:
    """Whether a load with no landing change still has BI work: XLSX exports owed (a load
    killed before it wrote them), unit-years the PostgreSQL mirror has not taken yet (it was
    down), or a published warehouse without bi.duckdb. Reads only."""
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'meta'").fetchall()}
    if "published" in tables and not (warehouse_dir / "bi.duckdb").exists():
        return True
    if _exports_on() and dirty.owed(con, dirty.EXPORTS_OWED):
        return True
    return bool(os.environ.get(POSTGRES_DSN_ENV)) and bool(dirty.owed(con, dirty.MIRROR_OWED))


def after_publish(con: duckdb.DuckDBPyConnection, settings: Settings, result: PublishResult) -> BiOutcome:
    outcome = BiOutcome()
    live = Snapshots(settings.warehouse_dir).live()
    if live is not None and not bi_file_is_current(con, settings.warehouse_dir, live):
        path, done = build_bi_file(con, settings.warehouse_dir, live, result.previous_snapshot, result.changed)
        outcome.lines.append(f"bi file:          {path.name} {done} (snapshot {live.name})")
    # Owed by this publish (its changed public marts) or by one whose load died before writing them.
    owed = dirty.owed(con, dirty.EXPORTS_OWED) if _exports_on() else []
    if owed:
        written = write_unit_year_exports(settings.warehouse_dir, owed)
        dirty.settle(con, dirty.EXPORTS_OWED, owed)
        outcome.lines.append(f"xlsx exports:     {len(written)} workbook(s) of the public marts in exports/")
    dsn = os.environ.get(POSTGRES_DSN_ENV)
    if dsn and live is not None:
        try:
            done = mirror(con, dsn, live)
            outcome.lines.append(f"postgres mirror:  {done} unit-year(s) mirrored")
        except Exception as error:  # noqa: BLE001 - any failure of the mirror is reported, Parquet stays published
            pending = len(dirty.owed(con, dirty.MIRROR_OWED))
            reason = (str(error).strip().splitlines() or [""])[0]
            outcome.lines.append(f"postgres mirror:  FAILED ({type(error).__name__}: {reason}); "
                                 f"{pending} unit-year(s) pending, caught up by the next load")
            outcome.failed = True
    return outcome
