"""`fiscal-warehouse status`: each unit-year with its last load, row counts, failed checks,
and the landing files that changed since they were loaded; and, for `report`, the unit
codes and years the warehouse holds (so that an unknown one is answered at once).

Times are shown in the department's time (Asia/Shanghai) to the second: the warehouse
stores the loader machine's local time without a zone, as `datetime.now()` gives it."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pipelines.landing.discovery import discover
from pipelines.settings import Settings
from pipelines.warehouse.db import WarehouseBusy, connect, table_exists


@dataclass
class PartitionStatus:
    unit_code: str
    unit_name: str | None
    fiscal_year: int
    last_loaded: datetime | None
    spending_lines: int
    budget_lines: int
    quarantined: int
    failed_checks: int
    pending: bool  # changed inputs not yet published


@dataclass
class WarehouseStatus:
    partitions: list[PartitionStatus]
    stale_files: list[str]  # new, changed or removed since the last load
    last_load: datetime | None


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
                 WHERE sl.unit_code = u.unit_code AND sl.fiscal_year = u.fiscal_year),
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
        last = con.execute("SELECT max(started_at) FROM meta.loads").fetchone()[0]
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


LOCAL_TIME = ZoneInfo("Asia/Shanghai")
# (label, width, right-aligned): widths in terminal columns (a Chinese character takes two)
COLUMNS = (("单位编码", 10, False), ("年度", 4, True), ("最近加载（北京时间）", 20, False), ("支出行数", 9, True),
           ("预算行数", 8, True), ("隔离行数", 8, True), ("未通过检查", 10, True), ("状态", 6, False),
           ("单位名称", 0, False))
STATES = {True: "待重建", False: "已发布"}


def local_time(value: datetime | None) -> str:
    """A stored (naive, machine-local) time as Asia/Shanghai time, to the second."""
    if value is None:
        return ""
    return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


def _line(cells: list[str]) -> str:
    return "  ".join(_pad(c, w, r) for c, (_, w, r) in zip(cells, COLUMNS)).rstrip()


def format_status(status: WarehouseStatus) -> str:
    lines = [f"last load: {local_time(status.last_load) + ' (Asia/Shanghai)' if status.last_load else 'never'}", ""]
    header = _line([label for label, _, _ in COLUMNS])
    lines += [header, "-" * _width(header)]
    for p in status.partitions:
        lines.append(_line([
            p.unit_code, str(p.fiscal_year), local_time(p.last_loaded), f"{p.spending_lines:,}", f"{p.budget_lines:,}",
            f"{p.quarantined:,}", f"{p.failed_checks:,}", STATES[bool(p.pending)], p.unit_name or "",
        ]))
    lines.append("")
    if status.stale_files:
        lines.append(f"landing files not yet loaded ({len(status.stale_files)}):")
        lines += [f"  {s}" for s in status.stale_files]
    else:
        lines.append("landing folder: everything loaded")
    return "\n".join(lines)


def unmatched_scope(settings: Settings, units: list[str] | None, years: list[int] | None) -> str | None:
    """For `report --unit/--year`: None when some unit-year of the warehouse matches, else
    what to say — the units and years it holds — before any run is started. A warehouse
    a load is writing is not waited for here (None: the run waits its turn and checks)."""
    try:
        con = connect(settings.db_path, read_only=True, wait=0)
    except WarehouseBusy:
        return None
    try:
        held = con.execute("SELECT unit_code, fiscal_year FROM core.dim_unit_year ORDER BY ALL").fetchall() \
            if table_exists(con, "core.dim_unit_year") else []
    finally:
        con.close()
    if any((not units or u in units) and (not years or y in years) for u, y in held):
        return None
    asked = " ".join([*(f"--unit {u}" for u in units or []), *(f"--year {y}" for y in years or [])])
    if not held:
        return f"no unit-year in the warehouse matches {asked}: the warehouse holds none yet"
    all_units = sorted({u for u, _ in held})
    all_years = sorted({y for _, y in held})
    pairs = f" ({', '.join(f'{u}/{y}' for u, y in held)})" if len(held) <= 20 else ""
    return (f"no unit-year in the warehouse matches {asked}; it holds units {', '.join(all_units)}, "
            f"years {', '.join(map(str, all_years))}{pairs}")
