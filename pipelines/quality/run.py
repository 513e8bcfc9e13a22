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

Severity policy. A problem *in the exports* (an unbalanced voucher, an unknown code, a
date out of range, a missing field...) is handled by quarantine: the row is left out,
the load goes on, the marts are published, and the rule that lists it is a `warning`.
`fatal` is kept for what would make published numbers wrong with nothing else catching
it: rows lost between reading and staging (`row_accounting`), marts that do not tie out
to the facts or to each other, public totals that differ from internal ones, and
critical expectations. A fatal failure withholds the unit-years it concerns — their
previous marts stay published — and nothing else: other unit-years still publish.

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
report for finance staff — every offending row and every quarantined row of the scope's
files, sorted by file and row, with a summary by rule — is written every time, also
when it is empty, to `reports/quality/<load_id>.xlsx` and `.csv`.

Call with no transaction open: GX reads through cursors of the connection and sees only
committed data.
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path

import duckdb

from pipelines.settings import EXPECTATIONS_DIR, SQL_DIR, Settings
from pipelines.warehouse.transform import set_scope

RULES_DIR = SQL_DIR / "rules"
CATALOGUE = RULES_DIR / "catalogue.csv"
DATA_DOCS_ENV = "FISCAL_DATA_DOCS"

SEVERITIES = ("fatal", "warning")
CATEGORIES = ("field", "cross-file", "tie-out")
RULE_COLUMNS = ("unit_code", "fiscal_year", "source_file", "source_row", "field", "value_provided",
                "value_expected", "difference", "detail")
REPORT_HEADERS = ("文件", "行号", "字段", "实际值", "期望值", "差额", "规则", "级别", "说明")
SEVERITY_LABELS = {"fatal": "致命", "warning": "警告"}
XLSX_MAX_ROWS = 1_048_575  # Excel's limit, less the header row

Scope = set[tuple[str, int]]

RESULTS_DDL = """CREATE TABLE IF NOT EXISTS quality.results (
    load_id VARCHAR NOT NULL, check_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, severity VARCHAR NOT NULL,
    target_table VARCHAR NOT NULL, unit_code VARCHAR, fiscal_year INTEGER, source_file VARCHAR, source_row BIGINT,
    field VARCHAR, value_provided VARCHAR, value_expected VARCHAR, difference DECIMAL(18, 2),
    message VARCHAR NOT NULL, detail VARCHAR, failing BIGINT NOT NULL, checked_at TIMESTAMP NOT NULL)"""
CHECK_RUNS_DDL = """CREATE TABLE IF NOT EXISTS quality.check_runs (
    load_id VARCHAR NOT NULL, check_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, target_table VARCHAR NOT NULL,
    severity VARCHAR NOT NULL, passed BOOLEAN NOT NULL, failing BIGINT NOT NULL, fatal_failing BIGINT NOT NULL,
    seconds DOUBLE NOT NULL, checked_at TIMESTAMP NOT NULL, PRIMARY KEY (load_id, check_id))"""


# ------------------------------------------------------------------ the catalogue


@dataclass(frozen=True)
class Rule:
    id: str
    message_zh: str
    message_en: str
    severity: str  # fatal | warning
    category: str  # field | cross-file | tie-out
    target_table: str
    description: str

    @property
    def kind(self) -> str:
        return "rule"

    @property
    def check_id(self) -> str:
        return self.id

    @property
    def path(self) -> Path:
        return RULES_DIR / f"{self.id}.sql"

    @property
    def sql(self) -> str:
        return rule_sql(self.path)


