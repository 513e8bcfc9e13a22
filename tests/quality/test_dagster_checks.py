"""The asset checks (pipelines/defs/checks.py): one per suite and per rule on its asset,
non-blocking, evaluated by unit_year/marts; and per unit-year, no_blocking_failure;
evaluated in real Dagster runs (the messy load)."""

from __future__ import annotations

import re

import dagster as dg

from pipelines.definitions import ALL_ASSETS, ALL_CHECKS
from pipelines.defs.checks import CHECK_SOURCES, CHECK_SPECS
from pipelines.quality.run import list_suites, load_catalogue


def test_one_check_per_suite_and_rule_on_its_asset():
    specs = {(spec.asset_key, spec.name): spec for spec in CHECK_SPECS}
    assert len(specs) == len(list_suites()) + len(load_catalogue()) == 38
    asset_keys = {key for asset in ALL_ASSETS for key in getattr(asset, "keys", None) or [asset.key]}
    for suite in list_suites():
        assert (dg.AssetKey(suite.table.split(".")), suite.check_id) in specs
    for rule in load_catalogue():
        assert (dg.AssetKey(rule.target_table.split(".")), rule.id) in specs
    for spec in specs.values():
        assert spec.asset_key in asset_keys
        assert spec.blocking is False
    assert (dg.AssetKey(["quarantine"]), "row_accounting") in specs
    assert (dg.AssetKey(["marts_public", "spending_by_project"]), "public_equals_internal") in specs
    assert len(ALL_CHECKS) == 2  # these, and no_blocking_failure per unit-year


def test_definitions_load():
    from pipelines.definitions import defs

    dg.Definitions.validate_loadable(defs)


def test_check_evaluations_of_a_run(messy):
    all_evaluations = messy.result.get_asset_check_evaluations()
    evaluations = {(e.asset_key, e.check_name): e for e in all_evaluations if e.partition is None}
    assert len(evaluations) == 38
    # Per unit-year: none of the messy load's failures is blocking, so every unit-year passes.
    per_unit_year = {e.partition: e for e in all_evaluations if e.check_name == "no_blocking_failure"}
    # (2020|117002 holds no data: the load's one ranged run covers it, writing nothing)
    assert set(per_unit_year) - {"2020|117002"} == {"2020|117001", "2021|117001", "2021|117002"}
    assert all(e.passed for e in per_unit_year.values())
    assert "project_over_budget" in per_unit_year["2021|117001"].metadata["warning_checks"].value
    failed_rules = set(messy.expected)
    for key, source in CHECK_SOURCES.items():
        evaluation = evaluations[(key.asset_key, key.name)]
        metadata = evaluation.metadata
        assert set(metadata) == {"check_id", "check_kind", "target_table", "load_id", "failing_count",
                                 "fatal_count", "sample_row_ids"}
        assert metadata["check_id"].value == source["id"]
        if source["id"] in failed_rules:
            assert evaluation.passed is False
            assert evaluation.severity == dg.AssetCheckSeverity.WARN
            assert metadata["failing_count"].value == len(messy.expected[source["id"]])
            ids = metadata["sample_row_ids"].value
            assert 1 <= len(ids) <= 5
            for row_id in ids:  # ids only: file:row, or unit/year for checks on totals
                assert re.fullmatch(r"117\d{3}/20\d\d/.+\.(csv|xlsx):\d+|117\d{3}/20\d\d/.+\.(csv|xlsx)|117\d{3}/20\d\d",
                                    row_id), row_id
        else:
            assert evaluation.passed is True, source["id"]
            assert metadata["failing_count"].value == 0 and metadata["sample_row_ids"].value == []
            expected = dg.AssetCheckSeverity.ERROR if source["severity"] == "fatal" else dg.AssetCheckSeverity.WARN
            assert evaluation.severity == expected
    over = evaluations[(dg.AssetKey(["marts", "spending_by_project"]), "project_over_budget")]
    assert over.metadata["sample_row_ids"].value == ["117001/2021"]
    twice = evaluations[(dg.AssetKey(["staging", "voucher_lines"]), "voucher_line_in_two_files")]
    assert twice.metadata["failing_count"].value == 8
    assert twice.metadata["sample_row_ids"].value == [
        "117001/2021/凭证/2021年7-9月序时账.csv:401", "117001/2021/凭证/2021年7-9月序时账.csv:402",
        "117001/2021/凭证/2021年7-9月序时账.csv:403", "117001/2021/凭证/2021年7-9月序时账.csv:404",
        "117001/2021/凭证/2021年9月补充序时账.csv:6"]
