"""The warehouse's assets. The ingest (raw, staging, quarantine) is unpartitioned: it reads
the landing folder, which is not split by unit-year. Everything after it runs per unit-year
(partitioned by fiscal year × unit, pipelines.defs.partitions): core, marts (with the
quality checks), Parquet publishing, reports — one asset a stage, group `unit_year`. A
run's scope is its partition keys; one run covers a rectangle of keys (BackfillPolicy.
single_run), and each stage is one step holding one DuckDB connection: DuckDB allows one
writer, and a step per table would cost Dagster's per-step overhead many times over.

The tables (core/*, marts/*, marts_public/*) are declared once each with their lineage
from the SQL (reads_as_assets), unpartitioned: their stage step reports one
materialization per table and run. Why not a partitioned key per table: on the SQLite
instance the CLI uses, each partition × asset key costs ~40 ms of Dagster bookkeeping
(its planned and materialization events); 25 keys × a county's 600 unit-years is
~10 minutes, more than the load itself (README, "Dagster and partitions").
"""


import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.partitions import partition_key, register_partitions, unit_year_partitions, unit_years_of
from pipelines.defs.checks import CHECK_SOURCES, check_results
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.run_tags import TAG_FULL_REFRESH, load_id_of
from pipelines.distributed.tags import ANY_WORKER_STEP_TAGS
from pipelines.files import write_in_place
from pipelines.evaluation.rules import load_rules
from pipelines.landing.headers import KIND_LABELS, KINDS
from pipelines.quality.run import run_quality
from pipelines.settings import SQL_DIR
from pipelines.warehouse import load as stages
from pipelines.warehouse import declarations
from pipelines.warehouse.db import Writer
from pipelines.warehouse.dictionary import column_descriptions
from pipelines.warehouse.lineage import model_reads
from pipelines.warehouse.transform import CORE_MODELS, MART_MODELS
from pipelines.workers import start_server


ProgressFn = Callable[[str], None]


class reporter:  # noqa: N801 - used as a function: reporter(context, progress)(message)
    """Progress goes to whoever started the run (the CLI) at once and to the run's log (the UI).

    The lines about single files ("[12/9600] …", "  read …": indented or bracketed) and
    single unit-years ("reports: 117001 2021 (3/600)", "reports: 117001 2021: no narrative
    file …") reach the run's log in batches, one message every few seconds: a Dagster log
    message is a write to the instance's event log, 10-50 ms each here, which at a county's
    9,600 files (two lines each) was minutes of the load, and at its 600 unit-years (one or
    two lines each) 10-60 s of the reports' gathering. What is still batched is written when
    the reporter is let go (CPython: as soon as the step's call that used it returns)."""

    BATCH_SECONDS = 5.0
    ONE_ITEM = re.compile(r"[\[ ]|reports: \S+ \d{4}\b")  # a line about one file or one unit-year

    def __init__(self, context, progress: ProgressFn):
        self.context, self.progress = context, progress
        self.pending: list[str] = []
        self.last = time.monotonic()

    def __call__(self, message: str) -> None:
        self.progress(message)
        if self.ONE_ITEM.match(message):
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
    public_sql = declarations.marts()[mart].public_sql_file
    if public_sql is not None:
        return reads_as_assets(public_sql.relative_to(SQL_DIR).as_posix())
    return [["marts", mart]]


def _spec(key: list[str], group: str, description: str, deps=(), kinds=("duckdb",), skippable=False) -> dg.AssetSpec:
    return dg.AssetSpec(key=key, group_name=group, description=description, deps=list(deps), kinds=set(kinds),
                        skippable=skippable)


# A raw or staging table is materialized by a load that changed its rows (changed_tables).
INGEST_SPECS = [
    _spec(["raw", kind], "ingest", f"{KIND_LABELS[kind]}: every row of the landing files of this kind as read (text), "
          "with lineage (source_file, source_row, file_sha256, loaded_at).", kinds=("duckdb", "csv", "excel"),
          skippable=True)
    for kind in KINDS
] + [
    _spec(["staging", kind], "ingest", model_description(f"staging/{kind}.sql"), deps=[["raw", kind]], skippable=True)
    for kind in KINDS
] + [
    # Not per unit-year: a file that could not be read at all belongs to none.
    _spec(["quarantine"], "ingest", "Every row that could not be taken: file, sheet, row, reason code, reason, raw "
          "cells (JSON by header), loaded_at; one row per file that could not be read at all. Also written as "
          "quarantine/quarantine.parquet.", deps=[["staging", k] for k in KINDS], kinds=("duckdb", "parquet"))
]


