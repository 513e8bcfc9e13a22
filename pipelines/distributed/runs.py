"""Running jobs on the distributed executor: one Dagster run per partition, several at once,
their steps on the dask workers; and the whole stack on one machine for tests and benchmarks.

A Dagster run of a partitioned job does one partition (or one range) step by step; the
fan-out across unit-years is several runs at a time, each orchestrated by one of a few
orchestrator processes (as `dagster job execute` would, without a Python start per run)
and each sending its steps to the scheduler. The writer resource serializes the
writer steps of all of them.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from pipelines.distributed.cluster import start_cluster, stop_cluster, wait_for_workers, worker_environment
from pipelines.distributed.executor import executor_run_config
from pipelines.distributed.instance import write_instance_yaml
from pipelines.distributed.postgres import PostgresServer, free_port, start_postgres, stop_postgres
from pipelines.settings import PROJECT_DIR


def reconstructable_job(job_name: str, module: str = "pipelines.definitions", attribute: str = "defs"):
    """The job `job_name` of the code location `module.attribute`, as workers rebuild it
    (they import the module themselves: steps carry the pointer, not the code)."""
    repository = ReconstructableRepository.for_module(module, attribute, working_directory=str(PROJECT_DIR))
    return repository.get_reconstructable_job(job_name)


def run_job(job, instance: dg.DagsterInstance, scheduler_address: str, tags: Mapping[str, str] | None = None,
            run_config: Mapping | None = None) -> dg.ExecutionResult:
    """One run of a reconstructable job on the distributed executor; returns when it is done."""
    config = {**(run_config or {}), **executor_run_config(scheduler_address)}
    return dg.execute_job(job, instance, run_config=config, tags=dict(tags or {}))


def run_partitions(job, partition_keys: Sequence[str], instance: dg.DagsterInstance, scheduler_address: str,
                   tags: Mapping[str, str] | None = None, concurrency: int = 4,
                   run_config: Mapping | None = None, pool=None) -> dict[str, bool]:
    """A run per partition key ("2021|117001" for fiscal year × unit), `concurrency` at a
    time (or on `pool`, see run_many); returns partition key -> success."""
    keys = list(partition_keys)
    tag_sets = [{**(tags or {}), **partition_tags(job, key)} for key in keys]
    return dict(zip(keys, run_many(job, tag_sets, instance, scheduler_address, concurrency, run_config, pool)))


def range_tags(start: str, end: str) -> dict[str, str]:
    """The tags of a run over the partition range start..end (a rectangle of years × units)."""
    return {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}


def run_many(job, tag_sets: Sequence[Mapping[str, str]], instance: dg.DagsterInstance, scheduler_address: str,
             concurrency: int = 4, run_config: Mapping | None = None, pool=None, *,
             stop_after_failure: bool = False) -> list[bool]:
    """A run per tag set, `concurrency` at a time (`pool` has at least that many processes);
    returns each run's success, in order. `stop_after_failure`: once a run has failed, start
    no other (the ones already running finish); the list then ends with the runs that ran.

    Each run is orchestrated in one of `concurrency` orchestrator processes (`pool`, from
    `orchestrators`, else started for this call): Dagster's run orchestration is not
    thread-safe (two runs orchestrated by threads of one process deadlocked here on the
    logging module's lock, held by one thread's event-log write while the other's wrote
    too). The orchestrators only wait on dask; the steps' work is on the workers."""
    if not tag_sets:
        return []
    reference = instance.get_ref()
    arguments = [(job, reference, scheduler_address, dict(tags), run_config) for tags in tag_sets]
    if pool is not None:
        return _run_on(pool, arguments, concurrency, stop_after_failure)
    with orchestrators(min(concurrency, len(arguments))) as own:
        return _run_on(own, arguments, concurrency, stop_after_failure)


def _run_on(pool, arguments: list, concurrency: int, stop_after_failure: bool) -> list[bool]:
    """At most `concurrency` runs submitted to the pool at a time, so that after a failure
    the ones not yet submitted can be left unstarted."""
    outcomes: list[bool | None] = [None] * len(arguments)
    running: dict = {}
    waiting = list(enumerate(arguments))
    failed = False
    while waiting or running:
        while waiting and len(running) < max(1, concurrency) and not (failed and stop_after_failure):
            index, argument = waiting.pop(0)
            running[pool.submit(_orchestrate, argument)] = index
        if not running:
            break
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            outcomes[running.pop(future)] = success = future.result()
            failed = failed or not success
    return [outcome for outcome in outcomes if outcome is not None]  # the runs not started are a suffix


