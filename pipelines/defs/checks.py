"""Asset checks: every expectation suite and every rule of the catalogue, each on its asset.

One Dagster asset check per suite (`gx_<layer>_<table>`, on ["raw"|"staging"|"core", table])
and per rule (the rule's id, on the asset of its `target_table`: ["staging", kind],
["core", table], ["marts", mart], ["marts_public", mart] or ["quarantine"]). The checks
do not compute anything: the `unit_year/marts` asset runs the suites and rules once a
run, over the run's unit-years, stores what it found in `quality.results` /
`quality.check_runs`, and logs each check's evaluation beside its table (`check_results`):
passed, severity (ERROR for fatal rules and critical expectations, WARN for warnings), the
failing count, up to five row ids (`file:row`, or `unit/year` for checks on totals) and
the check's id — never data values beyond ids. Per unit-year, the check
`no_blocking_failure` (pipelines.defs.assets) says whether the unit-year was withheld. The
multi-asset check below declares the checks for the UI; run on its own it reports the latest
load's results again.

Why `blocking=False`. A blocking Dagster check stops every downstream asset of the run
when it fails: one unit's unbalanced tie-out would stop the publishing of every unit in
the load. Publishing already does better, per unit-year: `unit_year/marts` decides which
unit-years have a fatal failure (`QualityOutcome.withheld`), `unit_year/parquet` keeps their
previous Parquet files and publishes all others, and `fiscal-warehouse load` exits 1 when
anything blocking failed. So the Dagster checks report (with ERROR severity where it
matters) and do not block the run.
"""

import duckdb

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.defs.run_tags import load_id_of
from pipelines.warehouse.db import table_exists
from pipelines.quality.run import asset_key_of, list_suites, load_catalogue

SAMPLE_SIZE = 5


def _check_sources() -> dict[dg.AssetCheckKey, dict]:
    """Check key -> what it is (id, kind, configured severity, description)."""
    sources = {}
    for suite in list_suites():
        key = dg.AssetCheckKey(dg.AssetKey(asset_key_of(suite.table)), suite.check_id)
        sources[key] = {
            "id": suite.check_id, "kind": "expectation", "severity": suite.severity, "target_table": suite.table,
            "description": f"Great Expectations suite expectations/{suite.path.name}: {suite.description}",
        }
    for rule in load_catalogue():
        key = dg.AssetCheckKey(dg.AssetKey(asset_key_of(rule.target_table)), rule.id)
        sources[key] = {
            "id": rule.id, "kind": "rule", "severity": rule.severity, "target_table": rule.target_table,
            "description": f"[{rule.severity}, {rule.category}] {rule.message_zh} / {rule.message_en}. "
                           f"{rule.description} (sql/rules/{rule.id}.sql)",
        }
    return sources


CHECK_SOURCES = _check_sources()

CHECK_SPECS = [
    dg.AssetCheckSpec(
        name=key.name,
        asset=key.asset_key,
        description=source["description"],
        blocking=False,
        metadata={"check_kind": source["kind"], "configured_severity": source["severity"]},
    )
    for key, source in CHECK_SOURCES.items()
]


def _severity(source: dict, run: dict | None) -> dg.AssetCheckSeverity:
    if run is not None and run["kind"] == "expectation":
        if run["fatal_failing"]:
            return dg.AssetCheckSeverity.ERROR
        if run["failing"]:
            return dg.AssetCheckSeverity.WARN
    return dg.AssetCheckSeverity.ERROR if source["severity"] == "fatal" else dg.AssetCheckSeverity.WARN


def check_results(con: duckdb.DuckDBPyConnection, load_id: str, keys) -> list[dg.AssetCheckResult]:
    """The AssetCheckResults of `keys` for one load, from quality.check_runs / quality.results."""
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'quality'").fetchall()}
    runs, samples = {}, {}
    if {"check_runs", "results"} <= tables:
        for check_id, kind, severity, passed, failing, fatal_failing in con.execute(
            "SELECT check_id, kind, severity, passed, failing, fatal_failing FROM quality.check_runs WHERE load_id = ?",
            [load_id],
        ).fetchall():
            runs[check_id] = {"kind": kind, "severity": severity, "passed": passed, "failing": failing,
                              "fatal_failing": fatal_failing}
        samples = dict(con.execute(
            f"""SELECT check_id, list(row_id ORDER BY source_file NULLS LAST, source_row, row_id)[1:{SAMPLE_SIZE}]
            FROM (
                SELECT DISTINCT check_id, source_file, source_row,
                       coalesce(source_file || ':' || source_row::VARCHAR, source_file,
                                unit_code || '/' || fiscal_year::VARCHAR, '(table)') AS row_id
                FROM quality.results WHERE load_id = ?)
            GROUP BY check_id""",
            [load_id],
        ).fetchall())
    results = []
    for key in keys:
        source = CHECK_SOURCES[key]
        run = runs.get(source["id"])
        metadata = {
            "check_id": dg.MetadataValue.text(source["id"]),
            "check_kind": dg.MetadataValue.text(source["kind"]),
            "target_table": dg.MetadataValue.text(source["target_table"]),
            "load_id": dg.MetadataValue.text(load_id),
        }
        if run is None:
            metadata["note"] = dg.MetadataValue.text("the quality checks did not run for this load")
            results.append(dg.AssetCheckResult(
                asset_key=key.asset_key, check_name=key.name, passed=False,
                severity=dg.AssetCheckSeverity.WARN, metadata=metadata,
                description="No result for this load: unit_year/marts did not run.",
            ))
            continue
        metadata["failing_count"] = dg.MetadataValue.int(int(run["failing"]))
        metadata["fatal_count"] = dg.MetadataValue.int(int(run["fatal_failing"]))
        metadata["sample_row_ids"] = dg.MetadataValue.json(list(samples.get(source["id"]) or []))
        results.append(dg.AssetCheckResult(
            asset_key=key.asset_key, check_name=key.name, passed=bool(run["passed"]),
            severity=_severity(source, run), metadata=metadata,
        ))
    return results


@dg.multi_asset_check(
    specs=CHECK_SPECS,
    name="quality_checks",
    can_subset=True,
    description="Reports the expectation suites and the rule catalogue (run by unit_year/marts) per asset: "
                "the latest load's results.",
)
def quality_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    con = warehouse.connect()
    try:
        latest = con.execute("SELECT load_id FROM quality.check_runs ORDER BY checked_at DESC LIMIT 1").fetchall() \
            if table_exists(con, "quality.check_runs") else []
        load_id = latest[0][0] if latest else load_id_of(context)
        keys = [key for key in CHECK_SOURCES if key in context.selected_asset_check_keys]
        yield from check_results(con, load_id, keys)
    finally:
        con.close()

