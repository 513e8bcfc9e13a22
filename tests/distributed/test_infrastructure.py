"""The distributed setup's own pieces, for real: a private PostgreSQL as Dagster's instance,
a dask scheduler and two workers as separate processes, and a small partitioned job
(tests/distributed/tiny_defs.py) shaped like the warehouse's fan-out: writer steps that
open warehouse.duckdb, a render step any worker may run.

A missing server is a failure that names what is missing, never a skip."""

import json
import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.distributed.executor import step_resources
from pipelines.distributed.instance import instance_yaml
from pipelines.distributed.postgres import MissingServer, start_postgres
from pipelines.distributed.runs import local_stack, partition_tags, reconstructable_job, run_many, run_partitions
from pipelines.distributed.tags import ANY_WORKER_STEP_TAGS, WRITER_STEP_TAGS
from tests.distributed.tiny_defs import FAILING_UNIT

pytestmark = pytest.mark.distributed

UNITS = ["100001", "100002"]
YEARS = ["2020", "2021"]
KEYS = [f"{year}|{unit}" for year in YEARS for unit in UNITS]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("distributed_tiny")
    with local_stack(workers=2, warehouse_dir=warehouse, preload="tests.distributed.tiny_defs") as running:
        yield running, warehouse


def test_steps_run_where_their_tags_say(stack):
    running, warehouse = stack
    with running.instance() as instance:
        instance.add_dynamic_partitions("fiscal_year", YEARS)
        instance.add_dynamic_partitions("unit", UNITS)
        job = reconstructable_job("tiny_partitioned", "tests.distributed.tiny_defs")
        outcome = run_partitions(job, KEYS, instance, running.scheduler_address, concurrency=3)
        assert outcome == {key: True for key in KEYS}
        for asset in ("gathered", "rendered", "recorded", "untagged"):
            assert instance.get_materialized_partitions(dg.AssetKey(asset)) == set(KEYS), asset

    con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
    try:
        steps = con.execute("SELECT partition, step, pid, role FROM steps").fetchall()
    finally:
        con.close()
    partitions = {key.replace("|", "-") for key in KEYS}
    for step in ("gathered", "recorded", "untagged"):  # untagged: the writer by default
        assert {p for p, s, _, _ in steps if s == step} == partitions, step
    # Every step that opened warehouse.duckdb ran in the one writer process.
    assert {(pid, role) for _, _, pid, role in steps} == {(steps[0][2], "writer")}

    rendered = [json.loads(path.read_text()) for path in sorted(warehouse.glob("*.output.json"))]
    assert {r["partition"] for r in rendered} == partitions
    # Render steps may run on any worker; which one is dask's choice at that moment (on an
    # idle machine it put all six on the writer once), so only where they ran is checked:
    # on one of the stack's workers. test_routing_defaults_to_the_writer checks that a render
    # step asks for no writer resource.
    assert {r["pid"] for r in rendered} <= set(running.worker_pids)


def test_runs_after_a_failed_one_are_not_started(stack):
    running, _ = stack
    with running.instance() as instance:
        instance.add_dynamic_partitions("fiscal_year", YEARS)
        instance.add_dynamic_partitions("unit", UNITS + [FAILING_UNIT])
        job = reconstructable_job("tiny_partitioned", "tests.distributed.tiny_defs")
        keys = [f"2020|{FAILING_UNIT}", "2021|100001", "2021|100002"]
        tag_sets = [partition_tags(job, key) for key in keys]
        earlier = {run.run_id for run in instance.get_runs()}
        assert run_many(job, tag_sets, instance, running.scheduler_address, concurrency=1,
                        stop_after_failure=True) == [False]
        started = [run.tags.get("dagster/partition") for run in instance.get_runs() if run.run_id not in earlier]
        assert started == [keys[0]]


def test_a_worker_other_than_the_writer_cannot_open_the_warehouse(stack):
    from dask.distributed import Client

    from tests.distributed.tiny_defs import open_database as _open_warehouse

    running, warehouse = stack
    with Client(running.scheduler_address, timeout=30) as client:
        not_writer = [address for address, info in client.scheduler_info(n_workers=-1)["workers"].items()
                      if info["name"] != "writer"]
        future = client.submit(_open_warehouse, str(warehouse / "warehouse.duckdb"), workers=not_writer, pure=False)
        with pytest.raises(Exception, match="not the writer and never opens the warehouse file"):
            future.result(timeout=60)
        assert client.submit(_open_warehouse, ":memory:", workers=not_writer, pure=False).result(timeout=60) == 1


