"""Dagster's PostgreSQL event log, writing a run's per-partition events in batches, on a
kept connection.

A ranged rebuild run over a county's 600 unit-years writes, per partitioned asset, one
`ASSET_MATERIALIZATION_PLANNED` event a unit-year before the run starts and one
`ASSET_MATERIALIZATION` a unit-year when its step ends: 4,800 events, each an INSERT, a
NOTIFY and an upsert of the asset's row, 8–15 ms apiece here. Written one by one they were
22 s before the run's first step and 6–9 s at the end of each step, all of it on one
process whatever the number of workers (bench/bench_distributed.py).

Dagster sends such events in batches when DAGSTER_EVENT_BATCH_SIZE is set (a documented
environment variable, read at each event); dagster-postgres then writes a batch of
materializations in one INSERT. This storage sets that variable in every process that opens
the instance (the CLI, the orchestrators, the workers, the webserver: they all read the one
dagster.yaml) unless it is set already, and writes the planned events of a batch the same
way as materializations: Dagster's batch of planned events mixes asset keys and kinds,
which dagster-postgres writes one by one. A batch is split by (event kind, asset key), and a
group of one kind Dagster's postgres storage writes at once, or of planned materializations,
is one INSERT of the events, one of their tags and one upsert of the asset's row (for the
last event, as dagster-postgres does for materializations: each event's upsert would set
the same columns, the last one's values remaining). Anything else is written as before.

A partitioned asset check's one planned event is stored as a row per partition of the run
(asset_check_executions), each with the serialized event: Dagster serializes the event,
which holds the run's 600 partition keys, once per row (0.45 s of a county's run before its
first step); here it is serialized once.

Private API: `prepare_insert_event_batch`, `_store_asset_event_tags`, `_store_asset_event`
and `_store_asset_check_evaluation_planned` are dagster-postgres's and Dagster's own
(Dagster is pinned in pyproject.toml); tests/distributed/test_event_log.py compares what
this storage writes with what Dagster's writes, and fails when they change.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from dagster import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._serdes import serialize_value
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"
# Events Dagster buffers before it hands them over: a run's planned events and a step's
# partitioned materializations come as one batch each, ended early by the batch's end.
BATCH_SIZE = 1000

# Connections beyond the kept one, for the threads of a process that write at once (a
# worker's heartbeat and its step), closed when they are done.
POOL_OVERFLOW = 4
POOL_RECYCLE_SECONDS = 3600

_WRITTEN_AS_ONE = {
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_OBSERVATION,
    DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
}


def batch_groups(events: Sequence[EventLogEntry]) -> list[list[EventLogEntry]]:
    """The events by (kind, asset key), each group in the batch's order, groups in the order
    of their first event."""
    groups: dict[tuple, list[EventLogEntry]] = {}
    for event in events:
        dagster_event = event.get_dagster_event()
        key = dagster_event.asset_key.to_string() if dagster_event.asset_key else None
        groups.setdefault((dagster_event.event_type, key), []).append(event)
    return list(groups.values())


class BatchingPostgresEventLogStorage(PostgresEventLogStorage):
    """PostgresEventLogStorage whose batches are written per (kind, asset key) group."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        os.environ.setdefault(BATCH_SIZE_ENV, str(BATCH_SIZE))
        # dagster-postgres opens a new connection for every write (NullPool), two or three an
        # event: half of the CPU of an event that is not batched (a check evaluation) went
        # into psycopg2.connect, and as much again into the server forking a backend for it.
        # One kept connection per process, as Dagster's webserver keeps it
        # (optimize_for_webserver); pre-pinged, so that a restarted server is reconnected.
        self._engine.dispose()
        self._engine = create_pg_engine(self.postgres_url, self._token_provider, isolation_level="AUTOCOMMIT",
                                        pool_size=1, max_overflow=POOL_OVERFLOW, pool_recycle=POOL_RECYCLE_SECONDS,
                                        pool_pre_ping=True)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> BatchingPostgresEventLogStorage:
        # as PostgresEventLogStorage's, which names its own class
        return cls(inst_data=inst_data, postgres_url=pg_url_from_config(config_value),
                   should_autocreate_tables=config_value.get("should_autocreate_tables", True),
                   token_provider=get_token_provider_from_config(config_value))

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        for group in batch_groups(events):
            kind = group[0].get_dagster_event().event_type
            if len(group) == 1 or kind not in _WRITTEN_AS_ONE or group[0].get_dagster_event().asset_key is None:
                for event in group:
                    self.store_event(event)
            elif kind == DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
                self._store_planned_batch(group)
            else:
                super().store_event_batch(group)

    def _store_planned_batch(self, events: list[EventLogEntry]) -> None:
        with self._connect() as conn:
            result = conn.execute(self.prepare_insert_event_batch(events).returning(SqlEventLogStorageTable.c.id))
            event_ids = [int(row[0]) for row in result.fetchall()]
        with self.index_transaction() as conn:
            self._store_asset_event_tags(conn, events, event_ids)
            self._store_asset_event(conn, events[-1], event_ids[-1])

    def _store_asset_check_evaluation_planned(self, event: EventLogEntry, event_id: int | None) -> None:
        planned = event.get_dagster_event().event_specific_data
        partition_keys = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        row = dict(asset_key=planned.asset_key.to_string(), check_name=planned.check_name, run_id=event.run_id,
                   execution_status=AssetCheckExecutionRecordStatus.PLANNED.value,
                   evaluation_event=serialize_value(event),
                   evaluation_event_timestamp=self._event_insert_timestamp(event),
                   evaluation_event_storage_id=event_id)
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert().values(
                [{**row, "partition": partition_key} for partition_key in partition_keys]))
