"""The Dagster code location: `dg dev` / `dagster dev -m pipelines.definitions`."""

import dagster as dg

from pipelines.defs.assets import TABLE_SPECS, core, ingest, marts, no_blocking_failure, parquet
from pipelines.defs.checks import quality_checks
from pipelines.defs.jobs import (
    ingest_job,
    landing_files_sensor,
    nightly_load_schedule,
    rebuild_after_ingest,
    rebuild_reports_job,
    rebuild_unit_years_job,
)
from pipelines.defs.reports import reports
from pipelines.defs.resources import WarehouseResource

# The reports stage is three steps (gather, render, record) in pipelines.defs.reports, which
# builds on the helpers of pipelines.defs.assets: the list is made here, above both.
ALL_ASSETS = [ingest, *TABLE_SPECS, core, marts, parquet, reports]
ALL_CHECKS = [quality_checks, no_blocking_failure]
JOBS = [ingest_job, rebuild_unit_years_job, rebuild_reports_job]

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=JOBS,
    schedules=[nightly_load_schedule],
    sensors=[landing_files_sensor, rebuild_after_ingest],
    resources={
        "warehouse": WarehouseResource(),
        # Progress for a person watching (the CLI passes a printer); the run log has it anyway.
        "progress": dg.ResourceDefinition.hardcoded_resource(lambda message: None),
    },
    executor=dg.in_process_executor,
)
