"""Run Great Expectations (GX Core 1.x) suites against DuckDB warehouse tables.

This module is the one place where GX touches the warehouse. Expectations are
pushed down as SQL through GX's ``SqlAlchemyExecutionEngine``; no table is ever
loaded into pandas (only counts and at most ``sample_size`` failing row ids per
expectation come back to Python).

How GX reaches the data, and the one fix it needs for DuckDB, is in
`pipelines.quality.gx_engine`.

Suites on disk
--------------
One JSON file per table under ``expectations/``, in GX 1.x's own ExpectationSuite
format (``suite.to_json_dict()``; loaded with ``gx.ExpectationSuite(**json)``).
Every expectation must carry ``"severity"``: ``"critical"`` blocks, ``"warning"``
(or ``"info"``) reports. :func:`load_suite` refuses files whose expectations GX
would silently drop (GX only logs invalid expectations and leaves them out).

GX is kept quiet and off the disk: ephemeral context (in-memory stores, no data
docs), analytics off (``GX_ANALYTICS_ENABLED=false``, ``analytics_enabled=False``),
no progress bars, and GX's logger at WARNING.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.quality.gx_import import defer_unused_gx_imports

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
defer_unused_gx_imports()  # before GX's first import

import duckdb  # noqa: E402
import great_expectations as gx  # noqa: E402
from great_expectations.core.expectation_validation_result import (  # noqa: E402
    ExpectationSuiteValidationResult,
)
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from pipelines.quality.gx_engine import (  # noqa: E402, F401 (_shared_engine: the GX tests reach it here)
    DuckDBExecutionEngine,
    DuckDBWarehouseDatasource,
    _shared_engine,
)

logging.getLogger("great_expectations").setLevel(logging.WARNING)

__all__ = [
    "DuckDBExecutionEngine",
    "DuckDBWarehouseDatasource",
    "ExpectationOutcome",
    "SuiteExecutionError",
    "SuiteOutcome",
    "build_data_docs",
    "load_suite",
    "run_suite",
]

_SEVERITIES = ("critical", "warning", "info")


# --------------------------------------------------------------------------- results


@dataclass
class ExpectationOutcome:
    """One expectation's result.

    For aggregate expectations (sum, mean, row count...) ``unexpected_count`` is 0
    and ``sample_row_ids`` is empty even when they fail; ``element_count`` is the
    table's row count. For GX's ``UnexpectedRowsExpectation`` (a SQL query over
    ``{batch}`` returning the failing rows) ``unexpected_count`` is the number of rows
    the query returns and the sample is the first of them.
    """

    expectation_type: str
    column: str | None
    severity: str  # "critical" | "warning" | "info"
    success: bool
    unexpected_count: int
    element_count: int
    sample_row_ids: list[str]
    description: str


@dataclass
class SuiteOutcome:
    suite_name: str
    table: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """True when no expectation failed at all (warnings included)."""
        return all(o.success for o in self.outcomes)

    @property
    def failed_critical(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def failed_warning(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "warning"]


class SuiteExecutionError(RuntimeError):
    """GX could not evaluate one or more expectations (not the same as "data failed").

    Raised for broken checks, e.g. a column that does not exist, so that a
    misconfigured suite is never reported as a plain pass or fail.
    """


# ------------------------------------------------------------------------ suites


def load_suite(path: Path) -> gx.ExpectationSuite:
    """Load one suite file (GX 1.x ExpectationSuite JSON) and check it strictly.

    GX itself only *logs* an invalid expectation (unknown type, bad severity, bad
    kwargs) and leaves it out of the suite; here that is an error. Each
    expectation must state its severity explicitly.
    """
    path = Path(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    expectations = raw.get("expectations") or []
    for i, exp in enumerate(expectations):
        sev = exp.get("severity")
        if sev not in _SEVERITIES:
            raise ValueError(
                f"{path}: expectation #{i} ({exp.get('type')}) needs "
                f'"severity" in {_SEVERITIES}, got {sev!r}'
            )
    gx_logger = logging.getLogger("great_expectations.core.expectation_suite")
    previous = gx_logger.disabled
    gx_logger.disabled = True  # we raise below instead of GX's logged traceback
    try:
        suite = gx.ExpectationSuite(**raw)
    finally:
        gx_logger.disabled = previous
    if len(suite.expectations) != len(expectations):
        kept = {e.expectation_type for e in suite.expectations}
        dropped = [e.get("type") for e in expectations if e.get("type") not in kept]
        raise ValueError(
            f"{path}: GX rejected {len(expectations) - len(suite.expectations)} "
            f"expectation(s) (invalid type or kwargs): {dropped}"
        )
    return suite


# ------------------------------------------------------------------------ running


def _ephemeral_context(data_docs_dir: Path | None = None) -> Any:
    """In-memory GX context: no files, no analytics, no progress bars.

    With ``data_docs_dir``, a filesystem Data Docs site is configured there
    (stores stay in memory); nothing else is written.
    """
    sites: dict = {}
    if data_docs_dir is not None:
        sites = {
            "local_site": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(Path(data_docs_dir).resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    # An ephemeral context still "saves" its project config on every datasource added or
    # removed: it dumps it as YAML (ruamel) into an in-memory store nothing reads back.
    # Three dumps a suite were 14 % of a suite's validation. GX is pinned; the GX tests
    # hold the method this replaces (test_gx_duckdb).
    context._save_project_config = _nothing_to_save
    return context


def _nothing_to_save() -> None:
    return None


def _split_table(table: str) -> tuple[str, str]:
    schema, dot, name = table.rpartition(".")
    if not dot:
        return "main", name
    return schema, name


def _table_info(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> tuple[list[str], int]:
    """Column names and row count, on a separate cursor (never disturbs ``con``'s results)."""
    cur = con.cursor()
    try:
        cols = [
            r[0]
            for r in cur.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE lower(table_schema) = lower(?) AND lower(table_name) = lower(?) "
                "ORDER BY ordinal_position",
                [schema, name],
            ).fetchall()
        ]
        if not cols:
            raise ValueError(f"table {schema}.{name} does not exist")
        quoted = f'"{schema.replace(chr(34), chr(34) * 2)}"."{name.replace(chr(34), chr(34) * 2)}"'
        rows = cur.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
        return cols, int(rows)
    finally:
        cur.close()


