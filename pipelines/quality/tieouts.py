"""The marts' tie-outs for one unit-year, outside a load.

The fatal `tie-out` rules of the catalogue that read the marts (tieout_category_total,
tieout_project_total, tieout_year_total, tieout_execution_total, tieout_three_public_total,
public_equals_internal) are the one statement of how the marts must add up: a load runs them
over its scope and withholds a unit-year that fails; the evaluation outputs
(`pipelines.evaluation.figures`) report the same rules' failures for the unit-year they
print, so that totals which do not add up are said, not printed silently.
"""

from __future__ import annotations

import duckdb

from pipelines.quality.catalogue import Rule, load_catalogue
from pipelines.warehouse.db import load_macros, table_exists

MART_LAYERS = ("marts", "marts_public")


def mart_tie_outs(rules: list[Rule] | None = None) -> list[Rule]:
    """The catalogue's tie-out rules on a mart (not row_accounting, not staging against core)."""
    return [r for r in (load_catalogue() if rules is None else rules)
            if r.category == "tie-out" and r.target_table.split(".")[0] in MART_LAYERS]


def tie_out_failures(con: duckdb.DuckDBPyConnection, unit_code: str, fiscal_year: int) -> list[tuple]:
    """(rule id, field, value provided, value expected, difference) of every mart tie-out
    that fails for the unit-year, as the quality stage found it: the marts are built only by
    a load, which runs the rules over what it built (quality.results keeps the last run's
    rows of each unit-year), so reading the results costs a lookup where running the rules
    again costs their planning (~0.1-0.3 s a unit-year, public_equals_internal most). In a
    warehouse the quality stage never ran in, the rules run here."""
    return scope_tie_out_failures(con, [(unit_code, fiscal_year)]).get((unit_code, int(fiscal_year)), [])


def scope_tie_out_failures(con: duckdb.DuckDBPyConnection,
                           scope: list[tuple[str, int]]) -> dict[tuple[str, int], list[tuple]]:
    """`tie_out_failures` of each unit-year of `scope` that has any, read in one query (a
    lookup a unit-year was 11-28 ms of the reports' gathering, most of it the query's own cost)."""
    rules = mart_tie_outs()
    if not table_exists(con, "quality.results"):
        return {(unit, int(year)): failures for unit, year in scope
                if (failures := run_tie_outs(con, unit, year, rules))}
    found: dict[tuple[str, int], list[tuple]] = {}
    for unit, year, *failure in con.execute(
        """SELECT unit_code, fiscal_year, check_id, field, value_provided, value_expected, difference
        FROM quality.results
        WHERE check_id IN (SELECT unnest(?::VARCHAR[]))
          AND (unit_code, fiscal_year) IN (SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[]))
        ORDER BY ALL""",
        [[r.id for r in rules], [unit for unit, _ in scope], [int(year) for _, year in scope]],
    ).fetchall():
        found.setdefault((unit, int(year)), []).append(tuple(failure))
    return found


def run_tie_outs(con: duckdb.DuckDBPyConnection, unit_code: str, fiscal_year: int,
                 rules: list[Rule] | None = None) -> list[tuple]:
    """The mart tie-out rules run now for one unit-year, in one query; rows as
    `tie_out_failures`. The rules read the temp table `_scope`; here a CTE of that name
    stands in for it, so a load's own `_scope` on the same connection is left alone. Works
    on a read-only connection (the macros are temporary)."""
    rules = mart_tie_outs() if rules is None else rules
    parts = [f"SELECT {i} AS rule_no, field, value_provided, value_expected, difference FROM (\n{rule.sql}\n)"
             for i, rule in enumerate(rules)]
    sql = ("WITH _scope AS (SELECT ?::VARCHAR AS unit_code, ?::INTEGER AS fiscal_year)\n"
           + "\nUNION ALL\n".join(parts) + "\nORDER BY ALL")
    try:
        rows = con.execute(sql, [unit_code, fiscal_year]).fetchall()
    except duckdb.CatalogException:  # a bare connection: the rules use the project's macros
        load_macros(con)
        rows = con.execute(sql, [unit_code, fiscal_year]).fetchall()
    return sorted((rules[n].id, *rest) for n, *rest in rows)
