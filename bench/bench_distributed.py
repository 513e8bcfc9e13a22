"""Scaling of the per-partition stage through the distributed executor: 1 dask worker vs 2.

    .venv/bin/python bench/bench_distributed.py --scale 30            # a 30-unit county
    .venv/bin/python bench/bench_distributed.py --scale 30 --reuse --runs 2
    .venv/bin/python bench/bench_distributed.py --scale 30 --reuse --ranged   # one ranged run
    .venv/bin/python bench/bench_distributed.py --scale 30 --reuse --load     # the real load, per step
    .venv/bin/python bench/bench_distributed.py --scale 300 --reuse --load --runs 2   # the county (README)
    .venv/bin/python bench/bench_distributed.py --scale 300 --reuse --load --pin      # one-core machines

Generates the county shape (bench/county.py: --scale units x 2 years) and loads it once
with the CLI, in-process, as the default load does (not with --load, which loads it on
the stacks). Then, on a private PostgreSQL
instance and a dask scheduler with 1 and then 2 workers (pipelines.distributed), it runs
one Dagster run per unit-year of a job shaped like the warehouse's fan-out: the writer
gathers the unit-year's report inputs from warehouse.duckdb into a file (the load's gather_to_files),
any worker renders the 自评表, the project tables, the charts and both reports from that
file (render_unit_year), the writer records it. The rendering is the per-partition work
that can fan out; core, marts and publishing write warehouse.duckdb and stay on the one
writer whatever the number of workers. With --ranged it is one run over all unit-years
(one Dagster step an asset, as the load's ranged runs are) whose render step fans the
unit-years out over the workers as dask tasks (pipelines.distributed.fanout).

With --load: the whole load's seconds, each step's, the rebuild run's timeline (which
steps ran side by side) and the ratio 1 worker / 2 workers of the whole load and of the
per-partition stages (everything after the ingest run); and before each pair, what this
machine gives two processes at that moment (machine_ceiling: 2.0 on two cores of their
own, 1.2-2.1 measured on this machine's two virtual CPUs), the most any 2-worker ratio
could be; and how busy the machine's CPUs were (every process: MachineCpu) until the
marts are built, while only the writer has work, and after. With 1 worker on this
machine's two CPUs the second one is not idle: DuckDB's threads, the suites' processes,
PostgreSQL and the orchestrators use it, so the 1-worker figure already has more than a
CPU. --pin measures machines of one core instead: the writer with PostgreSQL, the
scheduler and the orchestrators on one CPU, each other worker on one of its own.
Otherwise printed: the wall seconds of the runs (the stack's start and the orchestrators' imports
excluded), the ratio 1 worker / 2 workers, the CPU the workers and the orchestrators used,
and the load average. Workers run each in a session of their own (as on their own
machines), so Linux's per-session CPU share does not cap them together; the machine is
shared all the same, so read the ratio with the load average beside it.
"""

import argparse
import contextlib
import os
import resource
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Workers and orchestrators import this file as bench.bench_distributed: with bench/ itself
# on sys.path (a script's folder is), `bench` would be bench/bench.py.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402

from pipelines.defs.reports import gather_to_files, inputs_path, render_one_file  # noqa: E402
from pipelines.distributed.executor import distributed_executor  # noqa: E402
from pipelines.distributed.tags import ANY_WORKER_STEP_TAGS, WRITER_STEP_TAGS  # noqa: E402

unit_year = dg.MultiPartitionsDefinition({
    "fiscal_year": dg.DynamicPartitionsDefinition(name="fiscal_year"),
    "unit": dg.DynamicPartitionsDefinition(name="unit"),
})


def _unit_year(context) -> tuple[str, int]:
    keys = context.partition_key.keys_by_dimension
    return keys["unit"], int(keys["fiscal_year"])


@dg.asset(partitions_def=unit_year, op_tags=WRITER_STEP_TAGS, group_name="fanout")
def report_inputs(context: dg.AssetExecutionContext) -> None:
    """Writer: the unit-year's report inputs from warehouse.duckdb, into a file of its own."""
    _gather([_unit_year(context)])


@dg.asset(partitions_def=unit_year, op_tags=ANY_WORKER_STEP_TAGS, deps=[report_inputs], group_name="fanout")
def rendered_reports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Any worker: the unit-year's reports from its inputs file (no DuckDB)."""
    from pipelines.settings import load_settings

    files, cpu_seconds = _render_file(inputs_path(load_settings().warehouse_dir, *_unit_year(context)))
    return dg.MaterializeResult(metadata={"files": files, "cpu_seconds": cpu_seconds,
                                          "worker": os.environ.get("FISCAL_WORKER_ROLE", "")})


