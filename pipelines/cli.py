"""`fiscal-warehouse load | report | status`: the warehouse without the UI.

Exit codes (contract §1): 0 success; 1 a blocking check failed (or the run failed);
2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.bi.commands import add_bi_commands
from pipelines.bi.publishing import bi_work_pending
from pipelines.cli_common import EXIT_BLOCKING, EXIT_OK, settings_from_args, usage_error
from pipelines.evaluation.rules import RulesError, load_rules
from pipelines.landing.discovery import discover
from pipelines.settings import WORKERS_ENV
from pipelines.warehouse.db import WarehouseBusy, connect, table_exists
from pipelines.warehouse.schema import schema_fingerprint
from pipelines.warehouse.status import format_status, unmatched_scope, warehouse_status
from pipelines.workers import start_server, stop_server


class Progress:
    """One updating status line on a terminal; plain timestamped lines otherwise."""

    def __init__(self, stream=sys.stderr, quiet: bool = False):
        self.stream = stream
        self.quiet = quiet
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.perf_counter()
        self._open_line = False

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.started
        if self.tty:
            text = f"[{elapsed:6.1f}s] {message.strip()}"
            width = max(20, os.get_terminal_size(self.stream.fileno()).columns - 1)
            self.stream.write("\r" + text[:width].ljust(width))
            self._open_line = True
        else:
            self.stream.write(f"{datetime.now():%H:%M:%S} {message}\n")
        self.stream.flush()

    def done(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False


def _configuration_problem(settings) -> str | None:
    """What in the configuration would make a run fail before it reads anything."""
    try:
        load_rules()
    except RulesError as error:
        return str(error)
    try:
        settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.warehouse_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        return f"warehouse folder {settings.warehouse_dir} is not writable: {error}"
    return None


# The DAGSTER_HOME values this process set itself (Dagster reads the variable, and worker
# processes inherit it): a later command in the same process, for another warehouse, must
# use that warehouse's instance, not the one the variable still names.
_HOMES_SET_HERE: set[str] = set()


def _instance(settings):
    """A persistent Dagster instance inside the warehouse folder unless DAGSTER_HOME is set."""
    import dagster as dg  # lazy: seconds to import, and a no-change load or status never needs it

    given = os.environ.get("DAGSTER_HOME")
    chosen_here = not given or given in _HOMES_SET_HERE
    home = Path(settings.dagster_home if chosen_here else given)
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    if chosen_here:
        _HOMES_SET_HERE.add(str(home))
    from filelock import FileLock

    from pipelines.defs.instance_storage import ensure_local_instance_yaml  # lazy: imports Dagster

    # Two loads started together on a new DAGSTER_HOME would both create Dagster's
    # SQLite tables, and one fails ("table run_tags already exists").
    with FileLock(home / ".instance.lock"):
        ensure_local_instance_yaml(home)
        return dg.DagsterInstance.get()


def definitions_for(settings, progress):
    """The code location's assets, checks and jobs with this command's paths and progress printer."""
    import dagster as dg  # lazy: seconds to import, and a no-change load or status never needs it

    from pipelines.definitions import ALL_ASSETS, ALL_CHECKS, JOBS  # lazy: imports Dagster
    from pipelines.defs.resources import WarehouseResource  # lazy: imports Dagster

    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=JOBS,
        resources={
            "warehouse": WarehouseResource(
                landing_dir=str(settings.landing_dir), warehouse_dir=str(settings.warehouse_dir)
            ),
            "progress": dg.ResourceDefinition.hardcoded_resource(progress),
        },
    )


def materialize(settings, progress, **load) -> tuple[bool, str, set]:
    """Run a load as the code location's named jobs (`ingest`, then `rebuild_unit_years` over
    the unit-years to rebuild; or `rebuild_reports`) in this process; returns (success,
    load id, the unit-years of the partitioned runs)."""
    from pipelines.defs.jobs import execute_load  # lazy: imports Dagster
    from pipelines.warehouse.load import new_load_id  # lazy: the ingest behind it brings pyarrow (~1 s)

    load_id = new_load_id()
    progress("starting Dagster run")
    if _own_process:
        _out_of_the_collectors_sight(collect_first=True)
    runs = execute_load(definitions_for(settings, progress), _instance(settings), settings, load_id,
                        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}}, **load)
    if not runs.success:
        for event in runs.all_events:
            if event.is_step_failure:
                error = event.step_failure_data.error
                print(f"step {event.step_key} failed: {error.message.strip() if error else ''}", file=sys.stderr)
    return runs.success, load_id, runs.unit_years


def _only(args):
    """--unit / --year as a filter of unit-years (None: no filter)."""
    if not (args.unit or args.year):
        return None
    units, years = set(args.unit or ()), set(args.year or ())
    return lambda unit_years: {(u, y) for u, y in unit_years
                               if (not units or u in units) and (not years or y in years)}


def _run(settings, quiet: bool, **load):
    """Materialize and read back the load's summary; returns (exit code or None, success, summary, unit-years)."""
    from pipelines.warehouse.load import read_summary  # lazy: the ingest behind it brings pyarrow (~1 s)

    progress = Progress(quiet=quiet)
    try:
        success, load_id, unit_years = materialize(settings, progress, **load)
    except WarehouseBusy as error:
        progress.done()
        return usage_error(str(error)), False, None, set()
    progress.done()
    con = connect(settings.db_path)
    try:
        summary = read_summary(con, load_id)
    except KeyError:
        print("the run failed before it started: see the errors above", file=sys.stderr)
        return EXIT_BLOCKING, False, None, set()
    finally:
        con.close()
    summary.seconds = time.perf_counter() - progress.started
    return None, success, summary, unit_years