@cache
def rule_sql(path: Path) -> str:
    """A rule file: one SELECT (CTEs allowed), comments kept, a trailing ';' dropped."""
    text = path.read_text(encoding="utf-8").strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def load_catalogue(path: Path = CATALOGUE) -> list[Rule]:
    """The rule catalogue, checked: unique identifier ids, known severity and category,
    a target table, and a SQL file per rule (and no SQL file without a rule)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rules, seen = [], set()
    for number, row in enumerate(rows, 2):
        rule = Rule(**{k: (row.get(k) or "").strip() for k in Rule.__dataclass_fields__})
        problems = []
        if not re.fullmatch(r"[a-z][a-z0-9_]*", rule.id):
            problems.append("id must be lower_snake_case")
        if rule.id in seen:
            problems.append("duplicate id")
        if rule.severity not in SEVERITIES:
            problems.append(f"severity must be one of {SEVERITIES}")
        if rule.category not in CATEGORIES:
            problems.append(f"category must be one of {CATEGORIES}")
        if not rule.target_table or not rule.message_zh or not rule.message_en:
            problems.append("target_table, message_zh and message_en are required")
        if not rule.path.exists():
            problems.append(f"no query {rule.path.name}")
        if problems:
            raise ValueError(f"{path}:{number} rule {rule.id!r}: " + "; ".join(problems))
        seen.add(rule.id)
        rules.append(rule)
    orphans = sorted(p.stem for p in RULES_DIR.glob("*.sql") if p.stem not in seen)
    if orphans:
        raise ValueError(f"{RULES_DIR}: queries without a catalogue entry: {orphans}")
    return rules


# ------------------------------------------------------------------ the suites


# Expectation types that judge rows one by one (or row combinations); not table-level ones
# such as expect_table_row_count_to_be_between, which can fail on an empty table.
ROW_EXPECTATION_PREFIXES = ("expect_column_values_", "expect_compound_columns_", "unexpected_rows_expectation")


@dataclass(frozen=True)
class Suite:
    table: str  # "staging.voucher_lines"
    path: Path

    @property
    def kind(self) -> str:
        return "expectation"

    @property
    def check_id(self) -> str:
        return "gx_" + self.table.replace(".", "_")

    @property
    def target_table(self) -> str:
        return self.table

    @property
    def view(self) -> str:
        layer, name = self.table.split(".")
        return f"quality.gx_{layer}__{name}"

    @cached_property  # read once: the properties below all look into it
    def raw(self) -> dict:
        return json.loads(self.path.read_text(encoding="utf-8"))

    @property
    def row_id_columns(self) -> list[str]:
        return list(self.raw.get("meta", {}).get("row_id_columns", ["source_file", "source_row"]))

    @property
    def severity(self) -> str:
        """'fatal' when the suite has a critical expectation, else 'warning'."""
        return "fatal" if any(e.get("severity") == "critical" for e in self.raw["expectations"]) else "warning"

    @property
    def description(self) -> str:
        return self.raw.get("meta", {}).get("notes") or f"Great Expectations suite for {self.table}"

    @property
    def passes_on_no_rows(self) -> bool:
        """Every expectation is about rows (values, uniqueness, unexpected rows): over no
        rows none can fail, so a table with nothing in scope needs no GX run."""
        return all(e["type"].startswith(ROW_EXPECTATION_PREFIXES) for e in self.raw["expectations"])

    def load(self):
        from pipelines.quality.gx_duckdb import load_suite

        return _load_suite_cached(self.path, self.path.stat().st_mtime_ns, load_suite)


@cache
def _load_suite_cached(path: Path, _mtime: int, loader):
    return loader(path)


def list_suites(directory: Path = EXPECTATIONS_DIR) -> list[Suite]:
    """`expectations/<layer>.<table>.json`, files starting with `_` (examples) excluded."""
    suites = []
    for path in sorted(directory.glob("*.json")):
        if path.name.startswith("_"):
            continue
        table = path.stem
        raw = json.loads(path.read_text(encoding="utf-8"))
        declared = raw.get("meta", {}).get("table")
        if declared != table or table.count(".") != 1:
            raise ValueError(f"{path}: meta.table must be the file name's <layer>.<table> ({declared!r})")
        descriptions = [e.get("description") for e in raw.get("expectations", [])]
        if not all(descriptions) or len(set(descriptions)) != len(descriptions):
            # failed expectations are matched back to the file by (type, description)
            raise ValueError(f"{path}: every expectation needs its own description")
        suites.append(Suite(table, path))
    return suites


def asset_key_of(target_table: str) -> list[str]:
    """`staging.voucher_lines` -> ["staging", "voucher_lines"]; `quarantine` -> ["quarantine"]."""
    return target_table.split(".")


# ------------------------------------------------------------------ the outcome


@dataclass
class QualityOutcome:
    failed: list[dict] = field(default_factory=list)  # id, kind, severity, failing, message, target_table, unit_years
    withheld: set[tuple[str, int]] = field(default_factory=set)
    report_path: str | None = None
    csv_path: str | None = None
    data_docs_path: str | None = None
    seconds: float = 0.0


def run_quality(con: duckdb.DuckDBPyConnection, settings: Settings, scope, load_id: str,
                data_docs: bool = False) -> QualityOutcome:
    """Run every suite and rule over `scope`, store the results, write the report, and
    return the failures and the unit-years to withhold (those with a fatal failure)."""
    started = time.perf_counter()
    scope = {(str(u), int(y)) for u, y in scope}
    rules, suites = load_catalogue(), list_suites()
    now = datetime.now().replace(microsecond=0)
    con.execute(RESULTS_DDL)
    con.execute(CHECK_RUNS_DDL)
    set_scope(con, scope)

    runs: dict[str, dict] = {}
    gx_rows: list[tuple] = []
    docs = None
    _create_gx_views(con, suites, scope)
    try:
        # Nothing in scope (a load that changed nothing): no rows to validate, and no
        # reason to pay GX's import (seconds) for it.
        nothing = not con.execute("SELECT count(*) FROM quality.gx_sources").fetchone()[0]
        for suite in suites:
            t0 = time.perf_counter()
            # GX costs ~50 ms a suite whatever the rows (its own per-expectation work).
            idle = nothing or (suite.passes_on_no_rows and _is_empty(con, suite.view))
            rows = [] if idle else _run_suite(con, suite, scope)
            gx_rows += [(load_id, *row, now) for row in rows]
            runs[suite.check_id] = _run_record(suite, rows, time.perf_counter() - t0)
        if not nothing and (data_docs or os.environ.get(DATA_DOCS_ENV) == "1"):
            docs = _data_docs(con, suites, settings)
    finally:
        _drop_gx_views(con, suites)

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


# ------------------------------------------------------------------ expectations


def _fill_gx_scope(con, scope: Scope, with_orphans: bool) -> None:
    """The persistent scope tables the suites' views read (GX's cursors cannot see temp tables)."""
    con.execute("CREATE OR REPLACE TABLE quality.gx_scope (unit_code VARCHAR, fiscal_year INTEGER)")
    if scope:
        con.executemany("INSERT INTO quality.gx_scope VALUES (?, ?)", sorted(scope))
    orphans = (
        " UNION SELECT so.source_id FROM meta.sources so "
        "WHERE NOT EXISTS (SELECT 1 FROM meta.slices a WHERE a.source_id = so.source_id)"
        if with_orphans else ""
    )
    con.execute(
        "CREATE OR REPLACE TABLE quality.gx_sources AS "
        "SELECT DISTINCT a.source_id FROM meta.slices a "
        "JOIN quality.gx_scope s ON s.unit_code = a.unit_code AND s.fiscal_year = a.fiscal_year "
        "WHERE a.status = 'active'" + orphans
    )


def _create_gx_views(con, suites: list[Suite], scope: Scope) -> None:
    _fill_gx_scope(con, scope, with_orphans=True)
    for suite in suites:
        _create_gx_view(con, suite)


def _create_gx_view(con, suite: Suite, always_filter: bool = False) -> None:
    """quality.gx_<layer>__<table>: the suite's table restricted to quality.gx_scope /
    gx_sources — or the whole table when those cover all of it (a full load), which
    spares every expectation's query the filter."""
    layer, name = suite.table.split(".")
    if layer in ("raw", "staging"):
        where = "t.source_id IN (SELECT source_id FROM quality.gx_sources)"
        outside = "SELECT count(*) FROM meta.sources WHERE kind = ? AND source_id NOT IN " \
                  "(SELECT source_id FROM quality.gx_sources)"
        params = [name]
    else:
        where = ("EXISTS (SELECT 1 FROM quality.gx_scope s "
                 "WHERE s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year)")
        outside = f"SELECT count(*) FROM (SELECT DISTINCT unit_code, fiscal_year FROM {suite.table}) t WHERE NOT {where}"
        params = []
    filtered = always_filter or con.execute(outside, params).fetchone()[0] > 0
    con.execute(f"CREATE OR REPLACE VIEW {suite.view} AS SELECT t.* FROM {suite.table} t"
                + (f" WHERE {where}" if filtered else ""))


