"""The report stage alone: CPU per unit-year, and 1 worker against 2 (or more).

    .venv/bin/python bench/bench_reports.py                       # 40 unit-years, 3 runs
    .venv/bin/python bench/bench_reports.py --unit-years 100 --runs 5 --workers 1 2

Loads the bundled demo once into a temporary warehouse (or uses --warehouse, a folder
holding a loaded warehouse.duckdb) and runs the report stage over N unit-years that are
the demo's in turn, each written into its own folder: the work of N real unit-years of
the demo's size (the 自评表, both reports in Markdown and DOCX, the charts), done as
`write_reports` does it: this process gathers each unit-year's inputs from DuckDB
(`gather_unit_year`) and `render_all` hands them to the workers.

Printed: gather CPU per unit-year (the writer's part, DuckDB queries); render CPU per
unit-year in this process (time.process_time; the first render, which loads the font
and the DOCX template, is left out); and for each run, the wall time of the report stage
with each worker count (gather, pool start and render) and the writer's CPU in it, the
counts interleaved so that other load on the machine hits them alike,
and the ratio of 1 worker to each other count within the run, with the load average.

On a busy machine the ratio says how busy it is, not what the workers gain: Linux shares
the CPU between sessions (autogroups) before processes, so a session's workers split the
one share its single process would have had. Each run therefore also prints the CPU spent
(the writer's gathering, the rendering wherever it ran, as a share of one core) and the
wall time the same CPU takes on an idle machine, at best: with one worker writer +
rendering, with more max(writer, rendering / workers, all / cores), start-up left out.
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
from typing import Iterator

import duckdb

from pipelines.evaluation.figures import ScopeRows
from pipelines.evaluation.outputs import UnitYearInputs, gather_unit_year, render_all, render_unit_year
from pipelines.evaluation.redaction import secret_tokens
from pipelines.evaluation.rules import load_rules
from pipelines.settings import DEMO_LANDING_DIR, PROJECT_DIR, Settings
from pipelines.workers import process_pool


def load_demo(warehouse: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(warehouse / ".dagster")}
    env.pop("FISCAL_LANDING_DIR", None)
    subprocess.run([sys.executable, "-m", "pipelines.cli", "load", "--warehouse", str(warehouse), "--quiet"],
                   cwd=PROJECT_DIR, env=env, check=True, stdout=subprocess.DEVNULL)


def demo_unit_years(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    rows = con.execute("SELECT DISTINCT unit_code, fiscal_year FROM core.dim_unit_year ORDER BY ALL").fetchall()
    return [(unit, int(year)) for unit, year in rows]


def gathered(con: duckdb.DuckDBPyConnection, settings: Settings, n: int, folder: Path) -> Iterator[UnitYearInputs]:
    """N unit-years' inputs, gathered from the warehouse as write_reports does (the demo's
    unit-years in turn), each to be written into its own folder. write_reports reads the
    figures of its whole scope with one query each (ScopeRows); here each round of the
    demo's unit-years reads them again, so the gather's queries are paid once every few
    unit-years, not once for the scope as in a real load: its CPU is overstated."""
    units, rules, secrets = demo_unit_years(con), load_rules(), secret_tokens(con)
    for k in range(n):
        if k % len(units) == 0:
            source = ScopeRows(con, units)
        unit, year = units[k % len(units)]
        one = gather_unit_year(con, settings, unit, year, rules, secrets=secrets, source=source)
        yield dataclasses.replace(one, out_dir=folder / f"copy{k:04d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unit-years", type=int, default=40, help="unit-years per run of the report stage (default 40)")
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
        settings = Settings(DEMO_LANDING_DIR, warehouse)
        con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
        sample = max(10, len(demo_unit_years(con)))
        print(f"os.cpu_count() = {os.cpu_count()}; {len(demo_unit_years(con))} demo unit-year(s), "
              f"{args.unit_years} copies per run of the report stage")

        started = time.process_time()
        inputs = list(gathered(con, settings, sample, tmp / "cpu"))
        print(f"gather (writer, DuckDB):  {(time.process_time() - started) / sample:.3f} s CPU per unit-year")
        render_unit_year(dataclasses.replace(inputs[0], out_dir=tmp / "warm"))  # font, DOCX template
        timings = []
        for one in inputs:
            started = time.process_time()
            render_unit_year(one)
            timings.append(time.process_time() - started)
        print(f"render (in-process):      {statistics.median(timings):.3f} s CPU per unit-year "
              f"(median of {len(timings)}; min {min(timings):.3f}, max {max(timings):.3f})")

        # The fork server started and its modules imported (GX among them: seconds), as a load
        # has them before its report stage; otherwise the first run with workers pays for it.
        with process_pool(1) as pool:
            pool.submit(os.getpid).result()
        walls: dict[int, list[float]] = {w: [] for w in args.workers}
        bounds: dict[int, list[float]] = {w: [] for w in args.workers}
        for run in range(1, args.runs + 1):
            line = []
            for workers in args.workers:
                folder = tmp / f"run{run}_w{workers}"
                started, cpu, render_cpu = time.perf_counter(), time.process_time(), []
                render_all(gathered(con, settings, args.unit_years, folder), workers, render_cpu)
                wall = time.perf_counter() - started
                walls[workers].append(wall)
                cpu = time.process_time() - cpu
                shutil.rmtree(folder)
                if workers > 1:  # the writer's own CPU, and that of the workers' rendering
                    writer, rendering = cpu, sum(render_cpu)
                else:  # one process: its CPU is gathering and rendering
                    writer, rendering = cpu - sum(render_cpu), sum(render_cpu)
                if workers > 1:  # the writer and the workers side by side
                    cores = min(workers + 1, os.cpu_count() or 1)
                    bound = max(writer, rendering / workers, (writer + rendering) / cores)
                else:  # one process, one thing after the other
                    bound = writer + rendering
                bounds[workers].append(bound)
                line.append(f"{workers} worker(s) {wall:6.2f} s wall (CPU: writer {writer:5.2f} s, rendering "
                            f"{rendering:5.2f} s, the writer's serial part {writer / (writer + rendering):.0%} of it; "
                            f"{(writer + rendering) / wall:.0%} of a core; idle-machine bound {bound:5.2f} s)")
            first = args.workers[0]
            ratios = ", ".join(f"{first}→{w}: {walls[first][-1] / walls[w][-1]:.2f}x" for w in args.workers[1:])
            load = os.getloadavg()[0]
            print(f"run {run}: " + "; ".join(line) + (f"; speed-up {ratios}" if ratios else "")
                  + f"; load average {load:.1f}", flush=True)
        con.close()
        first = args.workers[0]
        for w in args.workers[1:]:
            ratios = [a / b for a, b in zip(walls[first], walls[w])]
            ideal = [a / b for a, b in zip(bounds[first], bounds[w])]
            print(f"speed-up {first} → {w} worker(s) over {args.runs} run(s): measured {min(ratios):.2f}x – "
                  f"{max(ratios):.2f}x, idle-machine bound of the same CPU {min(ideal):.2f}x – {max(ideal):.2f}x "
                  f"({args.unit_years} unit-years; {statistics.median(walls[w]) / args.unit_years:.3f} s wall "
                  f"per unit-year with {w})")


if __name__ == "__main__":
    main()
