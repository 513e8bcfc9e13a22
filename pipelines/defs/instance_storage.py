"""The Dagster instance a warehouse keeps in its own folder (`<warehouse>/.dagster`): its
dagster.yaml, and the SQLite event log that yaml names.

Dagster's own SQLite event log creates a SQLAlchemy engine for every write and throws it
away afterwards: each event then pays for a new engine, a new SQLite connection and the
compilation of its INSERT statements again, since SQLAlchemy caches compiled statements per
engine. A load writes one event per asset, partition and check (641 for 50 unit-years), so
that was most of a load's Dagster bookkeeping: 24 ms of a materialization here against
8.5–9 ms with an engine kept per database file (`bench/bench_dagster_partitions.py`).

`PooledSqliteEventLogStorage` keeps the engines, each with one pooled connection, for the
last `ENGINES_KEPT` database files it wrote to (a long-lived webserver reads the event logs
of many runs, one SQLite file each, and must not hold them all open). Everything else is
Dagster's SqliteEventLogStorage: the files, the tables and their migrations. The class
overrides its `_connect`, a private method, so Dagster is pinned to one version in
pyproject.toml; tests/defs/test_instance_storage.py fails when that method changes.

Run and schedule storage stay Dagster's defaults: a load writes to them a few times."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine

from pipelines.distributed.instance import yaml_string
from pipelines.files import write_in_place

ENGINES_KEPT = 8

MARKER = "# Written by fiscal-warehouse (pipelines/defs/instance_storage.py); rewritten when it is its own."
# What dagster.yaml held before the event log was configured: taken as ours and rewritten.
EARLIER_DEFAULT = "telemetry:\n  enabled: false\n"


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log with its engines kept (see the module's docstring)."""

    def __init__(self, base_dir: str, inst_data=None):
        # before Dagster's __init__, which already connects to create the index shard
        self._engines: OrderedDict[str, object] = OrderedDict()
        self._engines_guard = threading.Lock()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator:
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def _engine(self, shard: str):
        with self._engines_guard:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            # SQLAlchemy's default pool for a SQLite file keeps its connection open between
            # uses (QueuePool, check_same_thread off): no new connection per event either
            engine = create_engine(self.conn_string_for_shard(shard),
                                   connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
            while len(self._engines) > ENGINES_KEPT:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
            return engine

    def dispose(self) -> None:
        super().dispose()
        with self._engines_guard:
            while self._engines:
                _, engine = self._engines.popitem()
                engine.dispose()


def local_instance_yaml(home: Path) -> str:
    """dagster.yaml of a warehouse's own instance: no telemetry; the event log in
    home/history/runs (where Dagster's default puts it) through PooledSqliteEventLogStorage;
    run and schedule storage Dagster's defaults."""
    runs = (Path(home).resolve() / "history" / "runs").as_posix()
    return "\n".join([
        MARKER,
        "telemetry:",
        "  enabled: false",
        "event_log_storage:",
        f"  module: {__name__}",
        f"  class: {PooledSqliteEventLogStorage.__name__}",
        "  config:",
        f"    base_dir: {yaml_string(runs)}",
    ]) + "\n"


def ensure_local_instance_yaml(home: Path) -> None:
    """Write home/dagster.yaml unless it holds what this home needs, or a file of the user's
    (one fiscal-warehouse did not write) is there: that one is left as it is."""
    config = Path(home) / "dagster.yaml"
    wanted = local_instance_yaml(home)
    if config.exists():
        text = config.read_text(encoding="utf-8")
        if text == wanted or not (text == EARLIER_DEFAULT or text.startswith(MARKER)):
            return
    write_in_place(config, wanted.encode("utf-8"))
