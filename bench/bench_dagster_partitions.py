"""What Dagster's bookkeeping costs per partition, on the instance storage the CLI uses.

    .venv/bin/python bench/bench_dagster_partitions.py --units 50 --assets 3

Materializes a multi-asset partitioned by fiscal year x unit (the warehouse's dynamic
partitions) over all partitions in one ranged run (BackfillPolicy.single_run), with
nothing to compute, and prints the seconds per materialization event. This is the fixed
cost a per-partition asset graph adds to every load (issue 11): at the county shape
(600 unit-years) every partitioned asset key costs 600 events.
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
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="dagster-bench-")
    os.environ["DAGSTER_HOME"] = home
    with open(os.path.join(home, "dagster.yaml"), "w", encoding="utf-8") as handle:
        handle.write("telemetry:\n  enabled: false\n")

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

    instance = dg.DagsterInstance.get()
    year_keys = [str(2020 + i) for i in range(args.years)]
    unit_keys = [f"{i:06d}" for i in range(args.units)]
    instance.add_dynamic_partitions("fiscal_year", year_keys)
    instance.add_dynamic_partitions("unit", unit_keys)
    started = time.perf_counter()
    result = dg.materialize(
        [nothing], instance=instance,
        tags={ASSET_PARTITION_RANGE_START_TAG: f"{year_keys[0]}|{unit_keys[0]}",
              ASSET_PARTITION_RANGE_END_TAG: f"{year_keys[-1]}|{unit_keys[-1]}"},
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )
    seconds = time.perf_counter() - started
    events = args.units * args.years * args.assets
    print(f"{args.units * args.years} partitions x {args.assets} asset keys = {events:,} materializations: "
          f"{seconds:.1f} s, {seconds / events * 1000:.1f} ms each (success: {result.success})")


if __name__ == "__main__":
    main()
