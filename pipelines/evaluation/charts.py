"""The report's charts (PNG, 150 dpi, 8 inches wide) with Chinese labels.

Two steps: `spending_by_class`, `largest_projects`, `budget_vs_spent` and
`indicator_scores` turn the figures into a `Chart` (plain data: rows of bars, labels,
every printed text), and `render_png` draws a Chart. Two versions of a chart that show
the same are equal Charts, so the caller draws them once.

Drawn with Pillow rather than matplotlib: horizontal bar charts need little more than
rectangles and text, and matplotlib's layout and text machinery cost about half a
second a chart here, Pillow a few milliseconds. The image is a palette PNG: text and
lines are drawn anti-aliased in grey levels, bars in a few palette colours, which keeps
the encoding cheap and the file small. The text is in the Noto Sans CJK SC font shipped
by the `mplfonts` package (read from its folder; matplotlib is not imported). Values are
drawn as floats (geometry only); every printed label is formatted from the Decimal yuan
figure with `fmt_wan`. Every text drawn is also stored in the PNG's `Description`, so
what a chart says can be checked without reading pixels.
"""

from __future__ import annotations

import importlib.util
import io
import math
import textwrap
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from pipelines.evaluation.figures import BASIC_AND_PROJECT, Figures, Project
from pipelines.evaluation.numbers import ZERO, fmt_wan, round2, to_wan
from pipelines.evaluation.scoring import SelfEvaluation

DPI = 150
WIDTH_INCHES = 8
BLUE, ORANGE, GREY = "#2f6ea5", "#e08a2c", "#c8ced6"
OTHER_TYPES_LABEL = "其他类型支出"  # 经营支出, 上缴上级支出 … (figures.OTHER_TYPES): one colour in 图1
SECRET_LABEL = "不予公开"

# Palette: the bar colours first; indices from INK up are grey levels (INK = near black),
# the values anti-aliased text takes when drawn on white.
_COLOURS = {BLUE: 1, ORANGE: 2, GREY: 3}
INK, MUTED, WHITE = 16, 0x66, 255


def _palette() -> list[int]:
    palette = [255, 255, 255] * 16
    for colour, index in _COLOURS.items():
        palette[3 * index:3 * index + 3] = [int(colour[k:k + 2], 16) for k in (1, 3, 5)]
    for level in range(16, 256):
        palette += [level, level, level]
    return palette


PALETTE = _palette()


# ---------------------------------------------------------------- the chart as data


@dataclass(frozen=True)
class Bar:
    start: float
    length: float
    colour: str
    offset: float = 0.0  # centre, in row heights from the row's centre (+ is up)
    thickness: float = 0.6  # in row heights


@dataclass(frozen=True)
class Row:
    label: str  # the category (may hold line breaks)
    bars: tuple[Bar, ...]
    note: str  # printed right of the bars, at `note_x`
    note_x: float


@dataclass(frozen=True)
class Chart:
    title: str
    height_inches: float
    rows: tuple[Row, ...] = ()  # top first
    x_max: float = 1.0
    x_label: str = ""
    legend: tuple[tuple[str, str], ...] = ()  # (label, colour)
    label_pt: float = 9
    note_pt: float = 8
    message: str | None = None  # an empty chart: the title and this line

    @property
    def texts(self) -> list[str]:
        """Every text the chart shows."""
        out = [self.title, self.x_label, *(label for label, _ in self.legend)]
        out += [t for row in self.rows for t in (row.label, row.note)]
        if self.message:
            out.append(self.message)
        return [t for t in out if t]


