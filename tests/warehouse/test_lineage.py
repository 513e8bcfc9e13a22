"""Dependencies and build order come from the SQL models' own text."""

import dagster as dg

from pipelines.definitions import defs
from pipelines.warehouse.lineage import build_order, model_reads
from pipelines.warehouse.transform import CORE_MODELS


def test_model_reads_ignores_comments_and_strings():
    # dim_project's header comment names core.dim_project; only the code's references count.
    reads = model_reads("core/dim_project.sql")
    assert reads == {("core", "fact_budget"), ("core", "fact_spending"), ("staging", "ledger_projects")}


def test_core_models_built_after_what_they_read():
    assert CORE_MODELS.index("dim_project") > CORE_MODELS.index("fact_spending")
    assert CORE_MODELS.index("dim_project") > CORE_MODELS.index("fact_budget")
    assert set(CORE_MODELS) == {"dim_project", "dim_unit_year", "fact_budget", "fact_indicators",
                                "fact_procurement", "fact_spending", "fact_staffing"}


def test_build_order_keeps_given_order_for_ties():
    assert build_order({"fact_staffing": "core/fact_staffing.sql", "fact_budget": "core/fact_budget.sql"}, "core") \
        == ("fact_staffing", "fact_budget")


def _parents(key: list[str]) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {parent.to_user_string() for parent in graph.get(dg.AssetKey(key)).parent_keys}


def test_asset_lineage_is_what_the_sql_reads():
    # A table's parents: what its SQL reads, and the unit-year stage that writes it.
    assert _parents(["core", "fact_staffing"]) == {"staging/staffing", "unit_year/core"}
    assert _parents(["core", "dim_project"]) == {"core/fact_budget", "core/fact_spending", "staging/ledger_projects",
                                                 "unit_year/core"}
    assert "staging/voucher_lines" not in _parents(["core", "fact_budget"])
    assert _parents(["marts_public", "performance_indicators"]) == {"marts/performance_indicators", "core/dim_project",
                                                                    "unit_year/marts"}
    assert _parents(["marts_public", "three_public"]) == {"marts/three_public", "unit_year/marts"}


def test_internal_public_and_publishing_are_told_apart_by_group():
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey(["marts", "three_public"])).group_name == "marts"
    assert graph.get(dg.AssetKey(["marts_public", "three_public"])).group_name == "marts_public"
    assert graph.get(dg.AssetKey(["unit_year", "parquet"])).group_name == "unit_year"
    assert graph.get(dg.AssetKey(["unit_year", "parquet"])).partitions_def is not None
