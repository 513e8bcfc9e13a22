"""Partitions by fiscal year × unit, discovered from the landing files, and the job that
rebuilds one partition: for backfills from the UI and for re-running a unit whose load
failed, independently of every other unit.

The nightly load and the landing sensor run the unpartitioned `full_load` job, which
already does the least work that keeps everything right (it rebuilds only the
unit-years whose input files changed, and rewrites only their Parquet partitions); this
job is the per-partition handle on the same stages.
"""

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.evaluation.rules import load_rules
from pipelines.warehouse import load as stages
from pipelines.warehouse.transform import with_following_years

FISCAL_YEARS = dg.DynamicPartitionsDefinition(name="fiscal_year")
UNITS = dg.DynamicPartitionsDefinition(name="unit")
unit_year_partitions = dg.MultiPartitionsDefinition({"fiscal_year": FISCAL_YEARS, "unit": UNITS})


def register_partitions(instance: dg.DagsterInstance, unit_years) -> int:
    """Add the years and units of these (unit, year) pairs as dynamic partitions; returns how many were new."""
    added = 0
    for definition, values in ((FISCAL_YEARS, {str(y) for _, y in unit_years}), (UNITS, {u for u, _ in unit_years})):
        new = sorted(values - set(instance.get_dynamic_partitions(definition.name)))
        if new:
            instance.add_dynamic_partitions(definition.name, new)
            added += len(new)
    return added


@dg.op(description="Rebuild core, marts, checks, Parquet and reports of one unit and fiscal year.")
def rebuild_unit_year(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    keys = context.partition_key.keys_by_dimension
    unit, year = keys["unit"], int(keys["fiscal_year"])
    settings = warehouse.settings
    con = warehouse.connect()
    try:
        load_id = context.run_id
        stages.start_load(con, load_id, settings)
        _, up_to = stages.dirty_scope_and_mark(con)  # marks made after this are another run's to clear
        scope = with_following_years(con, {(unit, year)})
        context.log.info(f"rebuilding {sorted(scope)}")
        from pipelines.evaluation.outputs import write_reports
        from pipelines.quality.run import run_quality

        rules = load_rules()
        stages.stage_core(con, scope)
        stages.stage_marts(con, scope, rules)
        outcome = run_quality(con, settings, scope, load_id)
        published = stages.stage_publish(con, settings, scope, outcome.withheld)
        written = write_reports(con, settings, scope - set(outcome.withheld), rules, context.log.info)
        # Done only now that marts, public marts and reports are all written.
        stages.mark_done(con, scope - set(outcome.withheld), up_to)
        stages.update_load(con, load_id, scope=sorted(scope), checks_failed=outcome.failed,
                           withheld=sorted(outcome.withheld), marts_written=len(published.written),
                           reports_written=written)
        if outcome.withheld:
            raise dg.Failure(f"blocking checks failed for {sorted(outcome.withheld)}: previous marts kept",
                             metadata={"failed_checks": len(outcome.failed)})
    finally:
        con.close()


@dg.job(
    partitions_def=unit_year_partitions,
    executor_def=dg.in_process_executor,
    description="One unit's fiscal year, rebuilt from what is in the warehouse (no landing files are read).",
)
def rebuild_unit_year_job():
    rebuild_unit_year()
