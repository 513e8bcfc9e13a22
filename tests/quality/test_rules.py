"""The rule catalogue (sql/rules/): its shape, and a passing and a failing fixture per rule.

Both fixture tests are parametrized over the catalogue, so a rule added to catalogue.csv
without fixtures fails here. Passing fixture: the clean landing folder (the demo data plus
a second unit), where every rule finds nothing. Failing fixture:
- warning rules: the messy landing folder (conftest.inject_warnings), where each rule must
  report exactly the rows its injection created — and nothing else fails;
- fatal rules (row accounting, tie-outs, public = internal): a copy of the clean warehouse
  altered the way a bug would (a staged row lost, a mart that no longer adds up), then
  run_quality; exactly that rule fails, at the expected unit-year, which is withheld.
"""

from __future__ import annotations

import csv
import re
import shutil

import duckdb
import pytest

from pipelines.quality.run import CATALOGUE, RULE_COLUMNS, RULES_DIR, load_catalogue, run_quality
from pipelines.settings import load_settings
from pipelines.warehouse.db import Writer, connect
from pipelines.warehouse.transform import set_scope
from tests.quality.conftest import ALL_UNIT_YEARS, Q3, UNIT1, UNIT2, UNIT2_VOUCHERS, results

RULES = load_catalogue()
RULE_IDS = [r.id for r in RULES]
SEVERITY = {r.id: r.severity for r in RULES}

# Failing fixtures of the fatal rules: SQL altering a copy of the clean warehouse, and the
# (unit_code, fiscal_year, field) rows the rule must then report. Amounts are lowered, never
# raised, so that no over-budget warning can appear as a side effect.
FATAL_CASES: dict[str, tuple[list[str], set[tuple]]] = {
    "row_accounting": (
        # a staged financial-book line of Q3 lost after staging (row 385: Dr 1011, Sept. quota)
        [f"DELETE FROM staging.voucher_lines__rows WHERE source_row = 385 AND source_key = "
         f"(SELECT source_key FROM meta.sources WHERE source_file = '{Q3}')"],
        {(UNIT1, 2021, "数据行数")},
    ),
    "tieout_staging_core": (
        # a staged spending line changed after core was built
        [f"UPDATE staging.voucher_lines__rows SET debit = debit - 1, amount = amount - 1 "
         f"WHERE (source_key, source_row) = (SELECT (source_key, min(source_row)) FROM staging.voucher_lines__rows "
         f"WHERE account_code = '7101' AND source_key = "
         f"(SELECT source_key FROM meta.sources WHERE source_file = '{UNIT2_VOUCHERS}') GROUP BY source_key)"],
        {(UNIT2, 2021, "core.fact_spending.amount")},
    ),
    "tieout_category_total": (
        [f"UPDATE {schema}.spending_by_category SET amount_yuan = amount_yuan - 1 "
         f"WHERE unit_code = '{UNIT1}' AND fiscal_year = 2020 AND econ_code = '30101'"
         for schema in ("build", "build_public")],
        {(UNIT1, 2020, "spending_by_category.amount_yuan 合计"), (UNIT1, 2020, "spending_by_category.amount_yuan 基本支出")},
    ),
    "tieout_project_total": (
        [f"UPDATE {schema}.spending_by_project SET spent_yuan = spent_yuan - 1 "
         f"WHERE unit_code = '{UNIT1}' AND fiscal_year = 2021 AND project_code = '117001-2020-01'"
         for schema in ("build", "build_public")],
        {(UNIT1, 2021, "spending_by_project.spent_yuan 合计")},
    ),
    "tieout_year_total": (
        [f"UPDATE {schema}.spending_by_year SET total_yuan = total_yuan - 1 "
         f"WHERE unit_code = '{UNIT2}' AND fiscal_year = 2021" for schema in ("build", "build_public")],
        {(UNIT2, 2021, "spending_by_year.total_yuan")},
    ),
    "tieout_execution_total": (
        [f"UPDATE {schema}.budget_execution SET spent_yuan = spent_yuan - 1 WHERE unit_code = '{UNIT1}' "
         f"AND fiscal_year = 2020 AND spending_type = '基本支出' AND fund_source = '一般公共预算'"
         for schema in ("build", "build_public")],
        {(UNIT1, 2020, "budget_execution.spent_yuan 合计")},
    ),
    "tieout_three_public_total": (
        [f"UPDATE {schema}.three_public SET spent_yuan = spent_yuan - 1 "
         f"WHERE unit_code = '{UNIT1}' AND fiscal_year = 2021 AND item_code = '30217'"
         for schema in ("build", "build_public")],
        {(UNIT1, 2021, "three_public.spent_yuan 合计")},
    ),
    "public_equals_internal": (
        # the public copy alone drifts from the internal one
        [f"UPDATE build_public.spending_by_year SET total_yuan = total_yuan - 1 "
         f"WHERE unit_code = '{UNIT2}' AND fiscal_year = 2021"],
        {(UNIT2, 2021, "spending_by_year.total_yuan")},
    ),
}