@dg.asset(partitions_def=unit_year, op_tags=WRITER_STEP_TAGS, deps=[rendered_reports], group_name="fanout")
def reports_recorded(context: dg.AssetExecutionContext) -> None:
    """Writer: the unit-year is done; its inputs file goes."""
    from pipelines.settings import load_settings

    unit, year = _unit_year(context)
    inputs_path(load_settings().warehouse_dir, unit, year).unlink(missing_ok=True)


# --ranged: one run over every unit-year (BackfillPolicy.single_run), one Dagster step an
# asset; the render step fans the unit-years out over the workers as dask tasks
# (pipelines.distributed.fanout), not as Dagster steps.


def _unit_years(context) -> list[tuple[str, int]]:
    return [(k.keys_by_dimension["unit"], int(k.keys_by_dimension["fiscal_year"])) for k in context.partition_keys]


@dg.asset(partitions_def=unit_year, op_tags=WRITER_STEP_TAGS, group_name="fanout_ranged",
          backfill_policy=dg.BackfillPolicy.single_run())
def report_inputs_ranged(context: dg.AssetExecutionContext) -> None:
    """Writer: every unit-year's report inputs, one file each, gathered as write_reports
    gathers a scope (one connection, each figures query once for the scope: ScopeRows)."""
    _gather(_unit_years(context))


@dg.asset(partitions_def=unit_year, op_tags=ANY_WORKER_STEP_TAGS, deps=[report_inputs_ranged],
          group_name="fanout_ranged", backfill_policy=dg.BackfillPolicy.single_run())
def rendered_reports_ranged(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Any worker: the unit-years' reports, one dask task each over every worker."""
    from pipelines.distributed.fanout import map_on_workers
    from pipelines.settings import load_settings

    warehouse_dir = load_settings().warehouse_dir
    files = [inputs_path(warehouse_dir, unit, year) for unit, year in _unit_years(context)]
    results = map_on_workers(_render_file, files)
    if results is None:
        results = [_render_file(path) for path in files]
    return dg.MaterializeResult(metadata={"files": sum(n for n, _ in results),
                                          "cpu_seconds": sum(cpu for _, cpu in results)})


@dg.asset(partitions_def=unit_year, op_tags=WRITER_STEP_TAGS, deps=[rendered_reports_ranged],
          group_name="fanout_ranged", backfill_policy=dg.BackfillPolicy.single_run())
def reports_recorded_ranged(context: dg.AssetExecutionContext) -> None:
    from pipelines.settings import load_settings

    warehouse_dir = load_settings().warehouse_dir
    for unit, year in _unit_years(context):
        inputs_path(warehouse_dir, unit, year).unlink(missing_ok=True)


def _gather(unit_years) -> None:
    """The writer: the unit-years' report inputs into their files, as the load's gather step
    writes them (pipelines.defs.reports.gather_to_files)."""
    from pipelines.evaluation.rules import load_rules
    from pipelines.settings import load_settings
    from pipelines.warehouse.db import connect

    settings = load_settings()
    con = connect(settings.db_path, read_only=True)
    try:
        gather_to_files(con, settings, unit_years, load_rules(), lambda _: None)
    finally:
        con.close()


def _render_file(path: Path) -> tuple[int, float]:
    started = time.process_time()
    return len(render_one_file(path)), time.process_time() - started


ranged_job = dg.define_asset_job("report_fanout_ranged", selection=dg.AssetSelection.groups("fanout_ranged"),
                                 executor_def=distributed_executor)
fanout_job = dg.define_asset_job("report_fanout", selection=dg.AssetSelection.groups("fanout"),
                                 executor_def=distributed_executor)
defs = dg.Definitions(assets=[report_inputs, rendered_reports, reports_recorded, report_inputs_ranged,
                              rendered_reports_ranged, reports_recorded_ranged], jobs=[fanout_job, ranged_job])


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def machine_cpu_ticks() -> tuple[int, int]:
    """(busy, all) CPU ticks of the whole machine since it started (/proc/stat; idle and
    waiting for the disk are not busy)."""
    with open("/proc/stat") as stat:
        fields = [int(field) for field in stat.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


class MachineCpu:
    """How busy the machine's CPUs were, every process counted (the workers, PostgreSQL, the
    scheduler, the orchestrators, anything else): sampled by a thread while the `with`
    lasts, read afterwards over any span of it."""

    SAMPLE_SECONDS = 0.25

    def __init__(self):
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "MachineCpu":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            self.samples.append((time.time(), *machine_cpu_ticks()))
            if self._stop.wait(self.SAMPLE_SECONDS):
                self.samples.append((time.time(), *machine_cpu_ticks()))
                return

    def busy(self, start: float, end: float) -> float:
        """The share of all CPUs' time that was busy from `start` to `end` (time.time())."""
        first = min(self.samples, key=lambda sample: abs(sample[0] - start))
        last = min(self.samples, key=lambda sample: abs(sample[0] - end))
        return (last[1] - first[1]) / max(1, last[2] - first[2])


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # a process that ended meanwhile
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, waiting = [], [pid]
    while waiting:
        found.append(waiting.pop())
        waiting += children.get(found[-1], [])
    return found


def pin_services_with_writer(stack) -> set[int]:
    """--pin: PostgreSQL, the dask scheduler and this process (the orchestrators the load
    starts are its children) onto the writer's CPU, as they would share the writer's
    machine: with 1 worker the whole stack is one machine of one core, a second worker adds
    a second machine. Returns this process's CPUs before, to put back."""
    writer_cpus = os.sched_getaffinity(stack.worker_pids[0])
    postmaster = int((stack.postgres.data_dir / "postmaster.pid").read_text().split()[0])
    for service in (postmaster, stack.scheduler_pid):
        for pid in descendants(service):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, writer_cpus)
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, writer_cpus)
    return before