@dg.multi_asset(specs=INGEST_SPECS, name="ingest")
def ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource, progress: dg.ResourceParam[ProgressFn]):
    """Read new and changed landing files into raw, type and check them into staging, rebuild
    the quarantine; mark the unit-years whose inputs changed (meta.dirty) and register the
    unit-years as partitions."""
    settings = warehouse.settings
    con = warehouse.connect()
    try:
        load_id = load_id_of(context)
        stages.start_load(con, load_id, settings)
        result = stages.stage_ingest(
            con, settings, reporter(context, progress), full_refresh=context.run.tags.get(TAG_FULL_REFRESH) == "true",
            # once the files are hashed: the fork server imports GX for the checks' workers
            when_reading=start_server,
        )
        register_partitions(context.instance, stages.transform.all_unit_years(con) | stages.dirty_scope(con))
        stages.update_load(
            con, load_id, files_seen=result.files_seen, files_new=len(result.new), files_changed=len(result.changed),
            files_removed=len(result.removed), files_unreadable=result.unreadable,
        )
        summary = stages.read_summary(con, load_id)
        stages.fill_summary(con, summary)
        stages.update_load(con, load_id, rows_by_kind=summary.rows_by_kind,
                           quarantine_by_reason=summary.quarantine_by_reason,
                           files_unreadable=summary.files_unreadable, overlapping_files=summary.overlapping_files)
        yield from changed_tables(context.instance, con)
        yield dg.MaterializeResult(asset_key=["quarantine"], metadata=table_metadata(con, "quarantine"))
    finally:
        con.close()


ROWS_FINGERPRINT = "rows_fingerprint"


def changed_tables(instance: dg.DagsterInstance, con: duckdb.DuckDBPyConnection):
    """A materialization of each raw and staging table whose rows are not those its last
    materialization recorded (rows_fingerprint: their count and the sum of their source
    keys, which every file read again changes). A load of one monthly export changes one
    kind's tables, and each materialization costs Dagster ≈ 0.1 s of bookkeeping; a table
    left as it was has nothing to report. Compared with the instance's record, not with the
    start of this load: a load killed after it deleted a removed file's rows changed the
    table without saying so."""
    tables = {(layer, kind): f"{layer}.{kind}" for kind in KINDS for layer in ("raw", "staging")}
    recorded = {}
    for record in instance.get_asset_records([dg.AssetKey(list(key)) for key in tables]):
        last = record.asset_entry.last_materialization
        value = last.asset_materialization.metadata.get(ROWS_FINGERPRINT) if last and last.asset_materialization else None
        recorded[tuple(record.asset_entry.asset_key.path)] = value.value if value is not None else None
    for key, table in tables.items():
        rows, keys = con.execute(f"SELECT count(*), coalesce(sum(source_key), 0) FROM {table}__rows").fetchone()
        fingerprint = f"{rows}:{keys}"
        if recorded.get(key) == fingerprint:
            continue
        yield dg.MaterializeResult(asset_key=list(key), metadata={
            **table_metadata(con, table), ROWS_FINGERPRINT: dg.MetadataValue.text(fingerprint)})


# ------------------------------------------------------------------ the tables (lineage)

CORE_TABLE_KEYS = [["core", name] for name in CORE_MODELS]
MART_TABLE_KEYS = [["marts", name] for name in MART_MODELS]
PUBLIC_MART_TABLE_KEYS = [["marts_public", name] for name in MART_MODELS]

UNIT_YEAR_CORE = dg.AssetKey(["unit_year", "core"])
UNIT_YEAR_MARTS = dg.AssetKey(["unit_year", "marts"])
UNIT_YEAR_PARQUET = dg.AssetKey(["unit_year", "parquet"])
UNIT_YEAR_REPORTS = dg.AssetKey(["unit_year", "reports"])

TABLE_SPECS = [
    _spec(["core", name], "core", model_description(f"core/{name}.sql") + " Written by unit_year/core, per unit-year.",
          deps=[*reads_as_assets(f"core/{name}.sql"), UNIT_YEAR_CORE])
    for name in CORE_MODELS
] + [
    _spec(["marts", name], "marts", model_description(f"marts/{name}.sql") + " Written by unit_year/marts.",
          deps=[*reads_as_assets(f"marts/{name}.sql"), UNIT_YEAR_MARTS])
    for name in MART_MODELS
] + [
    _spec(["marts_public", name], "marts_public",
          f"The public copy of marts.{name} (涉密 projects redacted). Written by unit_year/marts.",
          deps=[*public_mart_reads(name), UNIT_YEAR_MARTS])
    for name in MART_MODELS
]
"""One spec a table, with the tables its SQL reads: the lineage the UI draws. They are
written by the unit_year stage they name (not materialized on their own); that stage
reports each table's materialization, whole-table row count and schema, once a run."""