def _describe(config: Any) -> str:
    if config.description:
        return str(config.description)
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)}
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{config.type}({args})"


def _severity(config: Any) -> str:
    sev = getattr(config, "severity", None) or "critical"
    return getattr(sev, "value", str(sev))


def _validate(
    context: Any,
    con: duckdb.DuckDBPyConnection,
    table: str,
    suite: gx.ExpectationSuite,
    result_format: dict,
) -> tuple[ExpectationSuiteValidationResult, DuckDBWarehouseDatasource]:
    schema, name = _split_table(table)
    ds = DuckDBWarehouseDatasource(name=f"warehouse_{uuid.uuid4().hex[:12]}", default_schema=schema)
    ds.bind_connection(con)  # before adding: GX test-connects the datasource on add
    try:
        ds = context.data_sources.add_fiscal_warehouse_duckdb(ds)
        asset = ds.add_table_asset(name=table, table_name=name)
        batch = asset.add_batch_definition_whole_table("whole_table").get_batch()
        result = batch.validate(suite, result_format=result_format)
    except BaseException:
        ds.release()
        raise
    return result, ds


def _config_key(config: Any) -> tuple[str, str]:
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return config.type, json.dumps(kwargs, sort_keys=True, default=str)


def _in_suite_order(
    outcomes_with_cfg: list[tuple[Any, ExpectationOutcome]], suite: gx.ExpectationSuite
) -> list[ExpectationOutcome]:
    """GX groups results by metric; report them in the order of the suite file."""
    slots: dict[tuple[str, str], list[int]] = {}
    for i, exp in enumerate(suite.expectations):
        slots.setdefault(_config_key(exp.configuration), []).append(i)

    def position(item: tuple[Any, ExpectationOutcome]) -> int:
        free = slots.get(_config_key(item[0]))
        return free.pop(0) if free else len(suite.expectations)
    ranked = [(position(item), n, item[1]) for n, item in enumerate(outcomes_with_cfg)]
    return [o for _, _, o in sorted(ranked, key=lambda t: (t[0], t[1]))]


