"""The quality stage: Great Expectations suites and the rule catalogue over the unit-years a
load rebuilt, the results in `quality.results`, the error report, and which unit-years
must not be published.

Two kinds of check, both data on disk:

- **Expectation suites** (`expectations/<layer>.<table>.json`, GX 1.x JSON, run by
  `pipelines.quality.gx_duckdb`): what one table must look like. `critical` expectations
  are invariants of our own layers (accepted staging rows have typed amounts and dates,
  facts have amounts, spending types are in the set...); `warning` ones are signals.
- **Rules** (`sql/rules/catalogue.csv` + `sql/rules/<id>.sql`, after the DATA Act
  Broker's `sqlRules.csv`): what a query over several tables must find nothing of. Each
  query returns the offending rows with the row's identity (unit_code, fiscal_year,
  source_file, source_row), the field, the value provided, the value expected, the
  difference and a detail, restricted to the scope through the temp table `_scope`.

Severity policy. A problem *in one row of an export* (an unbalanced voucher, an unknown
code, a date out of range, a missing field...) is handled by quarantine: the row is left
out with its field and the cell as written, the load goes on, the marts are published,
and the error report lists the row. No rule selects such rows again (each problem once):
rules cover what the quarantine cannot see — problems across rows and files (a project
missing from the ledger, spending over budget, a voucher line in two files), which are
`warning`s, and the tie-outs. `fatal` is kept for what would make published numbers
wrong with nothing else catching it: rows lost between reading and staging
(`row_accounting`), marts that do not tie out to the facts or to each other, public
totals that differ from internal ones, and critical expectations. A fatal failure
withholds the unit-years it concerns — their previous marts stay published — and nothing
else: other unit-years still publish.

Scope. Rules see only the scope's unit-years. The suites run on views of their table
restricted to the scope (raw and staging: the rows of the sources that count for the
scope's unit-years, plus sources that count for no unit-year at all; core: the scope's
unit-years) — an incremental load checks what it rebuilt, and a 5,000,000-line table is
not re-validated because one unit changed. When a critical expectation fails and the
scope has several unit-years, the failed expectations are re-run per unit-year to find
which ones to withhold (only then: the cost is paid on failure).

Results. `quality.results` holds one row per offending row of a rule and one row per
(failed expectation, unit-year); a run replaces the scope's previous rows (and the rows
that belong to no unit-year). `quality.check_runs` holds one row per check and load
(passed, counts): the Dagster asset checks read both for the current load. The error
report for finance staff (`pipelines.quality.report`) — each problem of the scope's files
once, sorted by file and row, with a summary by rule — is written every time, also when
it is empty, to `reports/quality/<date>_<time>_质量报告.xlsx` and `.csv` (Asia/Shanghai
time; the same whether the load came from the CLI or the UI).

Where the suites run. In worker processes (pipelines.workers: one per usable CPU, at most one
per suite), not in the writer: GX's own Python is most of a suite's time, so two workers
validate a scope's 19 suites in about half the time, and they come from the fork server
that imported GX on another core while the ingest read. The writer commits the scoped
views, lets go of the file (pipelines.warehouse.db.Writer: DuckDB allows one writing
process or many reading ones), the workers validate on read-only connections, and the
writer takes the file back to attribute critical failures, run the rules and store the
results.

Call with no transaction open: the workers see only committed data.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.distributed.fanout import map_shares_on_workers
from pipelines.quality.catalogue import Rule, Suite, list_suites, load_catalogue
from pipelines.quality.expectations import (
    create_scoped_views, drop_scoped_views, failed_expectations, is_empty, result_rows, scoped_data_docs,
)
from pipelines.quality.report import write_report
from pipelines.settings import Settings, worker_count
from pipelines.warehouse.db import Writer, connect
from pipelines.warehouse.transform import set_scope
from pipelines.workers import process_pool

DATA_DOCS_ENV = "FISCAL_DATA_DOCS"

RESULTS_DDL = """CREATE TABLE IF NOT EXISTS quality.results (
    load_id VARCHAR NOT NULL, check_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, severity VARCHAR NOT NULL,
    target_table VARCHAR NOT NULL, unit_code VARCHAR, fiscal_year INTEGER, source_file VARCHAR, source_row BIGINT,
    field VARCHAR, value_provided VARCHAR, value_expected VARCHAR, difference DECIMAL(18, 2),
    message VARCHAR NOT NULL, detail VARCHAR, failing BIGINT NOT NULL, checked_at TIMESTAMP NOT NULL)"""
CHECK_RUNS_DDL = """CREATE TABLE IF NOT EXISTS quality.check_runs (
    load_id VARCHAR NOT NULL, check_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, target_table VARCHAR NOT NULL,
    severity VARCHAR NOT NULL, passed BOOLEAN NOT NULL, failing BIGINT NOT NULL, fatal_failing BIGINT NOT NULL,
    seconds DOUBLE NOT NULL, checked_at TIMESTAMP NOT NULL, PRIMARY KEY (load_id, check_id))"""


@dataclass
class QualityOutcome:
    failed: list[dict] = field(default_factory=list)  # id, kind, severity, failing, message, target_table, unit_years
    withheld: set[tuple[str, int]] = field(default_factory=set)
    report_path: str | None = None
    csv_path: str | None = None
    data_docs_path: str | None = None
    seconds: float = 0.0


def run_quality(writer: Writer, settings: Settings, scope, load_id: str,
                data_docs: bool = False) -> QualityOutcome:
    """Run every suite and rule over `scope`, store the results, write the report, and
    return the failures and the unit-years to withhold (those with a fatal failure).
    `writer.con` is another connection afterwards (the workers read the file meanwhile)."""
    started = time.perf_counter()
    scope = {(str(u), int(y)) for u, y in scope}
    rules, suites = load_catalogue(), list_suites()
    now = datetime.now().replace(microsecond=0)
    con = writer.con
    con.execute(RESULTS_DDL)
    con.execute(CHECK_RUNS_DDL)

    runs: dict[str, dict] = {}
    gx_rows: list[tuple] = []
    docs = None
    create_scoped_views(con, suites, scope)
    try:
        # Nothing in scope (a load that changed nothing): no rows to validate, and no
        # reason to pay for GX's workers.
        nothing = not con.execute("SELECT count(*) FROM quality.gx_sources").fetchone()[0]
        to_validate = [] if nothing else [s for s in suites if not (s.passes_on_no_rows and is_empty(con, s.view))]
        validated = validate_in_workers(writer, to_validate)
        con = writer.con
        set_scope(con, scope)
        for suite in suites:
            failed, seconds = validated.get(suite.check_id, ([], 0.0))
            t0 = time.perf_counter()
            rows = result_rows(con, suite, failed, scope) if failed else []
            gx_rows += [(load_id, *row, now) for row in rows]
            runs[suite.check_id] = _run_record(suite, rows, seconds + time.perf_counter() - t0)
        if not nothing and (data_docs or os.environ.get(DATA_DOCS_ENV) == "1"):
            docs = scoped_data_docs(con, suites, settings)
    finally:
        drop_scoped_views(writer.con, suites)

    con.execute("BEGIN")
    try:
        con.execute(
            """DELETE FROM quality.results r WHERE r.unit_code IS NULL OR r.fiscal_year IS NULL
               OR EXISTS (SELECT 1 FROM _scope s WHERE s.unit_code = r.unit_code AND s.fiscal_year = r.fiscal_year)"""
        )
        con.execute("DELETE FROM quality.check_runs WHERE load_id = ?", [load_id])
        for rule in rules:
            t0 = time.perf_counter()
            inserted = _execute_rule(con, rule,
                f"""INSERT INTO quality.results
                SELECT ?, ?, 'rule', ?, ?, r.unit_code, r.fiscal_year, r.source_file, r.source_row, r.field,
                       CAST(r.value_provided AS VARCHAR), CAST(r.value_expected AS VARCHAR),
                       CAST(r.difference AS DECIMAL(18, 2)), ?, CAST(r.detail AS VARCHAR), 1, ?
                FROM ({rule.sql}) r""",
                [load_id, rule.id, rule.severity, rule.target_table, rule.message_zh, now])
            runs[rule.id] = {
                "check_id": rule.id, "kind": "rule", "target_table": rule.target_table, "severity": rule.severity,
                "passed": inserted == 0, "failing": inserted,
                "fatal_failing": inserted if rule.severity == "fatal" else 0, "seconds": time.perf_counter() - t0,
            }
        if gx_rows:
            con.executemany(
                "INSERT INTO quality.results VALUES (?, ?, 'expectation', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                gx_rows,
            )
        con.executemany(
            "INSERT INTO quality.check_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(load_id, r["check_id"], r["kind"], r["target_table"], r["severity"], r["passed"], r["failing"],
              r["fatal_failing"], r["seconds"], now) for r in runs.values()],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise

    order = {check_id: i for i, check_id in enumerate([s.check_id for s in suites] + [r.id for r in rules])}
    outcome = QualityOutcome(failed=_failed(con, load_id, order), data_docs_path=docs)
    outcome.withheld = {
        (u, y) for u, y in con.execute(
            "SELECT DISTINCT unit_code, fiscal_year FROM quality.results "
            "WHERE load_id = ? AND severity = 'fatal' AND unit_code IS NOT NULL AND fiscal_year IS NOT NULL",
            [load_id],
        ).fetchall()
        if (u, y) in scope
    }
    xlsx, csv_path = write_report(con, settings, load_id, scope, rules, suites, runs)
    outcome.report_path, outcome.csv_path = str(xlsx), str(csv_path)
    outcome.seconds = time.perf_counter() - started
    return outcome


def validate_in_workers(writer: Writer, suites: list[Suite]) -> dict[str, tuple[list, float]]:
    """check id -> (the suite's failed expectations, seconds), each suite validated in a
    worker process on a read-only connection while the writer has let go of the file. On a
    dask worker (the distributed executor) the suites are shared out over every worker of
    the cluster, each validating its share in its own processes: the writer's suites are
    a third of what it does before anything else can start, while the other workers idle."""
    if not suites:
        return {}
    costs = expected_seconds(writer.con, suites)
    with writer.let_go() as db_path:
        validate = functools.partial(validate_here, str(db_path))
        results = map_shares_on_workers(validate, suites, costs)
        if results is None:
            results = validate(suites)
    return {suite.check_id: result for suite, result in zip(suites, results)}


def validate_here(db_path: str, suites: list[Suite]) -> list[tuple[list, float]]:
    """Each suite's (failed expectations, seconds), in order, validated by this machine's
    processes (one per usable CPU, at most one a suite) on read-only connections, which end
    with them: the writer takes the file back once every share is done."""
    with process_pool(max(1, min(worker_count(), len(suites)))) as pool:
        futures = [pool.submit(_validate_suite, db_path, suite) for suite in suites]
        return [future.result() for future in futures]


# What a suite costs when the warehouse has no time of its own for it (its first quality
# run): measured at the county shape, a suite's GX setup, each expectation's query, and its
# table's rows scanned.
SECONDS_PER_SUITE, SECONDS_PER_EXPECTATION, SECONDS_PER_MILLION_ROWS = 0.05, 0.01, 0.1


def expected_seconds(con, suites: list[Suite]) -> list[float]:
    """What each suite is expected to take, to share them out evenly: its seconds in the
    warehouse's last quality run, or else an estimate from its expectations and its table's
    size (DuckDB's estimate, no scan)."""
    last = dict(con.execute(
        """SELECT check_id, seconds FROM quality.check_runs
           WHERE load_id = (SELECT max(load_id) FROM quality.check_runs WHERE kind = 'expectation')""").fetchall())
    if all(suite.check_id in last for suite in suites):
        return [last[suite.check_id] for suite in suites]
    rows = {f"{schema}.{table}": size for schema, table, size in con.execute(
        "SELECT schema_name, table_name, estimated_size FROM duckdb_tables()").fetchall()}
    return [SECONDS_PER_SUITE + SECONDS_PER_EXPECTATION * len(suite.raw["expectations"])
            + SECONDS_PER_MILLION_ROWS * rows.get(suite.table, 0) / 1e6 for suite in suites]


# The worker's read-only connection, kept for the suites it validates next: the pool's
# processes end with the validation, and the connection with them.
_READER: dict[str, duckdb.DuckDBPyConnection] = {}


def _validate_suite(db_path: str, suite: Suite) -> tuple[list, float]:
    """In a worker: the suite's failed expectations on the view the writer made."""
    started = time.perf_counter()
    con = _READER.get(db_path)
    if con is None:
        con = _READER[db_path] = connect(Path(db_path), read_only=True)
    return failed_expectations(con, suite), time.perf_counter() - started


def _execute_rule(con, rule: Rule, sql: str, params: list) -> int:
    try:
        return con.execute(sql, params).fetchone()[0]
    except duckdb.Error as error:
        raise RuleError(f"rule {rule.id} (sql/rules/{rule.id}.sql) failed: {error}") from error


class RuleError(RuntimeError):
    """A rule's query could not run (a broken rule, not a data problem)."""


def _run_record(suite: Suite, rows: list[tuple], seconds: float) -> dict:
    failing = sum(row[-1] for row in rows)
    fatal = sum(row[-1] for row in rows if row[1] == "fatal")
    severity = "fatal" if fatal else ("warning" if rows else suite.severity)
    return {"check_id": suite.check_id, "kind": "expectation", "target_table": suite.table, "severity": severity,
            "passed": not rows, "failing": failing, "fatal_failing": fatal, "seconds": seconds}


def _failed(con, load_id: str, order: dict[str, int]) -> list[dict]:
    rows = con.execute(
        """SELECT check_id, kind, severity, target_table, sum(failing)::BIGINT, min(message),
                  list(DISTINCT [unit_code, fiscal_year::VARCHAR]) FILTER (WHERE unit_code IS NOT NULL)
        FROM quality.results WHERE load_id = ? GROUP BY ALL""",
        [load_id],
    ).fetchall()
    failed = [
        {"id": check_id, "kind": kind, "severity": severity, "failing": int(failing), "message": message,
         "target_table": target, "unit_years": sorted([u, int(y)] for u, y in (unit_years or []))}
        for check_id, kind, severity, target, failing, message, unit_years in rows
    ]
    failed.sort(key=lambda f: (f["severity"] != "fatal", order.get(f["id"], len(order)), f["id"]))
    return failed
