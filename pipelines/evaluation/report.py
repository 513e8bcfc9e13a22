"""部门整体支出绩效自评报告: the content, as a list of blocks, in the seed's structure.

`build_report` assembles headings, paragraphs, tables and charts from the figures (every
number from the warehouse) and the department's texts (every sentence of narrative);
`report_md` and `report_docx` only render the blocks, so the two formats say the same.

Internal and public versions differ only in their inputs (`Figures.public` reads the
`build_public` marts) and in three places marked below: the title, the note under it,
and the undisclosed project line, which the public version lists without any amount,
followed by the seed's sentence on confidentiality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pipelines.evaluation.figures import (
    CommonIndicator,
    Figures,
    Indicator,
    LEVEL1_ORDER,
    level_rank,
)
from pipelines.evaluation.numbers import ZERO, fmt_number, fmt_pct, fmt_wan, ratio, round2
from pipelines.evaluation.provisional import PUBLIC_NOTE as PROVISIONAL_PUBLIC_NOTE
from pipelines.evaluation.scoring import SPENDING_GROUP, SelfEvaluation
from pipelines.evaluation.texts import Texts, paragraphs

TITLE = "部门整体支出绩效自评报告"
PUBLIC_SUFFIX = "（公开版）"
SECRET_NOTE = "说明：因遵循保密性原则，涉密项目数据不予公开。"
NOT_DISCLOSED = "不予公开"

# Grouping of the common indicators in the analysis (the seed's 经济性 / 效率性).
ECONOMY = ["staff_control", "three_public_change", "key_spending_share", "public_funds_control"]
EFFICIENCY = ["budget_completion", "budget_adjustment", "payment_progress", "carryover_rate", "carryover_change",
              "three_public_control", "procurement_execution"]
HEADCOUNT = {"staff_control"}


@dataclass
class Heading:
    text: str
    level: int  # 0 = title, 1 = 一、, 2 = （一）
    lines: tuple[str, ...] | None = None  # how a title breaks on the page


@dataclass
class Para:
    text: str
    kind: str = "body"  # body | subtitle | note | placeholder | item


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    widths: list[float]  # cm
    align: str  # one letter per column: l, c, r
    bold_last: bool = False


@dataclass
class Image:
    path: Path
    caption: str


@dataclass
class Report:
    title: str
    public: bool
    blocks: list = field(default_factory=list)

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)


def tokens_of(fig: Figures) -> dict[str, str]:
    """The `{单位名称}`-style tokens of the department's texts, filled from the warehouse."""
    missing = "（无数据）"
    s = fig.staffing
    return {
        "单位名称": fig.unit_name, "单位编码": fig.unit_code, "年度": str(fig.year),
        "编制数": str(s.authorized) if s and s.authorized is not None else missing,
        "在职人数": str(s.in_service) if s and s.in_service is not None else missing,
        "退休人数": str(s.retired) if s and s.retired is not None else missing,
    }


def _narrative(report: Report, texts: Texts, key: str, fig: Figures, required: bool = True) -> None:
    text = texts.get(key, fig.public)
    if text is None:
        if required:
            report.add(Para(texts.placeholder(key), "placeholder"))
        return
    report.add(*(Para(p) for p in paragraphs(text, tokens_of(fig))))


def _indicator_table(indicators: list[Indicator]) -> Table:
    rows = []
    for i in indicators:
        reason = "；".join(x for x in (i.note, i.reason_zh) if x)
        rows.append([i.level1, i.level2, i.name, i.target_display, i.actual_display,
                     fmt_number(i.weight), fmt_number(i.score), reason])
    return Table(["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因"],
                 rows, [1.8, 2.0, 3.0, 2.0, 2.0, 1.1, 1.1, 3.2], "lllccrrl")


def _common_value(c: CommonIndicator) -> str:
    return fmt_pct(c.rate) if c.value is not None else "—"


def _common_parts(c: CommonIndicator) -> str:
    if c.numerator is None and c.denominator is None:
        return "—"

    def one(x: Decimal | None) -> str:
        if x is None:
            return "—"
        return f"{int(x)}人" if c.code in HEADCOUNT else f"{fmt_wan(x)}万元"

    return f"{one(c.numerator)} / {one(c.denominator)}"


