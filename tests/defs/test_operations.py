"""Nightly operations: definitions, schedule, sensor, partitions, incremental = full rebuild,
concurrent loads."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from pipelines.defs.jobs import landing_files_sensor, rebuild_after_ingest
from pipelines.defs.partitions import register_partitions
from pipelines.defs.resources import WarehouseResource
from pipelines.definitions import defs
from pipelines.landing.headers import KINDS
from pipelines.settings import DEMO_LANDING_DIR
from tests.conftest import copy_demo_warehouse, copy_loaded, payment, query, run_load, voucher_file, write_csv


def test_definitions_load():
    assert defs.resolve_job_def("ingest_landing").partitions_def is None
    assert defs.resolve_job_def("rebuild_unit_years").partitions_def is not None
    assert defs.resolve_job_def("rebuild_reports").partitions_def is not None
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {"raw/voucher_lines", "staging/voucher_lines", "core/fact_spending", "marts/spending_by_category",
            "marts_public/spending_by_project", "quarantine", "unit_year/core", "unit_year/marts",
            "unit_year/parquet", "unit_year/reports"} <= keys


def test_nightly_schedule():
    schedule = defs.resolve_schedule_def("nightly_load")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == "ingest_landing"


def _tick(landing: Path, cursor: str | None):
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"warehouse": WarehouseResource(landing_dir=str(landing))}
    )
    result = landing_files_sensor(context)
    return result, context.cursor


def test_sensor_requests_runs_only_for_new_changed_or_removed_files(tmp_path):
    landing = tmp_path / "landing"
    first = voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10"))
    result, cursor = _tick(landing, None)
    assert isinstance(result, dg.RunRequest)
    first_key = result.run_key

    result, cursor = _tick(landing, cursor)
    assert isinstance(result, dg.SkipReason)

    os.utime(first, ns=(1_700_000_000 * 10**9,) * 2)  # touched, same bytes: nothing to do
    result, cursor = _tick(landing, cursor)
    assert isinstance(result, dg.SkipReason)

    voucher_file(landing / "b.csv", payment("2021-02-05", "记-1", "20"))
    result, cursor = _tick(landing, cursor)
    assert isinstance(result, dg.RunRequest) and result.run_key != first_key

    voucher_file(first, payment("2021-01-05", "记-1", "11"))
    result, cursor = _tick(landing, cursor)
    assert isinstance(result, dg.RunRequest)

    (landing / "b.csv").unlink()
    result, cursor = _tick(landing, cursor)
    assert isinstance(result, dg.RunRequest)

    result, cursor = _tick(landing, cursor)
    assert isinstance(result, dg.SkipReason)


def _mart_rows(root: Path) -> dict[str, list[tuple]]:
    out = {}
    for mart_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        rows = []
        for path in sorted(mart_dir.rglob("*.parquet")):
            year = path.parent.name
            table = pq.read_table(path)
            rows += [(year, *r.values()) for r in table.to_pylist()]
        out[mart_dir.name] = sorted(rows, key=repr)
    return out


@pytest.fixture(scope="module")
def demo_and_900001(tmp_path_factory, demo_load) -> tuple[Path, Path]:
    """(landing, warehouse), never changed: the demo (117001, 2020 and 2021; a copy of the
    run's one demo load) and then, by a load of their own, 900001's 2021 and 2020."""
    base = tmp_path_factory.mktemp("demo_and_900001")
    landing, warehouse = base / "landing", copy_demo_warehouse(demo_load, base / "wh")
    shutil.copytree(DEMO_LANDING_DIR, landing)  # sizes and modification times kept: the files the demo load read
    voucher_file(landing / "900001" / "2021.csv", payment("2021-03-01", "记-1", "10"))
    voucher_file(landing / "900001" / "2020.csv", payment("2020-03-01", "记-1", "8"))
    assert run_load(landing, warehouse) == 0
    # an incremental load: the demo's files known and unchanged, the two new ones read, their unit-years rebuilt
    assert query(warehouse, "SELECT files_new, files_changed, files_removed, scope FROM meta.loads "
                            "ORDER BY started_at DESC LIMIT 1") == [(2, 0, 0, '[["900001", 2020], ["900001", 2021]]')]
    return landing, warehouse


def test_incremental_load_equals_full_rebuild(tmp_path, demo_and_900001):
    landing, incremental = copy_loaded(demo_and_900001, tmp_path)
    full = tmp_path / "full"
    # A month arrives for one unit, another unit's staffing is corrected, a file is removed.
    voucher_file(landing / "900001" / "2021-04.csv", payment("2021-04-01", "记-1", "5"))
    staffing = next((landing / "117001" / "2021").rglob("*人员*.csv"))
    write_csv(staffing, [["单位编码", "年度", "编制数", "实有在职人数", "离退休人数"], ["117001", "2021", "301", "300", "90"]])
    (landing / "900001" / "2020.csv").unlink()
    assert run_load(landing, incremental) == 0
    assert run_load(landing, full) == 0
    for audience in ("marts", "marts_public"):
        assert _mart_rows(incremental / audience) == _mart_rows(full / audience), audience
    # the ingest reports the raw and staging tables whose rows changed, and the quarantine
    changed = {"quarantine", "raw/voucher_lines", "staging/voucher_lines", "raw/staffing", "staging/staffing"}
    assert _ingest_materialized(incremental) == changed
    assert _ingest_materialized(full) == {"quarantine"} | {f"{layer}/{kind}" for layer in ("raw", "staging")
                                                           for kind in KINDS}
    assert query(incremental, "SELECT in_service FROM core.fact_staffing WHERE fiscal_year = 2021") == [(300,)]
    assert query(incremental, "SELECT total_yuan, yoy_change_rate FROM marts.spending_by_year WHERE unit_code = '900001'") == [
        (pytest.approx(15), None)]


def _ingest_materialized(warehouse: Path) -> set[str]:
    """The asset keys the warehouse's last ingest run materialized."""
    with dg.DagsterInstance.from_config(str(warehouse / ".dagster")) as instance:
        (run,) = instance.get_runs(dg.RunsFilter(job_name="ingest_landing"), limit=1)
        return {record.dagster_event.asset_key.to_user_string() for record in instance.all_logs(run.run_id)
                if record.dagster_event and record.dagster_event.event_type_value == "ASSET_MATERIALIZATION"}


def test_two_loads_started_together_both_succeed(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10"), unit="900001 甲")
    voucher_file(landing / "b.csv", payment("2021-01-05", "记-1", "20"), unit="900002 乙")
    command = [sys.executable, "-m", "pipelines.cli", "load", "--landing", str(landing), "--warehouse", str(warehouse),
               "--quiet"]
    processes = [subprocess.Popen([*command, "--unit", unit], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for unit in ("900001", "900002")]
    outputs = [p.communicate(timeout=300)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert sorted(p.name for p in (warehouse / "marts" / "spending_by_year").rglob("*.parquet")) == [
        "900001.parquet", "900002.parquet"]


def test_one_partition_rebuilds_on_its_own(tmp_path, demo_and_900001):
    landing, warehouse = copy_loaded(demo_and_900001, tmp_path)
    marts = warehouse / "marts" / "spending_by_year"
    target = marts / "fiscal_year=2021" / "900001.parquet"
    untouched = [marts / "fiscal_year=2021" / "117001.parquet", marts / "fiscal_year=2020" / "900001.parquet"]
    target.unlink()  # lost, say: the partition's rebuild brings it back, alone
    before = [path.stat().st_mtime_ns for path in untouched]  # another unit's that year, the unit's another year
    instance = dg.DagsterInstance.ephemeral()
    register_partitions(instance, {("117001", 2020), ("117001", 2021), ("900001", 2020), ("900001", 2021)})
    result = defs.resolve_job_def("rebuild_unit_years").execute_in_process(
        instance=instance,
        partition_key=dg.MultiPartitionKey({"fiscal_year": "2021", "unit": "900001"}),
        resources={"warehouse": WarehouseResource(landing_dir=str(landing), warehouse_dir=str(warehouse))},
    )
    assert result.success
    assert target.exists() and [path.stat().st_mtime_ns for path in untouched] == before
    for key in ("core", "marts", "parquet", "reports"):  # that partition only, per stage
        assert instance.get_materialized_partitions(dg.AssetKey(["unit_year", key])) == {"2021|900001"}, key


def test_load_runs_as_the_daemon_runs_it(tmp_path):
    """No CLI tags, the definitions' own resources and executor: the ingest that the schedule and the
    sensor launch, then what rebuild_after_ingest requests for it."""
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10"))
    resources = {"warehouse": WarehouseResource(landing_dir=str(landing), warehouse_dir=str(warehouse))}
    instance = dg.DagsterInstance.ephemeral()
    ingest = defs.resolve_job_def("ingest_landing").execute_in_process(instance=instance, resources=resources)
    assert ingest.success
    context = dg.build_run_status_sensor_context(
        sensor_name="rebuild_after_ingest", dagster_instance=instance, dagster_run=ingest.dagster_run,
        dagster_event=ingest.get_run_success_event(), resources=resources)
    requests = rebuild_after_ingest(context)
    assert [r.tags["dagster/asset_partition_range_start"] for r in requests] == ["2021|900001"]
    cli_run = ingest.dagster_run.with_tags({**ingest.dagster_run.tags, "fiscal/trigger": "cli"})
    cli_context = dg.build_run_status_sensor_context(
        sensor_name="rebuild_after_ingest", dagster_instance=instance, dagster_run=cli_run,
        dagster_event=ingest.get_run_success_event(), resources=resources)
    assert isinstance(rebuild_after_ingest(cli_context), dg.SkipReason)  # the CLI rebuilds its own
    assert [r.tags["dagster/asset_partition_range_end"] for r in requests] == ["2021|900001"]
    result = defs.resolve_job_def("rebuild_unit_years").execute_in_process(
        instance=instance, resources=resources, tags=requests[0].tags)
    assert result.success
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(checks) > 20
    assert not [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    # No budget was loaded: spending over budget is a warning, reported beside the data.
    assert any(c.check_name == "unit_over_budget" and not c.passed for c in checks)
    assert (warehouse / "marts" / "spending_by_year" / "fiscal_year=2021" / "900001.parquet").exists()
