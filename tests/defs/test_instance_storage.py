"""The warehouse's own Dagster instance: its dagster.yaml and the event log that keeps its
SQLite engines (pipelines/defs/instance_storage.py)."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from pipelines.defs import instance_storage
from pipelines.defs.instance_storage import (
    EARLIER_DEFAULT,
    ENGINES_KEPT,
    PooledSqliteEventLogStorage,
    ensure_local_instance_yaml,
    local_instance_yaml,
)

# Dagster's SqliteEventLogStorage._connect as PooledSqliteEventLogStorage replaces it: when
# a new Dagster changes it, this test fails and the override must be looked at again.
DAGSTER_CONNECT = '''
def _connect(self, shard: str) -> Iterator[Connection]:
    with self._db_lock:
        check.str_param(shard, "shard")

        conn_string = self.conn_string_for_shard(shard)
        engine = create_engine(
            conn_string,
            poolclass=NullPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )

        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)

        with engine.connect() as conn:
            with conn.begin():
                yield conn
        engine.dispose()
'''


def test_the_overridden_dagster_method_is_the_one_it_was_written_against():
    source = textwrap.dedent(inspect.getsource(SqliteEventLogStorage._connect.__wrapped__))
    assert source.split("\n", 1)[1].strip() == DAGSTER_CONNECT.strip()


def test_dagster_yaml_is_written_for_its_home_and_a_users_file_is_left_alone(tmp_path):
    home = tmp_path / "first" / ".dagster"
    ensure_local_instance_yaml(home)
    config = home / "dagster.yaml"
    assert config.read_text(encoding="utf-8") == local_instance_yaml(home)
    assert f'base_dir: "{(home / "history" / "runs").resolve().as_posix()}"' in config.read_text(encoding="utf-8")

    # a warehouse folder moved: its own file names the old place and is rewritten
    moved = tmp_path / "moved" / ".dagster"
    moved.mkdir(parents=True)
    (moved / "dagster.yaml").write_bytes(config.read_bytes())
    ensure_local_instance_yaml(moved)
    assert (moved / "dagster.yaml").read_text(encoding="utf-8") == local_instance_yaml(moved)

    # the file earlier versions wrote is theirs too
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "dagster.yaml").write_text(EARLIER_DEFAULT, encoding="utf-8")
    ensure_local_instance_yaml(earlier)
    assert (earlier / "dagster.yaml").read_text(encoding="utf-8") == local_instance_yaml(earlier)

    users = tmp_path / "users"
    users.mkdir()
    own = "telemetry:\n  enabled: true\nrun_monitoring:\n  enabled: true\n"
    (users / "dagster.yaml").write_text(own, encoding="utf-8")
    ensure_local_instance_yaml(users)
    assert (users / "dagster.yaml").read_text(encoding="utf-8") == own


def test_runs_on_the_pooled_event_log_keep_every_event_and_a_bounded_number_of_engines(tmp_path):
    ensure_local_instance_yaml(tmp_path)
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    storage = instance.event_log_storage
    assert type(storage) is PooledSqliteEventLogStorage

    units = dg.StaticPartitionsDefinition(["117001", "117002"])

    @dg.asset(partitions_def=units)
    def spending(context) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"unit": context.partition_key})

    run_ids = []
    for _ in range(ENGINES_KEPT + 2):
        for unit in ("117001", "117002"):
            result = dg.materialize([spending], instance=instance, partition_key=unit)
            assert result.success
            run_ids.append(result.run_id)
    # a run's shard and the index shard; the oldest runs' engines were let go
    assert len(storage._engines) == ENGINES_KEPT
    assert "index" in storage._engines

    # every event is there, in the first run's shard as in the index
    first = instance.all_logs(run_ids[0])
    kinds = [record.dagster_event.event_type_value for record in first if record.dagster_event]
    assert kinds.count("ASSET_MATERIALIZATION") == 1
    assert kinds[-1] == "PIPELINE_SUCCESS"  # what Dagster calls a run's success in its event log
    status = instance.get_status_by_partition(dg.AssetKey("spending"), ["117001", "117002"], units)
    assert status == {"117001": dg.AssetPartitionStatus.MATERIALIZED, "117002": dg.AssetPartitionStatus.MATERIALIZED}
    materializations = instance.fetch_materializations(dg.AssetKey("spending"), limit=100).records
    assert len(materializations) == 2 * (ENGINES_KEPT + 2)
    assert materializations[0].asset_materialization.metadata["unit"].value == "117002"

    instance.dispose()
    assert storage._engines == {}


def test_a_load_writes_its_warehouses_dagster_yaml(tmp_path, monkeypatch):
    from pipelines.cli import _instance
    from pipelines.settings import load_settings

    monkeypatch.setenv("DAGSTER_HOME", "")  # restored afterwards
    monkeypatch.delenv("DAGSTER_HOME")
    instance = _instance(load_settings(tmp_path / "landing", tmp_path / "warehouse"))
    assert type(instance.event_log_storage) is PooledSqliteEventLogStorage
    home = Path(instance.root_directory)
    assert (home / "dagster.yaml").read_text(encoding="utf-8") == local_instance_yaml(home)
    assert instance_storage.__name__ in (home / "dagster.yaml").read_text(encoding="utf-8")