def _common_sentence(items: list[CommonIndicator]) -> str:
    parts = []
    for c in items:
        if c.value is None:
            parts.append(f"{c.name}无法计算（{c.reason or '无数据'}）")
        elif c.meets is None:
            parts.append(f"{c.name}{_common_value(c)}（仅报告，无评价标准）")
        else:
            parts.append(f"{c.name}{_common_value(c)}（标准{c.standard}，{c.verdict}）")
    judged = [c for c in items if c.meets is not None]
    failed = [c.name for c in judged if not c.meets]
    tail = ""
    if judged:
        if failed:
            tail = (f"。有评价标准的{len(judged)}项指标中{len(judged) - len(failed)}项达标，"
                    f"{len(failed)}项未达标：{'、'.join(failed)}")
        else:
            tail = f"。有评价标准的{len(judged)}项指标全部达标"
    return "；".join(parts) + tail + "。"


def _level_scores(indicators: list[Indicator]) -> str:
    levels: dict[str, list[Indicator]] = {}
    for i in sorted(indicators, key=lambda i: level_rank(i.level1, LEVEL1_ORDER)):
        levels.setdefault(i.level1, []).append(i)
    parts = []
    for level, inds in levels.items():
        score = sum((i.score for i in inds if i.score is not None), ZERO)
        weight = sum((i.weight for i in inds if i.weight is not None), ZERO)
        parts.append(f"{level}得分{round2(score):.2f}分（分值{round2(weight):.2f}分）")
    return "，".join(parts)


def _shortfalls(indicators: list[Indicator]) -> list[str]:
    out = []
    for i in indicators:
        if i.score is None:
            out.append(f"{i.name}（指标值或完成值不是数值，需人工评分）")
        elif not i.full_marks:
            text = f"{i.name}（年度指标值{i.target_display}，实际完成{i.actual_display}"
            text += f"；偏差原因：{i.note}）" if i.note else "；未填写偏差原因）"
            out.append(text)
    return out


