"""The batching PostgreSQL event log (pipelines.distributed.event_log) stores what Dagster's
own stores, one event at a time: a ranged run of partitioned assets, written to two
databases of one private PostgreSQL server, once through each storage."""

import os
import shutil
import tempfile
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from pipelines.distributed import event_log
from pipelines.distributed.event_log import BATCH_SIZE_ENV, BatchingPostgresEventLogStorage
from pipelines.distributed.instance import instance_yaml, psycopg2_url
from pipelines.distributed.postgres import start_postgres, stop_postgres

pytestmark = pytest.mark.distributed

KEYS = ["u1", "u2", "u3", "u4"]
letters = dg.StaticPartitionsDefinition(KEYS)


@dg.asset(partitions_def=letters, backfill_policy=dg.BackfillPolicy.single_run())
def first(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"partitions": len(context.partition_keys)})


@dg.asset(partitions_def=letters, backfill_policy=dg.BackfillPolicy.single_run(), deps=[first])
def second(context: dg.AssetExecutionContext) -> None:
    # fails: what the UI knows of it then comes from its planned events alone
    raise RuntimeError(f"{len(context.partition_keys)} partitions")


@dg.asset_check(asset=first, partitions_def=letters, blocking=False)
def first_is_whole(context: dg.AssetCheckExecutionContext) -> None:
    # as the warehouse's no_blocking_failure: one evaluation per partition, logged; u4 none (stays planned)
    for key, passed in [("u1", True), ("u2", False), ("u3", True)]:
        context.op_execution_context.log_event(dg.AssetCheckEvaluation(
            asset_key=first.key, check_name="first_is_whole", partition=key, passed=passed))


@pytest.fixture(scope="module")
def server():
    # a folder the `postgres` user reaches when the tests run as root (pytest's tmp_path is not)
    folder = Path(tempfile.mkdtemp(prefix="fiscal-event-log-"))
    os.chmod(folder, 0o755)
    running = start_postgres(folder / "postgres")
    try:
        engine = sa.create_engine(psycopg2_url(running.dsn), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in ("batched", "single"):
                conn.execute(sa.text(f"CREATE DATABASE {name}"))
        engine.dispose()
        yield running
    finally:
        stop_postgres(running)
        shutil.rmtree(folder, ignore_errors=True)


def _instance(tmp_path, server, database: str, batching: bool) -> dg.DagsterInstance:
    home = tmp_path / database
    home.mkdir()
    text = instance_yaml(server.dsn.rsplit("/", 1)[0] + f"/{database}")
    if not batching:
        text = text.replace("pipelines.distributed.event_log", "dagster_postgres.event_log") \
                   .replace("BatchingPostgresEventLogStorage", "PostgresEventLogStorage")
    (home / "dagster.yaml").write_text(text, encoding="utf-8")
    return dg.DagsterInstance.from_config(str(home))


def _stored(instance: dg.DagsterInstance) -> dict:
    """What the UI reads: each asset's planned and materialized partitions, its last run (for
    `second`, which failed, recorded by its planned events alone)."""
    run_id = instance.get_runs()[0].run_id
    stored = {}
    for asset in ("first", "second"):
        key = dg.AssetKey(asset)
        planned = instance.fetch_planned_materializations(key, limit=100).records
        records = instance.get_asset_records([key])
        stored[asset] = {
            "planned": sorted(r.partition_key for r in planned),
            "materialized": sorted(instance.get_materialized_partitions(key)),
            "last_run_is_the_run": bool(records) and records[0].asset_entry.last_run_id == run_id,
        }
    history = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(first.key, "first_is_whole"), limit=100)
    stored["first_is_whole"] = sorted(
        (r.partition, r.status.value, r.run_id == run_id, r.event.dagster_event_type.value) for r in history)
    return stored


def test_a_batch_stores_what_single_events_store(server, tmp_path, monkeypatch):
    monkeypatch.delenv(BATCH_SIZE_ENV, raising=False)
    planned_batches = []
    original = BatchingPostgresEventLogStorage._store_planned_batch

    def observed(self, events):
        planned_batches.append(len(events))
        return original(self, events)

    monkeypatch.setattr(BatchingPostgresEventLogStorage, "_store_planned_batch", observed)
    ranged = {"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]}

    with _instance(tmp_path, server, "single", batching=False) as instance:
        assert not dg.materialize([first, second, first_is_whole], instance=instance, tags=ranged,
                                  raise_on_error=False).success
        single = _stored(instance)
    assert planned_batches == []

    with _instance(tmp_path, server, "batched", batching=True) as instance:
        assert isinstance(instance.event_log_storage, BatchingPostgresEventLogStorage)
        assert os.environ[BATCH_SIZE_ENV] == str(event_log.BATCH_SIZE)  # set by opening the instance
        assert not dg.materialize([first, second, first_is_whole], instance=instance, tags=ranged,
                                  raise_on_error=False).success
        batched = _stored(instance)

    # one INSERT a planned asset, all its partitions: what single events stored, stored at once
    assert planned_batches == [len(KEYS), len(KEYS)]
    assert batched == single
    assert single == {
        "first": {"planned": KEYS, "materialized": KEYS, "last_run_is_the_run": True},
        "second": {"planned": KEYS, "materialized": [], "last_run_is_the_run": True},
        # a row per partition from the one planned event, updated by the evaluations
        "first_is_whole": [("u1", "SUCCEEDED", True, "ASSET_CHECK_EVALUATION"),
                           ("u2", "FAILED", True, "ASSET_CHECK_EVALUATION"),
                           ("u3", "SUCCEEDED", True, "ASSET_CHECK_EVALUATION"),
                           ("u4", "PLANNED", True, "ASSET_CHECK_EVALUATION_PLANNED")],
    }


def test_batch_groups_keep_each_kind_and_asset_in_order():
    def planned(asset, partition):
        return dg.DagsterEvent(
            event_type_value="ASSET_MATERIALIZATION_PLANNED", job_name="job",
            event_specific_data=dg._core.events.AssetMaterializationPlannedData(dg.AssetKey(asset), partition=partition),
        )

    from dagster._core.events.log import EventLogEntry

    entries = [EventLogEntry(error_info=None, level=10, user_message="", run_id="r", timestamp=float(i),
                             dagster_event=planned(asset, partition))
               for i, (asset, partition) in enumerate([("a", "1"), ("b", "1"), ("a", "2"), ("b", "2"), ("a", "3")])]
    groups = event_log.batch_groups(entries)
    assert [[(e.dagster_event.asset_key.path[0], e.dagster_event.partition) for e in group] for group in groups] == [
        [("a", "1"), ("a", "2"), ("a", "3")], [("b", "1"), ("b", "2")]]