SPIN_LOOPS = 20_000_000


def _spin(cpu: int) -> float:
    """Seconds of a fixed pure-Python loop on one CPU."""
    os.sched_setaffinity(0, {cpu})
    started = time.perf_counter()
    total = 0
    for i in range(SPIN_LOOPS):
        total += i * i % 7
    return time.perf_counter() - started


def machine_ceiling() -> float:
    """The most two workers could gain over one on this machine just now: the same loop alone
    on one CPU, then at once on two (2 x alone / the slower of the two), the median of three.
    2.0 on two cores of their own; less on virtual CPUs that share a busy host."""
    import multiprocessing

    cpus = sorted(os.sched_getaffinity(0))[:2]
    if len(cpus) < 2:
        return 1.0
    ratios = []
    # Closed and joined, not terminated (the pool's `with`): twice, between two pairs, the
    # termination waited forever for a child blocked on the pool's queue lock. Spawned, not
    # forked: a child forked from this process copies its threads' locks (the CPU sampler's,
    # dask's client's).
    pool = multiprocessing.get_context("spawn").Pool(2)
    try:
        for _ in range(3):
            alone = pool.apply(_spin, (cpus[0],))
            together = pool.map(_spin, cpus)
            ratios.append(2 * alone / max(together))
    finally:
        pool.close()
        pool.join()
    return sorted(ratios)[1]


@dataclass
class RunSpans:
    job_name: str
    start: float  # the run's first event
    end: float  # its last
    steps: list[tuple[str, float, float]]  # (step key, STEP_START, STEP_SUCCESS), in start order


def run_spans(instance) -> list[RunSpans]:
    """Each run's first and last event and its succeeded steps' spans: the event log read once."""
    spans = []
    for run in instance.get_runs():
        records = list(instance.all_logs(run.run_id))
        started_at: dict[str, float] = {}
        steps = []
        for record in records:
            kind = record.dagster_event.event_type_value if record.dagster_event else None
            if kind == "STEP_START":
                started_at[record.step_key] = record.timestamp
            elif kind == "STEP_SUCCESS" and record.step_key in started_at:
                steps.append((record.step_key, started_at[record.step_key], record.timestamp))
        times = [record.timestamp for record in records]
        spans.append(RunSpans(run.job_name, min(times), max(times), sorted(steps, key=lambda step: step[1])))
    return spans


def step_seconds(runs: list[RunSpans]) -> dict[str, float]:
    """Each step's wall seconds (STEP_START to STEP_SUCCESS), summed over the runs."""
    steps: dict[str, float] = {}
    for run in runs:
        for key, start, end in run.steps:
            steps[key] = steps.get(key, 0.0) + end - start
    return steps


def step_timeline(runs: list[RunSpans], job_name: str) -> list[str]:
    """The steps of the job's runs as "step start+seconds", seconds from the run's start, in
    the order they started: which steps ran side by side."""
    return [f"{key.split('.')[-1]} {start - run.start:.1f}+{end - start:.1f}"
            for run in runs if run.job_name == job_name for key, start, end in run.steps]