def build_report(fig: Figures, ev: SelfEvaluation, texts: Texts, charts: dict[str, Path]) -> Report:
    title = f"{fig.unit_name}{TITLE}" + (PUBLIC_SUFFIX if fig.public else "")
    r = Report(title, fig.public)
    r.add(Heading(title, 0, (fig.unit_name, title.removeprefix(fig.unit_name))),
          Para(f"（{fig.year}年度）", "subtitle"))
    if not fig.public:  # difference 1 of 3
        r.add(Para(f"本报告为内部版，含涉密项目数据，不得对外公开；对外公开请使用《{TITLE}{PUBLIC_SUFFIX}》。", "note"))
    if fig.quarantined is not None:  # honest figures: the internal report says what is missing, the public one that
        # the figures are provisional (provisional.py)
        r.add(Para(PROVISIONAL_PUBLIC_NOTE if fig.public else fig.quarantined.paragraph(), "note"))

    # 一、基本情况
    r.add(Heading("一、基本情况", 1), Heading("（一）职能职责", 2))
    _narrative(r, texts, "职能职责", fig)
    r.add(Heading("（二）机构设置", 2))
    _narrative(r, texts, "机构设置", fig)
    s = fig.staffing
    if s is None:
        r.add(Para(f"{fig.year}年人员情况：人员情况表未提供本年度数据。", "note"))
    else:
        r.add(Para(f"{fig.year}年人员情况（人员情况表）：", "item"),
              Table(["编制数（人）", "实有在职人数（人）", "离退休人数（人）"],
                    [[str(x) if x is not None else "—" for x in (s.authorized, s.in_service, s.retired)]],
                    [4.0, 4.0, 4.0], "ccc"))

    # 年度总体目标 (the department's texts): what was planned and what was achieved.
    r.add(Heading("（三）年度总体目标及完成情况", 2), Para("1、年度总体目标：", "item"))
    _narrative(r, texts, "年度总体目标", fig)
    r.add(Para("2、实际完成情况：", "item"))
    _narrative(r, texts, "年度总体目标完成情况", fig)

    # 二、部门整体支出管理和使用基本情况
    # The 自评表's rows: 全年支出 and 预算执行率 are 年度资金总额's (total spending), the parts
    # its 按支出性质分 rows (基本, 项目, and each other type with spending).
    total = ev.total_row
    parts = "，".join(f"{row.label}{fmt_wan(row.spent)}万元" for row in ev.rows if row.group == SPENDING_GROUP)
    r.add(Heading("二、部门整体支出管理和使用基本情况", 1))
    r.add(Para(
        f"{fig.year}年度全年预算数{fmt_wan(total.final)}万元（年初预算数{fmt_wan(total.initial)}万元，"
        f"预算调整数{fmt_wan(total.final - total.initial)}万元），全年支出{fmt_wan(total.spent)}万元，"
        f"预算执行率{fmt_pct(total.rate)}。其中{parts}。"))
    if "class" in charts:
        r.add(Image(charts["class"], "支出按经济分类"))

    r.add(Heading("（一）基本支出", 2))
    r.add(Para(f"基本支出共计{fmt_wan(fig.basic)}万元，按经济分类："))
    n = 0
    for n, cls in enumerate(fig.basic_classes, start=1):
        items = "、".join(f"{i.name}{fmt_wan(i.amount)}万元" for i in cls.items if i.amount != 0)
        r.add(Para(f"{n}、{cls.name}共计{fmt_wan(cls.amount)}万元" + (f"，包括：{items}。" if items else "。"), "item"))
    if fig.basic_gap != 0:
        r.add(Para(f"{n + 1}、未能归入经济分类的基本支出{fmt_wan(fig.basic_gap)}万元。", "item"))
    _narrative(r, texts, "基本支出管理情况", fig, required=False)

    r.add(Heading("（二）项目支出", 2))
    # The undisclosed line (public) goes last, as in the seed, so its rank tells nothing.
    undisclosed = [p for p in fig.projects if p.undisclosed]
    listed = [p for p in fig.projects if not p.undisclosed] + undisclosed
    count = f"共{len(listed) - len(undisclosed)}个项目" + ("及涉密项目" if undisclosed else "")
    r.add(Para(f"1、项目支出情况：{fig.year}年项目支出共计{fmt_wan(fig.project)}万元，"
               f"{count}，按支出金额从大到小列示如下（金额单位：万元）："))
    rows = []
    for k, p in enumerate(listed, start=1):
        if p.undisclosed:  # difference 2 of 3: public, no amounts at all
            rows.append([str(k), p.name, NOT_DISCLOSED, NOT_DISCLOSED, NOT_DISCLOSED])
        else:
            name = p.name + ("（涉密，不予公开）" if p.secret else "")
            rows.append([str(k), name, fmt_wan(p.final), fmt_wan(p.spent), fmt_pct(ratio(p.spent, p.final))])
    if fig.project_gap != 0:
        rows.append([str(len(rows) + 1), "未归入项目清单的项目支出", "—", fmt_wan(fig.project_gap), "—"])
    final_total = sum((p.final for p in listed), ZERO)
    rows.append(["", "合计", fmt_wan(final_total), fmt_wan(fig.project), fmt_pct(ratio(fig.project, final_total))])
    r.add(Table(["序号", "项目名称", "全年预算数", "全年执行数", "执行率"], rows, [1.2, 8.3, 2.4, 2.4, 1.9],
                "clrrr", bold_last=True))
    if undisclosed:  # difference 3 of 3
        r.add(Para(SECRET_NOTE, "note"))
    _narrative(r, texts, "项目支出说明", fig, required=False)
    for key, caption in (("top", "支出最多的十个项目"), ("budget", "项目全年预算数与执行数")):
        if key in charts:
            r.add(Image(charts[key], caption))

    r.add(Heading("（三）项目支出绩效情况", 2))
    dept = fig.department_indicators
    r.add(Para(f"1、部门整体绩效指标（{len(dept)}项）："))
    if dept:
        r.add(_indicator_table(dept))
    else:
        r.add(Para("项目台账未填报部门整体绩效指标。", "note"))
    by_project = fig.project_indicators
    names = {p.code: p.name for p in fig.projects}
    r.add(Para(f"2、项目绩效指标（{len(by_project)}个项目）："))
    for k, (code, inds) in enumerate(by_project.items(), start=1):
        r.add(Para(f"（{k}）{inds[0].project_name or names.get(code, code)}", "item"), _indicator_table(inds))
    if not by_project:
        r.add(Para("项目台账未填报项目绩效指标。", "note"))
    _narrative(r, texts, "项目支出绩效情况", fig, required=False)

    # 三、绩效评价工作情况
    r.add(Heading("三、绩效评价工作情况", 1))
    _narrative(r, texts, "绩效评价工作情况", fig)

    # 四、主要绩效及评价结论
    r.add(Heading("四、主要绩效及评价结论", 1), Heading("（一）自评得分", 2))
    score_text = (
        f"按部门整体支出绩效自评表：预算执行率{fmt_pct(total.rate)}，预算执行得分{fmt_number(ev.budget_score)}分"
        f"（分值{fmt_number(ev.budget_points)}分）；部门整体绩效指标{len(ev.indicators)}项，得分"
        f"{fmt_number(ev.indicator_score)}分（分值{fmt_number(ev.indicator_points)}分）；总分"
        f"{fmt_number(ev.total_score)}分（满分{fmt_number(ev.total_points)}分），评价等级为“{ev.grade}”。")
    if ev.unscored:
        score_text += f"其中{len(ev.unscored)}项指标的指标值或完成值不是数值，未计分，需人工评分。"
    r.add(Para(score_text))
    if "scores" in charts:
        r.add(Image(charts["scores"], "自评得分"))

    r.add(Heading("（二）部门整体支出共性指标", 2))
    rows = [[c.name, _common_value(c), _common_parts(c), c.standard.strip("（）") if c.meets is None else c.standard,
             c.verdict, c.reason or ""] for c in fig.common]
    r.add(Table(["指标", "指标值", "分子 / 分母", "评价标准", "结论", "说明"], rows, [3.2, 1.8, 4.6, 1.9, 1.4, 3.1],
                "lrlccl"))
    r.add(Para("注：指标口径见财预〔2013〕53号附件2；评价标准取自规则文件（rules.toml）；"
               "“仅报告”的指标无评价标准；无法计算的指标在“说明”中写明原因。", "note"))

    r.add(Heading("（三）评价结论", 2))
    by_code = {c.code: c for c in fig.common}
    economy = [by_code[k] for k in ECONOMY if k in by_code]
    efficiency = [by_code[k] for k in EFFICIENCY if k in by_code]
    r.add(Para(f"1、经济性分析：本年度“三公经费”支出{fmt_wan(fig.three_public)}万元；"
               + (_common_sentence(economy) if economy else "无共性指标数据。"), "item"))
    r.add(Para("2、效率性分析：" + (_common_sentence(efficiency) if efficiency else "无共性指标数据。"), "item"))
    if dept:
        full = sum(1 for i in dept if i.full_marks)
        text = (f"3、效益性分析：部门整体绩效指标共{len(dept)}项，{full}项达到年度指标值并得满分；"
                f"{_level_scores(dept)}。")
        short = _shortfalls(dept)
        if short:
            text += f"未完全达到年度指标值的{len(short)}项：" + "；".join(short) + "。"
    else:
        text = "3、效益性分析：项目台账未填报部门整体绩效指标，无法据以分析。"
    project_inds = [i for inds in by_project.values() for i in inds]
    if project_inds:
        short = _shortfalls(project_inds)
        text += (f"项目绩效指标共{len(project_inds)}项，{len(project_inds) - len(short)}项得满分"
                 + (f"；未完全达到的{len(short)}项：" + "；".join(short) + "。" if short else "。"))
    r.add(Para(text, "item"))
    _narrative(r, texts, "评价结论补充", fig, required=False)

    # 五、存在的问题和建议
    r.add(Heading("五、存在的问题和建议", 1))
    _narrative(r, texts, "存在的问题和建议", fig)

    source = texts.shown_path if texts.exists else f"{texts.shown_path}（文件不存在）"
    r.add(Para(f"本报告的数据由 fiscal-warehouse 根据财务核算、预算指标、项目台账、政府采购和人员情况数据生成"
               f"（单位{fig.unit_code}，{fig.year}年度），金额按元汇总后折算为万元并四舍五入保留两位小数；"
               f"叙述部分取自单位填写的 {source}。", "note"))
    return r

