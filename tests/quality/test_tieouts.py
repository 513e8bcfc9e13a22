"""The marts' tie-outs have one implementation, the catalogue's rules: a load withholds a
unit-year on them, and the evaluation outputs (figures._tie_out) report the same rules'
failures for the unit-year they print (pipelines/quality/tieouts.py)."""

from __future__ import annotations

import shutil
from decimal import Decimal

import duckdb

from pipelines.evaluation.figures import ScopeRows, read_figures
from pipelines.quality.run import run_quality
from pipelines.quality.tieouts import mart_tie_outs, run_tie_outs, scope_tie_out_failures, tie_out_failures
from pipelines.settings import load_settings
from pipelines.warehouse.db import Writer, connect
from tests.quality.conftest import ALL_UNIT_YEARS, UNIT2

# spending_by_year of 117002/2021 lowered by 1 yuan in the internal marts only: its total no
# longer ties out to the facts, nor the public copy to the internal one
FAILURES = [
    ("public_equals_internal", "spending_by_year.total_yuan", "170000.00", "169999.00", Decimal("1.00")),
    ("tieout_year_total", "spending_by_year.total_yuan", "169999.00", "170000.00", Decimal("-1.00")),
]


def test_the_mart_tie_outs_are_the_catalogues_fatal_rules_on_marts():
    assert [r.id for r in mart_tie_outs()] == [
        "tieout_category_total", "tieout_project_total", "tieout_year_total", "tieout_execution_total",
        "tieout_three_public_total", "public_equals_internal"]
    assert {r.severity for r in mart_tie_outs()} == {"fatal"}


def test_figures_report_what_the_tie_out_rules_find(clean, tmp_path):
    shutil.copy(clean.settings.db_path, tmp_path / "warehouse.duckdb")
    settings = load_settings(clean.settings.landing_dir, tmp_path)
    con = connect(settings.db_path)
    try:
        assert read_figures(con, UNIT2, 2021).warnings == []  # the clean load's rules found nothing
        con.execute(f"UPDATE build.spending_by_year SET total_yuan = total_yuan - 1 "
                    f"WHERE unit_code = '{UNIT2}' AND fiscal_year = 2021")
        writer = Writer(settings.db_path, con)
        outcome = run_quality(writer, settings, {(UNIT2, 2021)}, "tie-out")
        con = writer.con
        assert outcome.withheld == {(UNIT2, 2021)}  # the load's gate ...
        assert tie_out_failures(con, UNIT2, 2021) == FAILURES  # ... and what the reports are told, from its results
        assert run_tie_outs(con, UNIT2, 2021) == FAILURES  # the same rules run on the spot
        warnings = [
            "public_equals_internal: spending_by_year.total_yuan 170000.00 ≠ 169999.00 (difference 1.00)",
            "tieout_year_total: spending_by_year.total_yuan 169999.00 ≠ 170000.00 (difference -1.00)",
        ]
        assert read_figures(con, UNIT2, 2021).warnings == warnings
        assert read_figures(con, UNIT2, 2021, public=True).warnings == warnings
        # the reports' gathering reads a whole scope's failures in one query: the same, on their unit-year only
        scope = sorted(ALL_UNIT_YEARS)
        assert scope_tie_out_failures(con, scope) == {(UNIT2, 2021): FAILURES}
        source = ScopeRows(con, scope)
        assert {key: read_figures(con, *key, source=source).warnings for key in scope} == {
            key: warnings if key == (UNIT2, 2021) else [] for key in scope}
        con.execute("DROP TABLE quality.results")  # a warehouse the quality stage never ran in
    finally:
        con.close()
    bare = duckdb.connect(str(settings.db_path), read_only=True)  # no macros loaded: the rules need them
    try:
        assert tie_out_failures(bare, UNIT2, 2021) == FAILURES
        assert scope_tie_out_failures(bare, sorted(ALL_UNIT_YEARS)) == {(UNIT2, 2021): FAILURES}
    finally:
        bare.close()