def _wrap(label: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _empty(title: str, message: str) -> Chart:
    return Chart(title, 2.2, message=message)


def spending_by_class(fig_data: Figures) -> Chart:
    """Spending by economic 类, stacked basic / project / the other types (经营支出 …: a third
    colour, in the legend only when the year has them), in 万元: each bar as long as the
    total printed beside it."""
    title = f"图1  {fig_data.year}年支出按经济分类（类）（万元）"
    codes: dict[str, str] = {}
    for c in fig_data.classes_by_type:
        codes.setdefault(c.code, c.name)
    if not codes:
        return _empty(title, "本年度无支出")
    amounts = {(c.code, c.spending_type): c.amount for c in fig_data.classes_by_type}
    totals = {code: sum((a for (k, _), a in amounts.items() if k == code), to_wan(0)) for code in codes}
    order = list(reversed(sorted(codes, key=lambda k: totals[k])))  # largest at the top
    by_kind: dict[tuple[str, str], Decimal] = {}
    for (code, spending_type), amount in amounts.items():
        kind = spending_type if spending_type in BASIC_AND_PROJECT else OTHER_TYPES_LABEL
        by_kind[code, kind] = by_kind.get((code, kind), ZERO) + amount
    kinds = tuple(zip(BASIC_AND_PROJECT, (BLUE, ORANGE)))
    if any(amount for (_, kind), amount in by_kind.items() if kind == OTHER_TYPES_LABEL):
        kinds += ((OTHER_TYPES_LABEL, GREY),)
    rows, ends = [], []
    for k in order:
        left, bars = 0.0, []
        for kind, colour in kinds:
            value = float(to_wan(by_kind.get((k, kind), ZERO)))
            bars.append(Bar(left, value, colour))
            left += value
        rows.append((f"{k} {codes[k]}", tuple(bars), fmt_wan(totals[k])))
        ends.append(left)
    span = max(ends)
    return Chart(title, 0.9 + 0.45 * len(order),
                 tuple(Row(label, bars, note, end + span * 0.01) for (label, bars, note), end in zip(rows, ends)),
                 span * 1.15 or 1, "万元", kinds)


def largest_projects(fig_data: Figures, n: int = 10) -> Chart:
    """The n projects with the most spending; the public undisclosed line is labelled, its value not printed."""
    title = f"图2  {fig_data.year}年支出最多的{n}个项目（万元）"
    projects = [p for p in fig_data.projects if p.spent > 0][:n]
    if not projects:
        return _empty(title, "本年度无项目支出")
    values = [float(to_wan(p.spent)) for p in projects]
    span = max(values) or 1
    rows = tuple(Row(_wrap(p.name), (Bar(0.0, v, GREY if p.undisclosed else BLUE),),
                     SECRET_LABEL if p.undisclosed else fmt_wan(p.spent), v + span * 0.01)
                 for p, v in zip(projects, values))
    return Chart(title, 0.9 + 0.5 * len(projects), rows, span * 1.15, "万元", label_pt=8)


def budget_vs_spent(fig_data: Figures, n: int = 15) -> Chart:
    """全年预算数 against 全年执行数 for the projects with the largest final budgets."""
    title = f"图3  {fig_data.year}年项目全年预算数与执行数（万元）"
    projects: list[Project] = sorted(fig_data.projects, key=lambda p: (-p.final, -p.spent, p.code))[:n]
    if not projects:
        return _empty(title, "本年度无项目")
    if len(fig_data.projects) > n:
        title += f"（全年预算数最大的{n}个）"
    h = 0.38
    budget = [float(to_wan(p.final)) for p in projects]
    spent = [float(to_wan(p.spent)) for p in projects]
    span = max(budget + spent) or 1
    rows = tuple(
        Row(_wrap(p.name), (Bar(0.0, b, GREY, h / 2, h), Bar(0.0, s, BLUE, -h / 2, h)),
            SECRET_LABEL if p.undisclosed else f"{fmt_wan(p.spent)} / {fmt_wan(p.final)}", max(b, s) + span * 0.01)
        for p, b, s in zip(projects, budget, spent))
    return Chart(title, 1.0 + 0.6 * len(projects), rows, span * 1.3, "万元（标注：执行数 / 预算数）",
                 (("全年预算数", GREY), ("全年执行数", BLUE)), label_pt=8, note_pt=7)


def indicator_scores(fig_data: Figures, ev: SelfEvaluation) -> Chart:
    """得分 against 分值: the budget-execution line and each department-level indicator."""
    title = f"图4  {fig_data.year}年自评得分（得分 / 分值）  总分 {round2(ev.total_score):.2f}，{ev.grade}"
    lines = [("预算执行率", ev.budget_score, ev.budget_points)]
    lines += [(i.name, i.score, i.weight) for i in ev.indicators]
    weights = [float(w or 0) for _, _, w in lines]
    span = max(weights) or 1
    rows = []
    for (name, s, w), weight in zip(lines, weights):
        score = float(s or 0)
        full = s is not None and w is not None and round2(s) >= round2(w)
        note = f"{round2(s):.2f} / {round2(w):.2f}" if s is not None and w is not None else "需人工评分"
        rows.append(Row(_wrap(name, 18), (Bar(0.0, weight, GREY, thickness=0.7),
                                          Bar(0.0, score, BLUE if full else ORANGE, thickness=0.45)),
                        note, max(weight, score) + span * 0.01))
    return Chart(title, 1.0 + 0.32 * len(rows), tuple(rows), span * 1.3, "分",
                 (("分值", GREY), ("得分", BLUE)), label_pt=8, note_pt=7)


# ---------------------------------------------------------------- drawing


def _font_file() -> Path:
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mplfonts package (Noto Sans CJK SC for the charts) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "fonts" / "NotoSansCJKsc-Regular.otf"


class _Glyphs:
    """Text in one font size, set from glyph masks rendered once per process.

    FreeType renders a CJK OpenType glyph in about 0.05 ms, and a chart's labels repeat
    the same few hundred characters: pasting cached masks makes the text of a chart cost
    a few milliseconds instead of tens. Glyphs are placed at their advance widths (the
    basic layout Pillow uses for this font: no kerning, no ligatures)."""

    def __init__(self, points: float):
        self.font = ImageFont.truetype(str(_font_file()), round(points * DPI / 72),
                                       layout_engine=ImageFont.Layout.BASIC)
        self.size = self.font.size
        self.ascent, self.descent = self.font.getmetrics()
        self._glyphs: dict[str, tuple[Image.Image | None, int, int, float]] = {}

    def _glyph(self, char: str) -> tuple[Image.Image | None, int, int, float]:
        glyph = self._glyphs.get(char)
        if glyph is None:
            x0, y0, x1, y1 = self.font.getbbox(char, anchor="ls")
            mask = None
            if x1 > x0 and y1 > y0:
                mask = Image.new("L", (x1 - x0, y1 - y0), 0)
                ImageDraw.Draw(mask).text((-x0, -y0), char, font=self.font, fill=255, anchor="ls")
            glyph = self._glyphs[char] = (mask, x0, y0, self.font.getlength(char))
        return glyph

    def length(self, text: str) -> float:
        return sum(self._glyph(c)[3] for c in text)

    def draw(self, image: Image.Image, xy: tuple[float, float], text: str, anchor: str, fill: int) -> None:
        """Like ImageDraw.text with an anchor of l/m/r (horizontal) and a/m/s (vertical)."""
        x = xy[0] - {"l": 0, "m": 0.5, "r": 1}[anchor[0]] * self.length(text)
        baseline = xy[1] + {"a": self.ascent, "m": (self.ascent - self.descent) / 2, "s": 0}[anchor[1]]
        for char in text:
            mask, x0, y0, advance = self._glyph(char)
            if mask is not None:
                image.paste(fill, (round(x + x0), round(baseline + y0)), mask)
            x += advance


@lru_cache(maxsize=None)
def _font(points: float) -> _Glyphs:
    return _Glyphs(points)


def _px(points: float) -> int:
    return round(points * DPI / 72)


def _ticks(x_max: float) -> tuple[list[float], int]:
    """Round tick values from 0 to x_max (about six), and the decimals to print them with."""
    raw = x_max / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if str(step / magnitude) == "2.5" else 0)
    return [k * step for k in range(int(x_max / step + 1e-9) + 1)], decimals