def _is_empty(con, relation: str) -> bool:
    return not con.execute(f"SELECT EXISTS (SELECT 1 FROM {relation})").fetchall()[0][0]


def _drop_gx_views(con, suites: list[Suite]) -> None:
    for suite in suites:
        con.execute(f"DROP VIEW IF EXISTS {suite.view}")
    con.execute("DROP TABLE IF EXISTS quality.gx_sources")
    con.execute("DROP TABLE IF EXISTS quality.gx_scope")


def _run_suite(con, suite: Suite, scope: Scope) -> list[tuple]:
    """Validate the suite's scoped view; one results row (without load_id / checked_at) per
    failed expectation and unit-year. Critical failures are attributed to unit-years.

    The first pass asks GX for pass/fail only (its cheapest result format: GX's own
    per-expectation work, not the SQL, is most of a suite's time); the failed
    expectations alone are run again for their counts and up to five failing row ids."""
    from pipelines.quality.gx_duckdb import run_suite

    ids = suite.row_id_columns
    outcome = run_suite(con, suite.view, suite.load(), pass_fail_only=True)
    failed = [o for o in outcome.outcomes if not o.success]
    if not failed:
        return []
    again = run_suite(con, suite.view, _sub_suite(suite, failed, "failed"), row_id_columns=ids)
    failed = [o for o in again.outcomes if not o.success]
    rows = []
    critical = [o for o in failed if o.severity == "critical"]
    if critical:
        by_unit_year = _attribute(con, suite, critical, scope)
        for o in critical:
            places = by_unit_year.get((o.expectation_type, o.description)) or {None: o}
            for unit_year, found in places.items():
                rows.append(_gx_row(suite, found, "fatal", unit_year, ids))
    single = next(iter(scope)) if len(scope) == 1 else None
    for o in failed:
        if o.severity != "critical":
            rows.append(_gx_row(suite, o, "warning", single, ids))
    return rows