def _outcomes(
    result: ExpectationSuiteValidationResult,
    suite: gx.ExpectationSuite,
    table: str,
    row_id_columns: list[str],
    row_count: int,
    con: duckdb.DuckDBPyConnection | None = None,
    sample_size: int = 0,
) -> SuiteOutcome:
    errors = []
    outcomes: list[tuple[Any, ExpectationOutcome]] = []
    for r in result.results:
        cfg = r.expectation_config
        info = r.exception_info or {}
        raised = info.get("raised_exception") or any(
            isinstance(v, dict) and v.get("raised_exception") for v in info.values()
        )
        if raised:
            msgs = [info.get("exception_message")] + [
                v.get("exception_message") for v in info.values() if isinstance(v, dict)
            ]
            errors.append(f"{_describe(cfg)}: {'; '.join(m for m in msgs if m)}")
            continue
        res = r.result or {}
        sample = [
            ":".join(str(row.get(c)) for c in row_id_columns)
            for row in (res.get("partial_unexpected_index_list") or [])
            if isinstance(row, dict)
        ] if row_id_columns else []
        unexpected = res.get("unexpected_count")
        if cfg.type == _UNEXPECTED_ROWS:
            # GX reports the number of rows its query returned as the observed value.
            unexpected = res.get("observed_value")
            if not r.success and row_id_columns and con is not None and sample_size > 0:
                sample = _unexpected_rows_sample(
                    con, table, cfg.kwargs["unexpected_rows_query"], row_id_columns, sample_size
                )
        outcomes.append((
            cfg,
            ExpectationOutcome(
                expectation_type=cfg.type,
                column=cfg.kwargs.get("column"),
                severity=_severity(cfg),
                success=bool(r.success),
                unexpected_count=int(unexpected or 0),
                element_count=int(res.get("element_count", row_count) or 0),
                sample_row_ids=sample,
                description=_describe(cfg),
            ),
        ))
    if errors:
        raise SuiteExecutionError(
            f"suite {suite.name!r} on {table}: GX could not evaluate "
            f"{len(errors)} expectation(s):\n  " + "\n  ".join(errors)
        )
    return SuiteOutcome(
        suite_name=suite.name, table=table, outcomes=_in_suite_order(outcomes, suite)
    )


_UNEXPECTED_ROWS = "unexpected_rows_expectation"


def _unexpected_rows_sample(
    con: duckdb.DuckDBPyConnection, table: str, query: str, row_id_columns: list[str], sample_size: int
) -> list[str]:
    """Row ids of the first ``sample_size`` rows an UnexpectedRowsExpectation's query returns.

    GX returns those rows themselves only in its COMPLETE result format (every column of
    up to 200 rows); the ids are all we keep, so we ask DuckDB for them, LIMITed, on a
    separate cursor. ``{batch}`` is the validated table, as GX substitutes it.
    """
    schema, name = _split_table(table)
    quoted = f'"{schema.replace(chr(34), chr(34) * 2)}"."{name.replace(chr(34), chr(34) * 2)}"'
    ids = ", ".join(f'"{c}"' for c in row_id_columns)
    cur = con.cursor()
    try:
        rows = cur.execute(
            f"SELECT {ids} FROM ({query.replace('{batch}', quoted)}) AS unexpected LIMIT {int(sample_size)}"
        ).fetchall()
    finally:
        cur.close()
    return [":".join(str(v) for v in row) for row in rows]


