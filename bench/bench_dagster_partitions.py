"""What Dagster's bookkeeping costs per partition, on the instance storage the CLI uses.

    .venv/bin/python bench/bench_dagster_partitions.py --units 50 --assets 3
    .venv/bin/python bench/bench_dagster_partitions.py --units 50 --assets 3 --postgres

Materializes a multi-asset partitioned by fiscal year x unit (the warehouse's dynamic
partitions) over all partitions in one ranged run (BackfillPolicy.single_run), with
nothing to compute, and prints the seconds per materialization event. This is the fixed
cost a per-partition asset graph adds to every load (issue 11): at the county shape
(600 unit-years) every partitioned asset key costs 600 events.

--postgres measures the same run on the SQLite instance and then on a private PostgreSQL
15 (pipelines.distributed.postgres; the instance storage of the distributed executor), in
one invocation so that the two are compared under the same machine load. Beside the
total it splits the run by the event log's timestamps: the planned events (written when
the run is created, one per asset key and partition) and the materialization events,
and prints the CPU this process spent (Dagster's own Python, the SQLite writes; not the
PostgreSQL server's), which a loaded machine disturbs less than the wall clock.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--assets", type=int, default=3, help="asset keys of the partitioned multi-asset")
    parser.add_argument("--postgres", action="store_true",
                        help="also on a private PostgreSQL (initdb, pg_ctl on PATH), after SQLite")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    home = tempfile.mkdtemp(prefix="dagster-bench-")
    with open(os.path.join(home, "dagster.yaml"), "w", encoding="utf-8") as handle:
        handle.write("telemetry:\n  enabled: false\n")
    measure("sqlite", home, args)
    if args.postgres:
        from pathlib import Path

        from pipelines.distributed.instance import write_instance_yaml
        from pipelines.distributed.postgres import start_postgres, stop_postgres

        folder = Path(tempfile.mkdtemp(prefix="dagster-bench-pg-"))
        os.chmod(folder, 0o755)
        server = start_postgres(folder / "postgres")
        try:
            write_instance_yaml(folder / "home", server.dsn)
            measure("postgres", str(folder / "home"), args)
        finally:
            stop_postgres(server)
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def measure(storage: str, home: str, args) -> None:
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    years = dg.DynamicPartitionsDefinition(name="fiscal_year")
    units = dg.DynamicPartitionsDefinition(name="unit")
    partitions = dg.MultiPartitionsDefinition({"fiscal_year": years, "unit": units})
    keys = [f"a{i}" for i in range(args.assets)]

    @dg.multi_asset(specs=[dg.AssetSpec(k) for k in keys], partitions_def=partitions,
                    backfill_policy=dg.BackfillPolicy.single_run())
    def nothing(context):
        for key in keys:
            yield dg.MaterializeResult(asset_key=key)

    instance = dg.DagsterInstance.from_config(home)
    year_keys = [str(2020 + i) for i in range(args.years)]
    unit_keys = [f"{i:06d}" for i in range(args.units)]
    instance.add_dynamic_partitions("fiscal_year", year_keys)
    instance.add_dynamic_partitions("unit", unit_keys)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = dg.materialize(
        [nothing], instance=instance,
        tags={ASSET_PARTITION_RANGE_START_TAG: f"{year_keys[0]}|{unit_keys[0]}",
              ASSET_PARTITION_RANGE_END_TAG: f"{year_keys[-1]}|{unit_keys[-1]}"},
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    events = args.units * args.years * args.assets
    print(f"{storage}: {args.units * args.years} partitions x {args.assets} asset keys = {events:,} materializations: "
          f"{seconds:.1f} s, {seconds / events * 1000:.1f} ms each; this process's CPU {cpu / events * 1000:.1f} ms "
          f"each (success: {result.success})")
    by_type: dict[str, list[float]] = {}
    for record in instance.all_logs(result.run_id):
        if record.dagster_event is not None:
            by_type.setdefault(record.dagster_event.event_type_value, []).append(record.timestamp)
    for kind in ("ASSET_MATERIALIZATION_PLANNED", "ASSET_MATERIALIZATION"):
        stamps = sorted(by_type.get(kind, []))
        if len(stamps) > 1:
            print(f"  {kind}: {len(stamps):,} events, {(stamps[-1] - stamps[0]) / (len(stamps) - 1) * 1000:.1f} ms each")
    instance.dispose()


if __name__ == "__main__":
    main()
