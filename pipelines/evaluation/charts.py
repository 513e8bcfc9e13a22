"""The report's charts (PNG, 150 dpi) with Chinese labels.

matplotlib's own fonts have no CJK glyphs; the Noto Sans CJK SC file shipped by the
`mplfonts` package is registered with matplotlib's font manager here, once, and used
through an rc context (no global pyplot state; figures are drawn with the Agg canvas).
Values are plotted as floats (drawing only); every printed label is formatted from the
Decimal yuan figure with `fmt_wan`.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from pipelines.evaluation.figures import Figures, Project, fmt_wan, round2, to_wan  # noqa: E402
from pipelines.evaluation.scoring import SelfEvaluation  # noqa: E402

DPI = 150
BLUE, ORANGE, GREY = "#2f6ea5", "#e08a2c", "#c8ced6"
SECRET_LABEL = "不予公开"


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register Noto Sans CJK SC (from mplfonts) with matplotlib; returns its family name."""
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def _rc() -> dict:
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [cjk_font(), "DejaVu Sans"],
        "axes.unicode_minus": False,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, format="png")
    return path


def _wrap(label: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _empty(title: str, path: Path, message: str) -> Path:
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(8, 2.2), layout="constrained")
        ax = fig.subplots()
        ax.axis("off")
        ax.set_title(title, loc="left", fontsize=11)
        ax.text(0.5, 0.5, message, ha="center", va="center", color="#666666")
        return _save(fig, path)


def spending_by_class(fig_data: Figures, path: Path) -> Path:
    """Spending by economic 类, stacked basic / project, in 万元."""
    title = f"图1  {fig_data.year}年支出按经济分类（类）（万元）"
    codes: dict[str, str] = {}
    for c in fig_data.classes_by_type:
        codes.setdefault(c.code, c.name)
    if not codes:
        return _empty(title, path, "本年度无支出")
    amounts = {(c.code, c.spending_type): c.amount for c in fig_data.classes_by_type}
    totals = {code: sum((a for (k, _), a in amounts.items() if k == code), to_wan(0)) for code in codes}
    order = sorted(codes, key=lambda k: totals[k])  # largest at the top of a barh
    labels = [f"{k} {codes[k]}" for k in order]
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(8, 0.9 + 0.45 * len(order)), layout="constrained")
        ax = fig.subplots()
        left = [0.0] * len(order)
        for kind, colour in (("基本支出", BLUE), ("项目支出", ORANGE)):
            values = [float(to_wan(amounts.get((k, kind), 0))) for k in order]
            ax.barh(labels, values, left=left, color=colour, label=kind, height=0.6)
            left = [a + b for a, b in zip(left, values)]
        span = max(left) if left else 1
        for y, k in enumerate(order):
            ax.text(left[y] + span * 0.01, y, fmt_wan(totals[k]), va="center", fontsize=8)
        ax.set_xlim(0, span * 1.15 or 1)
        ax.set_xlabel("万元")
        ax.set_title(title, loc="left", fontsize=11)
        fig.legend(loc="outside lower center", ncol=2, frameon=False)
        return _save(fig, path)


def largest_projects(fig_data: Figures, path: Path, n: int = 10) -> Path:
    """The n projects with the most spending; the public undisclosed line is labelled, its value not printed."""
    title = f"图2  {fig_data.year}年支出最多的{n}个项目（万元）"
    projects = [p for p in fig_data.projects if p.spent > 0][:n]
    if not projects:
        return _empty(title, path, "本年度无项目支出")
    projects = list(reversed(projects))
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(8, 0.9 + 0.5 * len(projects)), layout="constrained")
        ax = fig.subplots()
        values = [float(to_wan(p.spent)) for p in projects]
        colours = [GREY if p.undisclosed else BLUE for p in projects]
        ax.barh([_wrap(p.name) for p in projects], values, color=colours, height=0.6)
        span = max(values) or 1
        for y, p in enumerate(projects):
            ax.text(values[y] + span * 0.01, y, SECRET_LABEL if p.undisclosed else fmt_wan(p.spent),
                    va="center", fontsize=8)
        ax.set_xlim(0, span * 1.15)
        ax.set_xlabel("万元")
        ax.tick_params(axis="y", labelsize=8)
        ax.set_title(title, loc="left", fontsize=11)
        return _save(fig, path)


def budget_vs_spent(fig_data: Figures, path: Path, n: int = 15) -> Path:
    """全年预算数 against 全年执行数 for the projects with the largest final budgets."""
    title = f"图3  {fig_data.year}年项目全年预算数与执行数（万元）"
    projects: list[Project] = sorted(fig_data.projects, key=lambda p: (-p.final, -p.spent, p.code))[:n]
    if not projects:
        return _empty(title, path, "本年度无项目")
    if len(fig_data.projects) > n:
        title += f"（全年预算数最大的{n}个）"
    projects = list(reversed(projects))
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(8, 1.0 + 0.6 * len(projects)), layout="constrained")
        ax = fig.subplots()
        ys = list(range(len(projects)))
        h = 0.38
        budget = [float(to_wan(p.final)) for p in projects]
        spent = [float(to_wan(p.spent)) for p in projects]
        ax.barh([y + h / 2 for y in ys], budget, height=h, color=GREY, label="全年预算数")
        ax.barh([y - h / 2 for y in ys], spent, height=h, color=BLUE, label="全年执行数")
        span = max(budget + spent) or 1
        for y, p in zip(ys, projects):
            text = SECRET_LABEL if p.undisclosed else f"{fmt_wan(p.spent)} / {fmt_wan(p.final)}"
            ax.text(max(budget[y], spent[y]) + span * 0.01, y, text, va="center", fontsize=7)
        ax.set_yticks(ys, [_wrap(p.name) for p in projects], fontsize=8)
        ax.set_xlim(0, span * 1.3)
        ax.set_xlabel("万元（标注：执行数 / 预算数）")
        ax.set_title(title, loc="left", fontsize=11)
        fig.legend(loc="outside lower center", ncol=2, frameon=False)
        return _save(fig, path)


def indicator_scores(fig_data: Figures, ev: SelfEvaluation, path: Path) -> Path:
    """得分 against 分值: the budget-execution line and each department-level indicator."""
    title = f"图4  {fig_data.year}年自评得分（得分 / 分值）"
    rows = [("预算执行率", ev.budget_score, ev.budget_points)]
    rows += [(i.name, i.score, i.weight) for i in ev.indicators]
    rows = list(reversed(rows))
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(8, 1.0 + 0.32 * len(rows)), layout="constrained")
        ax = fig.subplots()
        labels = [_wrap(name, 18) for name, _, _ in rows]
        weights = [float(w or 0) for _, _, w in rows]
        scores = [float(s or 0) for _, s, _ in rows]
        ax.barh(labels, weights, color=GREY, height=0.7, label="分值")
        ax.barh(labels, scores, color=[BLUE if s is not None and w is not None and round2(s) >= round2(w) else ORANGE
                                       for _, s, w in rows], height=0.45, label="得分")
        span = max(weights) or 1
        for y, (_, s, w) in enumerate(rows):
            text = f"{round2(s):.2f} / {round2(w):.2f}" if s is not None and w is not None else "需人工评分"
            ax.text(max(weights[y], scores[y]) + span * 0.01, y, text, va="center", fontsize=7)
        ax.set_xlim(0, span * 1.3)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_xlabel("分")
        ax.set_title(title + f"  总分 {round2(ev.total_score):.2f}，{ev.grade}", loc="left", fontsize=11)
        fig.legend(loc="outside lower center", ncol=2, frameon=False)
        return _save(fig, path)
