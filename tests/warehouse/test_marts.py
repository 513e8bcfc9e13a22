"""The Parquet marts as BI tools read them; redaction; tie-outs; partition-level rewrites."""

from __future__ import annotations

import shutil
from decimal import Decimal

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet  # noqa: F401  (pa.parquet)
import pytest

from pipelines.settings import DEMO_LANDING_DIR
from pipelines.sqltext import sql_string
from pipelines.warehouse.schema import schema_fingerprint
from pipelines.warehouse.transform import MART_MODELS
from tests.conftest import copy_loaded, payment, query, run_load, voucher_file, write_xlsx

MONEY = {
    "spending_by_category": ["amount_yuan"],
    "spending_by_project": ["budget_initial_yuan", "budget_final_yuan", "spent_yuan"],
    "spending_by_year": ["basic_yuan", "project_yuan", "total_yuan", "personnel_yuan", "public_funds_yuan",
                         "three_public_yuan"],
    "budget_execution": ["budget_initial_yuan", "budget_final_yuan", "adjustment_yuan", "spent_yuan"],
    "three_public": ["budget_yuan", "spent_yuan", "prior_year_spent_yuan"],
    "evaluation_indicators": ["numerator", "denominator"],
}


@pytest.mark.parametrize("mart", MART_MODELS)
def test_every_reader_reads_every_mart(demo_warehouse, mart):
    directory = demo_warehouse.marts_dir / mart
    table = ds.dataset(directory, format="parquet", partitioning="hive").to_table()
    assert table.num_rows > 0
    assert set(table.column("fiscal_year").to_pylist()) == {2020, 2021}
    for column in MONEY.get(mart, []):
        assert table.schema.field(column).type == pa.decimal128(18, 2), column
    frame = pl.scan_parquet(directory / "**" / "*.parquet", hive_partitioning=True).collect()
    assert frame.height == table.num_rows
    for column in MONEY.get(mart, []):
        assert frame.schema[column] == pl.Decimal(18, 2)
    con = duckdb.connect()
    described = {r[0]: r[1] for r in con.execute(
        f"DESCRIBE SELECT * FROM read_parquet('{directory}/*/*.parquet', hive_partitioning = true)").fetchall()}
    for column in MONEY.get(mart, []):
        assert described[column] == "DECIMAL(18,2)"
    assert con.execute(f"SELECT count(*) FROM read_parquet('{directory}/*/*.parquet', hive_partitioning = true)"
                       ).fetchone()[0] == table.num_rows


def test_layout_one_file_per_unit_and_year(demo_warehouse):
    files = sorted(p.relative_to(demo_warehouse.warehouse_dir).as_posix()
                   for p in demo_warehouse.marts_dir.rglob("*.parquet"))
    assert "marts/spending_by_category/fiscal_year=2021/117001.parquet" in files
    assert len(files) == 2 * len(MART_MODELS)


def test_views_in_the_duckdb_file(demo_warehouse):
    wh = demo_warehouse.warehouse_dir
    for mart in MART_MODELS:
        internal = query(wh, f"SELECT count(*) FROM marts.{mart}")[0][0]
        public = query(wh, f"SELECT count(*) FROM marts_public.{mart}")[0][0]
        assert internal > 0 and public > 0
    assert query(wh, "SELECT typeof(fiscal_year) FROM marts.spending_by_year LIMIT 1") == [("INTEGER",)]


def _secrets(wh):
    return query(wh, "SELECT project_code, project_name, category, office FROM core.dim_project WHERE disclosure = '涉密'")


def test_public_marts_never_mention_a_secret_project(demo_warehouse):
    wh = demo_warehouse.warehouse_dir
    secrets = _secrets(wh)
    assert secrets, "the demo has a 涉密 project"
    public_projects = query(wh, "SELECT category, office FROM core.dim_project WHERE disclosure = '公开'")
    used_publicly = {v for row in public_projects for v in row if v}
    # Codes and names must not appear even inside other text; categories and offices are
    # labels (a category 人防 may well be a word of a public indicator such as 人防易地建设费收取),
    # so no public cell may *be* one that only 涉密 projects use.
    needles = {v for code, name, _, _ in secrets for v in (code, name) if v}
    labels = {v for _, _, category, office in secrets for v in (category, office) if v} - used_publicly
    for path in demo_warehouse.marts_public_dir.rglob("*.parquet"):
        table = pa.parquet.read_table(path)
        for name in table.column_names:
            if pa.types.is_string(table.schema.field(name).type) or pa.types.is_large_string(table.schema.field(name).type):
                for value in table.column(name).to_pylist():
                    if value:
                        assert not any(n in value for n in needles), (path, name, value)
                        assert value not in labels, (path, name, value)


