"""The bundled demo data, loaded once: exact row counts and the seed report's figures."""

from decimal import Decimal

from tests.conftest import query

SEED_PROJECTS_2021 = {  # 万元, the seed's 13 listed lines
    "施工图审查": "120", "市政设施建设": "1000", "城市基础设施建设及城区道路改造": "1500", "老旧小区改造": "4300",
    "城区排水防涝": "1205", "棚户区改造": "674.5", "地下管线普查及信息化平台建设": "66.36",
    "城市建设开发公司解困资金、社保和就业资金、泉峰市场补贴资金": "378", "污水处理费服务费及管网维护费": "1384.98",
    "危房改造": "172.93", "乡镇污水处理奖补及配套": "1709.36", "自来水公司塔岭水厂债券资金": "1000", "运转类经费": "600",
}


def test_demo_row_counts(demo_warehouse):
    wh = demo_warehouse.warehouse_dir
    assert query(wh, "SELECT count(*) FROM meta.files WHERE status = 'loaded'") == [(13,)]
    counts = dict(query(wh, "SELECT kind, sum(rows_raw - rows_footer) FROM meta.sources GROUP BY 1"))
    assert counts == {"voucher_lines": 5132, "budget_lines": 147, "ledger_projects": 27, "ledger_indicators": 39,
                      "staffing": 2, "procurement": 27}
    assert query(wh, "SELECT count(*) FROM quarantine") == [(0,)]
    assert query(wh, "SELECT fiscal_year, count(*) FROM core.fact_spending GROUP BY 1 ORDER BY 1") == [
        (2020, query(wh, "SELECT count(*) FROM staging.voucher_lines WHERE fiscal_year = 2020 AND is_spending")[0][0]),
        (2021, query(wh, "SELECT count(*) FROM staging.voucher_lines WHERE fiscal_year = 2021 AND is_spending")[0][0]),
    ]


def test_seed_basic_spending(demo_warehouse):
    rows = query(demo_warehouse.warehouse_dir,
                 "SELECT econ_l1_code, econ_l1_name, sum(amount_yuan) FROM marts.spending_by_category "
                 "WHERE fiscal_year = 2021 AND spending_type = '基本支出' GROUP BY ALL ORDER BY 1")
    assert rows == [("301", "工资福利支出", Decimal("21943300.00")), ("302", "商品和服务支出", Decimal("1496800.00"))]


def test_seed_project_spending(demo_warehouse):
    wh = demo_warehouse.warehouse_dir
    rows = dict(query(wh, "SELECT project_name, spent_yuan FROM marts.spending_by_project WHERE fiscal_year = 2021"))
    for name, wan in SEED_PROJECTS_2021.items():
        assert rows[name] == Decimal(wan) * 10000, name
    secret = query(wh, "SELECT spent_yuan FROM marts.spending_by_project WHERE fiscal_year = 2021 AND disclosure = '涉密'")
    assert secret == [(Decimal("2068000.00"),)]
    assert sum(rows.values()) == Decimal("143179300.00")
    assert query(wh, "SELECT project_yuan, basic_yuan, total_yuan FROM marts.spending_by_year WHERE fiscal_year = 2021") == [
        (Decimal("143179300.00"), Decimal("23440100.00"), Decimal("166619400.00"))]


def test_financial_book_is_never_spending(demo_warehouse):
    wh = demo_warehouse.warehouse_dir
    expense = query(wh, "SELECT sum(debit - credit) FROM staging.voucher_lines WHERE fiscal_year = 2021 "
                        "AND account_code LIKE '5%'")[0][0]
    assert expense > Decimal("100000000")  # the 5xxx book mirrors the spending ...
    assert query(wh, "SELECT sum(amount) FROM core.fact_spending WHERE fiscal_year = 2021") == [(Decimal("166619400.00"),)]
