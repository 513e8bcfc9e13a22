"""The Great Expectations suites in expectations/: one per table of the raw, staging and
core layers, loadable, passing on the demo data, and a critical failure withholding the
unit-year whose rows fail (found by re-running the failed expectation per unit-year)."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from pipelines.landing.headers import KINDS
from pipelines.quality.gx_duckdb import load_suite
from pipelines.quality.run import list_suites, run_quality
from pipelines.settings import EXPECTATIONS_DIR, load_settings
from pipelines.warehouse.db import Writer, connect
from pipelines.warehouse.transform import CORE_MODELS
from tests.quality.conftest import ALL_UNIT_YEARS, UNIT1

SUITES = list_suites()


def test_one_suite_per_table_of_raw_staging_and_core():
    expected = {f"raw.{k}" for k in KINDS} | {f"staging.{k}" for k in KINDS} | {f"core.{m}" for m in CORE_MODELS}
    assert {s.table for s in SUITES} == expected
    assert len(SUITES) == 19
    assert (EXPECTATIONS_DIR / "_example.json").exists()  # kept for test_gx_duckdb.py, not run


@pytest.mark.parametrize("suite", SUITES, ids=[s.table for s in SUITES])
def test_suite_file_is_strict_gx_json(suite, clean):
    raw = json.loads(suite.path.read_text(encoding="utf-8"))
    loaded = load_suite(suite.path)  # raises if GX would drop an expectation
    assert len(loaded.expectations) == len(raw["expectations"]) >= 2
    assert "critical" in {e["severity"] for e in raw["expectations"]} <= {"critical", "warning"}
    descriptions = [e["description"] for e in raw["expectations"]]
    assert len(set(descriptions)) == len(descriptions)
    con = duckdb.connect(str(clean.settings.db_path), read_only=True)
    try:  # every column the suite names exists in the table
        columns = {c[0] for c in con.execute(f"DESCRIBE {suite.table}").fetchall()}
    finally:
        con.close()
    for exp in raw["expectations"]:
        named = [exp["kwargs"].get("column")] + exp["kwargs"].get("column_list", [])
        assert {c for c in named if c} <= columns, exp["description"]
    assert set(suite.row_id_columns) <= columns


def test_suites_and_rules_pass_on_the_demo_data(demo_warehouse):
    """The bundled demo (loaded once by tests/conftest.py through the CLI): no warning at all."""
    con = duckdb.connect(str(demo_warehouse.db_path), read_only=True)
    try:
        load_id = con.execute("SELECT load_id FROM meta.loads ORDER BY started_at DESC LIMIT 1").fetchone()[0]
        runs = con.execute(
            "SELECT kind, count(*), count(*) FILTER (WHERE passed) FROM quality.check_runs WHERE load_id = ? "
            "GROUP BY kind ORDER BY kind", [load_id]).fetchall()
        failures = con.execute("SELECT count(*) FROM quality.results WHERE load_id = ?", [load_id]).fetchone()[0]
    finally:
        con.close()
    assert runs == [("expectation", 19, 19), ("rule", 19, 19)]
    assert failures == 0


def test_critical_expectation_failure_withholds_exactly_its_unit_year(clean, tmp_path):
    shutil.copy(clean.settings.db_path, tmp_path / "warehouse.duckdb")
    settings = load_settings(clean.settings.landing_dir, tmp_path)
    con = connect(settings.db_path)
    try:
        # a broken transform writes a budget kind outside the set (a 追加 line: no total moves)
        broken = con.execute(
            f"UPDATE core.fact_budget SET budget_kind = '其他' WHERE unit_code = '{UNIT1}' AND fiscal_year = 2021 "
            "AND budget_kind = '追加'").fetchone()[0]
        assert broken >= 1
        sources = {tuple(r) for r in con.execute(
            "SELECT source_file, source_row FROM core.fact_budget WHERE budget_kind = '其他'").fetchall()}
        writer = Writer(settings.db_path, con)
        outcome = run_quality(writer, settings, ALL_UNIT_YEARS, "gx-critical")
        con = writer.con  # the checks' workers read the file meanwhile
        rows = con.execute(
            "SELECT check_id, severity, unit_code, fiscal_year, source_file, source_row, field, value_expected, "
            "failing FROM quality.results WHERE load_id = 'gx-critical'").fetchall()
    finally:
        con.close()
    assert outcome.withheld == {(UNIT1, 2021)}
    assert [(f["id"], f["severity"], f["failing"]) for f in outcome.failed] == [("gx_core_fact_budget", "fatal", broken)]
    assert len(rows) == 1
    check_id, severity, unit, year, source_file, source_row, field, expectation, failing = rows[0]
    assert (check_id, severity, unit, year, field, expectation, failing) == (
        "gx_core_fact_budget", "fatal", UNIT1, 2021, "budget_kind", "expect_column_values_to_be_in_set", broken)
    assert (source_file, source_row) in sources  # a sample failing row, by id


def test_a_suite_over_no_rows_passes_so_the_run_may_skip_it(clean, tmp_path):
    """run_quality does not run GX for a table with no rows in scope (GX costs ~50 ms a
    suite whatever the rows). That is only right if GX itself would pass each suite on an
    empty table: run every suite through GX on empty copies of the tables."""
    from pipelines.quality.gx_duckdb import run_suite

    db = tmp_path / "copy.duckdb"
    shutil.copy(clean.settings.db_path, db)
    con = connect(db)
    try:
        for suite in SUITES:
            assert suite.passes_on_no_rows, suite.table
            layer, name = suite.table.split(".")
            con.execute(f"CREATE OR REPLACE TABLE quality.empty_{layer}__{name} AS SELECT * FROM {suite.table} LIMIT 0")
            outcome = run_suite(con, f"quality.empty_{layer}__{name}", suite.load(), row_id_columns=suite.row_id_columns)
            assert [o.description for o in outcome.outcomes if not o.success] == [], suite.table
    finally:
        con.close()


def test_a_table_level_expectation_keeps_the_suite_running_on_no_rows(tmp_path):
    from pipelines.quality.run import Suite

    raw = json.loads(SUITES[0].path.read_text(encoding="utf-8"))
    raw["expectations"].append({"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1},
                                "description": "at least one row", "severity": "warning"})
    path = tmp_path / f"{SUITES[0].table}.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert not Suite(SUITES[0].table, path).passes_on_no_rows


def test_suites_are_expected_to_cost_their_last_seconds_or_an_estimate(tmp_path):
    """What the distributed executor shares the suites out by (pipelines.quality.runner
    .expected_seconds): each suite's seconds in the last quality run when every suite has
    one, else its expectations and its table's rows."""
    from pipelines.quality.runner import CHECK_RUNS_DDL, expected_seconds

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA quality")
    con.execute(CHECK_RUNS_DDL)
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.voucher_lines AS SELECT range AS n FROM range(2000000)")
    voucher_lines = next(s for s in SUITES if s.table == "staging.voucher_lines")
    staffing = next(s for s in SUITES if s.table == "raw.staffing")  # no such table here: no rows
    estimated = expected_seconds(con, [voucher_lines, staffing])
    assert estimated == pytest.approx([0.05 + 0.01 * len(voucher_lines.raw["expectations"]) + 0.2,
                                       0.05 + 0.01 * len(staffing.raw["expectations"])])

    def record(load_id, check_id, seconds):
        con.execute("INSERT INTO quality.check_runs VALUES (?, ?, 'expectation', 't', 'critical', true, 0, 0, ?, "
                    "now()::TIMESTAMP)", [load_id, check_id, seconds])

    record("20261101T000000-aaaaaa", voucher_lines.check_id, 0.9)
    record("20261101T000000-aaaaaa", staffing.check_id, 0.1)
    record("20261130T000000-bbbbbb", voucher_lines.check_id, 0.4)  # the last run missed a suite: estimates
    assert expected_seconds(con, [voucher_lines, staffing]) == pytest.approx(estimated)
    record("20261130T000000-bbbbbb", staffing.check_id, 0.3)
    assert expected_seconds(con, [voucher_lines, staffing]) == pytest.approx([0.4, 0.3])
    con.close()
