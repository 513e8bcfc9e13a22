"""The warehouse's assets, one step a stage: ingest (raw + staging), core (+ quarantine),
marts (internal and public DuckDB tables), quality, Parquet publishing, evaluation reports.

Each stage is one step holding one DuckDB connection: DuckDB allows one writer, and a
step per table would cost Dagster's per-step overhead many times over for seconds of
SQL (measured: about 1.2 s a step with the default executor, against 0.1 s in-process). Asset keys mirror the warehouse's schemas.
"""


import re
import time
from collections.abc import Callable

import dagster as dg
import duckdb

from pipelines.defs.resources import WarehouseResource
from pipelines.evaluation.rules import load_rules
from pipelines.landing.headers import KIND_LABELS, KINDS
from pipelines.settings import SQL_DIR
from pipelines.warehouse import load as stages
from pipelines.warehouse.dictionary import column_descriptions
from pipelines.warehouse.lineage import model_reads
from pipelines.warehouse.transform import CORE_MODELS, MART_MODELS

# Run tags that narrow a load (set by `fiscal-warehouse load --unit/--year/--full-refresh`).
TAG_UNITS = "fiscal/units"
TAG_YEARS = "fiscal/years"
TAG_FULL_REFRESH = "fiscal/full_refresh"
TAG_LOAD_ID = "fiscal/load_id"
TAG_REBUILD_ALL = "fiscal/rebuild_all"

ProgressFn = Callable[[str], None]


def scope_filter_from_tags(tags: dict[str, str]) -> stages.ScopeFilter:
    units = frozenset(u for u in tags.get(TAG_UNITS, "").split(",") if u)
    years = frozenset(int(y) for y in tags.get(TAG_YEARS, "").split(",") if y)
    return stages.ScopeFilter(units, years, everything=tags.get(TAG_REBUILD_ALL) == "true")


def run_scope(con: duckdb.DuckDBPyConnection, context, settings) -> set[tuple[str, int]]:
    """The unit-years this run rebuilds, fixed by the first step that asks and kept with
    the load: a load's later steps must not pick up unit-years that another run's ingest
    marked meanwhile (their core would not have been rebuilt), and the reports step must
    clear only the marks this run built (those numbered up to `dirty_mark`)."""
    load_id = load_id_of(context)
    stages.start_load(con, load_id, settings)
    summary = stages.read_summary(con, load_id)
    if summary.scope_fixed:
        return {tuple(x) for x in summary.scope}
    scope, up_to = stages.dirty_scope_and_mark(con, scope_filter_from_tags(context.run.tags))
    stages.update_load(con, load_id, scope=sorted(scope), scope_fixed=True, dirty_mark=up_to)
    return scope


class reporter:  # noqa: N801 - used as a function: reporter(context, progress)(message)
    """Progress goes to whoever started the run (the CLI) at once and to the run's log (the UI).

    The lines about single files ("[12/9600] …", "  read …": indented or bracketed) reach
    the run's log in batches, one message every few seconds: a Dagster log message is a
    write to the instance's event log, 10-50 ms each here, which at a county's 9,600 files
    (two lines each) was minutes of the load. What is still batched is written when the
    reporter is let go (CPython: as soon as the step's call that used it returns)."""

    BATCH_SECONDS = 5.0

    def __init__(self, context, progress: ProgressFn):
        self.context, self.progress = context, progress
        self.pending: list[str] = []
        self.last = time.monotonic()

    def __call__(self, message: str) -> None:
        self.progress(message)
        if message.startswith(("[", " ")):
            self.pending.append(message)
            if time.monotonic() - self.last >= self.BATCH_SECONDS:
                self.flush()
        else:
            self.flush()
            self.context.log.info(message)

    def flush(self) -> None:
        if self.pending:
            lines, self.pending = self.pending, []
            self.context.log.info("\n".join(lines))
        self.last = time.monotonic()

    def __del__(self) -> None:
        try:
            self.flush()
        except Exception:  # the step is over: the run's log is closed  # noqa: BLE001
            pass


def load_id_of(context) -> str:
    """The load's id: the CLI's, else the Dagster run's (asset and asset-check contexts alike)."""
    return context.run.tags.get(TAG_LOAD_ID) or context.run.run_id


def model_description(relative: str) -> str:
    """The leading comment of a SQL model, which says what the table is."""
    path = SQL_DIR / relative
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    text = " ".join(lines)
    return re.sub(r"^\S+: ", "", text)


def table_metadata(con: duckdb.DuckDBPyConnection, table: str, described_as: str | None = None) -> dict:
    """Row count and column schema; `described_as` names the mart whose column descriptions to show."""
    columns = con.execute(f"DESCRIBE {table}").fetchall()
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    descriptions = column_descriptions(described_as) if described_as else {}
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name, str(kind), description=descriptions.get(name)) for name, kind, *_ in columns]
    )
    return {
        "dagster/row_count": dg.MetadataValue.int(rows),
        "dagster/column_schema": schema,
        "dagster/table_name": dg.MetadataValue.text(table),
    }