def test_slices_fan_out_over_both_workers_and_come_back_in_order(stack):
    from dask.distributed import Client

    from tests.distributed.tiny_defs import fan_out_squares

    running, _ = stack
    with Client(running.scheduler_address, timeout=30) as client:
        results = client.submit(fan_out_squares, 23, 5, pure=False).result(timeout=120)
    assert [square for square, _ in results] == [n * n for n in range(23)]
    # 5 slices taken in turn (n, n + 5, n + 10 ...: one task, one worker each), on both workers
    assert all(results[n][1] == results[n % 5][1] for n in range(23))
    assert len({worker for _, worker in results}) == 2


def test_shares_go_one_to_each_worker_by_cost_and_come_back_in_order(stack):
    from dask.distributed import Client

    from tests.distributed.tiny_defs import fan_out_shares

    running, _ = stack
    with Client(running.scheduler_address, timeout=30) as client:
        results = client.submit(fan_out_shares, [1, 7, 1, 2, 1, 1], pure=False).result(timeout=120)
    assert [n for n, _ in results] == list(range(6))
    # 7 against 1 + 2 + 1 + 1 + 1: item 1 alone on one worker, the rest on the other
    alone, rest = results[1][1], {worker for n, worker in results if n != 1}
    assert rest == {results[0][1]} and alone != results[0][1]


def test_shares_are_balanced_by_cost():
    from pipelines.distributed.fanout import shares_of

    assert shares_of(list("abcdef"), [1, 7, 1, 2, 1, 1], 2) == [["b"], ["d", "a", "c", "e", "f"]]
    assert shares_of(list("abcd"), [3, 3, 2, 2], 2) == [["a", "c"], ["b", "d"]]
    assert shares_of(["a"], [1], 3) == [["a"]]


def test_every_worker_has_imported_what_the_fanned_out_tasks_run(stack):
    """The rendering's and the exports' modules are imported when a worker starts, not by a
    run's step (the writer's gathering paid them before any other worker had work)."""
    from dask.distributed import Client

    from pipelines.workers import TASK_MODULES
    from tests.distributed.tiny_defs import imported as imported_on_worker

    running, _ = stack
    with Client(running.scheduler_address, timeout=30) as client:
        imported = client.run(imported_on_worker, TASK_MODULES)
    assert len(imported) == 2
    assert all(modules == TASK_MODULES for modules in imported.values())


def test_routing_defaults_to_the_writer():
    assert step_resources(WRITER_STEP_TAGS) == {"writer": 1}
    assert step_resources({}) == {"writer": 1}
    assert step_resources(ANY_WORKER_STEP_TAGS) == {}
    assert step_resources({**ANY_WORKER_STEP_TAGS, "dagster-dask/resource_requirements": '{"GPU": 1}'}) == {"GPU": 1}


def test_instance_yaml_names_the_psycopg2_driver():
    text = instance_yaml("postgresql://fiscal:secret@db.example:5432/dagster")
    assert text.count('postgres_url: "postgresql+psycopg2://fiscal:secret@db.example:5432/dagster"') == 3
    assert "env: FISCAL_DAGSTER_PG_DSN" in instance_yaml()
    with pytest.raises(ValueError, match="not a PostgreSQL connection string"):
        instance_yaml("sqlite:///x.db")


def test_missing_postgresql_fails_and_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("pipelines.distributed.postgres.DEBIAN_PG_DIR", tmp_path / "usr-lib-postgresql")
    with pytest.raises(MissingServer, match=r"PostgreSQL is not installed: initdb, pg_ctl, postgres not on PATH nor in "):
        start_postgres(tmp_path / "pg")
    assert not (tmp_path / "pg").exists()
    assert os.environ["PATH"] == str(tmp_path)


def test_the_worker_environment_carries_the_settings(tmp_path):
    from pipelines.distributed.cluster import worker_environment
    from pipelines.settings import PROJECT_DIR

    env = worker_environment(tmp_path / "home", tmp_path / "landing", tmp_path / "warehouse", preload="a,b")
    assert env["DAGSTER_HOME"] == str(tmp_path / "home")
    assert env["FISCAL_LANDING_DIR"] == str(tmp_path / "landing")
    assert env["FISCAL_WAREHOUSE_DIR"] == str(tmp_path / "warehouse")
    assert env["FISCAL_WORKER_PRELOAD"] == "a,b"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(PROJECT_DIR)
    assert Path(env["PYTHONPATH"].split(os.pathsep)[0], "pipelines", "distributed").is_dir()


def test_the_writer_first_runs_the_steps_that_other_workers_wait_for():
    from dagster._core.execution.api import create_execution_plan

    from pipelines.distributed.definitions import defs
    from pipelines.distributed.executor import feeds_any_worker_step

    plan = create_execution_plan(defs.resolve_job_def("rebuild_unit_years"))
    # the marts (the checks' step waits for them) and the reports' gathering (their rendering)
    assert feeds_any_worker_step(plan) == {"marts", "unit_year__reports.gather_report_inputs"}
