"""Amount units (contract 2: "a unit line `单位：万元` meaning every amount in the file is in
万元"; "an amount-unit line is exactly `单位：元`/`单位：万元`/`金额单位：…`"): 千元 and 亿元 as
well as 元 and 万元, on a title line in brackets too, on a header, on a cell; an amount unit
the warehouse does not know makes the file unreadable. Real CSV and XLSX files, real loads
into a DuckDB file in tmp_path."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import VOUCHER_HEADER, payment, query, run_load, write_csv, write_xlsx

BUDGET_HEADER = ["单位编码", "年度", "文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额"]


def budget_rows(unit: str, *amounts: str, header: list[str] = BUDGET_HEADER) -> list[list[object]]:
    return [header] + [[unit, "2021", f"文{i}", "年初预算", "2120101", "30201", "", "一般公共预算", amount]
                       for i, amount in enumerate(amounts, 1)]


def test_every_money_unit_on_title_lines_headers_and_cells(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    write_csv(landing / "b1_qian.csv", [["预算指标"], ["金额单位：千元"]] + budget_rows("900101", "1.5"))
    write_csv(landing / "b2_qian_line.csv", [["单位：千元"]] + budget_rows("900102", "2.5"), encoding="gb18030")
    write_csv(landing / "b3_yi.csv", [["单位：亿元"]] + budget_rows("900103", "0.25"))
    write_csv(landing / "b4_bracket.csv", [["预算指标"], ["（单位：万元）"]] + budget_rows("900104", "1.5"))
    write_xlsx(landing / "b5_bracket.xlsx", {"预算": [["预算指标", None, "(单位:万元)"]] + budget_rows("900105", "1.5")})
    # a cell that names its own unit is in that unit, whatever the file's
    write_csv(landing / "b6_cell_yuan.csv", [["单位：万元"]] + budget_rows("900106", "1元", "2", "1.5千元", "（3元）"))
    write_csv(landing / "b7_cell_wan.csv", [["单位：元"]] + budget_rows("900107", "1万元", "7"))
    # a header that names its unit: that column's, whatever the title line says
    write_xlsx(landing / "b8_header_qian.xlsx", {"Sheet1": budget_rows("900108", "1.5", header=BUDGET_HEADER[:-1] + ["金额（千元）"])})
    write_csv(landing / "b9_header_yuan.csv", [["单位：万元"]] + budget_rows("900109", "1.5", header=BUDGET_HEADER[:-1] + ["金额(元)"]))
    # vouchers: the unit from its line, the amounts in 千元 / 亿元
    title = [["序时账"], ["单位：900201 千元测试局"], ["金额单位：千元"]]
    write_xlsx(landing / "v1_qian.xlsx", {"凭证": title + [VOUCHER_HEADER] + payment("2021-03-01", "记-1", "1.5")})
    title = [["序时账"], ["单位：900202 亿元测试局"], ["单位：亿元"]]
    write_csv(landing / "v2_yi.csv", title + [VOUCHER_HEADER] + payment("2021-03-01", "记-1", "0.0123"))
    header = VOUCHER_HEADER[:6] + ["借方金额（千元）", "贷方金额（千元）"] + VOUCHER_HEADER[8:]
    write_csv(landing / "v3_header_qian.csv", [["单位：900203 表头千元局"], header] + payment("2021-03-02", "记-1", "2.5"))

    assert run_load(landing, warehouse) == 0
    assert query(warehouse, "SELECT count(*) FROM quarantine") == [(0,)]
    assert query(warehouse, "SELECT source_file, unit_code, unit_name, amount FROM staging.budget_lines "
                            "ORDER BY source_file, source_row") == [
        ("b1_qian.csv", "900101", None, Decimal("1500.00")),
        ("b2_qian_line.csv", "900102", None, Decimal("2500.00")),  # 千元 is no unit's name
        ("b3_yi.csv", "900103", None, Decimal("25000000.00")),
        ("b4_bracket.csv", "900104", None, Decimal("15000.00")),
        ("b5_bracket.xlsx", "900105", None, Decimal("15000.00")),
        ("b6_cell_yuan.csv", "900106", None, Decimal("1.00")),
        ("b6_cell_yuan.csv", "900106", None, Decimal("20000.00")),
        ("b6_cell_yuan.csv", "900106", None, Decimal("1500.00")),
        ("b6_cell_yuan.csv", "900106", None, Decimal("-3.00")),
        ("b7_cell_wan.csv", "900107", None, Decimal("10000.00")),
        ("b7_cell_wan.csv", "900107", None, Decimal("7.00")),
        ("b8_header_qian.xlsx", "900108", None, Decimal("1500.00")),
        ("b9_header_yuan.csv", "900109", None, Decimal("1.50")),
    ]
    assert query(warehouse, "SELECT unit_code, sum(amount) FROM core.fact_budget GROUP BY 1 ORDER BY 1") == [
        ("900101", Decimal("1500.00")), ("900102", Decimal("2500.00")), ("900103", Decimal("25000000.00")),
        ("900104", Decimal("15000.00")), ("900105", Decimal("15000.00")), ("900106", Decimal("21498.00")),
        ("900107", Decimal("10007.00")), ("900108", Decimal("1500.00")), ("900109", Decimal("1.50")),
    ]
    assert query(warehouse, "SELECT source_file, scale, scaled_columns FROM meta.sources ORDER BY 1") == [
        ("b1_qian.csv", Decimal("1000.00"), None),
        ("b2_qian_line.csv", Decimal("1000.00"), None),
        ("b3_yi.csv", Decimal("100000000.00"), None),
        ("b4_bracket.csv", Decimal("10000.00"), None),
        ("b5_bracket.xlsx", Decimal("10000.00"), None),
        ("b6_cell_yuan.csv", Decimal("10000.00"), None),
        ("b7_cell_wan.csv", Decimal("1.00"), None),
        ("b8_header_qian.xlsx", Decimal("1.00"), '{"amount": "1000"}'),
        ("b9_header_yuan.csv", Decimal("10000.00"), '{"amount": "1"}'),
        ("v1_qian.xlsx", Decimal("1000.00"), None),
        ("v2_yi.csv", Decimal("100000000.00"), None),
        ("v3_header_qian.csv", Decimal("1.00"), '{"credit": "1000", "debit": "1000"}'),
    ]
    assert query(warehouse, "SELECT source_file, unit_code, unit_name, debit, credit FROM staging.voucher_lines "
                            "WHERE account_code = '7101' ORDER BY 1") == [
        ("v1_qian.xlsx", "900201", "千元测试局", Decimal("1500.00"), Decimal("0.00")),
        ("v2_yi.csv", "900202", "亿元测试局", Decimal("1230000.00"), Decimal("0.00")),
        ("v3_header_qian.csv", "900203", "表头千元局", Decimal("2500.00"), Decimal("0.00")),
    ]
    assert query(warehouse, "SELECT unit_code, sum(amount) FROM core.fact_spending GROUP BY 1 ORDER BY 1") == [
        ("900201", Decimal("1500.00")), ("900202", Decimal("1230000.00")), ("900203", Decimal("2500.00"))]
    # the unit's name in core and in the marts: never 千元 or 亿元
    names = {"900201": "千元测试局", "900202": "亿元测试局", "900203": "表头千元局"}
    assert query(warehouse, "SELECT unit_code, unit_name FROM core.dim_unit_year ORDER BY 1") == [
        (f"9001{i:02d}", None) for i in range(1, 10)] + sorted(names.items())
    assert query(warehouse, "SELECT unit_code, unit_name, total_yuan FROM marts.spending_by_year "
                            "WHERE total_yuan <> 0 ORDER BY 1") == [
        ("900201", "千元测试局", Decimal("1500.00")), ("900202", "亿元测试局", Decimal("1230000.00")),
        ("900203", "表头千元局", Decimal("2500.00"))]
    assert query(warehouse, "SELECT unit_code, unit_name, budget_initial_yuan FROM marts.budget_execution "
                            "WHERE unit_code IN ('900102', '900103') ORDER BY 1") == [
        ("900102", None, Decimal("2500.00")), ("900103", None, Decimal("25000000.00"))]


def test_an_amount_unit_not_known_makes_the_file_unreadable(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    write_csv(landing / "good.csv", [["单位：万元"]] + budget_rows("900301", "1.5"))
    write_csv(landing / "dollar.csv", [["预算指标"], ["金额单位：美元"]] + budget_rows("900302", "1.5"))
    write_xlsx(landing / "million.xlsx", {"预算": [["（单位：百万元）"]] + budget_rows("900303", "1.5")})
    write_csv(landing / "header_dollar.csv", budget_rows("900304", "1.5", header=BUDGET_HEADER[:-1] + ["金额（美元）"]))

    assert run_load(landing, warehouse) == 0
    assert query(warehouse, "SELECT source_file, sheet, source_row, reason_code, reason FROM quarantine ORDER BY 1") == [
        ("dollar.csv", None, None, "unreadable_file",
         "标题行“金额单位：美元”的金额单位“美元”无法识别（可用：元、千元、万元、亿元） / unknown amount unit '美元' "
         "in the title line '金额单位：美元' (known: 元, 千元, 万元, 亿元)"),
        ("header_dollar.csv", None, None, "unreadable_file",
         "表头“金额（美元）”的金额单位“美元”无法识别（可用：元、千元、万元、亿元） / unknown amount unit '美元' "
         "in the header '金额（美元）' (known: 元, 千元, 万元, 亿元)"),
        ("million.xlsx", None, None, "unreadable_file",
         "工作表 预算：标题行“（单位：百万元）”的金额单位“百万元”无法识别（可用：元、千元、万元、亿元） / unknown amount "
         "unit '百万元' in the title line '（单位：百万元）' (known: 元, 千元, 万元, 亿元)"),
    ]
    assert query(warehouse, "SELECT source_file, status FROM meta.files ORDER BY 1") == [
        ("dollar.csv", "unreadable"), ("good.csv", "loaded"), ("header_dollar.csv", "unreadable"),
        ("million.xlsx", "unreadable")]
    assert query(warehouse, "SELECT unit_code, amount FROM staging.budget_lines") == [("900301", Decimal("15000.00"))]
