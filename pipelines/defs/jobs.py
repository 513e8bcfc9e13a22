"""Jobs, the nightly schedule and the landing-folder sensor."""


import hashlib
import json

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.landing.discovery import discover
from pipelines.warehouse.db import WarehouseBusy, connect, table_exists
from pipelines.warehouse.transform import MART_MODELS

full_load_job = dg.define_asset_job(
    name="full_load",
    selection=dg.AssetSelection.all(),
    description="Everything: ingest new and changed landing files, rebuild what they touch, check, publish, report.",
    executor_def=dg.in_process_executor,
)

rebuild_reports_job = dg.define_asset_job(
    name="rebuild_reports",
    selection=dg.AssetSelection.assets(
        *(["marts", m] for m in MART_MODELS), *(["marts_public", m] for m in MART_MODELS),
        ["quality", "results"], ["parquet", "marts"], ["reports", "self_evaluation"],
    ),
    description="`fiscal-warehouse report`: the marts, checks, Parquet and evaluation reports again from what the "
                "warehouse holds, without reading the landing folder.",
    executor_def=dg.in_process_executor,
)

nightly_load_schedule = dg.ScheduleDefinition(
    name="nightly_load",
    job=full_load_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    description="The nightly load at 02:00 Beijing time.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


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
    job=full_load_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a load when a landing file is added, changed or removed.",
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
    from pipelines.landing.readers import scan_file

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
        tags={"fiscal/trigger": "landing_files_sensor"},
    )