def measure(workers: int, landing: Path, warehouse: Path, keys: list[str], concurrency: int,
            ranged: bool) -> tuple[float, float]:
    """Wall seconds of the runs and the workers' CPU seconds, on a fresh stack of `workers` workers."""
    from pipelines.distributed.runs import (
        local_stack,
        orchestrators,
        range_tags,
        reconstructable_job,
        run_many,
        run_partitions,
    )

    job = reconstructable_job("report_fanout_ranged" if ranged else "report_fanout", "bench.bench_distributed")
    with local_stack(workers=workers, landing_dir=landing, warehouse_dir=warehouse,
                     preload="bench.bench_distributed") as stack, stack.instance() as instance:
        instance.add_dynamic_partitions("fiscal_year", sorted({k.split("|")[0] for k in keys}))
        instance.add_dynamic_partitions("unit", sorted({k.split("|")[1] for k in keys}))
        with orchestrators(concurrency, job) as pool:
            cpu_before = sum(process_cpu(pid) for pid in stack.worker_pids)
            started = time.perf_counter()
            if ranged:  # one run over every key: the range from the first to the last
                ok = run_many(job, [range_tags(keys[0], keys[-1])], instance, stack.scheduler_address, concurrency,
                              pool=pool)
                outcome = {"all": ok[0]}
            else:
                outcome = run_partitions(job, keys, instance, stack.scheduler_address, concurrency=concurrency,
                                         pool=pool)
            seconds = time.perf_counter() - started
            cpu = sum(process_cpu(pid) for pid in stack.worker_pids) - cpu_before
        steps = step_seconds(run_spans(instance))
        print("  steps (wall seconds, summed over runs): " + ", ".join(f"{k} {v:.1f}" for k, v in steps.items()))
        failed = [key for key, ok in outcome.items() if not ok]
        if failed:
            sys.exit(f"{len(failed)} run(s) failed, e.g. {failed[:3]}; logs in {stack.folder}")
    return seconds, cpu


