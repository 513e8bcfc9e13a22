"""The report stage alone: CPU per unit-year, and 1 worker against 2 (or more).

    .venv/bin/python bench/bench_reports.py                       # 40 unit-years, 3 runs
    .venv/bin/python bench/bench_reports.py --unit-years 100 --runs 5 --workers 1 2

Loads the bundled demo once into a temporary warehouse (or uses --warehouse, a folder
holding a loaded warehouse.duckdb), gathers each of its unit-years' inputs as a load does
(pipelines.evaluation.outputs.gather_unit_year: the figures, scoring, texts), and renders
N unit-years as copies of them, each into its own folder: the same work as N real
unit-years of the demo's size (the 自评表, both reports in Markdown and DOCX, the charts).

Printed: gather CPU per unit-year (the writer's part, DuckDB queries); render CPU per
unit-year in this process (time.process_time; the first render, which loads the font
and the DOCX template, is left out); and for each run, the wall time of the report stage
(`render_all`, as `write_reports` calls it, pool start included) with each worker count,
the runs interleaved so that other load on the machine hits both alike, and the ratio of
1 worker to each other count within the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.evaluation.outputs import UnitYearInputs, gather_unit_year, render_all, render_unit_year
from pipelines.evaluation.redaction import secret_tokens
from pipelines.evaluation.rules import load_rules
from pipelines.settings import DEMO_LANDING_DIR, PROJECT_DIR, Settings


def load_demo(warehouse: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(warehouse / ".dagster")}
    env.pop("FISCAL_LANDING_DIR", None)
    subprocess.run([sys.executable, "-m", "pipelines.cli", "load", "--warehouse", str(warehouse), "--quiet"],
                   cwd=PROJECT_DIR, env=env, check=True, stdout=subprocess.DEVNULL)


def gather_demo(warehouse: Path) -> tuple[list[UnitYearInputs], float]:
    """The inputs of every unit-year in the warehouse, and the gather CPU seconds per unit-year."""
    settings = Settings(DEMO_LANDING_DIR, warehouse)
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
    try:
        units = con.execute("SELECT DISTINCT unit_code, fiscal_year FROM core.dim_unit_year ORDER BY ALL").fetchall()
        rules = load_rules()
        started = time.process_time()
        secrets = secret_tokens(con)
        inputs = [gather_unit_year(con, settings, unit, int(year), rules, secrets=secrets) for unit, year in units]
        return inputs, (time.process_time() - started) / len(inputs)
    finally:
        con.close()


def copies(base: list[UnitYearInputs], n: int, folder: Path) -> list[UnitYearInputs]:
    return [dataclasses.replace(base[k % len(base)], out_dir=folder / f"copy{k:04d}") for k in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unit-years", type=int, default=40, help="unit-years rendered per run (default 40)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each worker count, interleaved (default 3)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts compared (default 1 2)")
    parser.add_argument("--warehouse", type=Path, help="a loaded warehouse folder (default: load the demo)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_reports_") as tmp:
        tmp = Path(tmp)
        warehouse = args.warehouse
        if warehouse is None:
            warehouse = tmp / "warehouse"
            print("loading the demo ...", flush=True)
            load_demo(warehouse)
        base, gather_cpu = gather_demo(warehouse)
        print(f"os.cpu_count() = {os.cpu_count()}; {len(base)} demo unit-year(s), rendered as {args.unit_years} copies")
        print(f"gather (writer, DuckDB):  {gather_cpu:.3f} s CPU per unit-year")

        render_unit_year(dataclasses.replace(base[0], out_dir=tmp / "warm"))  # font, DOCX template
        timings = []
        for one in copies(base, max(10, len(base)), tmp / "cpu"):
            started = time.process_time()
            render_unit_year(one)
            timings.append(time.process_time() - started)
        print(f"render (in-process):      {statistics.median(timings):.3f} s CPU per unit-year "
              f"(median of {len(timings)}; min {min(timings):.3f}, max {max(timings):.3f})")

        walls: dict[int, list[float]] = {w: [] for w in args.workers}
        for run in range(1, args.runs + 1):
            line = []
            for workers in args.workers:
                folder = tmp / f"run{run}_w{workers}"
                work = copies(base, args.unit_years, folder)
                started = time.perf_counter()
                render_all(iter(work), workers)
                walls[workers].append(time.perf_counter() - started)
                shutil.rmtree(folder)
                line.append(f"{workers} worker(s) {walls[workers][-1]:6.2f} s")
            first = args.workers[0]
            ratios = ", ".join(f"{first}→{w}: {walls[first][-1] / walls[w][-1]:.2f}x" for w in args.workers[1:])
            print(f"run {run}: " + "; ".join(line) + (f"; speed-up {ratios}" if ratios else ""), flush=True)
        first = args.workers[0]
        for w in args.workers[1:]:
            ratios = [a / b for a, b in zip(walls[first], walls[w])]
            print(f"speed-up {first} → {w} worker(s) over {args.runs} run(s): {min(ratios):.2f}x – {max(ratios):.2f}x "
                  f"({args.unit_years} unit-years; {statistics.median(walls[w]) / args.unit_years:.3f} s wall "
                  f"per unit-year with {w})")


if __name__ == "__main__":
    main()
