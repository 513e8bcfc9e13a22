"""The shipped classification reference loads into DuckDB and is internally consistent."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.reference import REFERENCE_DIR, load_reference

TABLES = ("ref.econ_class", "ref.func_class")
CODE_LENGTHS = {
    "ref.econ_class": {1: 3, 2: 5},
    "ref.func_class": {1: 3, 2: 5, 3: 7},
}
# Years the reference must answer for (the seed is FY2021; lists 2019-2026).
YEARS = range(2018, 2027)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "warehouse.duckdb"
    connection = duckdb.connect(str(path))
    load_reference(connection)
    yield connection
    connection.close()


def test_csv_files_are_shipped():
    assert (REFERENCE_DIR / "econ_class.csv").is_file()
    assert (REFERENCE_DIR / "func_class.csv").is_file()


@pytest.mark.parametrize("table", TABLES)
def test_tables_load_with_explicit_types(con, table):
    schema, name = table.split(".")
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
    )
    assert types == {
        "code": "VARCHAR",
        "name": "VARCHAR",
        "level": "INTEGER",
        "parent_code": "VARCHAR",
        "valid_from": "INTEGER",
        "valid_to": "INTEGER",
    }
    assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0


def test_load_is_idempotent(con):
    before = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES]
    load_reference(con)
    after = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES]
    assert before == after


@pytest.mark.parametrize("table", TABLES)
def test_rows_are_well_formed(con, table):
    bad = con.execute(
        f"""
        SELECT code FROM {table}
        WHERE code IS NULL OR name IS NULL OR trim(name) = ''
           OR NOT regexp_full_match(code, '[0-9]+')
           OR valid_from IS NULL
           OR (valid_to IS NOT NULL AND valid_to < valid_from)
           OR (level = 1) <> (parent_code IS NULL)
        """
    ).fetchall()
    assert bad == []


@pytest.mark.parametrize("table", TABLES)
def test_code_length_matches_level(con, table):
    lengths = CODE_LENGTHS[table]
    case = " ".join(f"WHEN {lvl} THEN {n}" for lvl, n in lengths.items())
    bad = con.execute(
        f"SELECT code, level FROM {table} WHERE length(code) <> (CASE level {case} ELSE -1 END)"
    ).fetchall()
    assert bad == []


@pytest.mark.parametrize("table", TABLES)
def test_parent_code_is_the_code_prefix(con, table):
    lengths = CODE_LENGTHS[table]
    # the parent of a level-n code is its prefix of the level-(n-1) length
    parent_len = " ".join(f"WHEN {lvl} THEN {lengths[lvl - 1]}" for lvl in lengths if lvl > 1)
    bad = con.execute(
        f"""
        SELECT code, parent_code FROM {table}
        WHERE level > 1 AND parent_code <> left(code, CASE level {parent_len} END)
        """
    ).fetchall()
    assert bad == []


@pytest.mark.parametrize("table", TABLES)
def test_code_is_unique_per_year(con, table):
    dupes = con.execute(
        f"""
        WITH years AS (SELECT unnest(range(2000, 2031)) AS y)
        SELECT code, y, count(*) AS n
        FROM {table} JOIN years ON valid_from <= y AND (valid_to IS NULL OR y <= valid_to)
        GROUP BY code, y
        HAVING count(*) > 1
        """
    ).fetchall()
    assert dupes == []


@pytest.mark.parametrize("table", TABLES)
def test_parent_exists_for_every_year_of_the_child(con, table):
    orphans = con.execute(
        f"""
        WITH years AS (SELECT unnest(range(2000, 2031)) AS y),
        child_years AS (
            SELECT c.code, c.parent_code, y
            FROM {table} c JOIN years ON c.valid_from <= y AND (c.valid_to IS NULL OR y <= c.valid_to)
            WHERE c.level > 1
        )
        SELECT cy.code, cy.parent_code, cy.y
        FROM child_years cy
        WHERE NOT EXISTS (
            SELECT 1 FROM {table} p
            WHERE p.code = cy.parent_code
              AND p.level = (SELECT level FROM {table} WHERE code = cy.code LIMIT 1) - 1
              AND p.valid_from <= cy.y AND (p.valid_to IS NULL OR cy.y <= p.valid_to)
        )
        ORDER BY 1, 3
        LIMIT 20
        """
    ).fetchall()
    assert orphans == []


@pytest.mark.parametrize("table", TABLES)
def test_every_level1_code_has_children_in_recent_years(con, table):
    # Every 类 valid in a year of interest has at least one 款 in that year, except
    # the few functional 类 that are budgeted without 款 (预备费, 社会保险基金支出).
    childless = con.execute(
        f"""
        WITH years AS (SELECT unnest(range({YEARS.start}, {YEARS.stop})) AS y)
        SELECT p.code, y FROM {table} p JOIN years ON p.valid_from <= y AND (p.valid_to IS NULL OR y <= p.valid_to)
        WHERE p.level = 1 AND p.code NOT IN ('209', '227')
          AND NOT EXISTS (
            SELECT 1 FROM {table} c WHERE c.parent_code = p.code
              AND c.valid_from <= y AND (c.valid_to IS NULL OR y <= c.valid_to))
        """
    ).fetchall()
    assert childless == []


# Codes named in domain.md, with their names in 2020 and 2021.
EXPECTED = {
    "ref.econ_class": {
        "301": "工资福利支出",
        "30101": "基本工资",
        "30108": "机关事业单位基本养老保险缴费",
        "30113": "住房公积金",
        "302": "商品和服务支出",
        "30201": "办公费",
        "30211": "差旅费",
        "30212": "因公出国（境）费用",
        "30217": "公务接待费",
        "30231": "公务用车运行维护费",
        "303": "对个人和家庭的补助",
        "30302": "退休费",
        "30305": "生活补助",
        "310": "资本性支出",
        "31002": "办公设备购置",
        "31005": "基础设施建设",
        "31013": "公务用车购置",
        "30913": "公务用车购置",
        "39999": "其他支出",
    },
    "ref.func_class": {
        "212": "城乡社区支出",
        "2120101": "行政运行",
        "2120102": "一般行政管理事务",
        "21203": "城乡社区公共设施",
        "21205": "城乡社区环境卫生",
        "21208": "国有土地使用权出让收入安排的支出",
        "221": "住房保障支出",
        "22101": "保障性安居工程支出",
        "22102": "住房改革支出",
        "2210201": "住房公积金",
        "208": "社会保障和就业支出",
        "2080505": "机关事业单位基本养老保险缴费支出",
        "2080506": "机关事业单位职业年金缴费支出",
        "210": "卫生健康支出",
        "2101101": "行政单位医疗",
        "203": "国防支出",
        "2030603": "人民防空",
    },
}
CASES = [
    (table, code, name, year)
    for table, codes in EXPECTED.items()
    for code, name in codes.items()
    for year in (2020, 2021)
]


@pytest.mark.parametrize(("table", "code", "name", "year"), CASES)
def test_domain_codes_exist_with_expected_names(con, table, code, name, year):
    rows = con.execute(
        f"""
        SELECT name FROM {table}
        WHERE code = ? AND valid_from <= ? AND (valid_to IS NULL OR ? <= valid_to)
        """,
        [code, year, year],
    ).fetchall()
    assert rows == [(name,)]


@pytest.mark.parametrize(
    ("code", "year", "name"),
    [
        ("210", 2017, "医疗卫生与计划生育支出"),
        ("210", 2018, "卫生健康支出"),
        ("20805", 2018, "行政事业单位离退休"),
        ("20805", 2019, "行政事业单位养老支出"),
        ("207", 2019, "文化旅游体育与传媒支出"),
        ("2210108", 2021, "老旧小区改造"),
    ],
)
def test_renamed_codes_follow_the_year(con, code, year, name):
    rows = con.execute(
        "SELECT name FROM ref.func_class WHERE code = ? AND valid_from <= ? "
        "AND (valid_to IS NULL OR ? <= valid_to)",
        [code, year, year],
    ).fetchall()
    assert rows == [(name,)]


def test_codes_keep_leading_digits_as_text(con):
    # A VARCHAR code compares as text: '30101' is not the integer 30101.
    assert con.execute(
        "SELECT typeof(code) FROM ref.econ_class WHERE code = '30101'"
    ).fetchone() == ("VARCHAR",)
