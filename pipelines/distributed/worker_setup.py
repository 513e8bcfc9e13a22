"""Loaded by every dask worker when it starts (`dask worker … --preload
pipelines.distributed.worker_setup`).

- It imports Dagster, dagster-postgres and the code location (FISCAL_WORKER_PRELOAD,
  default pipelines.definitions) before the worker joins the scheduler: otherwise the
  first step each worker runs pays those imports (18 s of a first run here, on a loaded
  machine), and the first partitions look slow for no reason of their own. It imports
  what the fanned-out tasks run too (pipelines.workers.TASK_MODULES: the rendering, the
  XLSX exports), which the steps import lazily: on the writer that import fell inside the
  first run's gathering step (0.3-0.7 s), on the others in their first rendering task.
- It starts the fork server of the worker's processes (pipelines.workers: Great
  Expectations imported, seconds of one core): each worker validates a share of the
  expectation suites in them (pipelines.quality.runner), and would otherwise wait for
  that import inside the run.
- On every worker but the writer (FISCAL_WORKER_ROLE is not `writer`), opening a file
  named warehouse.duckdb raises at once: a step that opens the warehouse and was not
  routed to the writer fails loudly instead of competing for DuckDB's one-writer lock.
  The suites' processes are the fork server's children, not this process: they open the
  file read-only, while the writer has let go of it (pipelines.warehouse.db.Writer).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from pipelines.workers import TASK_MODULES, start_server

WAREHOUSE_FILE = "warehouse.duckdb"
PRELOAD_ENV = "FISCAL_WORKER_PRELOAD"
ROLE_ENV = "FISCAL_WORKER_ROLE"


class WarehouseOpenedOffWriter(RuntimeError):
    """A step on a worker that is not the writer tried to open warehouse.duckdb."""


def guard_warehouse_file() -> None:
    """Make duckdb.connect refuse warehouse.duckdb in this process."""
    import duckdb

    if getattr(duckdb.connect, "_fiscal_guard", False):
        return
    original = duckdb.connect

    def connect(database=":memory:", *args, **kwargs):
        if isinstance(database, (str, Path)) and Path(str(database)).name == WAREHOUSE_FILE:
            raise WarehouseOpenedOffWriter(
                f"{database}: this worker is not the writer and never opens the warehouse file; a step that does "
                "must not carry the op tag fiscal/runs_on: any_worker (pipelines.distributed.tags)"
            )
        return original(database, *args, **kwargs)

    connect._fiscal_guard = True
    duckdb.connect = connect


def dask_setup(worker) -> None:  # called by dask when the worker starts, before it joins the scheduler
    if os.environ.get(ROLE_ENV) != "writer":
        guard_warehouse_file()
    modules = ["dagster", "dagster_postgres", *os.environ.get(PRELOAD_ENV, "pipelines.definitions").split(","),
               *TASK_MODULES]
    for module in filter(None, (name.strip() for name in modules)):
        importlib.import_module(module)
    start_server()
