"""部门整体支出绩效自评表 as XLSX, laid out as the provinces publish it.

Block 1 (年度预算执行情况, 万元): 年度资金总额 (total spending against the final budget),
按资金来源分 (the funding rows of the rules file), 按支出性质分 (基本支出, 项目支出, and each
other type with spending, without budget) × 年初预算数, 全年预算数, 全年执行数, 分值, 执行率, 得分.
Block 2 (年度绩效指标, department level): 一级, 二级, 三级, 年度指标值, 实际完成值, 分值,
得分, 偏差原因. Then 总分 and 评价等级. Every figure is a number cell (万元 and scores
rounded to two decimals, rates to four), so the file reads back with openpyxl.
Print-ready: A4 landscape, one page wide, title rows repeated on every page.
"""

from __future__ import annotations

import math
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import xlsxwriter

from pipelines.evaluation.figures import Figures
from pipelines.evaluation.numbers import round2, to_wan
from pipelines.evaluation.report import tokens_of
from pipelines.evaluation.scoring import FUNDING_GROUP, SPENDING_GROUP, SelfEvaluation
from pipelines.evaluation.texts import Texts, paragraphs
from pipelines.textsafe import merge_text, write_text

TITLE = "部门整体支出绩效自评表"
COLUMNS = [  # (width in characters, block-2 header)
    (12, "一级指标"), (14, "二级指标"), (30, "三级指标"), (14, "年度指标值"),
    (14, "实际完成值"), (9, "分值"), (9, "得分"), (40, "偏差原因分析及改进措施"),
]
LAST = len(COLUMNS) - 1
FONT = "宋体"
LINE_PT = 13.5


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _lines(text: str, width_chars: float) -> int:
    return sum(max(1, math.ceil(_display_width(part) / max(width_chars - 1, 1))) for part in str(text).split("\n"))


def _rate(value: Decimal | None) -> float | None:
    """A rate as a fraction with four decimals (a percentage with two), rounded half-up."""
    return None if value is None else float(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def goal_texts(fig: Figures, texts: Texts | None) -> tuple[str, str]:
    """The department's 年度总体目标 and 实际完成情况 from its texts, or the marked placeholders."""
    if texts is None:
        return "", ""
    out = []
    for key in ("年度总体目标", "年度总体目标完成情况"):
        text = texts.get(key, fig.public)
        out.append("\n".join(paragraphs(text, tokens_of(fig))) if text else texts.placeholder(key))
    return out[0], out[1]


def write_goal_rows(ws, r: int, goal: str, result: str, f: dict, label_cols: int = 1) -> int:
    """年度总体目标: 预期目标 | 实际完成情况, two rows (headings, texts); returns the next row.
    Text cells by write_string: a department's text is never read as a formula."""
    mid = label_cols + (LAST - label_cols + 1) // 2  # first column of 实际完成情况
    ws.merge_range(r, 0, r + 1, label_cols - 1, "", f["label_bold"])
    ws.write_string(r, 0, "年度总体目标", f["label_bold"])
    ws.merge_range(r, label_cols, r, mid - 1, "", f["head"])
    ws.write_string(r, label_cols, "预期目标", f["head"])
    ws.merge_range(r, mid, r, LAST, "", f["head"])
    ws.write_string(r, mid, "实际完成情况", f["head"])
    ws.set_row(r, 18)
    left = sum(w for w, _ in COLUMNS[label_cols:mid])
    right = sum(w for w, _ in COLUMNS[mid:])
    ws.merge_range(r + 1, label_cols, r + 1, mid - 1, "", f["text"])
    ws.write_string(r + 1, label_cols, goal, f["text"])
    ws.merge_range(r + 1, mid, r + 1, LAST, "", f["text"])
    ws.write_string(r + 1, mid, result, f["text"])
    ws.set_row(r + 1, max(30, LINE_PT * max(_lines(goal or " ", left), _lines(result or " ", right)) + 4))
    return r + 2


def table_formats(wb) -> dict:
    """The cell formats of the 自评表s (部门整体 and 项目), one look for both."""
    base = {"font_name": FONT, "font_size": 10, "valign": "vcenter", "border": 1, "text_wrap": True}
    return {
        "title": wb.add_format({"font_name": FONT, "font_size": 16, "bold": True, "align": "center",
                                "valign": "vcenter"}),
        "sub": wb.add_format({"font_name": FONT, "font_size": 11, "align": "center", "valign": "vcenter"}),
        "band": wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "left"}),
        "head": wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "align": "center"}),
        "label": wb.add_format({**base, "align": "center"}),
        "label_bold": wb.add_format({**base, "align": "center", "bold": True}),
        "text": wb.add_format({**base, "align": "left"}),
        "wan": wb.add_format({**base, "num_format": "0.00", "align": "right"}),
        "wan_bold": wb.add_format({**base, "num_format": "0.00", "align": "right", "bold": True}),
        "pct": wb.add_format({**base, "num_format": "0.00%", "align": "right"}),
        "pct_bold": wb.add_format({**base, "num_format": "0.00%", "align": "right", "bold": True}),
        "score": wb.add_format({**base, "num_format": "0.00", "align": "center"}),
        "score_bold": wb.add_format({**base, "num_format": "0.00", "align": "center", "bold": True}),
        "grade": wb.add_format({**base, "align": "center", "bold": True, "font_size": 12}),
        "note": wb.add_format({"font_name": FONT, "font_size": 8, "text_wrap": True, "valign": "top"}),
        "warning": wb.add_format({"font_name": FONT, "font_size": 9, "bold": True, "font_color": "#C00000",
                                  "text_wrap": True, "valign": "top"}),
        "blank": wb.add_format(base),
    }


