"""The per-file cost of reading small exports (`bench/bench.py --shape files`).

A county sends monthly voucher exports of about 300 lines: what a file costs there is
the fixed cost per file, not its bytes. This times the ingest (raw + staging, in this
process, without Dagster) of N such CSV files and N/4 such XLSX files, each into a new
warehouse, and prints the cost per file; `--profile` prints where it goes (cProfile).
Targets: <= 15 ms a small CSV, <= 30 ms a small XLSX.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import shutil
import time
from pathlib import Path

from county import voucher_file

from pipelines.warehouse.db import connect
from pipelines.warehouse.ingest import ingest

LINES = 300


def write_exports(landing: Path, count: int, as_xlsx: bool) -> list[Path]:
    """`count` monthly voucher exports of LINES lines, 12 a unit-year, units 600000 on."""
    if landing.exists():
        shutil.rmtree(landing)
    rng = random.Random(1)
    for number in range(count):
        unit, month = f"6{number // 12:05d}", number % 12 + 1
        voucher_file(landing / unit / "2021", unit, 2021, month, LINES, rng, as_xlsx=as_xlsx)
    return sorted(p for p in landing.rglob("*") if p.is_file())


def cpu_seconds() -> float:
    """CPU of this process and of its children that ended (the workbook reader's workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def time_ingest(landing: Path, warehouse: Path, profile: bool) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds of one ingest into a new warehouse, and the profile."""
    if warehouse.exists():
        shutil.rmtree(warehouse)
    con = connect(warehouse / "warehouse.duckdb")
    profiler = cProfile.Profile() if profile else None
    try:
        started, cpu = time.perf_counter(), cpu_seconds()
        if profiler:
            profiler.enable()
        result = ingest(con, landing, warehouse / ".work")
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    finally:
        con.close()
    assert not result.unreadable, result.unreadable
    report = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        report = out.getvalue()
    return seconds, cpu, report


def files_main(args) -> None:
    count = args.scale or 600
    for label, as_xlsx, n, target in (("CSV", False, count, 15), ("XLSX", True, max(1, count // 4), 30)):
        landing = args.out / f"small-{label.lower()}" / "landing"
        files = write_exports(landing, n, as_xlsx)
        size = sum(f.stat().st_size for f in files) / n / 1e3
        for run in range(args.runs):
            seconds, cpu, report = time_ingest(landing, args.out / f"small-{label.lower()}" / "warehouse",
                                               args.profile and run == 0)
            bare = ""
            if not as_xlsx:
                from bench import bare_read_by_layout

                db = args.out / "bare-small.duckdb"
                db.unlink(missing_ok=True)
                started = time.perf_counter()
                bare_read_by_layout(files, db)
                bare_seconds = time.perf_counter() - started
                db.unlink(missing_ok=True)
                bare = f"; bare DuckDB read_csv of the same files, file by file, {bare_seconds / n * 1000:.1f} ms a file"
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"{n:,} small {label} exports ({LINES} lines, {size:.0f} kB each): ingest {seconds:.2f} s = "
                  f"{seconds / n * 1000:.1f} ms a file, CPU {cpu / n * 1000:.1f} ms a file (target <= {target} ms)"
                  f"{bare}; load average {load}", flush=True)
            if report:
                print(report)