def test_undisclosed_line_keeps_the_totals(demo_warehouse):
    wh = demo_warehouse.warehouse_dir
    assert query(wh, "SELECT project_name, category, office, is_key, spent_yuan FROM marts_public.spending_by_project "
                     "WHERE fiscal_year = 2021 AND project_code = 'UNDISCLOSED'") == [
        ("涉密项目（不予公开）", None, None, None, Decimal("2068000.00"))]
    for mart, column in [("spending_by_project", "spent_yuan"), ("spending_by_category", "amount_yuan"),
                         ("spending_by_year", "total_yuan"), ("budget_execution", "budget_final_yuan")]:
        assert query(wh, f"SELECT fiscal_year, sum({column}) FROM marts_public.{mart} GROUP BY 1 ORDER BY 1") == \
            query(wh, f"SELECT fiscal_year, sum({column}) FROM marts.{mart} GROUP BY 1 ORDER BY 1"), mart
    names = {r[0] for r in query(wh, "SELECT name FROM marts.performance_indicators")}
    public_names = {r[0] for r in query(wh, "SELECT name FROM marts_public.performance_indicators")}
    assert "批复结建工程面积" in names and "批复结建工程面积" not in public_names


def test_totals_tie_out(demo_warehouse):
    wh = demo_warehouse.warehouse_dir
    rows = query(wh, """
        SELECT y.fiscal_year, y.total_yuan,
               (SELECT sum(amount_yuan) FROM marts.spending_by_category c WHERE c.fiscal_year = y.fiscal_year),
               (SELECT sum(spent_yuan) FROM marts.spending_by_project p WHERE p.fiscal_year = y.fiscal_year) + y.basic_yuan,
               (SELECT sum(spent_yuan) FROM marts.budget_execution b WHERE b.fiscal_year = y.fiscal_year)
        FROM marts.spending_by_year y ORDER BY 1""")
    for year, total, by_category, by_project_plus_basic, by_execution in rows:
        assert total == by_category == by_project_plus_basic == by_execution, year


def test_three_public_has_all_four_items(demo_warehouse):
    rows = query(demo_warehouse.warehouse_dir, "SELECT item_code, item_name, spent_yuan, prior_year_spent_yuan "
                                               "FROM marts.three_public WHERE fiscal_year = 2021 ORDER BY item_order")
    assert rows == [
        ("30212", "因公出国（境）费用", Decimal("0.00"), Decimal("0.00")),
        ("30217", "公务接待费", Decimal("80200.00"), Decimal("98380.00")),
        ("31013", "公务用车购置", Decimal("0.00"), Decimal("179800.00")),
        ("30231", "公务用车运行维护费", Decimal("149800.00"), Decimal("180350.00")),
    ]


TARGET_ZERO_UNIT = "900002"


@pytest.fixture(scope="module")
def demo_and_two_units(tmp_path_factory):
    """The demo's landing folder plus unit 900001 (one voucher of 10 yuan, FY2021: the file
    test_a_changed_file_rewrites_only_its_partitions changes) and unit 900002 (one voucher
    and two department indicators, one with a target of 0), loaded once. Returns (landing,
    warehouse); a test that loads again works on copies of both."""
    root = tmp_path_factory.mktemp("marts")
    landing, warehouse = root / "landing", root / "wh"
    shutil.copytree(DEMO_LANDING_DIR, landing)
    voucher_file(landing / "900001" / "2021.csv", payment("2021-03-01", "记-1", "10"))
    voucher_file(landing / TARGET_ZERO_UNIT / "vouchers.csv", payment("2021-03-01", "记-0001", "100.00"),
                 unit=f"{TARGET_ZERO_UNIT} 测试单位")
    write_xlsx(landing / TARGET_ZERO_UNIT / "ledger.xlsx", {"绩效指标": [
        ["单位编码", "项目编码", "一级指标", "二级指标", "三级指标", "计量单位", "指标方向", "年度指标值", "实际完成值", "分值",
         "年度"],
        [TARGET_ZERO_UNIT, "", "效益指标", "社会效益指标", "安全事故", "起", "≤", "0", "0", "20", 2021],
        [TARGET_ZERO_UNIT, "", "产出指标", "数量指标", "维修道路", "公里", "≥", "10", "12", "30", 2021],
    ]})
    assert run_load(landing, warehouse) == 0
    return landing, warehouse