def _sub_suite(suite: Suite, outcomes, label: str):
    """The suite's expectations that produced `outcomes` (matched on type and description)."""
    import great_expectations as gx

    wanted = {(o.expectation_type, o.description) for o in outcomes}
    raw = suite.raw
    raw["expectations"] = [e for e in raw["expectations"] if (e["type"], e.get("description")) in wanted]
    raw["name"] = f"{suite.table} ({label})"
    return gx.ExpectationSuite(**raw)


def _attribute(con, suite: Suite, critical, scope: Scope) -> dict:
    """(type, description) -> {(unit, year): outcome for that unit-year alone}."""
    from pipelines.quality.gx_duckdb import run_suite

    if len(scope) == 1:
        unit_year = next(iter(scope))
        return {(o.expectation_type, o.description): {unit_year: o} for o in critical}
    if not scope:
        return {}
    mini = _sub_suite(suite, critical, "critical failures, per unit-year")
    found: dict = {}
    try:
        _create_gx_view(con, suite, always_filter=True)
        for unit_year in sorted(scope):
            _fill_gx_scope(con, {unit_year}, with_orphans=False)
            for o in run_suite(con, suite.view, mini, row_id_columns=suite.row_id_columns).outcomes:
                if not o.success:
                    found.setdefault((o.expectation_type, o.description), {})[unit_year] = o
    finally:
        _fill_gx_scope(con, scope, with_orphans=True)
        _create_gx_view(con, suite)
    return found


def _gx_row(suite: Suite, o, severity: str, unit_year, ids: list[str]) -> tuple:
    source_file = source_row = None
    if ids == ["source_file", "source_row"] and o.sample_row_ids:
        file, _, row = o.sample_row_ids[0].rpartition(":")
        source_file, source_row = file, int(row) if row.isdigit() else None
    failing = max(o.unexpected_count, 1)
    where = f"{o.unexpected_count:,} 行 / rows" if o.unexpected_count else "整表 / table-level"
    sample = ("；例 / e.g. " + ", ".join(o.sample_row_ids)) if o.sample_row_ids else ""
    unit, year = unit_year if unit_year else (None, None)
    message = f"GX {suite.table}：{o.description}"
    return (suite.check_id, severity, suite.table, unit, year, source_file, source_row, o.column,
            None, o.expectation_type, None, message, f"{where}{sample}", failing)


def _data_docs(con, suites: list[Suite], settings: Settings) -> str | None:
    """GX's HTML Data Docs of the scoped suites (optional: FISCAL_DATA_DOCS=1 or data_docs=True)."""
    from pipelines.quality.gx_duckdb import build_data_docs

    index = build_data_docs(con, {s.view: s.load() for s in suites}, settings.reports_dir / "quality" / "data_docs")
    return str(index)