def _exit_code(success: bool, summary) -> int:
    if not success:
        print("the run did not finish: see the failed step above", file=sys.stderr)
        return EXIT_BLOCKING
    if summary.bi_failed:  # the Parquet marts are published; the mirror catches up next load
        return EXIT_BLOCKING
    return EXIT_BLOCKING if summary.blocking_failures else EXIT_OK


def _nothing_to_load(settings) -> bool:
    """True when a load would find nothing to do: the warehouse was built by these models,
    no unit-year waits to be rebuilt (meta.dirty) or staged, and the landing folder holds
    exactly the files meta.files has, by size and modification time (as the ingest
    compares them). Then the load need not import Dagster or GX, start a run or write a
    file. A warehouse another process is writing is not looked at: the load waits its turn."""
    if not settings.db_path.exists():
        return False
    try:
        con = duckdb.connect(str(settings.db_path), read_only=True)
    except duckdb.Error:
        return False
    try:
        if not all(table_exists(con, t) for t in ("meta.files", "meta.sources", "meta.dirty", "meta.schema_version")):
            return False
        if con.execute("SELECT max(version) FROM meta.schema_version").fetchall()[0][0] != schema_fingerprint():
            return False
        if con.execute("SELECT (SELECT count(*) FROM meta.dirty) + (SELECT count(*) FROM meta.sources WHERE NOT staged)"
                       ).fetchall()[0][0]:
            return False
        if bi_work_pending(con, settings.warehouse_dir):  # the mirror to catch up, bi.duckdb to build
            return False
        known = set(con.execute("SELECT source_file, size_bytes, mtime_ns FROM meta.files").fetchall())
    finally:
        con.close()
    return {(f.source_file, f.size, f.mtime_ns) for f in discover(settings.landing_dir)} == known


def _use_workers(args) -> None:
    if getattr(args, "workers", None):
        os.environ[WORKERS_ENV] = str(args.workers)


def cmd_load(args) -> int:
    settings = settings_from_args(args)
    if not settings.landing_dir.is_dir():
        return usage_error(f"landing folder {settings.landing_dir} does not exist (set FISCAL_LANDING_DIR)")
    if problem := _configuration_problem(settings):
        return usage_error(problem)
    if not (args.full_refresh or args.unit or args.year) and _nothing_to_load(settings):
        print(f"fiscal-warehouse load: nothing changed in {settings.landing_dir} since the last load; nothing to do")
        return EXIT_OK
    _use_workers(args)
    from pipelines.warehouse.load import format_summary  # lazy: the ingest behind it brings pyarrow (~1 s)

    if args.scheduler:
        return _distributed_load(settings, args)
    # There is work here: the fork server's imports (GX for the checks' workers, the report
    # writers) run on another core while this process imports Dagster and ingests.
    start_server()
    failed, success, summary, unit_years = _run(settings, args.quiet, full_refresh=args.full_refresh, only=_only(args))
    if failed is not None:
        return failed
    print(format_summary(summary))
    # --unit/--year that match nothing, even after the ingest read the landing folder: a
    # typo must not pass for a load that rebuilt the unit (what changed stays marked).
    if (args.unit or args.year) and not unit_years and (problem := unmatched_scope(settings, args.unit, args.year)):
        return usage_error(problem)
    return _exit_code(success, summary)


def _distributed_load(settings, args) -> int:
    """`load --scheduler ADDRESS`: the same runs on a dask cluster's workers
    (pipelines.distributed.load), recorded in the instance of DAGSTER_HOME, which must be on
    PostgreSQL (workers on other machines reach it). The workers read the landing and
    warehouse folders from their own environment (docs/deploy.md): they must be these."""
    if args.unit or args.year:
        return usage_error("--scheduler rebuilds what the ingest marked: --unit/--year are for a local load")
    if not os.environ.get("DAGSTER_HOME"):
        return usage_error("--scheduler needs DAGSTER_HOME, with a dagster.yaml on PostgreSQL (docs/deploy.md)")
    import dagster as dg  # lazy: seconds to import

    instance = dg.DagsterInstance.get()
    if "postgres" not in type(instance.run_storage).__module__:
        return usage_error(f"--scheduler: the instance of DAGSTER_HOME={os.environ['DAGSTER_HOME']} is not on "
                           "PostgreSQL (workers on other machines could not record their steps): docs/deploy.md")
    from pipelines.distributed.load import distributed_load
    from pipelines.warehouse.load import format_summary, read_summary

    progress = Progress(quiet=args.quiet)
    progress(f"starting the distributed load on {args.scheduler}")
    load = distributed_load(instance, args.scheduler, full_refresh=args.full_refresh)
    progress.done()
    con = connect(settings.db_path, read_only=True)
    try:
        summary = read_summary(con, load.load_id)
    except KeyError:
        print("the ingest failed before it started: see the run in the UI", file=sys.stderr)
        return EXIT_BLOCKING
    finally:
        con.close()
    summary.seconds = time.perf_counter() - progress.started
    print(format_summary(summary))
    return _exit_code(load.success, summary)


