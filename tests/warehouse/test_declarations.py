"""A mart is declared once, beside its SQL (sql/marts/<name>.toml): adding one is its SQL, its
declaration and its test, and a declaration that disagrees with its SQL fails loudly."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.settings import SQL_DIR
from pipelines.warehouse import dictionary, publish, transform
from pipelines.warehouse.db import connect
from pipelines.warehouse.declarations import DeclarationError, mart_build_order, marts, read_marts

SHARE_SQL = """-- marts.spending_share: a throw-away mart of the test, reading another mart.
SELECT fiscal_year, unit_code, unit_name, total_yuan, (total_yuan * 2)::DECIMAL(18, 2) AS doubled_yuan
FROM build.spending_by_year
JOIN _scope s USING (unit_code, fiscal_year)
"""
SHARE_DECLARATION = """title = "Spending doubled"
label = "支出翻倍"
position = 8
grain = "fiscal year × unit"
keys = ["fiscal_year", "unit_code"]
sort = "unit_code"
public = "copy"

[columns.total_yuan]
description = "All spending."
label = "支出合计（元）"

[columns.doubled_yuan]
description = "Twice total_yuan."
label = "两倍支出（元）"
"""


@pytest.fixture
def sql_copy(tmp_path) -> Path:
    """sql/marts and sql/marts_public copied, for declaring marts without touching the project."""
    copy = tmp_path / "sql"
    for folder in ("marts", "marts_public"):
        shutil.copytree(SQL_DIR / folder, copy / folder)
    return copy


def add_mart(sql_copy: Path, name: str, sql: str, declaration: str) -> None:
    (sql_copy / "marts" / f"{name}.sql").write_text(sql, encoding="utf-8")
    (sql_copy / "marts" / f"{name}.toml").write_text(declaration, encoding="utf-8")


def test_everything_about_the_marts_comes_from_the_declarations():
    declared = marts()
    assert transform.MART_MODELS == tuple(declared) == (
        "spending_by_category", "spending_by_project", "spending_by_year", "budget_execution", "three_public",
        "performance_indicators", "evaluation_indicators")
    assert publish.REDACTED_MARTS == ("spending_by_project", "performance_indicators")
    assert publish.REDACTED_MARTS == tuple(p.stem for p in sorted((SQL_DIR / "marts_public").glob("*.sql"),
                                                                   key=lambda p: declared[p.stem].position))
    assert publish.SORT_KEYS["performance_indicators"] == "project_code NULLS FIRST, level1, level2, name"
    assert dictionary.chinese_title("three_public") == "三公经费"
    assert dictionary.column_labels("spending_by_year")["unit_name"] == "单位名称"  # the common columns, once
    assert dictionary.column_descriptions("three_public")["item_order"] == "The items' order in published tables (1–4)."
    assert not (SQL_DIR / "marts" / "columns.toml").exists()


def test_a_declared_mart_is_picked_up_and_built_after_what_it_reads(sql_copy, demo_warehouse, tmp_path):
    add_mart(sql_copy, "spending_share", SHARE_SQL, SHARE_DECLARATION)
    registry = read_marts(sql_copy / "marts")
    assert list(registry) == [*marts(), "spending_share"]
    share = registry["spending_share"]
    assert share.column_names == ("fiscal_year", "unit_code", "unit_name", "total_yuan", "doubled_yuan")
    assert share.column_labels()["doubled_yuan"] == "两倍支出（元）" and not share.redacted
    order = mart_build_order(registry)
    assert order.index("spending_share") > order.index("spending_by_year")

    shutil.copy(demo_warehouse.db_path, tmp_path / "warehouse.duckdb")
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        transform.set_scope(con, transform.all_unit_years(con))
        counts = transform.build_marts(con, ["spending_share"], registry)
        assert counts == {"spending_share": con.execute("SELECT count(*) FROM build.spending_by_year").fetchone()[0]}
        assert con.execute("""SELECT count(*) FROM build.spending_share s
            JOIN build.spending_by_year y USING (fiscal_year, unit_code)
            WHERE s.doubled_yuan = 2 * y.total_yuan AND s.unit_name = y.unit_name""").fetchone()[0] == counts["spending_share"]
        [(doubled,)] = con.execute("SELECT doubled_yuan FROM build.spending_share "
                                   "WHERE unit_code = '117001' AND fiscal_year = 2021").fetchall()
    finally:
        con.close()
    assert isinstance(doubled, Decimal) and doubled > 0


@pytest.mark.parametrize(("sql_change", "declaration_change", "message"), [
    ("", '\n[columns.ghost_yuan]\ndescription = "Never selected."\nlabel = "幽灵"\n',
     "column ghost_yuan is declared in {toml} but {sql} does not produce it"),
    (", 1 AS surprise", "", "column surprise is produced by {sql} but not declared in {toml}"),
])
def test_a_column_the_sql_and_the_declaration_disagree_on_fails_naming_both(
        sql_copy, demo_warehouse, tmp_path, sql_change, declaration_change, message):
    sql = SHARE_SQL.replace(" AS doubled_yuan", " AS doubled_yuan" + sql_change)
    add_mart(sql_copy, "spending_share", sql, SHARE_DECLARATION + declaration_change)
    registry = read_marts(sql_copy / "marts")
    shutil.copy(demo_warehouse.db_path, tmp_path / "warehouse.duckdb")
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        transform.set_scope(con, transform.all_unit_years(con))
        with pytest.raises(DeclarationError) as raised:
            transform.build_marts(con, ["spending_share"], registry)
    finally:
        con.close()
    toml, sql_file = sql_copy / "marts" / "spending_share.toml", sql_copy / "marts" / "spending_share.sql"
    assert message.format(toml=toml, sql=sql_file) in str(raised.value)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.unlink(), "spending_by_year.sql: no declaration spending_by_year.toml beside it"),
    (lambda d: d.with_suffix(".sql").unlink(), "spending_by_year.toml: no SELECT spending_by_year.sql beside it"),
    (lambda d: d.write_text(d.read_text().replace('public = "copy"', 'public = "redacted"')),
     "spending_by_year.toml: public = 'redacted' but"),
    (lambda d: d.write_text(d.read_text().replace('sort = "unit_code"', 'sort = "unit_code, nowhere DESC"')),
     "spending_by_year.toml: sort column nowhere is not a declared column"),
    (lambda d: d.write_text(d.read_text().replace('keys = ["fiscal_year", "unit_code"]', 'keys = ["fiscal_year"]\nkey = 1')),
     "spending_by_year.toml: unknown key"),
    (lambda d: d.write_text(d.read_text().replace('label = "上年支出合计（元）"\n', '')),
     "spending_by_year.toml: column prior_year_total_yuan needs exactly `description` and `label`"),
    (lambda d: d.write_text(d.read_text().replace("position = 3", "position = 1")),
     "spending_by_year.toml: position 1 is also spending_by_category's"),
    (lambda d: (d.parent.parent / "marts_public" / "spending_by_year.sql").write_text("SELECT 1"),
     "spending_by_year.toml: public = 'copy' but"),
])
def test_a_declaration_that_disagrees_with_itself_or_its_files_fails_naming_the_file(sql_copy, change, message):
    change(sql_copy / "marts" / "spending_by_year.toml")
    with pytest.raises(DeclarationError) as raised:
        read_marts(sql_copy / "marts")
    assert message in str(raised.value)
