"""The chart renderer on the shapes real figures take, without a load: an empty chart,
negative and zero amounts, a label longer than the page, a single row, many rows.
Each comes out as a whole PNG of the declared size whose Description lists every text."""

from __future__ import annotations

import io

import PIL.Image
import pytest

from pipelines.evaluation.charts import BLUE, DPI, GREY, ORANGE, WIDTH_INCHES, Bar, Chart, Row, render_png


def decoded(png: bytes) -> PIL.Image.Image:
    image = PIL.Image.open(io.BytesIO(png))
    image.load()  # every pixel decoded: a truncated file fails here
    return image


def row(label: str, *values: float, note: str = "1.00") -> Row:
    colours = [BLUE, ORANGE, GREY]
    start, bars = 0.0, []
    for k, value in enumerate(values):
        bars.append(Bar(start, value, colours[k % 3]))
        start += value
    return Row(label, tuple(bars), note, max(start, 0.0) * 1.01)


CHARTS = {
    "empty": Chart("图1  2021年支出按经济分类（类）（万元）", 2.2, message="本年度无支出"),
    "one row": Chart("图2  一个项目", 1.4, (row("道路维修工程", 12.5),), 14.4, "万元"),
    "negative and zero": Chart("图1  冲销", 2.25, (row("310 资本性支出", -30.0, 10.0, note="-20.00"),
                                                   row("302 商品和服务支出", 0.0, 0.0, note="0.00"),
                                                   row("301 工资福利支出", -5.0, note="-5.00")),
                               -23.0, "万元", (("基本支出", BLUE), ("项目支出", ORANGE))),
    # a bar far narrower than a pixel beside a long one (found by the fuzz test: it raised)
    "sliver": Chart("图2  项目", 1.6, (row("道路维修工程", 1_000_000.0), row("零星", 0.0001, 0.0001)), 1_100_000.0, "万元"),
    "long label": Chart("图3  名称很长", 1.9, (row("很长的项目名称" * 20, 100.0), row("短", 50.0)), 130.0, "万元"),
    "many rows": Chart("图4  自评得分", 1.0 + 0.32 * 40,
                       tuple(row(f"指标{k}\n第二行", k / 4, note=f"{k / 4:.2f} / 10.00") for k in range(40)), 13.0, "分",
                       (("分值", GREY), ("得分", BLUE)), label_pt=8, note_pt=7),
}


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_shape_renders_to_a_whole_png(name):
    chart = CHARTS[name]
    image = decoded(render_png(chart))
    assert image.size == (WIDTH_INCHES * DPI, round(chart.height_inches * DPI))
    assert image.text["Description"] == "\n".join(chart.texts)
    assert chart.title in chart.texts
    colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 16)}
    assert (0xFF, 0xFF, 0xFF) in colours and len(colours) > 10  # white ground, anti-aliased text


def test_bars_are_drawn_in_their_colours_and_negative_amounts_draw_none():
    def rgb(chart: Chart) -> set[tuple[int, int, int]]:
        return {c for _, c in decoded(render_png(chart)).convert("RGB").getcolors(maxcolors=1 << 16)}

    blue, orange = (0x2F, 0x6E, 0xA5), (0xE0, 0x8A, 0x2C)
    assert blue in rgb(CHARTS["one row"])
    only_negative = Chart("图1", 1.5, (row("301", -5.0, note="-5.00"),), 1.0, "万元")
    assert blue not in rgb(only_negative) and orange not in rgb(only_negative)


def test_equal_charts_render_the_same_bytes():
    """What lets the caller draw a public chart equal to the internal one once."""
    again = Chart(**{f: getattr(CHARTS["many rows"], f) for f in CHARTS["many rows"].__dataclass_fields__})
    assert again == CHARTS["many rows"]
    assert render_png(again) == render_png(CHARTS["many rows"])


def test_spending_by_class_stacks_the_other_types_so_each_bar_is_its_total():
    from decimal import Decimal

    from pipelines.evaluation.charts import OTHER_TYPES_LABEL, spending_by_class
    from pipelines.evaluation.figures import ClassByType, Figures
    from pipelines.evaluation.numbers import ZERO

    classes = [ClassByType("302", "商品和服务支出", "基本支出", Decimal("600000")),
               ClassByType("302", "商品和服务支出", "项目支出", Decimal("75000")),
               ClassByType("302", "商品和服务支出", "经营支出", Decimal("50000")),
               ClassByType("399", "其他支出", "其他支出", Decimal("10000"))]
    fig = Figures("900001", "测试单位", 2021, False, [], [], classes, ZERO, ZERO, ZERO, ZERO, [], [], [], None)
    chart = spending_by_class(fig)
    assert [(row.label, [bar.length for bar in row.bars], row.note) for row in chart.rows] == [
        ("302 商品和服务支出", [60.0, 7.5, 5.0], "72.50"), ("399 其他支出", [0.0, 0.0, 1.0], "1.00")]
    assert [label for label, _ in chart.legend] == ["基本支出", "项目支出", OTHER_TYPES_LABEL]
    basic_only = Figures("900001", "测试单位", 2021, False, [], [], classes[:2], ZERO, ZERO, ZERO, ZERO, [], [], [], None)
    assert [label for label, _ in spending_by_class(basic_only).legend] == ["基本支出", "项目支出"]
