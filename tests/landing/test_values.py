"""Each value quirk of contract §2, through the SQL macros staging uses."""

from decimal import Decimal

import pytest


@pytest.mark.parametrize(
    ("text", "scale", "expected"),
    [
        ("1234.56", 1, Decimal("1234.56")),
        ("1,234.56", 1, Decimal("1234.56")),
        ("（1,234.56）", 1, Decimal("-1234.56")),
        ("(1,234.56)", 1, Decimal("-1234.56")),
        ("-1,234.56", 1, Decimal("-1234.56")),
        ("-", 1, Decimal("0.00")),
        ("", 1, Decimal("0.00")),
        (None, 1, Decimal("0.00")),
        ("１，２３４．５６", 1, Decimal("1234.56")),
        ("（１２３４．５６）", 1, Decimal("-1234.56")),
        ("\u3000 1,234.56 \u3000", 1, Decimal("1234.56")),
        ("2194.33", 10000, Decimal("21943300.00")),
        ("674.5", 10000, Decimal("6745000.00")),
        ("0.123456", 10000, Decimal("1234.56")),
        ("(1.5)", 10000, Decimal("-15000.00")),
        ("¥1,000.00", 1, Decimal("1000.00")),
        ("100", 1, Decimal("100.00")),
        ("1.5", 1000, Decimal("1500.00")),
        ("0.25", 100000000, Decimal("25000000.00")),
        # a cell that names its unit is in that unit, not the file's
        ("1元", 10000, Decimal("1.00")),
        ("1万元", 1, Decimal("10000.00")),
        ("1.5千元", 10000, Decimal("1500.00")),
        ("（3元）", 10000, Decimal("-3.00")),
        ("(1.5)万元", 1, Decimal("-15000.00")),
        ("¥1,000 元", 10000, Decimal("1000.00")),
        ("１２元", 1, Decimal("12.00")),
    ],
)
def test_amounts(con, text, scale, expected):
    assert con.execute("SELECT fw_amount(?, ?)", [text, scale]).fetchone()[0] == expected


@pytest.mark.parametrize("text", ["abc", "1.2.3", "12a", "(12", "1,2,3x", "1美元", "五万元", "1元2元", "元1", "1万"])
def test_unreadable_amounts_are_null(con, text):
    assert con.execute("SELECT fw_amount(?, 1)", [text]).fetchone()[0] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-03-15", "2021-03-15"),
        ("2021/3/15", "2021-03-15"),
        ("2021/03/05", "2021-03-05"),
        ("2021年3月15日", "2021-03-15"),
        ("2021年03月05日", "2021-03-05"),
        ("20210315", "2021-03-15"),
        ("44270", "2021-03-15"),  # Excel serial number (1900 date system)
        ("44270.0", "2021-03-15"),
        ("109574", "2199-12-31"),  # read, then out of range (contract 1, clarified 2026-11-29)
        ("2958465", "9999-12-31"),  # Excel's last day
        ("2021-03-15 00:00:00", "2021-03-15"),
        ("２０２１－０３－１５", "2021-03-15"),
        ("\u30002021-03-15 ", "2021-03-15"),
        ("2021.3.15", "2021-03-15"),
    ],
)
def test_dates(con, text, expected):
    assert str(con.execute("SELECT fw_date(?)", [text]).fetchone()[0]) == expected


@pytest.mark.parametrize("text", ["2021-02-30", "2021-13-01", "abc", "15/03/2021x", "2021年3月",
                                  "2958466", "10000000", "-5"])
def test_unreadable_dates_are_null(con, text):
    assert con.execute("SELECT fw_date(?)", [text]).fetchone()[0] is None


@pytest.mark.parametrize(
    ("text", "code", "name"),
    [
        ("2120101", "2120101", None),
        ("2120101 行政运行", "2120101", "行政运行"),
        ("[2120101]行政运行", "2120101", "行政运行"),
        ("2120101-行政运行", "2120101", "行政运行"),
        ("\u30002120101\u3000行政运行 ", "2120101", "行政运行"),
        ("３０２０１ 办公费", "30201", "办公费"),
        ("30201", "30201", None),
    ],
)
def test_classification_cells(con, text, code, name):
    assert con.execute("SELECT fw_code(?), fw_code_name(?)", [text, text]).fetchone() == (code, name)


@pytest.mark.parametrize(
    ("text", "code", "name"),
    [
        ("117001-2021-01", "117001-2021-01", None),
        ("117001-2021-01 老旧小区改造", "117001-2021-01", "老旧小区改造"),
        ("117001-2021-01\u3000老旧小区改造", "117001-2021-01", "老旧小区改造"),
        ("[XM01]老旧小区改造", "XM01", "老旧小区改造"),
        ("", None, None),
    ],
)
def test_project_cells(con, text, code, name):
    assert con.execute("SELECT fw_project_code(?), fw_project_name(?)", [text, text]).fetchone() == (code, name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("一般公共预算", "一般公共预算"), ("一般公共预算资金", "一般公共预算"), ("政府性基金", "政府性基金预算"),
     ("财政专户管理资金", "财政专户管理资金"), ("单位资金", "单位资金"), (" 国有资本经营预算 ", "国有资本经营预算")],
)
def test_fund_sources(con, text, expected):
    assert con.execute("SELECT fw_fund_source(?)", [text]).fetchone()[0] == expected


@pytest.mark.parametrize(
    ("text", "footer"),
    [("合计", True), ("本月合计", True), ("本年累计", True), ("小计", True), (" 合 计 ", True),
     ("支付合计款", False), ("办公费", False)],
)
def test_footer_words(con, text, footer):
    assert con.execute("SELECT fw_is_footer_text(?)", [text]).fetchone()[0] is footer