def cmd_report(args) -> int:
    settings = settings_from_args(args)
    if not settings.db_path.exists():
        return usage_error(f"no warehouse at {settings.db_path}: run `fiscal-warehouse load` first")
    # An unknown unit or year is answered at once, with the ones that exist: before Dagster
    # is imported or a run started (seconds), not after the run found nothing to rebuild.
    if (args.unit or args.year) and (problem := unmatched_scope(settings, args.unit, args.year)):
        return usage_error(problem)
    if problem := _configuration_problem(settings):
        return usage_error(problem)
    _use_workers(args)
    failed, success, summary, unit_years = _run(settings, args.quiet, reports_only=True, only=_only(args))
    if failed is not None:
        return failed
    if not unit_years:
        return usage_error("no unit-year in the warehouse matches --unit/--year")
    for path in summary.reports_written:
        print(path)
    return _exit_code(success, summary)


def cmd_status(args) -> int:
    settings = settings_from_args(args)
    if not settings.db_path.exists():
        return usage_error(f"no warehouse at {settings.db_path}: run `fiscal-warehouse load` first")
    print(format_status(warehouse_status(settings)))
    return EXIT_OK


def _worker_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: at least 1 worker")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fiscal-warehouse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--landing", help="landing folder (default: $FISCAL_LANDING_DIR, else the bundled demo data)")
        p.add_argument("--warehouse", help="warehouse folder (default: $FISCAL_WAREHOUSE_DIR, else ./warehouse)")
        p.add_argument("--quiet", action="store_true", help="no progress output, only the summary")

    load = sub.add_parser("load", help="load the landing folder: ingest, check, publish the marts and reports")
    common(load)
    load.add_argument("--unit", action="append", help="rebuild and publish only this unit (repeatable)")
    load.add_argument("--year", action="append", type=int, help="rebuild and publish only this fiscal year (repeatable)")
    load.add_argument("--full-refresh", action="store_true", help="re-read every landing file and rebuild everything")
    load.add_argument("--scheduler", metavar="ADDRESS",
                      help="run the load's steps on this dask scheduler's workers (tcp://host:8786) instead of in "
                           "this process; needs DAGSTER_HOME on PostgreSQL (docs/deploy.md)")
    load.add_argument("--workers", type=_worker_count, help="processes for the per-unit-year work (sets FISCAL_WORKERS; "
                      "default: $FISCAL_WORKERS, else one per CPU it may run on)")
    load.set_defaults(handler=cmd_load)

    report = sub.add_parser("report", help="rebuild the evaluation tables and reports from the existing warehouse")
    common(report)
    report.add_argument("--unit", action="append", help="only this unit (repeatable)")
    report.add_argument("--year", action="append", type=int, help="only this fiscal year (repeatable)")
    report.add_argument("--workers", type=_worker_count, help="processes for the reports (sets FISCAL_WORKERS; "
                        "default: $FISCAL_WORKERS, else one per CPU it may run on)")
    report.set_defaults(handler=cmd_report)

    status = sub.add_parser("status", help="partitions with their last load, row counts, failed checks, stale inputs")
    common(status)
    status.set_defaults(handler=cmd_status)


    add_bi_commands(sub, common)
    return parser


_own_process = False  # set by run(): this process ends with the command


def _out_of_the_collectors_sight(collect_first: bool = False) -> None:
    """Every object alive now is left out of the garbage collector's later passes
    (gc.freeze): Dagster's modules and definitions, ~130,000 objects, were scanned by every
    full collection of a load (0.6 s at the big shape) and once more, for 1.2-1.7 s after the
    summary was printed, as the interpreter exited. Only in a process of its own: in one
    that goes on (the tests call main()), what is frozen and later dropped is never
    collected, while the process's exit frees everything at once."""
    if collect_first:
        gc.collect()
    gc.freeze()


def run() -> None:
    """The `fiscal-warehouse` command: main() in a process that ends with it."""
    global _own_process
    _own_process = True
    code = main()
    stop_server()
    _out_of_the_collectors_sight()
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_BLOCKING


if __name__ == "__main__":
    run()