# A model's reads as asset keys: the `build` schema holds the internal marts (asset marts/<name>).
_ASSET_PREFIX = {"staging": "staging", "core": "core", "build": "marts"}


def reads_as_assets(relative: str) -> list[list[str]]:
    """The assets `sql/<relative>` reads, derived from its SQL (pipelines.warehouse.lineage)."""
    folder, name = relative.removesuffix(".sql").split("/")
    itself = {"core": ("core", name), "marts": ("build", name)}.get(folder)
    return sorted([_ASSET_PREFIX[schema], table] for schema, table in model_reads(relative) if (schema, table) != itself)


def public_mart_reads(mart: str) -> list[list[str]]:
    """A redacted public mart reads what its sql/marts_public model reads; the others copy marts/<mart>."""
    if (SQL_DIR / "marts_public" / f"{mart}.sql").exists():
        return reads_as_assets(f"marts_public/{mart}.sql")
    return [["marts", mart]]


def _spec(key: list[str], group: str, description: str, deps=(), kinds=("duckdb",)) -> dg.AssetSpec:
    return dg.AssetSpec(key=key, group_name=group, description=description, deps=list(deps), kinds=set(kinds))


INGEST_SPECS = [
    _spec(["raw", kind], "ingest", f"{KIND_LABELS[kind]}: every row of the landing files of this kind as read (text), "
          "with lineage (source_file, source_row, file_sha256, loaded_at).", kinds=("duckdb", "csv", "excel"))
    for kind in KINDS
] + [
    _spec(["staging", kind], "ingest", model_description(f"staging/{kind}.sql"), deps=[["raw", kind]])
    for kind in KINDS
]


@dg.multi_asset(specs=INGEST_SPECS, name="ingest")
def ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource, progress: dg.ResourceParam[ProgressFn]):
    """Read new and changed landing files into raw, type and check them into staging."""
    settings = warehouse.settings
    con = warehouse.connect()
    try:
        load_id = load_id_of(context)
        stages.start_load(con, load_id, settings)
        result = stages.stage_ingest(
            con, settings, reporter(context, progress), full_refresh=context.run.tags.get(TAG_FULL_REFRESH) == "true"
        )
        from pipelines.defs.partitions import register_partitions

        register_partitions(context.instance, stages.transform.all_unit_years(con))
        stages.update_load(
            con, load_id, files_seen=result.files_seen, files_new=len(result.new), files_changed=len(result.changed),
            files_removed=len(result.removed), files_unreadable=result.unreadable,
        )
        for kind in KINDS:
            for layer in ("raw", "staging"):
                yield dg.MaterializeResult(asset_key=[layer, kind], metadata=table_metadata(con, f"{layer}.{kind}"))
    finally:
        con.close()


CORE_SPECS = [
    _spec(["core", name], "core", model_description(f"core/{name}.sql"), deps=reads_as_assets(f"core/{name}.sql"))
    for name in CORE_MODELS
] + [
    _spec(["quarantine"], "core", "Every row that could not be taken: file, sheet, row, reason code, reason, raw "
          "cells (JSON by header), loaded_at; one row per file that could not be read at all.",
          deps=[["staging", k] for k in KINDS])
]


@dg.multi_asset(specs=CORE_SPECS, name="core")
def core(context: dg.AssetExecutionContext, warehouse: WarehouseResource, progress: dg.ResourceParam[ProgressFn]):
    """Facts and dimensions for the unit-years whose inputs changed; the quarantine table."""
    con = warehouse.connect()
    try:
        scope = run_scope(con, context, warehouse.settings)
        reporter(context, progress)(f"core: rebuilding {len(scope)} unit-year(s)")
        stages.stage_core(con, scope)
        stages.update_load(con, load_id_of(context), core_built=True)
        for name in CORE_MODELS:
            yield dg.MaterializeResult(asset_key=["core", name], metadata=table_metadata(con, f"core.{name}"))
        yield dg.MaterializeResult(asset_key=["quarantine"], metadata=table_metadata(con, "quarantine"))
    finally:
        con.close()


MART_SPECS = [
    _spec(["marts", name], "marts", model_description(f"marts/{name}.sql"), deps=reads_as_assets(f"marts/{name}.sql"))
    for name in MART_MODELS
] + [
    _spec(["marts_public", name], "marts_public", f"The public copy of marts.{name} (涉密 projects redacted).",
          deps=public_mart_reads(name))
    for name in MART_MODELS
]


@dg.multi_asset(specs=MART_SPECS, name="marts")
def marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, progress: dg.ResourceParam[ProgressFn]):
    """The marts as DuckDB tables (schema build, public copy build_public), before publishing."""
    con = warehouse.connect()
    try:
        scope = run_scope(con, context, warehouse.settings)
        reporter(context, progress)(f"marts: building {len(scope)} unit-year(s)")
        stages.stage_marts(con, scope, load_rules())
        for name in MART_MODELS:
            yield dg.MaterializeResult(asset_key=["marts", name], metadata=table_metadata(con, f"build.{name}", name))
            yield dg.MaterializeResult(
                asset_key=["marts_public", name], metadata=table_metadata(con, f"build_public.{name}", name)
            )
    finally:
        con.close()