# ------------------------------------------------------------------ the error report

# Quarantine reason -> (canonical column of the row's kind, what was expected). missing_required
# and the amount/number codes name their column in the reason text (see _FIELD_FROM_REASON).
_EXPECTED = {
    "unknown_econ_code": "当年部门预算支出经济分类中的编码",
    "unknown_func_code": "当年支出功能分类中的编码",
    "unreadable_date": "可识别的日期（如 2021-03-15）",
    "date_out_of_range": "文件标题所注期间内，且在 2000-01-01 至一年后之间的日期",
    "unreadable_amount": "可识别的金额（如 1,234.56）",
    "unreadable_year": "2000 年至明年之间的年度",
    "unreadable_number": "可识别的数字",
    "unknown_budget_kind": "年初预算、追加、追减、调剂、上年结转之一",
    "unbalanced_voucher": "同一凭证、同一账套借方合计 = 贷方合计",
    "missing_required": "必填，不能为空",
    "unreadable_text": "正确编码的文本（UTF-8 或 GBK）",
    "unreadable_file": "可读取的 CSV / XLSX 文件",
    "unreadable_sheet": "可识别的表头（见合同第2节）",
}


def _quarantine_field_sql() -> str:
    """CASE giving the canonical column a quarantined row is about (by kind, code and reason)."""
    pairs = [
        ("q.reason_code = 'unknown_econ_code'", "econ_class"),
        ("q.reason_code = 'unknown_func_code'", "func_class"),
        ("q.reason_code = 'unknown_budget_kind'", "budget_kind"),
        ("q.reason_code = 'unreadable_year'", "fiscal_year"),
        ("q.reason_code IN ('unreadable_date', 'date_out_of_range') AND q.kind = 'voucher_lines'", "voucher_date"),
        ("q.reason_code IN ('unreadable_date', 'date_out_of_range') AND q.kind = 'procurement'", "date"),
        ("q.reason_code = 'unreadable_date' AND contains(q.reason, '开工')", "start_date"),
        ("q.reason_code = 'unreadable_date'", "end_date"),
        ("q.reason_code = 'unreadable_amount' AND contains(q.reason, '借方')", "debit"),
        ("q.reason_code = 'unreadable_amount' AND contains(q.reason, '贷方')", "credit"),
        ("q.reason_code = 'unreadable_amount' AND contains(q.reason, '政府采购预算')", "procurement_amount"),
        ("q.reason_code = 'unreadable_amount' AND q.kind = 'procurement'", "contract_amount"),
        ("q.reason_code = 'unreadable_amount'", "amount"),
        ("q.reason_code = 'unreadable_number' AND contains(q.reason, '编制')", "authorized"),
        ("q.reason_code = 'unreadable_number' AND contains(q.reason, '在职')", "in_service"),
        ("q.reason_code = 'unreadable_number' AND contains(q.reason, '离退休')", "retired"),
        ("q.reason_code = 'unreadable_number'", "weight"),
        ("q.reason_code = 'unbalanced_voucher'", "debit"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '单位编码')", "unit_code"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '经济分类')", "econ_class"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '科目编码')", "account_code"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '凭证日期')", "voucher_date"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '凭证号')", "voucher_no"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '项目编码')", "project_code"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '三级指标')", "name"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '合同金额')", "contract_amount"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '金额')", "amount"),
        ("q.reason_code = 'missing_required' AND contains(q.reason, '年度')", "fiscal_year"),
    ]
    return "CASE " + " ".join(f"WHEN {cond} THEN '{col}'" for cond, col in pairs) + " END"