def report_tables(context, con: duckdb.DuckDBPyConnection, keys: list[list[str]], scope) -> None:
    """One materialization per table for this run (unpartitioned: see the module's docstring);
    `scope`: the run's unit-years."""
    schema_of = {"core": "core", "marts": "build", "marts_public": "build_public"}
    for prefix, name in keys:
        context.log_event(dg.AssetMaterialization(
            asset_key=[prefix, name],
            metadata={**table_metadata(con, f"{schema_of[prefix]}.{name}", name if prefix != "core" else None),
                      "partitions_rebuilt": dg.MetadataValue.int(len(scope))},
        ))


# ------------------------------------------------------------------ per unit-year

BLOCKING_CHECK = "no_blocking_failure"


def _unit_year_asset(key: dg.AssetKey, description: str, deps, kinds):
    """A stage as one partitioned asset: its runs cover rectangles of unit-years."""
    return dg.multi_asset(
        specs=[dg.AssetSpec(key, group_name="unit_year", description=description, deps=list(deps), kinds=set(kinds))],
        name=key.path[-1],
        partitions_def=unit_year_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )


def _connect(context, warehouse: WarehouseResource) -> duckdb.DuckDBPyConnection:
    """The step's writing connection, with the load's summary row in place (a run started
    from the UI is a load of its own)."""
    con = warehouse.connect()
    stages.start_load(con, load_id_of(context), warehouse.settings)
    return con


def _keys_metadata(scope) -> dict:
    return {"unit_years": dg.MetadataValue.int(len(scope))}


@_unit_year_asset(UNIT_YEAR_CORE, "Core facts and dimensions of the unit-year (sql/core).",
                  deps=[["staging", k] for k in KINDS], kinds=("duckdb",))
def core(context: dg.AssetExecutionContext, warehouse: WarehouseResource, progress: dg.ResourceParam[ProgressFn]):
    con = _connect(context, warehouse)
    try:
        scope = unit_years_of(context)
        reporter(context, progress)(f"core: rebuilding {len(scope)} unit-year(s)")
        # The marks this run may clear once its reports are written: those made before it read the data.
        stages.note_run_mark(con, load_id_of(context), context.run.run_id)
        stages.stage_core(con, scope)
        stages.add_to_load(con, load_id_of(context), rebuilt=sorted(scope))
        report_tables(context, con, CORE_TABLE_KEYS, scope)
        yield dg.MaterializeResult(asset_key=UNIT_YEAR_CORE, metadata=_keys_metadata(scope))
    finally:
        con.close()


@_unit_year_asset(
    UNIT_YEAR_MARTS,
    "The marts of the unit-year as DuckDB tables (schema build, public copy build_public), then the Great "
    "Expectations suites and the rule catalogue over them; a unit-year with a blocking failure is withheld "
    f"(its previous Parquet files stay). The check {BLOCKING_CHECK} says so per unit-year.",
    deps=[UNIT_YEAR_CORE], kinds=("duckdb", "great_expectations"),
)
def marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, progress: dg.ResourceParam[ProgressFn]):
    writer = Writer(warehouse.settings.db_path, _connect(context, warehouse))
    try:
        con = writer.con
        scope = unit_years_of(context)
        load_id = load_id_of(context)
        say = reporter(context, progress)
        say(f"marts: building {len(scope)} unit-year(s)")
        stages.stage_marts(con, scope, load_rules())
        say("quality: running the expectation suites and the rule catalogue")
        earlier = stages.earlier_check_runs(con, load_id)
        # A run's rectangle may hold keys with no data at all (a unit that started reporting
        # later): nothing to check there, and the error report's 检查范围 names only real ones.
        outcome = run_quality(writer, warehouse.settings, scope & stages.unit_years_with_data(con), load_id)
        con = writer.con
        stages.add_earlier_check_runs(con, load_id, earlier)
        stages.add_to_load(con, load_id, checks_failed=outcome.failed, withheld=sorted(outcome.withheld))
        stages.update_load(con, load_id, quality_report=outcome.report_path)
        report_tables(context, con, MART_TABLE_KEYS + PUBLIC_MART_TABLE_KEYS, scope)
        # Each suite and rule once a run, on its table; and per unit-year, whether it is withheld.
        for result in check_results(con, load_id, list(CHECK_SOURCES)):
            context.log_event(dg.AssetCheckEvaluation(
                asset_key=result.asset_key, check_name=result.check_name, passed=result.passed,
                metadata=result.metadata, severity=result.severity, description=result.description,
            ))
        failing = stages.failing_checks_by_unit_year(con, load_id)
        checks = context.run.asset_check_selection
        if checks is None or dg.AssetCheckKey(UNIT_YEAR_MARTS, BLOCKING_CHECK) in checks:  # its step reads it
            write_in_place(unit_year_outcomes_path(warehouse.settings.warehouse_dir, context.run.run_id), json.dumps([
                [unit, year, (unit, year) not in outcome.withheld, *failing.get((unit, year), ([], []))]
                for unit, year in sorted(scope)
            ], ensure_ascii=False).encode())
        metadata = {**_keys_metadata(scope), "failed_checks": dg.MetadataValue.int(len(outcome.failed)),
                    "withheld_unit_years": dg.MetadataValue.int(len(outcome.withheld))}
        if outcome.report_path:
            metadata["report"] = dg.MetadataValue.path(outcome.report_path)
        yield dg.MaterializeResult(asset_key=UNIT_YEAR_MARTS, metadata=metadata)
    finally:
        writer.con.close()


