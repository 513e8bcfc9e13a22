"""The worker processes that per-unit-year work fans out to (the reports, the XLSX exports):
how many a scope gets, and the pool they run in.

Workers are forked from a fork server that imported the modules whose work they do once (a
fresh Python with python-docx, lxml, Pillow and xlsxwriter costs about half a second of
CPU, what three unit-years cost to render), not forked from the writer itself: the writer
has DuckDB's and Dagster's threads running, and a child forked from it could inherit a lock
one of them holds. The server lives as long as the writer process, so later pools start at
once; it is started with every module below whichever pool comes first.
By default a scope gets one worker per UNIT_YEARS_PER_WORKER unit-years, so that the
demo's two unit-years are done in-process and a county's hundreds on every core.

The server also imports Great Expectations (seconds of one core), for the checks' workers
(pipelines.quality.runner): a load starts the server early (start_server: the CLI once it
knows there is work, the ingest step as it begins to read), so that the import runs on
another core while the writer works, not in the writer, whose threads would share one
core's worth of Python with it.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver, get_context

from pipelines.settings import worker_count

UNIT_YEARS_PER_WORKER = 4
# What the per-unit-year tasks run: the rendering (python-docx, lxml, Pillow, matplotlib) and
# the XLSX exports (xlsxwriter), ~1.3 s of one core to import. The dask workers import them
# when they start too (pipelines.distributed.worker_setup).
TASK_MODULES = ["pipelines.evaluation.outputs", "pipelines.bi.xlsx"]
# Not __main__: the writer's script (the CLI imports Dagster) is not the workers' business.
PRELOADED = [*TASK_MODULES, "pipelines.quality.runner", "pipelines.quality.gx_duckdb",
             "pipelines.forkserver_heap"]  # last: it freezes what the others imported


def workers_for(unit_years: int, workers: int | None = None) -> int:
    """How many processes do the work of `unit_years`: `workers`, by default
    `worker_count()` (FISCAL_WORKERS, else one per usable CPU) but no more than one per
    UNIT_YEARS_PER_WORKER unit-years; at least one, never more than the unit-years."""
    if workers is None:
        workers = min(worker_count(), unit_years // UNIT_YEARS_PER_WORKER)
    return max(1, min(workers, unit_years))


def _forkserver_context():
    context = get_context("forkserver")
    context.set_forkserver_preload(PRELOADED)
    return context


def start_server() -> None:
    """Start the fork server now, if it is not running: it imports PRELOADED on its own
    core while this process goes on. Returns at once."""
    _forkserver_context()
    forkserver.ensure_running()


def process_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=_forkserver_context())


def stop_server() -> None:
    """End the fork server now, if this process started one and it runs; for the end of a
    command, when no pool is left. Ended by SIGTERM, not asked to stop: asked, it winds its
    interpreter down (GX, python-docx, lxml imported: 0.7-0.8 s) while it still holds the
    command's stdout and stderr open, so that whoever reads them through a pipe (CI, `| tee`,
    the benchmark) waits for it. The children it forked exit by os._exit; it has none left."""
    server = forkserver._forkserver  # the module's own instance: what ensure_running() started
    with server._lock:
        if server._forkserver_pid is None:
            return
        try:
            os.kill(server._forkserver_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        server._stop_unlocked()  # closes its pipe, reaps it, removes its socket
