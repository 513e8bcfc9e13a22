"""Names as written: full-width characters are folded in values (digits, spaces, codes,
amounts, dates) only; an official name keeps its full-width brackets and spaces.
(A whole load that keeps a unit name as written: tests/landing/test_hostile.py.)"""

from __future__ import annotations

import pytest

from pipelines.landing.titles import parse_title_rows

NAME = "常宁市住房和城乡建设局（人防办）"


@pytest.mark.parametrize(
    "line",
    [
        f"单位：117001 {NAME}",
        f"单位：１１７００１　{NAME}",
        f"单位：［１１７００１］{NAME}",
        f"单位：[117001]{NAME}  单位：万元",
    ],
)
def test_title_line_unit_code_folded_and_name_as_written(line):
    title = parse_title_rows([["序时账"], [line]])
    assert (title.unit_code, title.unit_name) == ("117001", NAME)


def test_title_line_name_without_code_as_written():
    title = parse_title_rows([[f"单位名称：{NAME}"], ["金额单位：万元"]])
    assert (title.unit_code, title.unit_name, title.amount_unit_text) == (None, NAME, "万元")


@pytest.mark.parametrize(
    ("cell", "code", "name"),
    [
        ("2120101 行政运行（人防）", "2120101", "行政运行（人防）"),
        ("２１２０１０１　行政运行（人防）", "2120101", "行政运行（人防）"),
        ("［２１２０１０１］行政运行（人防）", "2120101", "行政运行（人防）"),
        ("２１２０１０１－行政运行（人防）", "2120101", "行政运行（人防）"),
        ("２１２０１０１", "2120101", None),
    ],
)
def test_classification_cell_code_folded_name_as_written(con, cell, code, name):
    assert con.execute("SELECT fw_code(?), fw_code_name(?)", [cell, cell]).fetchall() == [(code, name)]


@pytest.mark.parametrize(
    ("cell", "name"),
    [
        ("P001 人防工程（一期）　配套", "人防工程（一期）　配套"),
        ("P001　人防工程（一期）", "人防工程（一期）"),
        ("【P001】人防工程（一期）", "人防工程（一期）"),
    ],
)
def test_project_cell_name_as_written(con, cell, name):
    assert con.execute("SELECT fw_project_code(?), fw_project_name(?)", [cell, cell]).fetchall() == [("P001", name)]


def test_names_are_trimmed_not_folded(con):
    assert con.execute("SELECT fw_text(?)", [f"\u3000 {NAME}\u3000"]).fetchall() == [(NAME,)]