def measure_load(workers: int, landing: Path, warehouse: Path, pin: bool = False) -> tuple[float, float, dict[str, float]]:
    """A whole load (ingest, then the partitioned rebuild: core, marts and checks, Parquet,
    reports' gather, render and record) through distributed_load on a fresh warehouse:
    wall seconds, the workers' CPU seconds and each step's wall seconds."""
    import shutil

    from pipelines.defs.jobs import INGEST_JOB, REBUILD_JOB
    from pipelines.distributed.load import distributed_load
    from pipelines.distributed.runs import local_stack

    shutil.rmtree(warehouse, ignore_errors=True)
    with local_stack(workers=workers, landing_dir=landing, warehouse_dir=warehouse, pin=pin,
                     preload="pipelines.distributed.definitions") as stack, stack.instance() as instance:
        own_cpus = pin_services_with_writer(stack) if pin else None
        try:
            cpu_before = sum(process_cpu(pid) for pid in stack.worker_pids)
            started = time.perf_counter()
            with MachineCpu() as machine:
                load = distributed_load(instance, stack.scheduler_address)
            seconds = time.perf_counter() - started
            ended = time.time()
            cpu = sum(process_cpu(pid) for pid in stack.worker_pids) - cpu_before
        finally:
            if own_cpus is not None:
                os.sched_setaffinity(0, own_cpus)
        if not load.success:
            sys.exit(f"the distributed load failed; logs in {stack.folder}")
        runs = run_spans(instance)
        steps = step_seconds(runs)
        # The per-partition stages: everything after the ingest run (what to rebuild, the
        # rebuild run's creation with its planned events, the run itself).
        ingest_end = max(run.end for run in runs if run.job_name == INGEST_JOB)
        steps["after the ingest"] = ended - ingest_end
        print("  rebuild run's steps (start+seconds from the run's start): "
              + ", ".join(step_timeline(runs, REBUILD_JOB)), flush=True)
        # Until the marts are built only the writer has work (and the suites' processes it
        # starts); after, every worker has (the check, the rendering, the exports).
        marts_end = max(end for run in runs if run.job_name == REBUILD_JOB
                        for key, _, end in run.steps if key == "marts")
        print(f"  the machine's CPUs busy: {machine.busy(ingest_end, marts_end):.0%} from the ingest's end until the "
              f"marts are built ({marts_end - ingest_end:.1f} s), {machine.busy(marts_end, ended):.0%} after "
              f"({ended - marts_end:.1f} s)", flush=True)
    return seconds, cpu, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=30, help="units of the county (2 years each)")
    parser.add_argument("--runs", type=int, default=1, help="measure 1 and 2 workers this many times each")
    parser.add_argument("--concurrency", type=int, default=4, help="runs in flight (orchestrator processes)")
    parser.add_argument("--ranged", action="store_true",
                        help="one run over all unit-years; the render step fans out as dask tasks (fanout.py)")
    parser.add_argument("--load", action="store_true",
                        help="the whole load (pipelines.distributed.load) on a fresh warehouse, 1 and 2 workers")
    parser.add_argument("--pin", action="store_true",
                        help="--load: as machines of one core: each worker on a CPU of its own, PostgreSQL, the "
                             "scheduler and the orchestrators on the writer's")
    parser.add_argument("--reuse", action="store_true", help="keep the landing folder and warehouse of an earlier run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    from bench.county import generate_county

    base = args.out / f"distributed-county-{args.scale}"
    landing, warehouse = base / "landing", base / "warehouse"
    # --load loads the landing folder itself, on fresh warehouses: it needs no in-process load.
    reuse = args.reuse and (landing if args.load else warehouse / "warehouse.duckdb").exists()
    if not reuse:
        print(f"generating a county of {args.scale} units x 2 years ...", flush=True)
        generate_county(landing, args.scale)
    if args.load:
        times: dict[int, list[float]] = {1: [], 2: []}
        after: dict[int, list[float]] = {1: [], 2: []}
        ceilings = []
        for pair in range(args.runs):
            ceilings.append(machine_ceiling())
            print(f"this machine now: two processes do {ceilings[-1]:.2f}x the work of one (machine_ceiling)",
                  flush=True)
            # 1, 2, then 2, 1: a machine that slows or speeds up over the pairs favours neither side
            for workers in (1, 2) if pair % 2 == 0 else (2, 1):
                seconds, cpu, steps = measure_load(workers, landing, base / f"warehouse-{workers}", args.pin)
                times[workers].append(seconds)
                after[workers].append(steps["after the ingest"])
                print(f"{workers} worker(s): whole load {seconds:.1f} s, workers' CPU {cpu:.1f} s; load average "
                      f"{loadavg()}\n  steps (wall seconds): " + ", ".join(f"{k} {v:.1f}" for k, v in steps.items()),
                      flush=True)
        for label, seconds_by_workers in (("whole load", times), ("the per-partition stages (after the ingest)", after)):
            ratios = [one / two for one, two in zip(seconds_by_workers[1], seconds_by_workers[2])]
            print(f"2 workers vs 1, {label}: " + ", ".join(f"{ratio:.2f}x" for ratio in ratios)
                  + f" (median {statistics.median(ratios):.2f}x)")
        print("the machine's ceiling before each pair: " + ", ".join(f"{c:.2f}x" for c in ceilings))
        return
    if not reuse:
        print("loading it in-process ...", flush=True)
        import shutil
        import subprocess

        shutil.rmtree(warehouse, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "pipelines.cli", "load", "--landing", str(landing), "--warehouse",
                        str(warehouse), "--quiet"], cwd=ROOT, check=False)
    from pipelines.warehouse.db import connect
    from pipelines.warehouse.transform import all_unit_years

    con = connect(warehouse / "warehouse.duckdb", read_only=True)
    try:
        pairs = sorted(all_unit_years(con), key=lambda pair: (pair[1], pair[0]))
    finally:
        con.close()
    keys = [f"{year}|{unit}" for unit, year in pairs]
    print(f"{len(keys)} unit-years; load average {loadavg()}", flush=True)
    results: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.runs):
        for workers in (1, 2):
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds, cpu = measure(workers, landing, warehouse, keys, 1 if args.ranged else args.concurrency,
                                   args.ranged)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            orchestration = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
            results[workers].append(seconds)
            print(f"{workers} worker(s): {seconds:.1f} s for {len(keys)} unit-years ({seconds / len(keys):.2f} s each), "
                  f"workers' CPU {cpu:.1f} s ({cpu / seconds * 100:.0f} % of a core), orchestrators' and "
                  f"stack's CPU {orchestration:.1f} s; load average {loadavg()}", flush=True)
    ratios = [one / two for one, two in zip(results[1], results[2])]
    print("2 workers vs 1: " + ", ".join(f"{r:.2f}x" for r in ratios))


if __name__ == "__main__":
    main()
