"""Title lines and cells read the same way: titles.py folds with fw_fold's own table (read
from sql/macros/parsing.sql), and a title's dates are the dates fw_date reads."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.landing.titles import FULL_WIDTH, parse_title_rows

CELLS = ["２０２１年３月１日", "＋１２３．４５", "−１２３．４５", "（１，２３４．５６）", "［２１２０１０１］",
         "２０２１／０３／１５", "２０２１－０３－１５", "单位：１１７００１　常宁市", "１２：３０", "a＋b−c"]


def test_the_python_fold_is_fw_folds(con):
    folded = con.execute("SELECT list_transform(?::VARCHAR[], lambda x: fw_fold(x))", [CELLS]).fetchone()[0]
    assert [cell.translate(FULL_WIDTH) for cell in CELLS] == folded
    assert "＋１".translate(FULL_WIDTH) == "+1" and "−１".translate(FULL_WIDTH) == "-1"


@pytest.mark.parametrize("start, end", [
    ("２０２１年１月１日", "２０２１年３月３１日"),
    ("2021-01-01", "2021-03-31"),
    ("２０２１.１.１", "２０２１.６.３０"),
    ("2021/1/1", "2021/2/29"),  # no 29 February in 2021: no period
    ("２０２１年２月３０日", "２０２１年３月３１日"),
])
@pytest.mark.parametrize("between", ["至", "−", "－", "-", "～"])
def test_a_title_period_has_the_dates_fw_date_reads(con, start, end, between):
    sql_start, sql_end = con.execute("SELECT fw_date(?), fw_date(?)", [start, end]).fetchone()
    title = parse_title_rows([["序时账"], [f"{start}{between}{end}"]])
    if sql_start is None or sql_end is None:
        assert title.period_start is None and title.period_end is None
    else:
        assert (title.period_start, title.period_end) == (sql_start, sql_end)
        assert title.fiscal_year == sql_start.year == 2021


def test_full_width_plus_and_minus_in_a_title_line():
    title = parse_title_rows([["２０２１年１月１日−２０２１年３月３１日"], ["单位：１１７００１ 常宁市住房和城乡建设局"]])
    assert (title.period_start, title.period_end) == (date(2021, 1, 1), date(2021, 3, 31))
    assert (title.unit_code, title.unit_name) == ("117001", "常宁市住房和城乡建设局")