@dg.asset(
    key=["quality", "results"],
    group_name="quality",
    kinds={"duckdb", "great_expectations"},
    deps=[["marts", name] for name in MART_MODELS] + [["quarantine"]],
)
def quality_results(context: dg.AssetExecutionContext, warehouse: WarehouseResource, progress: dg.ResourceParam[ProgressFn]) -> dg.MaterializeResult:
    """Runs the Great Expectations suites and the rule catalogue over the changed unit-years;
    writes quality.results and the error report finance staff act on."""
    from pipelines.quality.run import run_quality

    con = warehouse.connect()
    try:
        scope = run_scope(con, context, warehouse.settings)
        load_id = load_id_of(context)
        reporter(context, progress)("quality: running the expectation suites and the rule catalogue")
        outcome = run_quality(con, warehouse.settings, scope, load_id)
        stages.update_load(con, load_id, checks_failed=outcome.failed, quality_report=outcome.report_path,
                           withheld=sorted(outcome.withheld))
        metadata = {"failed_checks": dg.MetadataValue.int(len(outcome.failed)),
                    "withheld_unit_years": dg.MetadataValue.int(len(outcome.withheld))}
        if outcome.report_path:
            metadata["report"] = dg.MetadataValue.path(outcome.report_path)
        return dg.MaterializeResult(metadata=metadata)
    finally:
        con.close()


@dg.asset(
    key=["parquet", "marts"],
    group_name="publish",
    kinds={"parquet", "duckdb"},
    deps=[["quality", "results"]] + [["marts_public", name] for name in MART_MODELS],
)
def published_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, progress: dg.ResourceParam[ProgressFn]) -> dg.MaterializeResult:
    """The Parquet marts for BI tools (marts/ and marts_public/), the DuckDB views over them,
    and quarantine/quarantine.parquet. Unit-years with a failed blocking check keep their
    previous files."""
    settings = warehouse.settings
    con = warehouse.connect()
    try:
        scope = run_scope(con, context, warehouse.settings)
        load_id = load_id_of(context)
        summary = stages.read_summary(con, load_id)
        reporter(context, progress)(f"publishing marts for {len(scope)} unit-year(s)")
        result = stages.stage_publish(con, settings, scope, {tuple(x) for x in summary.withheld})
        stages.fill_summary(con, summary)
        stages.update_load(
            con, load_id, marts_written=len(result.written), marts_deleted=len(result.deleted),
            marts_unchanged=result.unchanged, withheld=result.withheld, rows_by_kind=summary.rows_by_kind,
            quarantine_by_reason=summary.quarantine_by_reason, files_unreadable=summary.files_unreadable,
            overlapping_files=summary.overlapping_files, bi_lines=result.bi_lines, bi_failed=result.bi_failed,
        )
        return dg.MaterializeResult(metadata={
            "files_written": dg.MetadataValue.int(len(result.written)),
            "files_deleted": dg.MetadataValue.int(len(result.deleted)),
            "partitions_unchanged": dg.MetadataValue.int(result.unchanged),
            "marts_dir": dg.MetadataValue.path(str(settings.marts_dir)),
        })
    finally:
        con.close()


@dg.asset(
    key=["reports", "self_evaluation"],
    group_name="evaluation",
    kinds={"xlsx", "docx"},
    deps=[["parquet", "marts"]],
)
def evaluation_reports(context: dg.AssetExecutionContext, warehouse: WarehouseResource, progress: dg.ResourceParam[ProgressFn]) -> dg.MaterializeResult:
    """部门整体支出绩效自评表 (XLSX) and 自评报告 (DOCX, Markdown) for each published unit-year.

    The unit-years are recorded as done (their rebuild marks cleared) once their reports
    are written: their marts and public marts are published by then, so a load killed or
    failing before this leaves them marked and the next load rebuilds them whole. A run
    that did not rebuild core (`fiscal-warehouse report`) clears nothing."""
    from pipelines.evaluation.outputs import write_reports

    settings = warehouse.settings
    con = warehouse.connect()
    try:
        load_id = load_id_of(context)
        summary = stages.read_summary(con, load_id)
        scope = {tuple(x) for x in summary.scope} - {tuple(x) for x in summary.withheld}
        written = write_reports(con, settings, scope, load_rules(), reporter(context, progress))
        if summary.core_built:
            stages.mark_done(con, scope, summary.dirty_mark)
        stages.update_load(con, load_id, reports_written=written)
        return dg.MaterializeResult(metadata={"files_written": dg.MetadataValue.int(len(written))})
    finally:
        con.close()


ALL_ASSETS = [ingest, core, marts, quality_results, published_marts, evaluation_reports]