def _result_format(row_id_columns: list[str], sample_size: int, pass_fail_only: bool = False) -> dict:
    if pass_fail_only:
        return {"result_format": "BOOLEAN_ONLY", "partial_unexpected_count": 0}
    if row_id_columns and sample_size > 0:
        return {
            "result_format": "SUMMARY",
            "unexpected_index_column_names": list(row_id_columns),
            "partial_unexpected_count": sample_size,
        }
    return {"result_format": "BASIC", "partial_unexpected_count": 0}


def run_suite(
    con: duckdb.DuckDBPyConnection,
    table: str,
    suite: gx.ExpectationSuite,
    row_id_columns: list[str] = ["source_file", "source_row"],  # noqa: B006 (never mutated)
    sample_size: int = 5,
    pass_fail_only: bool = False,
) -> SuiteOutcome:
    """Validate ``table`` ("schema.table") against ``suite`` inside DuckDB.

    ``con`` is the warehouse's own connection; commit before calling (GX reads
    through cursors of ``con`` and sees committed data). ``sample_row_ids`` are
    up to ``sample_size`` failing rows per expectation, formatted as the
    ``row_id_columns`` values joined by ":" (e.g. ``"landing/a.csv:12"``); which
    failing rows make the sample is up to DuckDB (no ORDER BY). Pass
    ``row_id_columns=[]`` for tables without row ids.

    ``pass_fail_only=True`` asks GX for success flags alone (its BOOLEAN_ONLY result
    format: no counts, no samples, less work per expectation) — for a first pass whose
    failures are then run again for their counts and samples.

    Raises ``ValueError`` if the table or a row id column is missing and
    :class:`SuiteExecutionError` if GX cannot evaluate an expectation.
    """
    row_id_columns = [] if pass_fail_only else list(row_id_columns)
    schema, name = _split_table(table)
    columns, row_count = _table_info(con, schema, name)
    missing = [c for c in row_id_columns if c.lower() not in {x.lower() for x in columns}]
    if missing:
        raise ValueError(f"{table}: row id column(s) {missing} not in table; pass row_id_columns")

    context = _ephemeral_context()
    result, ds = _validate(
        context, con, table, suite, _result_format(row_id_columns, sample_size, pass_fail_only)
    )
    try:
        return _outcomes(result, suite, table, row_id_columns, row_count, con, sample_size)
    finally:
        ds.release()


# ----------------------------------------------------------------------- data docs


def build_data_docs(
    con: duckdb.DuckDBPyConnection,
    suites: dict[str, gx.ExpectationSuite],
    out_dir: Path,
    row_id_columns: list[str] | None = None,
    sample_size: int = 5,
) -> Path:
    """Validate each ``{table: suite}`` now and render GX Data Docs into ``out_dir``.

    Uses an in-memory context whose only file output is the Data Docs site in
    ``out_dir`` (index.html, validation and expectation pages). Returns the path
    of ``index.html``. ``row_id_columns`` defaults to source_file/source_row for
    tables that have them and to none for tables that don't.
    """
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    context = _ephemeral_context(data_docs_dir=out_dir)
    run_id = RunIdentifier(run_name="fiscal-warehouse")
    for table, suite in suites.items():
        schema, name = _split_table(table)
        columns, _ = _table_info(con, schema, name)
        ids = row_id_columns
        if ids is None:
            wanted = ["source_file", "source_row"]
            ids = wanted if all(c in columns for c in wanted) else []
        stored_suite = context.suites.add(gx.ExpectationSuite(**suite.to_json_dict()))
        result, ds = _validate(context, con, table, stored_suite, _result_format(ids, sample_size))
        ds.release()
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=stored_suite.name),
            run_id=run_id,
            batch_identifier=table,
        )
        context.validation_results_store.set(key, result)
    context.build_data_docs()
    index = out_dir / "index.html"
    if not index.exists():
        raise RuntimeError(f"GX did not write {index}")
    return index