OUTCOMES_FOLDER = Path(".work") / "check_outcomes"


def unit_year_outcomes_path(warehouse_dir: Path, run_id: str) -> Path:
    """What a run's marts step found per unit-year, for its check step: [unit, year, passed,
    fatal check ids, warning check ids] each (a copy of quality.results for the run, read once)."""
    return warehouse_dir / OUTCOMES_FOLDER / f"{run_id}.json"


@dg.asset_check(
    asset=UNIT_YEAR_MARTS, name=BLOCKING_CHECK, partitions_def=unit_year_partitions, blocking=False,
    op_tags=ANY_WORKER_STEP_TAGS,
    description="No fatal rule or critical expectation failed for this unit-year (else it is withheld); the failing "
                "checks' ids in metadata. Reports what the run's unit_year/marts step found.",
)
def no_blocking_failure(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> None:
    """One evaluation per unit-year of the run, from the marts step's file. A step of its own,
    which any worker may run (it never opens warehouse.duckdb): at a county's 600 unit-years
    the evaluations are 600 event writes (1.7 s on PostgreSQL, 8 s before its connection was
    kept), which the distributed executor's other workers do while the writer publishes."""
    path = unit_year_outcomes_path(warehouse.settings.warehouse_dir, context.run.run_id)
    if not path.exists():
        raise dg.Failure(f"{path}: no outcome of unit_year/marts in this run. {BLOCKING_CHECK} reports what the "
                         "marts step of its own run found: run it with unit_year/marts.")
    log = context.op_execution_context.log_event
    for unit, year, passed, fatal, warnings in json.loads(path.read_text(encoding="utf-8")):
        log(dg.AssetCheckEvaluation(
            asset_key=UNIT_YEAR_MARTS, check_name=BLOCKING_CHECK, partition=str(partition_key(unit, year)),
            passed=passed, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"fatal_checks": dg.MetadataValue.json(fatal), "warning_checks": dg.MetadataValue.json(warnings)},
        ))
    path.unlink()


def _withheld(con, context, scope) -> set[tuple[str, int]]:
    """The unit-years of this run (`scope`, its unit-years) that its marts step withheld (a
    blocking check failed)."""
    summary = stages.read_summary(con, load_id_of(context))
    return {tuple(x) for x in summary.withheld} & scope


@_unit_year_asset(UNIT_YEAR_PARQUET, "The unit-year's Parquet files for BI tools (marts/ and marts_public/), the "
                  "DuckDB views over them, bi.duckdb and the PostgreSQL mirror. A withheld unit-year keeps its "
                  "previous files.", deps=[UNIT_YEAR_MARTS], kinds=("parquet", "duckdb"))
def parquet(context: dg.AssetExecutionContext, warehouse: WarehouseResource, progress: dg.ResourceParam[ProgressFn]):
    settings = warehouse.settings
    con = _connect(context, warehouse)
    try:
        scope = unit_years_of(context)
        load_id = load_id_of(context)
        reporter(context, progress)(f"publishing marts for {len(scope)} unit-year(s)")
        result = stages.stage_publish(con, settings, scope, _withheld(con, context, scope))
        stages.add_to_load(con, load_id, marts_written=len(result.written), marts_deleted=len(result.deleted),
                           marts_unchanged=result.unchanged, bi_lines=result.bi_lines)
        if result.bi_failed:
            stages.update_load(con, load_id, bi_failed=True)
        yield dg.MaterializeResult(asset_key=UNIT_YEAR_PARQUET, metadata={
            **_keys_metadata(scope),
            "files_written": dg.MetadataValue.int(len(result.written)),
            "files_deleted": dg.MetadataValue.int(len(result.deleted)),
            "partitions_unchanged": dg.MetadataValue.int(result.unchanged),
            "marts_dir": dg.MetadataValue.path(str(settings.marts_dir)),
        })
    finally:
        con.close()