def _report_rows(con, load_id: str) -> list[tuple]:
    """Every offending row of this load's failed checks and every quarantined row of the
    scope's files (and of files that count for no unit-year, or could not be read)."""
    expected = "CASE q.reason_code " + " ".join(
        f"WHEN '{code}' THEN '{text}'" for code, text in _EXPECTED.items()) + " END"
    severity = "CASE r.severity " + " ".join(
        f"WHEN '{code}' THEN '{label}'" for code, label in SEVERITY_LABELS.items()) + " END"
    return con.execute(
        f"""WITH scope_files AS (
            SELECT so.source_file FROM meta.slices a
            JOIN meta.sources so ON so.source_id = a.source_id
            JOIN _scope s ON s.unit_code = a.unit_code AND s.fiscal_year = a.fiscal_year
            WHERE a.status = 'active'
            UNION SELECT so.source_file FROM meta.sources so
            WHERE NOT EXISTS (SELECT 1 FROM meta.slices a WHERE a.source_id = so.source_id)
            UNION SELECT source_file FROM meta.files WHERE status = 'unreadable'
        ),
        q AS (
            SELECT q.*, so.headers, {_quarantine_field_sql()} AS canonical
            FROM quarantine q
            LEFT JOIN meta.sources so
              ON so.source_file = q.source_file AND so.sheet IS NOT DISTINCT FROM q.sheet AND so.kind = q.kind
            WHERE q.source_file IN (SELECT source_file FROM scope_files)
        ),
        q_fields AS (  -- headers as the file wrote them; read as MAPs: any header text is a valid key
            SELECT q.*,
                   json_transform(q.headers, '"MAP(VARCHAR, VARCHAR)"')[q.canonical] AS header,
                   json_transform(q.headers, '"MAP(VARCHAR, VARCHAR)"')['credit'] AS credit_header,
                   json_transform(q.raw, '"MAP(VARCHAR, VARCHAR)"') AS cells
            FROM q
        ),
        quarantined AS (
            SELECT
                q.source_file || coalesce(' [' || q.sheet || ']', '') AS file, q.source_row AS row_no,
                CASE WHEN q.reason_code = 'unbalanced_voucher'
                     THEN coalesce(q.header, '借方') || ' / ' || coalesce(q.credit_header, '贷方')
                     ELSE coalesce(q.header, q.canonical) END AS field,
                CASE WHEN q.reason_code = 'unbalanced_voucher'
                     THEN coalesce(q.cells[q.header], '') || ' / ' || coalesce(q.cells[q.credit_header], '')
                     WHEN q.header IS NOT NULL THEN q.cells[q.header] END AS provided,
                {expected} AS expected,
                NULL::DECIMAL(18, 2) AS difference,
                'quarantine:' || q.reason_code AS rule,
                '警告' AS severity,
                '已隔离，未计入：' || q.reason AS note
            FROM q_fields q
        ),
        checked AS (
            SELECT
                r.source_file AS file, r.source_row AS row_no, r.field, r.value_provided AS provided,
                r.value_expected AS expected, r.difference, r.check_id AS rule, {severity} AS severity,
                CASE WHEN r.source_file IS NULL AND r.unit_code IS NOT NULL
                     THEN '单位 ' || r.unit_code || '，' || r.fiscal_year::VARCHAR || '年度：' ELSE '' END
                    || r.message || coalesce('（' || r.detail || '）', '') AS note
            FROM quality.results r WHERE r.load_id = ?
        )
        SELECT DISTINCT * FROM (SELECT * FROM checked UNION ALL SELECT * FROM quarantined)
        ORDER BY file NULLS LAST, row_no NULLS FIRST, rule, field, provided""",
        [load_id],
    ).fetchall()


def _summary_rows(rules: list[Rule], suites: list[Suite], runs: dict, detail: list[tuple]) -> list[tuple]:
    """规则, 级别, 行数, 说明, 类别, 检查对象: every check of the load, then quarantine codes."""
    counts: dict[str, int] = {}
    for row in detail:
        counts[row[6]] = counts.get(row[6], 0) + 1
    out = []
    for suite in suites:
        run = runs.get(suite.check_id, {})
        if run.get("failing"):
            label = SEVERITY_LABELS[run["severity"]]
        else:  # what a failure would be: critical expectations are fatal, the others warnings
            kinds = {e.get("severity") for e in suite.raw["expectations"]}
            label = "/".join(SEVERITY_LABELS[k] for k in ("fatal", "warning")
                             if {"fatal": "critical", "warning": "warning"}[k] in kinds)
        out.append((suite.check_id, label, counts.get(suite.check_id, 0),
                    f"Great Expectations 期望集 {suite.table}（{'未通过' if counts.get(suite.check_id) else '通过'}）",
                    "expectation", suite.table))
    for rule in rules:
        out.append((rule.id, SEVERITY_LABELS[rule.severity], counts.get(rule.id, 0),
                    f"{rule.message_zh} / {rule.message_en}", rule.category, rule.target_table))
    for code in sorted(c for c in counts if c.startswith("quarantine:")):
        reason = code.split(":", 1)[1]
        out.append((code, "警告", counts[code], f"已隔离的行：{_EXPECTED.get(reason, reason)}（期望值）",
                    "quarantine", "quarantine"))
    return out


