"""Jobs, the nightly schedule, the sensors, and a load as its runs.

A load is two kinds of run. The `ingest` job (unpartitioned) reads the landing folder and
marks the unit-years whose inputs changed (meta.dirty). Then `rebuild_unit_years`
(partitioned by fiscal year × unit) runs over exactly the unit-years to rebuild — the
marked ones and the later years of the same unit that read them — as few ranged runs
(one per rectangle of keys, pipelines.defs.partitions.rectangles). The CLI runs both in
its own process (`execute_load`); under the daemon the nightly schedule and the landing
sensor start `ingest`, and `rebuild_after_ingest` requests the partitioned runs when an
ingest run succeeds. A backfill from the UI of chosen partitions is the same job over
those keys (one run per rectangle: BackfillPolicy.single_run).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import dagster as dg

from pipelines.bi.publishing import after_publish, bi_work_pending
from pipelines.defs.partitions import Rectangle, rectangles_on
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.run_tags import TAG_FULL_REFRESH, TAG_LOAD_ID, TAG_TRIGGER
from pipelines.landing.discovery import discover
from pipelines.landing.readers import scan_file
from pipelines.warehouse import load as stages
from pipelines.warehouse import transform
from pipelines.warehouse.db import WarehouseBusy, connect, table_exists
from pipelines.warehouse.publish import PublishResult

INGEST_JOB = "ingest_landing"
REBUILD_JOB = "rebuild_unit_years"
REPORTS_JOB = "rebuild_reports"
TRIGGER_CLI = "cli"

ingest_job = dg.define_asset_job(
    name=INGEST_JOB,
    selection=dg.AssetSelection.groups("ingest").without_checks(),
    description="Read new and changed landing files (raw, staging, quarantine), mark the unit-years whose inputs "
                "changed. The unit-years' rebuild follows (rebuild_after_ingest, or the CLI).",
    executor_def=dg.in_process_executor,
)

rebuild_unit_years_job = dg.define_asset_job(
    name=REBUILD_JOB,
    selection=dg.AssetSelection.groups("unit_year"),
    description="Core, marts and checks, Parquet and reports of the run's unit-years (its partition keys).",
    executor_def=dg.in_process_executor,
)

rebuild_reports_job = dg.define_asset_job(
    name=REPORTS_JOB,
    selection=dg.AssetSelection.groups("unit_year") - dg.AssetSelection.assets(["unit_year", "core"]),
    description="`fiscal-warehouse report`: the marts, checks, Parquet and evaluation reports of the run's "
                "unit-years again from what the warehouse holds, without reading the landing folder.",
    executor_def=dg.in_process_executor,
)

nightly_load_schedule = dg.ScheduleDefinition(
    name="nightly_load",
    job=ingest_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    description="The nightly load at 02:00 Beijing time (the ingest; the rebuild follows it).",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


def unit_years_to_rebuild(db_path) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """What the ingest left to rebuild (meta.dirty and the later years), and the unit-years
    holding data; read without waiting for a writer."""
    if not db_path.exists():
        return set(), set()
    con = connect(db_path, read_only=True, wait=0)
    try:
        if not table_exists(con, "meta.dirty"):
            return set(), set()
        return stages.to_rebuild(con), stages.unit_years_with_data(con)
    finally:
        con.close()


def rebuild_requests(instance: dg.DagsterInstance, unit_years: Iterable[tuple[str, int]], tags: dict[str, str],
                     run_key_prefix: str | None = None, known=None) -> list[dg.RunRequest]:
    """One ranged run request per rectangle of the unit-years."""
    return [
        dg.RunRequest(
            run_key=f"{run_key_prefix}:{rect.start}:{rect.end}" if run_key_prefix else None,
            job_name=REBUILD_JOB, tags={**tags, **rect.tags()},
        )
        for rect in rectangles_on(instance, unit_years, known)
    ]


@dg.run_status_sensor(
    name="rebuild_after_ingest",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=rebuild_unit_years_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When an ingest run (schedule, sensor, UI) succeeds: the partitioned runs over the unit-years it "
                "left to rebuild. The CLI's ingest runs are followed by the CLI itself.",
)
def rebuild_after_ingest(context: dg.RunStatusSensorContext, warehouse: WarehouseResource):
    run = context.dagster_run
    if run.tags.get(TAG_TRIGGER) == TRIGGER_CLI:
        return dg.SkipReason("a CLI load rebuilds its unit-years itself")
    try:
        unit_years, known = unit_years_to_rebuild(warehouse.settings.db_path)
    except WarehouseBusy:
        return dg.SkipReason("the warehouse is being written: the next load rebuilds what is marked")
    if not unit_years:
        return dg.SkipReason("the ingest changed no unit-year")
    load_id = run.tags.get(TAG_LOAD_ID) or run.run_id
    return rebuild_requests(context.instance, unit_years, {TAG_LOAD_ID: load_id, TAG_TRIGGER: "rebuild_after_ingest"},
                            run_key_prefix=run.run_id, known=known)


@dataclass
class LoadRuns:
    """The runs of one load, in order: the ingest (if any), then one per rectangle."""

    results: list = field(default_factory=list)
    rectangles: list[Rectangle] = field(default_factory=list)
    unit_years: set[tuple[str, int]] = field(default_factory=set)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)

    @property
    def all_events(self) -> list:
        return [e for r in self.results for e in r.all_events]

    def get_asset_check_evaluations(self) -> list:
        return [e for r in self.results for e in r.get_asset_check_evaluations()]


def execute_load(definitions: dg.Definitions, instance: dg.DagsterInstance, settings, load_id: str, *,
                 full_refresh: bool = False, only: Callable[[set], set] | None = None,
                 reports_only: bool = False, run_config: dict | None = None) -> LoadRuns:
    """A load in this process: the ingest run, then the partitioned runs over what it left to
    rebuild (`only` narrows that to --unit/--year, and rebuilds those even if unchanged).
    `reports_only`: no ingest, `rebuild_reports` over every unit-year `only` keeps."""
    tags = {TAG_LOAD_ID: load_id, TAG_TRIGGER: TRIGGER_CLI}
    runs = LoadRuns()
    if not reports_only:
        ingest = definitions.resolve_job_def(INGEST_JOB).execute_in_process(
            instance=instance, tags={**tags, **({TAG_FULL_REFRESH: "true"} if full_refresh else {})},
            raise_on_error=False, run_config=run_config)
        runs.results.append(ingest)
        if not ingest.success:
            return runs
    con = connect(settings.db_path)
    try:
        unit_years, holding_data = rebuild_scope(con, settings, load_id, only=only, reports_only=reports_only)
    finally:
        con.close()
    runs.unit_years = unit_years
    runs.rectangles = rectangles_on(instance, unit_years, holding_data)
    job = definitions.resolve_job_def(REPORTS_JOB if reports_only else REBUILD_JOB)
    for rect in runs.rectangles:
        result = job.execute_in_process(instance=instance, tags={**tags, **rect.tags()}, raise_on_error=False,
                                        run_config=run_config)
        runs.results.append(result)
        if not result.success:
            break
    return runs


def rebuild_scope(con, settings, load_id: str, *, only: Callable[[set], set] | None = None,
                  reports_only: bool = False) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """After the ingest, on the writer: start the load's record and return (the unit-years
    to rebuild, the unit-years holding data). `only` narrows the scope to --unit/--year and
    rebuilds those even if unchanged; `reports_only`: every unit-year `only` keeps. With
    nothing to rebuild there is no publishing step, so pending BI work is caught up here."""
    stages.start_load(con, load_id, settings)
    holding_data = stages.unit_years_with_data(con)
    if reports_only:
        known = transform.all_unit_years(con)
        return (only(known) if only else known), holding_data
    unit_years = stages.to_rebuild(con)
    if only:  # asked for explicitly: rebuild those even when nothing changed
        unit_years = only(unit_years | transform.all_unit_years(con))
    if not unit_years:
        catch_up_bi(con, settings, load_id)
    return unit_years, holding_data


def catch_up_bi(con, settings, load_id: str) -> None:
    """A load with nothing to rebuild runs no publishing step, yet BI work may be pending
    (XLSX exports a publish owed and a killed load did not write, the PostgreSQL mirror was
    down at the last load, bi.duckdb is missing): do it here, with the summary lines and
    the failure the publishing step would have recorded."""
    if bi_work_pending(con, settings.warehouse_dir):
        outcome = after_publish(con, settings, PublishResult())
        stages.add_to_load(con, load_id, bi_lines=outcome.lines)
        if outcome.failed:
            stages.update_load(con, load_id, bi_failed=True)


def cursor_from_warehouse(db_path) -> dict:
    """The sensor's first cursor: the landing files the warehouse already holds (path, size,
    modification time, sha256), so that a first tick after a CLI load starts nothing."""
    if not db_path.exists():
        return {}
    con = connect(db_path, read_only=True, wait=0)
    try:
        if not table_exists(con, "meta.files"):
            return {}
        rows = con.execute("SELECT source_file, size_bytes, mtime_ns, file_sha256 FROM meta.files").fetchall()
    finally:
        con.close()
    return {"files": {name: [size, mtime] for name, size, mtime, _ in rows},
            "hashes": {name: sha for name, _, _, sha in rows}}


def landing_fingerprint(landing_files) -> dict[str, list]:
    """path -> [size, mtime_ns]: cheap to take every tick; contents are hashed only when these move."""
    return {f.source_file: [f.size, f.mtime_ns] for f in landing_files}


@dg.sensor(
    name="landing_files_sensor",
    job=ingest_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a load (the ingest; rebuild_after_ingest follows) when a landing file is added, changed "
                "or removed.",
)
def landing_files_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    try:
        files = discover(settings.landing_dir)
    except FileNotFoundError as error:
        return dg.SkipReason(str(error))
    if context.cursor:
        previous = json.loads(context.cursor)
    else:
        try:
            previous = cursor_from_warehouse(settings.db_path)
        except WarehouseBusy:
            return dg.SkipReason("the warehouse is being written (a load is running): looking again next tick")
    seen = previous.get("files", {})
    hashes = previous.get("hashes", {})
    current = landing_fingerprint(files)
    changed = []
    for landing in files:
        if seen.get(landing.source_file) == current[landing.source_file] and landing.source_file in hashes:
            continue
        try:  # a file the load will report unreadable (a dangling link, a FIFO …) is not opened here
            digest = landing.problem or scan_file(landing.path).sha256
        except OSError as error:
            digest = f"unreadable: {error.strerror}"
        if hashes.get(landing.source_file) != digest:
            changed.append((landing.source_file, digest))
        hashes[landing.source_file] = digest
    removed = sorted(set(hashes) - set(current))
    for name in removed:
        hashes.pop(name)
    context.update_cursor(json.dumps({"files": current, "hashes": hashes}))
    if not changed and not removed:
        return dg.SkipReason("no new, changed or removed landing files")
    # The run key is the content of what changed: the same file never triggers twice.
    key_source = json.dumps({"changed": sorted(changed), "removed": removed}, ensure_ascii=False)
    return dg.RunRequest(
        run_key=hashlib.sha256(key_source.encode()).hexdigest()[:32],
        tags={TAG_TRIGGER: "landing_files_sensor"},
    )
