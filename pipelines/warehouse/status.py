"""`fiscal-warehouse status`: each unit-year with its last load, row counts, failed checks,
and the landing files that changed since they were loaded."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.settings import Settings
from pipelines.warehouse.db import connect, table_exists
from pipelines.warehouse.ingest import discover


@dataclass
class PartitionStatus:
    unit_code: str
    unit_name: str | None
    fiscal_year: int
    last_loaded: str | None
    spending_lines: int
    budget_lines: int
    quarantined: int
    failed_checks: int
    pending: bool  # changed inputs not yet published


@dataclass
class WarehouseStatus:
    partitions: list[PartitionStatus]
    stale_files: list[str]  # new, changed or removed since the last load
    last_load: str | None


def warehouse_status(settings: Settings) -> WarehouseStatus:
    con = connect(settings.db_path, read_only=True)
    try:
        if not table_exists(con, "core.dim_unit_year"):
            return WarehouseStatus([], [], None)
        has_checks = table_exists(con, "quality.results")
        has_dirty = table_exists(con, "meta.dirty")
        rows = con.execute(
            f"""SELECT u.unit_code, u.unit_name, u.fiscal_year,
                (SELECT max(so.loaded_at) FROM meta.slices sl JOIN meta.sources so USING (source_id)
                 WHERE sl.unit_code = u.unit_code AND sl.fiscal_year = u.fiscal_year)::VARCHAR,
                (SELECT count(*) FROM core.fact_spending f WHERE f.unit_code = u.unit_code AND f.fiscal_year = u.fiscal_year),
                (SELECT count(*) FROM core.fact_budget b WHERE b.unit_code = u.unit_code AND b.fiscal_year = u.fiscal_year),
                (SELECT count(*) FROM quarantine q WHERE q.unit_code = u.unit_code AND q.fiscal_year = u.fiscal_year),
                {"(SELECT count(DISTINCT check_id) FROM quality.results r WHERE r.unit_code = u.unit_code AND r.fiscal_year = u.fiscal_year)" if has_checks else "0"},
                {"EXISTS (SELECT 1 FROM meta.dirty d WHERE d.unit_code = u.unit_code AND d.fiscal_year = u.fiscal_year)" if has_dirty else "FALSE"}
            FROM core.dim_unit_year u ORDER BY u.unit_code, u.fiscal_year"""
        ).fetchall()
        known = {
            name: (size, mtime)
            for name, size, mtime in con.execute("SELECT source_file, size_bytes, mtime_ns FROM meta.files").fetchall()
        }
        last = con.execute("SELECT max(started_at)::VARCHAR FROM meta.loads").fetchone()[0]
    finally:
        con.close()
    try:
        on_disk = {f.source_file: (f.size, f.mtime_ns) for f in discover(settings.landing_dir)}
    except FileNotFoundError:
        on_disk = {}
    stale = sorted(
        [f"new      {n}" for n in on_disk if n not in known]
        + [f"changed  {n}" for n in on_disk if n in known and known[n] != on_disk[n]]
        + [f"removed  {n}" for n in known if n not in on_disk]
    )
    return WarehouseStatus([PartitionStatus(*r) for r in rows], stale, last)


def format_status(status: WarehouseStatus) -> str:
    lines = [f"last load: {status.last_load or 'never'}", ""]
    header = f"{'unit':<12} {'year':>4}  {'last loaded':<19}  {'spending':>9} {'budget':>7} {'quarant.':>8} {'checks':>6}  state"
    lines += [header, "-" * len(header)]
    for p in status.partitions:
        state = "pending" if p.pending else "published"
        lines.append(
            f"{p.unit_code:<12} {p.fiscal_year:>4}  {(p.last_loaded or '')[:19]:<19}  {p.spending_lines:>9,} "
            f"{p.budget_lines:>7,} {p.quarantined:>8,} {p.failed_checks:>6}  {state}  {p.unit_name or ''}"
        )
    lines.append("")
    if status.stale_files:
        lines.append(f"landing files not yet loaded ({len(status.stale_files)}):")
        lines += [f"  {s}" for s in status.stale_files]
    else:
        lines.append("landing folder: everything loaded")
    return "\n".join(lines)
