"""The expectation suites of a quality run: each suite validated (by
`pipelines.quality.gx_duckdb`) on a view of its table restricted to the run's scope,
critical failures attributed to unit-years, and GX's Data Docs on request."""

from __future__ import annotations

from pipelines.quality.catalogue import Scope, Suite, chinese_part, table_label
from pipelines.settings import Settings


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


def create_scoped_views(con, suites: list[Suite], scope: Scope) -> None:
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


def is_empty(con, relation: str) -> bool:
    return not con.execute(f"SELECT EXISTS (SELECT 1 FROM {relation})").fetchall()[0][0]


def drop_scoped_views(con, suites: list[Suite]) -> None:
    for suite in suites:
        con.execute(f"DROP VIEW IF EXISTS {suite.view}")
    con.execute("DROP TABLE IF EXISTS quality.gx_sources")
    con.execute("DROP TABLE IF EXISTS quality.gx_scope")


def failed_expectations(con, suite: Suite) -> list:
    """The suite's failed expectations on its scoped view (GX's ExpectationOutcome each, with
    counts and up to five failing row ids). Reads only: the checks' workers run it on a
    read-only connection (pipelines.quality.runner).

    The first pass asks GX for pass/fail only (its cheapest result format: GX's own
    per-expectation work, not the SQL, is most of a suite's time); the failed
    expectations alone are run again for their counts and up to five failing row ids."""
    from pipelines.quality.gx_duckdb import run_suite  # lazy: Great Expectations takes seconds to import; only a GX run needs it

    outcome = run_suite(con, suite.view, suite.load(), pass_fail_only=True)
    failed = [o for o in outcome.outcomes if not o.success]
    if not failed:
        return []
    again = run_suite(con, suite.view, _sub_suite(suite, failed, "failed"), row_id_columns=suite.row_id_columns)
    return [o for o in again.outcomes if not o.success]


def result_rows(con, suite: Suite, failed: list, scope: Scope) -> list[tuple]:
    """One results row (without load_id / checked_at) per failed expectation and unit-year,
    on the writer: critical failures are attributed to unit-years, which for a scope of
    several runs them again per unit-year (GX imported here only then)."""
    ids = suite.row_id_columns
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
    from pipelines.quality.gx_duckdb import run_suite  # lazy: Great Expectations takes seconds to import; only a GX run needs it

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
    where = f"{o.unexpected_count:,} 行" if o.unexpected_count else "整表"
    sample = ("；例：" + "，".join(o.sample_row_ids)) if o.sample_row_ids else ""
    unit, year = unit_year if unit_year else (None, None)
    message = f"入库数据自检未通过，{table_label(suite.table)}：{chinese_part(o.description or o.expectation_type)}"
    return (suite.check_id, severity, suite.table, unit, year, source_file, source_row, o.column,
            None, o.expectation_type, None, message, f"{where}{sample}", failing)


def scoped_data_docs(con, suites: list[Suite], settings: Settings) -> str | None:
    """GX's HTML Data Docs of the scoped suites (optional: FISCAL_DATA_DOCS=1 or data_docs=True)."""
    from pipelines.quality.gx_duckdb import build_data_docs  # lazy: Great Expectations takes seconds to import; only a GX run needs it

    index = build_data_docs(con, {s.view: s.load() for s in suites}, settings.reports_dir / "quality" / "data_docs")
    return str(index)
