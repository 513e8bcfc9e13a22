"""Recognising a file's kind from its header row, and the facts on its title lines."""

from datetime import date
from decimal import Decimal

import pytest

from pipelines.landing.headers import ALIASES, find_header, normalise_header
from pipelines.landing.money import UnknownMoneyUnit
from pipelines.landing.titles import parse_title_rows


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (["凭证日期", "凭证号", "科目编码", "借方金额", "贷方金额"], "voucher_lines"),
        (["记账日期", "凭证字号", "会计科目编码", "借方", "贷方", "支出功能分类", "部门经济分类"], "voucher_lines"),
        (["单位编码", "年度", "指标文号", "指标类型", "金额"], "budget_lines"),
        (["单位编码", "预算年度", "文号", "功能分类", "金额"], "budget_lines"),
        (["项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性"], "ledger_projects"),
        (["项目编码", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值"], "ledger_indicators"),
        (["单位编码", "年度", "编制数", "实有在职人数", "离退休人数"], "staffing"),
        (["单位编码", "年度", "项目编码", "合同编号", "采购方式", "合同金额", "签订日期"], "procurement"),
    ],
)
def test_kind_from_header(header, kind):
    found = find_header([["序时账"], ["单位：元"], header])
    assert found is not None and found.kind == kind and found.row_index == 2


@pytest.mark.parametrize("kind", list(ALIASES))
def test_every_alias_maps(kind):
    for canonical, names in ALIASES[kind].items():
        for name in names:
            assert normalise_header(f" {name}\u3000")[0] == name


@pytest.mark.parametrize("goal, result", [
    ("年度总体目标 (预期目标)", "实际完成情况 (年度总体目标完成情况)"),  # as contract 2.3 writes them
    ("年度总体目标（预期目标）", "实际完成情况（年度总体目标完成情况）"),
    ("年度总体目标(预期目标)", "实际完成情况(年度总体目标完成情况)"),
    ("预期目标", "年度总体目标完成情况"),
])
def test_goal_columns_headed_with_both_names(goal, result):
    found = find_header([["项目编码", "项目名称", goal, result]])
    assert found.kind == "ledger_projects" and found.columns == {0: "project_code", 1: "project_name", 2: "goal",
                                                                 3: "goal_result"}


@pytest.mark.parametrize(("cell", "factor"), [("金额（万元）", 10000), ("金额(千元)", 1000), ("金额（亿元）", 100000000),
                                           ("金额（元）", 1), ("金额（人民币万元）", 10000)])
def test_unit_hint_in_header_scales_that_column(cell, factor):
    found = find_header([["单位编码", "年度", "指标类型", cell]])
    assert found.kind == "budget_lines" and found.scaled_columns == {"amount": Decimal(factor)}


def test_an_amount_header_in_a_unit_not_known_raises():
    with pytest.raises(UnknownMoneyUnit, match="金额（美元）"):
        find_header([["单位编码", "年度", "指标类型", "金额（美元）"]])


def test_no_header():
    assert find_header([["a", "b"], ["1", "2"]]) is None


def test_title_lines():
    info = parse_title_rows([["序时账"], ["单位：117001 常宁市住房和城乡建设局"], ["2021年1月1日至2021年3月31日"], ["单位：万元"]])
    assert info.unit_code == "117001"
    assert info.unit_name == "常宁市住房和城乡建设局"
    assert (info.period_start, info.period_end) == (date(2021, 1, 1), date(2021, 3, 31))
    assert info.scale == Decimal(10000)
    assert info.fiscal_year == 2021


@pytest.mark.parametrize(
    ("rows", "scale"),
    [([["单位：元"]], Decimal(1)), ([["单位：万元"]], Decimal(10000)), ([["金额单位：万元"]], Decimal(10000)),
     ([["编制单位：某局", "", "单位：万元"]], Decimal(10000)), ([["单位：117001 某局"]], Decimal(1)),
     ([["金额单位：千元"]], Decimal(1000)), ([["单位：千元"]], Decimal(1000)), ([["单位：亿元"]], Decimal(100000000)),
     ([["（单位：万元）"]], Decimal(10000)), ([["(单位:万元)"]], Decimal(10000)), ([["（金额单位：千元）"]], Decimal(1000)),
     ([["编制单位：某局（单位：万元）"]], Decimal(10000)), ([["金额单位：人民币元"]], Decimal(1)),
     ([["预算单位：千元"]], Decimal(1000)), ([["单位：万元  2021年度"]], Decimal(10000))],
)
def test_amount_unit_lines(rows, scale):
    assert parse_title_rows(rows).scale == scale


@pytest.mark.parametrize("line", ["单位：千元", "单位：亿元", "（单位：万元）", "单位：人民币元"])
def test_an_amount_unit_line_names_no_unit(line):
    title = parse_title_rows([[line]])
    assert (title.unit_code, title.unit_name) == (None, None)


def test_a_unit_line_beside_an_amount_unit_in_brackets():
    title = parse_title_rows([["单位：117001 常宁市住房和城乡建设局（单位：千元）"]])
    assert (title.unit_code, title.unit_name, title.scale) == ("117001", "常宁市住房和城乡建设局", Decimal(1000))


@pytest.mark.parametrize("line", ["金额单位：美元", "金额单位：港币", "单位：百万元", "（金额单位：千美元）"])
def test_an_amount_unit_not_known_raises(line):
    with pytest.raises(UnknownMoneyUnit, match=line.strip("（）")):
        parse_title_rows([["预算指标"], [line]])


def test_unit_name_line_with_brackets_and_fullwidth():
    info = parse_title_rows([["单位名称：[117001]常宁市住房和城乡建设局"], ["２０２１年度"]])
    assert info.unit_code == "117001" and info.unit_name == "常宁市住房和城乡建设局" and info.fiscal_year == 2021


def test_month_period():
    info = parse_title_rows([["期间：2021年1月至3月"]])
    assert (info.period_start, info.period_end) == (date(2021, 1, 1), date(2021, 3, 31))