def test_a_changed_file_rewrites_only_its_partitions(demo_and_two_units, tmp_path):
    # The first load is the fixture's (copied with its files' times, links kept); the second,
    # after 900001's file changed, rewrites that unit-year's partitions and no other: not the
    # demo's (117001), nor 900002's.
    landing, warehouse = copy_loaded(demo_and_two_units, tmp_path)
    other = landing / "900001" / "2021.csv"
    before = {p: p.stat().st_mtime_ns for p in (warehouse / "marts").rglob("*.parquet")}
    public_before = {p: p.stat().st_mtime_ns for p in (warehouse / "marts_public").rglob("*.parquet")}
    voucher_file(other, payment("2021-03-01", "记-1", "10") + payment("2021-03-02", "记-2", "5"))
    # a view is made again only when its query or the models changed (its comment says how it
    # was made): one left by an earlier version is, the others are kept
    views = "SELECT schema_name || '.' || view_name, comment FROM duckdb_views() WHERE schema_name LIKE 'marts%'"
    made = dict(query(warehouse, views))
    assert len(made) == 2 * len(MART_MODELS) and all(c.startswith(schema_fingerprint() + " SELECT") for c in made.values())
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"))
    con.execute("COMMENT ON VIEW marts.spending_by_year IS 'made by an earlier version'")
    # kept as it is, though nobody would write this: its comment says it is current
    con.execute("CREATE OR REPLACE VIEW marts_public.three_public AS SELECT 42 AS kept")
    con.execute(f"COMMENT ON VIEW marts_public.three_public IS {sql_string(made['marts_public.three_public'])}")
    con.close()
    assert run_load(landing, warehouse) == 0
    assert dict(query(warehouse, views)) == made
    assert query(warehouse, "SELECT * FROM marts_public.three_public") == [(42,)]
    after = {p: p.stat().st_mtime_ns for p in (warehouse / "marts").rglob("*.parquet")}
    changed = sorted(p.relative_to(warehouse / "marts").as_posix() for p in after if before.get(p) != after[p])
    assert changed and all(c.endswith("fiscal_year=2021/900001.parquet") for c in changed), changed
    assert all(after[p] == m for p, m in before.items() if "117001" in p.name)
    assert any(TARGET_ZERO_UNIT in p.name for p in before)  # so `changed` above covers 900002's partitions too
    public_after = {p: p.stat().st_mtime_ns for p in (warehouse / "marts_public").rglob("*.parquet")}
    assert all(public_after[p] == m for p, m in public_before.items() if "117001" in p.name)
    assert query(warehouse, "SELECT total_yuan FROM marts.spending_by_year WHERE unit_code = '900001'") == [
        (Decimal("15.00"),)]


def test_an_indicator_with_target_zero_has_no_completion_rate_and_says_why(demo_and_two_units):
    # contract 3: a rate whose denominator is zero is NULL, with the reason where the mart has one.
    # (900002's indicators, in the fixture's load beside the demo: all of that unit's rows.)
    rows = query(demo_and_two_units[1], "SELECT name, completion_rate, score, reason FROM marts.performance_indicators "
                                        "WHERE unit_code = ? ORDER BY name", [TARGET_ZERO_UNIT])
    assert [(name, rate, score) for name, rate, score, _ in rows] == [("安全事故", None, 20.0), ("维修道路", 1.2, 30.0)]
    assert rows[0][3].startswith("年度指标值为0，不计算完成率") and rows[1][3] is None