def _lines(image: Image.Image, xy: tuple[float, float], text: str, font: _Glyphs, anchor: str, fill: int) -> None:
    """Text of several lines, the block centred vertically on xy when the anchor's second letter is m."""
    lines = text.split("\n")
    step = font.size * 1.2
    y = xy[1] - step * (len(lines) - 1) / 2
    for k, line in enumerate(lines):
        font.draw(image, (xy[0], y + k * step), line, anchor, fill)


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes."""
    width, height = WIDTH_INCHES * DPI, round(chart.height_inches * DPI)
    ink = Image.new("L", (width, height), WHITE)  # text and lines, anti-aliased
    title_font, label_font = _font(11), _font(chart.label_pt)
    title_font.draw(ink, (_px(6), _px(6)), chart.title, "la", INK)
    rectangles: list[tuple[tuple[int, int, int, int], str]] = []
    lines: list[tuple[int, int, int, int]] = []

    if chart.message is not None:
        _font(9).draw(ink, (width / 2, height / 2), chart.message, "mm", MUTED)
    else:
        tick_font = _font(9)
        label_width = min(max(label_font.length(line) for row in chart.rows for line in row.label.split("\n")),
                          width * 0.45)  # a label longer than that runs off the left edge
        left = _px(6) + label_width + _px(7)
        right = width - _px(16)  # room for half a tick label at the end of the axis
        top = _px(6) + title_font.size * 1.4 + _px(4)
        bottom = height - _px(6) - (tick_font.size * 1.5 if chart.legend else 0) - tick_font.size * 2.6 - _px(8)
        x_max = chart.x_max if chart.x_max > 0 and math.isfinite(chart.x_max) else 1.0  # all values ≤ 0
        scale = (right - left) / x_max
        slot = (bottom - top) / len(chart.rows)
        note_font = _font(chart.note_pt)
        for k, row in enumerate(chart.rows):
            centre = top + slot * (k + 0.5)
            for bar in row.bars:
                # The axis starts at 0: a negative amount (refunds exceeding spending) shows no bar,
                # as on the axis matplotlib drew; its printed figure says what it is.
                x0, x1 = (min(max(x, 0.0), x_max) for x in (bar.start, bar.start + bar.length))
                if x1 <= x0:
                    continue
                y0 = centre - slot * (bar.offset + bar.thickness / 2)
                box = (round(left + x0 * scale), round(y0), round(left + x1 * scale) - 1,
                       round(y0 + slot * bar.thickness) - 1)
                if box[2] >= box[0] and box[3] >= box[1]:  # a bar narrower than a pixel draws nothing
                    rectangles.append((box, bar.colour))
            lines.append((round(left - _px(3.5)), round(centre), round(left), round(centre)))
            _lines(ink, (left - _px(5), centre), row.label, label_font, "rm", INK)
            note_font.draw(ink, (left + max(row.note_x * scale, _px(3)), centre), row.note, "lm", INK)
        ticks, decimals = _ticks(x_max)
        for value in ticks:
            x = round(left + value * scale)
            lines.append((x, round(bottom), x, round(bottom + _px(3.5))))
            tick_font.draw(ink, (x, bottom + _px(5)), f"{value:.{decimals}f}", "ma", INK)
        tick_font.draw(ink, ((left + right) / 2, bottom + _px(5) + tick_font.size * 1.3), chart.x_label, "ma", INK)
        lines += [(round(left), round(top), round(left), round(bottom)),
                  (round(left), round(bottom), round(right), round(bottom))]
        if chart.legend:
            y = height - _px(6) - tick_font.size * 0.75
            widths = [tick_font.size * 1.6 + tick_font.length(label) for label, _ in chart.legend]
            x = width / 2 - (sum(widths) + tick_font.size * (len(widths) - 1)) / 2
            for (label, colour), w in zip(chart.legend, widths):
                size = tick_font.size * 0.7
                rectangles.append(((round(x), round(y - size / 2), round(x + size * 1.4), round(y + size / 2)), colour))
                tick_font.draw(ink, (x + tick_font.size * 1.6, y), label, "lm", INK)
                x += w + tick_font.size

    ink.putpalette(PALETTE)  # grey levels keep their value as palette index; bars take theirs
    paint = ImageDraw.Draw(ink)
    for box, colour in rectangles:
        paint.rectangle(box, fill=_COLOURS[colour])
    for line in lines:
        paint.line(line, fill=INK, width=2)
    info = PngInfo()
    info.add_itxt("Description", "\n".join(chart.texts))
    buffer = io.BytesIO()
    ink.save(buffer, "PNG", pnginfo=info, dpi=(DPI, DPI), compress_level=3)
    return buffer.getvalue()
