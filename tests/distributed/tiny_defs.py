"""A small partitioned job shaped like the warehouse's fan-out, for the distributed
infrastructure's own test: per unit-year partition a writer step writes the partition's
input file from warehouse.duckdb, any worker renders it (CPU work, its own output file,
no DuckDB file), and the writer records it done in warehouse.duckdb. Each step notes the
worker process and role that ran it, in the files, for the test to read."""


import hashlib
import json
import os
import time
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.distributed.executor import distributed_executor
from pipelines.distributed.tags import ANY_WORKER_STEP_TAGS, WRITER_STEP_TAGS

unit_year = dg.MultiPartitionsDefinition({
    "fiscal_year": dg.DynamicPartitionsDefinition(name="fiscal_year"),
    "unit": dg.DynamicPartitionsDefinition(name="unit"),
})


def _warehouse() -> Path:
    return Path(os.environ["FISCAL_WAREHOUSE_DIR"])


def _where() -> dict:
    return {"pid": os.getpid(), "role": os.environ.get("FISCAL_WORKER_ROLE", "in-process")}


def _key(context) -> str:
    keys = context.partition_key.keys_by_dimension
    return f"{keys['fiscal_year']}-{keys['unit']}"


def _note_step(key: str, step: str) -> None:
    """Record in warehouse.duckdb's `steps` table that this process ran `step` of partition `key`."""
    where = _where()
    con = duckdb.connect(str(_warehouse() / "warehouse.duckdb"))
    try:
        con.execute("CREATE TABLE IF NOT EXISTS steps (partition VARCHAR, step VARCHAR, pid INTEGER, role VARCHAR)")
        con.execute("INSERT INTO steps VALUES (?, ?, ?, ?)", [key, step, where["pid"], where["role"]])
    finally:
        con.close()


FAILING_UNIT = "999999"
"""A unit whose gathering fails: for the runs' stop after a failure."""


@dg.asset(partitions_def=unit_year, op_tags=WRITER_STEP_TAGS, group_name="tiny")
def gathered(context: dg.AssetExecutionContext) -> None:
    key = _key(context)
    if key.endswith(FAILING_UNIT):
        raise RuntimeError(f"partition {key} fails on purpose")
    _note_step(key, "gathered")
    (_warehouse() / f"{key}.input.json").write_text(json.dumps({"partition": key}), encoding="utf-8")


@dg.asset(partitions_def=unit_year, op_tags=ANY_WORKER_STEP_TAGS, deps=[gathered], group_name="tiny")
def rendered(context: dg.AssetExecutionContext) -> None:
    key = _key(context)
    source = json.loads((_warehouse() / f"{key}.input.json").read_text(encoding="utf-8"))
    digest = source["partition"].encode()
    for _ in range(150_000):  # about 0.2 s of CPU: the rendering
        digest = hashlib.sha256(digest).digest()
    output = {"partition": key, "digest": digest.hex(), **_where()}
    (_warehouse() / f"{key}.output.json").write_text(json.dumps(output), encoding="utf-8")


@dg.asset(partitions_def=unit_year, op_tags=WRITER_STEP_TAGS, deps=[rendered], group_name="tiny")
def recorded(context: dg.AssetExecutionContext) -> None:
    _note_step(_key(context), "recorded")


@dg.asset(partitions_def=unit_year, deps=[rendered], group_name="tiny")
def untagged(context: dg.AssetExecutionContext) -> None:
    """Carries no routing tag: it must run on the writer (it opens the warehouse file)."""
    _note_step(_key(context), "untagged")


def open_database(path: str) -> int:
    """Open a DuckDB database and query it (submitted to a worker as a plain dask task)."""
    con = duckdb.connect(path, read_only=path != ":memory:")
    try:
        return con.execute("SELECT 1").fetchone()[0]
    finally:
        con.close()


def imported(modules: list[str]) -> list[str]:
    """Those of `modules` this process has imported (run on each worker)."""
    import sys

    return [module for module in modules if module in sys.modules]


def squares_where(numbers: list[int]) -> list[tuple[int, str]]:
    """Each number squared, with the worker that did it (a slice: one dask task)."""
    from distributed import get_worker

    time.sleep(0.2)  # long enough that both workers take slices
    return [(n * n, get_worker().name) for n in numbers]


def fan_out_squares(count: int, per_task: int) -> list[tuple[int, str]]:
    """A task that fans out over the cluster in slices, as the render step does."""
    from pipelines.distributed.fanout import map_slices_on_workers

    return map_slices_on_workers(squares_where, range(count), per_task)


def workers_of(numbers: list[int]) -> list[tuple[int, str]]:
    """Each number with the worker that got it (a share: one dask task)."""
    from distributed import get_worker

    return [(n, get_worker().name) for n in numbers]


def fan_out_shares(costs: list[float]) -> list[tuple[int, str]]:
    """A task that shares items out over the cluster by cost, as the marts step's suites are."""
    from pipelines.distributed.fanout import map_shares_on_workers

    return map_shares_on_workers(workers_of, range(len(costs)), costs)


tiny_job = dg.define_asset_job("tiny_partitioned", selection=dg.AssetSelection.groups("tiny"),
                               executor_def=distributed_executor)

defs = dg.Definitions(assets=[gathered, rendered, recorded, untagged], jobs=[tiny_job])