@contextlib.contextmanager
def orchestrators(count: int, job=None, wait: bool = True):
    """`count` orchestrator processes (a process pool), each of which has imported
    Dagster, dask's client and `job`'s code location (about 10 s of a first run otherwise)
    before this returns, so that they can start while something else runs; with
    wait=False they import while the caller goes on (a run submitted meanwhile waits for
    its process's imports)."""
    pool = ProcessPoolExecutor(max_workers=max(1, count), mp_context=multiprocessing.get_context("spawn"))
    try:
        warming = [pool.submit(_warm_orchestrator, (count, job)) for _ in range(count)]
        if wait:
            for future in warming:
                future.result()
        yield pool
    finally:
        # The caller's runs are over (or failed): the processes end by themselves. Waiting for
        # their interpreters to tear Dagster down cost a load 0.9 s after its last run.
        pool.shutdown(wait=False, cancel_futures=True)


def _warm_orchestrator(arguments) -> None:
    importlib.import_module("dask.distributed")
    count, job = arguments
    if job is not None:
        job.get_definition()
    time.sleep(min(2.0, 0.2 * count))  # hold this process so that each of the pool's processes takes one


def _orchestrate(arguments) -> bool:
    """In an orchestrator process: one run."""
    job, reference, scheduler_address, tags, run_config = arguments
    with dg.DagsterInstance.from_ref(reference) as instance:
        return run_job(job, instance, scheduler_address, tags, run_config).success


def partition_tags(job, key: str) -> dict[str, str]:
    """The run tags of one partition of the job's partitions (a multi-partition's dimensions too)."""
    partitions_def = job.get_definition().partitions_def
    return dict(partitions_def.get_tags_for_partition_key(key)) if partitions_def else {PARTITION_NAME_TAG: key}


@dataclass
class LocalStack:
    """PostgreSQL, the instance's DAGSTER_HOME and a dask cluster, all in one folder on this machine."""

    folder: Path
    postgres: PostgresServer  # its dsn, its data folder
    dagster_home: Path
    scheduler_address: str
    scheduler_pid: int
    workers: int
    worker_pids: list[int]

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.dagster_home))


@contextlib.contextmanager
def local_stack(workers: int = 2, landing_dir: Path | None = None, warehouse_dir: Path | None = None,
                folder: Path | None = None, preload: str | None = None,
                extra_env: Mapping[str, str] | None = None, pin: bool = False) -> Iterator[LocalStack]:
    """Start a private PostgreSQL (pipelines.distributed.postgres), write DAGSTER_HOME's
    dagster.yaml for it, start a dask scheduler and `workers` workers (the first the
    writer) with the warehouse's settings in their environment; stop all of it on exit.

    The folder must be reachable by the `postgres` user when this runs as root (a new
    folder under the system's temporary folder is, pytest's tmp_path is not): by default
    a new one, removed on exit. `preload`: the modules the workers import before they
    join (pipelines.distributed.worker_setup; default the code location). `pin`:
    pipelines.distributed.cluster.start_cluster's."""
    own_folder = folder is None
    folder = Path(folder or tempfile.mkdtemp(prefix="fiscal-distributed-"))
    os.chmod(folder, 0o755)
    server = PostgresServer(folder / "postgres", free_port())
    dagster_home = folder / "dagster_home"
    write_instance_yaml(dagster_home, server.dsn)
    env = worker_environment(dagster_home, landing_dir, warehouse_dir, preload, **(extra_env or {}))
    # The workers import Dagster and the code location while PostgreSQL initialises.
    cluster = start_cluster(folder / "dask", workers, env, wait=False, pin=pin)
    try:
        start_postgres(server.folder, server.port)
        wait_for_workers(cluster, workers)
        yield LocalStack(folder, server, dagster_home, cluster.scheduler_address, cluster.processes[0].pid, workers,
                         [process.pid for process in cluster.processes[1:]])
    finally:
        stop_cluster(cluster)
        stop_postgres(server)
        if own_folder:
            shutil.rmtree(folder, ignore_errors=True)