def write_table(path: Path, fig: Figures, ev: SelfEvaluation, rules_grades: list[tuple[str, float]],
                texts: Texts | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})  # no temporary file per part: a third of its cost
    wb.set_properties({"title": f"{fig.unit_name}{fig.year}年度{TITLE}", "author": "fiscal-warehouse"})
    ws = wb.add_worksheet("自评表")

    f = table_formats(wb)
    for col, (width, _) in enumerate(COLUMNS):
        ws.set_column(col, col, width)

    def merge(r1, c1, r2, c2, value, fmt):
        merge_text(ws, r1, c1, r2, c2, value, fmt)  # text stays text (`=100%` is no formula)

    def number(r, c, value, fmt):
        if value is None:
            ws.write_blank(r, c, None, f["blank"])
        else:
            ws.write_number(r, c, float(value), fmt)

    # Title block.
    ws.set_row(0, 26)
    merge(0, 0, 0, LAST, TITLE, f["title"])
    merge(1, 0, 1, LAST, f"（{fig.year}年度）", f["sub"])
    ws.set_row(2, 20)
    merge(2, 0, 2, 1, "部门（单位）名称", f["label_bold"])
    merge(2, 2, 2, LAST, f"{fig.unit_name}（{fig.unit_code}）", f["text"])

    # Block 1: budget execution.
    r = 3
    merge(r, 0, r, LAST, "年度预算执行情况（金额单位：万元）", f["band"])
    r += 1
    ws.set_row(r, 20)
    merge(r, 0, r, 1, "项目", f["head"])
    for c, name in enumerate(["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"], start=2):
        write_text(ws, r, c, name, f["head"])
    r += 1

    total = ev.total_row
    for k in range(len(ev.rows)):
        ws.set_row(r + k, 17)
    merge(r, 0, r, 1, "年度资金总额", f["label_bold"])
    number(r, 2, to_wan(total.initial), f["wan_bold"])
    number(r, 3, to_wan(total.final), f["wan_bold"])
    number(r, 4, to_wan(total.spent), f["wan_bold"])
    number(r, 5, round2(ev.budget_points), f["score_bold"])
    number(r, 6, _rate(total.rate), f["pct_bold"])
    number(r, 7, round2(ev.budget_score), f["score_bold"])
    r += 1
    for group in (FUNDING_GROUP, SPENDING_GROUP):
        rows = [row for row in ev.rows if row.group == group]
        if not rows:
            continue
        merge(r, 0, r + len(rows) - 1, 0, group, f["label"])
        for row in rows:
            write_text(ws, r, 1, row.label, f["label"])
            number(r, 2, to_wan(row.initial), f["wan"])
            number(r, 3, to_wan(row.final), f["wan"])
            number(r, 4, to_wan(row.spent), f["wan"])
            ws.write_blank(r, 5, None, f["blank"])
            number(r, 6, _rate(row.rate), f["pct"])
            ws.write_blank(r, 7, None, f["blank"])
            r += 1

    # 年度总体目标 (the department's texts; a marked placeholder where missing).
    if texts is not None:
        r = write_goal_rows(ws, r, *goal_texts(fig, texts), f, label_cols=2)

    # Block 2: performance indicators (department level).
    merge(r, 0, r, LAST, "年度绩效指标（部门整体）", f["band"])
    r += 1
    ws.set_row(r, 20)
    for c, (_, name) in enumerate(COLUMNS):
        write_text(ws, r, c, name, f["head"])
    r += 1
    inds = ev.indicators
    if not inds:
        merge(r, 0, r, LAST, "（项目台账中无部门整体绩效指标）", f["text"])
        r += 1
    start = r
    for ind in inds:
        reason = "；".join(x for x in (ind.note, ind.reason_zh) if x)
        # 一级 and 二级 (columns 0, 1) are written below, merged over their runs.
        write_text(ws, r, 2, ind.name, f["text"])
        write_text(ws, r, 3, ind.target_display, f["label"])
        write_text(ws, r, 4, ind.actual_display, f["label"])
        number(r, 5, round2(ind.weight), f["score"])
        number(r, 6, round2(ind.score), f["score"])
        write_text(ws, r, 7, reason, f["text"])
        lines = max(_lines(ind.name, COLUMNS[2][0]), _lines(reason, COLUMNS[7][0]) if reason else 1,
                    _lines(ind.target_display, COLUMNS[3][0]), _lines(ind.actual_display, COLUMNS[4][0]))
        ws.set_row(r, max(18, LINE_PT * lines + 3))
        r += 1
    # Merge repeated 一级 and 二级 cells.
    for col, key in ((0, lambda x: x.level1), (1, lambda x: (x.level1, x.level2))):
        i = 0
        while i < len(inds):
            j = i
            while j + 1 < len(inds) and key(inds[j + 1]) == key(inds[i]):
                j += 1
            label = inds[i].level1 if col == 0 else inds[i].level2
            merge(start + i, col, start + j, col, label, f["label"])
            i = j + 1

    # Totals.
    ws.set_row(r, 22)
    merge(r, 0, r, 4, "总分", f["label_bold"])
    number(r, 5, round2(ev.total_points), f["score_bold"])
    number(r, 6, round2(ev.total_score), f["score_bold"])
    ws.write_blank(r, 7, None, f["blank"])
    r += 1
    ws.set_row(r, 22)
    merge(r, 0, r, 4, "评价等级", f["label_bold"])
    merge(r, 5, r, LAST, ev.grade, f["grade"])
    r += 1

    grades = "，".join(f"{name}≥{lowest:g}分" for name, lowest in rules_grades)
    notes = [
        "说明：1. 金额单位为万元，按元汇总后四舍五入保留两位小数，合计数与分项之和可能存在尾差；"
        "执行率 = 全年执行数 / 全年预算数；预算执行得分 = min(执行率, 1) × 分值。",
        "2. 绩效指标得分：正向指标（≥）按 分值 × min(实际完成值 / 年度指标值, 1)；反向指标（≤）达到目标得满分，"
        "否则按 分值 × 年度指标值 / 实际完成值；定值指标（=）按 分值 × max(0, 1 - |偏差| / 年度指标值)。"
        "总分按未舍入的各项得分相加后保留两位小数。",
        f"3. 评价等级：{grades}，以下为差。数据来源：财务核算、预算指标与项目台账（fiscal-warehouse 生成）。",
    ]
    if fig.quarantined is not None:  # honest figures: rows left out are said, not hidden
        notes.insert(0, fig.quarantined.note())
    for note in notes:
        merge(r, 0, r, LAST, note, f["warning"] if note.startswith("数据说明") else f["note"])
        ws.set_row(r, 11.5 * _lines(note, sum(w for w, _ in COLUMNS) * 1.2) + 2)
        r += 1

    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, 2)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.center_horizontally()
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.print_area(0, 0, r - 1, LAST)
    wb.close()
    return path