# ------------------------------------------------------------------ the catalogue as data


def test_catalogue_is_data_with_a_query_per_rule():
    with open(CATALOGUE, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == ["id", "message_zh", "message_en", "severity", "category", "target_table", "description"]
    assert len(RULE_IDS) == len(set(RULE_IDS)) == 19
    assert sorted(p.stem for p in RULES_DIR.glob("*.sql")) == sorted(RULE_IDS)
    fatal = {r.id for r in RULES if r.severity == "fatal"}
    # fatal is reserved for what makes published numbers wrong with nothing catching it
    assert fatal == {"row_accounting", "tieout_staging_core", "tieout_category_total", "tieout_project_total",
                     "tieout_year_total", "tieout_execution_total", "tieout_three_public_total",
                     "public_equals_internal"}
    assert all(r.category == "tie-out" for r in RULES if r.severity == "fatal")
    for rule in RULES:
        assert rule.target_table.split(".")[0] in ("staging", "core", "marts", "marts_public", "quarantine"), rule.id


def test_every_rule_has_fixtures(messy):
    """A rule added to the catalogue without a failing fixture fails here (and below)."""
    assert set(messy.expected) == {r for r in RULE_IDS if SEVERITY[r] == "warning"}
    assert set(FATAL_CASES) == {r for r in RULE_IDS if SEVERITY[r] == "fatal"}


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_query_returns_the_row_contract(clean, rule_id):
    """Each query returns unit_code, fiscal_year, source_file, source_row, field,
    value_provided, value_expected, difference, detail — in that order."""
    con = duckdb.connect(str(clean.settings.db_path), read_only=True)
    try:
        from pipelines.warehouse.db import load_macros

        load_macros(con)
        set_scope(con, ALL_UNIT_YEARS)
        rule = next(r for r in RULES if r.id == rule_id)
        columns = [c[0] for c in con.execute(f"DESCRIBE {rule.sql}").fetchall()]
    finally:
        con.close()
    assert tuple(columns) == RULE_COLUMNS


# ------------------------------------------------------------------ passing fixture


def test_clean_load_exits_0_and_reports_no_failure(clean):
    assert clean.exit_code == 0, clean.stdout
    assert "checks failed:    0 (0 blocking)" in clean.stdout
    # one workbook per load, named by its local (Asia/Shanghai) date and time
    folder = re.escape(str(clean.settings.reports_dir / "quality"))
    assert re.search(rf"quality report:   {folder}/\d{{4}}-\d\d-\d\d_\d{{4}}_质量报告\.xlsx$", clean.stdout, re.M)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_passes_on_clean_data(clean, rule_id):
    assert results(clean.settings, clean.load_id, rule_id) == []
    con = duckdb.connect(str(clean.settings.db_path), read_only=True)
    try:
        assert con.execute(
            "SELECT passed, failing FROM quality.check_runs WHERE load_id = ? AND check_id = ?",
            [clean.load_id, rule_id],
        ).fetchall() == [(True, 0)]
    finally:
        con.close()


# ------------------------------------------------------------------ failing fixtures


@pytest.mark.parametrize("rule_id", [r for r in RULE_IDS if SEVERITY[r] == "warning"])
def test_warning_rule_fails_on_its_injected_rows(messy, rule_id):
    assert rule_id in messy.expected, f"no failing fixture for {rule_id} in conftest.inject_warnings"
    got = {row[2:] for row in results(messy.settings, messy.load_id, rule_id)}
    assert got == messy.expected[rule_id]
    assert {row[1] for row in results(messy.settings, messy.load_id, rule_id)} == {"warning"}


def test_no_rule_names_a_row_the_quarantine_holds(messy):
    """Rules cover what the quarantine does not: a row staging rejected is listed once, by
    the quarantine (field and value included), never again by a rule."""
    quarantined = {(f, r) for f, r in messy.rejected}
    assert len(quarantined) == 12
    named = {(row[4], row[5]) for row in results(messy.settings, messy.load_id) if row[5] is not None}
    assert named and not named & quarantined


def test_messy_load_fails_exactly_the_injected_rules_and_nothing_fatal(messy):
    assert messy.result.success
    failing = {row[0] for row in results(messy.settings, messy.load_id)}
    assert failing == set(messy.expected)  # no expectation suite, no fatal rule, no other rule
    con = duckdb.connect(str(messy.settings.db_path), read_only=True)
    try:
        summary = con.execute("SELECT summary FROM meta.loads WHERE load_id = ?", [messy.load_id]).fetchone()[0]
        published = con.execute(
            "SELECT DISTINCT unit_code, fiscal_year FROM meta.published ORDER BY ALL").fetchall()
    finally:
        con.close()
    assert '"withheld": []' in summary
    assert set(published) == ALL_UNIT_YEARS  # warnings are published beside the data


@pytest.fixture(scope="module")
def fatal_runs(clean, tmp_path_factory):
    """run_quality on one altered copy of the clean warehouse per fatal rule."""
    runs = {}
    for rule_id, (statements, _) in FATAL_CASES.items():
        folder = tmp_path_factory.mktemp(f"fatal_{rule_id}")
        shutil.copy(clean.settings.db_path, folder / "warehouse.duckdb")
        settings = load_settings(clean.settings.landing_dir, folder)
        con = connect(settings.db_path)
        try:
            for statement in statements:
                changed = con.execute(statement).fetchone()[0]
                assert changed >= 1, statement
            writer = Writer(settings.db_path, con)
            outcome = run_quality(writer, settings, ALL_UNIT_YEARS, f"fatal-{rule_id}")
            con = writer.con
            rows = con.execute(
                "SELECT check_id, unit_code, fiscal_year, field FROM quality.results WHERE load_id = ?",
                [f"fatal-{rule_id}"],
            ).fetchall()
        finally:
            con.close()
        runs[rule_id] = (outcome, rows)
    return runs


@pytest.mark.parametrize("rule_id", [r for r in RULE_IDS if SEVERITY[r] == "fatal"])
def test_fatal_rule_fails_on_its_fixture_and_withholds_that_unit_year(fatal_runs, rule_id):
    assert rule_id in FATAL_CASES, f"no failing fixture for {rule_id} in FATAL_CASES"
    outcome, rows = fatal_runs[rule_id]
    expected = FATAL_CASES[rule_id][1]
    assert {row[0] for row in rows} == {rule_id}  # exactly that rule, nothing else
    assert {row[1:] for row in rows} == expected
    assert outcome.withheld == {(u, y) for u, y, _ in expected}
    assert [(f["id"], f["severity"]) for f in outcome.failed] == [(rule_id, "fatal")]
