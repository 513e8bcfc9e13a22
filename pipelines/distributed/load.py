"""A load on the distributed executor: the same runs as the CLI's in-process load
(pipelines.defs.jobs.execute_load) — the ingest, then the partitioned rebuild over the
unit-years the ingest left to rebuild, one ranged run per rectangle of keys — launched
with execute_job on the jobs of pipelines.distributed.definitions, so that every step
runs on a dask worker: the ones that open warehouse.duckdb on the writer.

What to rebuild is read on the writer too (a dask task holding the writer resource), so
that the process that orchestrates never opens the DuckDB file and can run on any
machine that reaches the scheduler and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
from dask.distributed import Client

from pipelines.defs.jobs import INGEST_JOB, REBUILD_JOB, TRIGGER_CLI, rebuild_scope
from pipelines.defs.partitions import rectangles_on
from pipelines.defs.run_tags import TAG_FULL_REFRESH, TAG_LOAD_ID, TAG_TRIGGER
from pipelines.distributed.definitions import MODULE
from pipelines.distributed.runs import orchestrators, reconstructable_job, run_job, run_many
from pipelines.distributed.tags import WRITER_RESOURCE
from pipelines.settings import load_settings
from pipelines.warehouse import load as stages
from pipelines.warehouse.db import connect


@dataclass
class DistributedLoad:
    load_id: str
    ingest_success: bool = False
    unit_years: set[tuple[str, int]] = field(default_factory=set)
    rebuild_success: list[bool] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.ingest_success and all(self.rebuild_success)


def rebuild_scope_on_writer(load_id: str) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """On the writer: pipelines.defs.jobs.rebuild_scope, as the in-process load does it."""
    settings = load_settings()
    con = connect(settings.db_path)
    try:
        return rebuild_scope(con, settings, load_id)
    finally:
        con.close()


def distributed_load(instance: dg.DagsterInstance, scheduler_address: str, *, full_refresh: bool = False,
                     load_id: str | None = None, concurrency: int = 1) -> DistributedLoad:
    """Ingest, then rebuild what it marked, every step on the scheduler's workers.

    `concurrency`: rectangle runs at a time. 1 (the default) keeps the in-process load's
    order, one run after the other; the runs of one load share its record in meta.loads.
    As in the in-process load, a failed run starts no further one (what it left marked is
    the next load's to rebuild)."""
    load = DistributedLoad(load_id or stages.new_load_id())
    tags = {TAG_LOAD_ID: load.load_id, TAG_TRIGGER: TRIGGER_CLI}
    ingest_tags = {**tags, **({TAG_FULL_REFRESH: "true"} if full_refresh else {})}
    rebuild_job = reconstructable_job(REBUILD_JOB, MODULE)
    # The rebuild runs' orchestrators import Dagster and the code location while the ingest runs.
    with orchestrators(concurrency, rebuild_job, wait=False) as pool:
        load.ingest_success = run_job(reconstructable_job(INGEST_JOB, MODULE), instance, scheduler_address,
                                      ingest_tags).success
        if not load.ingest_success:
            return load
        with Client(scheduler_address, timeout=30) as client:
            future = client.submit(rebuild_scope_on_writer, load.load_id, resources={WRITER_RESOURCE: 1}, pure=False)
            load.unit_years, holding_data = future.result()
        rectangles = rectangles_on(instance, load.unit_years, holding_data)
        load.rebuild_success = run_many(rebuild_job, [{**tags, **r.tags()} for r in rectangles], instance,
                                        scheduler_address, concurrency, pool=pool, stop_after_failure=True)
    return load