def write_report(con, settings: Settings, load_id: str, scope: Scope, rules: list[Rule], suites: list[Suite],
                 runs: dict) -> tuple[Path, Path]:
    """reports/quality/<load_id>.xlsx (问题清单 + 汇总 + 说明) and .csv (问题清单), always."""
    import xlsxwriter

    folder = settings.reports_dir / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    xlsx_path, csv_path = folder / f"{load_id}.xlsx", folder / f"{load_id}.csv"
    detail = _report_rows(con, load_id)
    summary = _summary_rows(rules, suites, runs, detail)

    tmp_csv = csv_path.with_suffix(".csv.tmp")
    with open(tmp_csv, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_HEADERS)
        for row in detail:
            writer.writerow(["" if v is None else v for v in row])
    os.replace(tmp_csv, csv_path)

    tmp_xlsx = xlsx_path.with_suffix(".xlsx.tmp")
    book = xlsxwriter.Workbook(str(tmp_xlsx), {"constant_memory": True, "strings_to_numbers": False})
    try:
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        money = book.add_format({"num_format": "#,##0.00"})
        whole = book.add_format({"num_format": "#,##0"})
        sheet = book.add_worksheet("问题清单")
        for col, (title, width) in enumerate(zip(REPORT_HEADERS, (46, 8, 22, 26, 34, 16, 30, 8, 80))):
            sheet.write(0, col, title, head)
            sheet.set_column(col, col, width)
        sheet.freeze_panes(1, 0)
        for number, row in enumerate(detail[:XLSX_MAX_ROWS], 1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if col == 5:
                    value = Decimal(value)
                    sheet.write_number(number, col, float(value), whole if value == value.to_integral() else money)
                elif col == 1:
                    sheet.write_number(number, col, int(value))
                else:
                    sheet.write_string(number, col, str(value))
        if detail:
            sheet.autofilter(0, 0, min(len(detail), XLSX_MAX_ROWS), len(REPORT_HEADERS) - 1)

        sheet = book.add_worksheet("汇总")
        for col, (title, width) in enumerate(zip(("规则", "级别", "行数", "说明", "类别", "检查对象"),
                                                 (32, 8, 10, 90, 12, 34))):
            sheet.write(0, col, title, head)
            sheet.set_column(col, col, width)
        sheet.freeze_panes(1, 0)
        for number, row in enumerate(summary, 1):
            for col, value in enumerate(row):
                if col == 2:
                    sheet.write_number(number, col, value)
                else:
                    sheet.write_string(number, col, str(value))

        sheet = book.add_worksheet("说明")
        sheet.set_column(0, 0, 16)
        sheet.set_column(1, 1, 100)
        fatal = [r for r in detail if r[7] == SEVERITY_LABELS["fatal"]]
        conclusion = (
            "未发现问题。/ No problems found." if not detail else
            f"共 {len(detail):,} 行问题，其中致命 {len(fatal):,} 行。致命问题所涉单位年度的数据不予发布（保留上次发布的数据）；"
            "警告已随数据发布，请按“问题清单”逐行核对并修正导出文件后重新放入。"
        )
        info = [
            ("加载编号", load_id),
            ("生成时间", datetime.now().strftime("%Y-%m-%d %H:%M:%S")),
            ("检查范围", "，".join(f"{u}/{y}" for u, y in sorted(scope)) or "（本次无变更的单位年度）"),
            ("结论", conclusion),
        ]
        if len(detail) > XLSX_MAX_ROWS:
            info.append(("提示", f"问题清单超过 Excel 行数上限，仅列出前 {XLSX_MAX_ROWS:,} 行；完整清单见 {csv_path.name}"))
        for number, (key, value) in enumerate(info):
            sheet.write_string(number, 0, key, head)
            sheet.write_string(number, 1, value)
    finally:
        book.close()
    os.replace(tmp_xlsx, xlsx_path)
    return xlsx_path, csv_path
