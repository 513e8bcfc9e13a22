"""The self-evaluation table's arithmetic (domain.md, "The self-evaluation table").

Budget execution: 执行率 = 全年执行数 / 全年预算数, 得分 = min(执行率, 1) × 分值 (the
`预算执行` points of the rules file). Indicator scores come from the
`performance_indicators` mart (department level, project_code NULL). Every score is kept
exact and rounded to two decimals only when shown; the total is the exact sum rounded
once, so it may differ from the sum of the shown scores by 0.01 (stated on the table).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from pipelines.evaluation.figures import BASIC_AND_PROJECT, Figures, Indicator
from pipelines.evaluation.numbers import ZERO, ratio, round2
from pipelines.evaluation.rules import Rules


@dataclass(frozen=True)
class BudgetRow:
    group: str  # 年度资金总额 | 按资金来源分 (the rules file's funding rows) | 按支出性质分 (SPENDING_GROUP)
    label: str
    initial: Decimal
    final: Decimal
    spent: Decimal

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.spent, self.final)


@dataclass(frozen=True)
class ProjectEvaluation:
    """One project's 项目支出绩效自评表 (财预〔2020〕10号 附件): its funding block, 年度总体目标,
    indicators and score. Plain data: rendered in a worker process (project_table.py)."""

    code: str
    name: str
    secret: bool
    rows: list[BudgetRow]  # 年度资金总额, then the funding rows
    budget_points: Decimal
    budget_score: Decimal | None
    goal: str | None
    goal_result: str | None
    indicators: list[Indicator]
    indicator_points: Decimal
    indicator_score: Decimal
    total_points: Decimal
    total_score: Decimal
    grade: str
    office: str | None

    @property
    def total_row(self) -> BudgetRow:
        return self.rows[0]


@dataclass(frozen=True)
class SelfEvaluation:
    rows: list[BudgetRow]
    budget_points: Decimal
    budget_score: Decimal | None
    indicators: list[Indicator]
    indicator_points: Decimal
    indicator_score: Decimal
    unscored: list[Indicator]
    total_points: Decimal
    total_score: Decimal
    grade: str
    projects: list[ProjectEvaluation] = field(default_factory=list)

    @property
    def total_row(self) -> BudgetRow:
        return self.rows[0]


def budget_score(rate: Decimal | None, points: Decimal) -> Decimal | None:
    """得分 = min(执行率, 1) × 分值; None when there is no final budget to rate against."""
    if rate is None:
        return None
    return min(rate, Decimal(1)) * points


def grade_of(score: Decimal, rules: Rules) -> str:
    """The grade of a total as the tables show it (two decimals): 89.998 shows as 90.00 and is 优."""
    return rules.grade(float(round2(score)))


FUNDING_GROUP = "按资金来源分"
SPENDING_GROUP = "按支出性质分"
NO_INDICATORS_GRADE = "未评级（项目台账未填报绩效指标）"
UNASSIGNED = "未归入资金来源行的资金"


def funding_rows(fig: Figures, rules: Rules) -> list[BudgetRow]:
    """The department's funding rows (allocate_funding) of every budget line and of total
    spending by fund source: the other types' spending has a fund source too, so the rows
    add up to 年度资金总额."""
    lines = [(b.fund_source, b.budget_kind, b.amount) for b in fig.budget_by_kind]
    spent: dict[str, Decimal] = {}
    for b in fig.budget:
        spent[b.fund_source] = spent.get(b.fund_source, ZERO) + b.spent
    return allocate_funding(rules, lines, spent)


def spending_rows(fig: Figures) -> list[BudgetRow]:
    """按支出性质分: 基本支出 and 项目支出, then each other type (经营支出, 上缴上级支出 …) that
    has spending, with no budget (budget lines are 基本 or 项目), so that the rows add up to
    年度资金总额 (basic + project + the other types = total, contract 2.1)."""
    kinds = [*BASIC_AND_PROJECT, *(t for t, spent in fig.other_by_type.items() if spent != 0)]
    return [BudgetRow(SPENDING_GROUP, kind, fig.budget_sum("initial", kind), fig.budget_sum("final", kind),
                      fig.budget_sum("spent", kind)) for kind in kinds]


def allocate_funding(rules: Rules, lines: Iterable[tuple[str, str, Decimal]],
                     spent_by_fund: dict[str, Decimal]) -> list[BudgetRow]:
    """The funding rows of the rules file (default 财预〔2020〕10号: 本年财政拨款 /
    上年结转资金 / 其他资金) from budget lines (fund source, kind, amount) and spending by fund
    source. A budget line goes to the first row that takes its fund source and kind;
    spending, which has no kind, goes first to the `spent_first` rows up to their final
    budget per fund source, then to the first other row that takes its fund source
    (rules.FundingRow). What no row takes gets a row of its own, so the rows always add
    up to 年度资金总额."""
    labels = [r.label for r in rules.funding_rows]
    initial = {label: ZERO for label in labels + [UNASSIGNED]}
    final = dict(initial)
    spent = dict(initial)
    final_by_fund: dict[tuple[str, str], Decimal] = {}
    for fund, kind, amount in lines:
        row = next((r for r in rules.funding_rows if r.takes(fund, kind)), None)
        label = row.label if row else UNASSIGNED
        final[label] += amount
        if kind == "年初预算":
            initial[label] += amount
        final_by_fund[label, fund] = final_by_fund.get((label, fund), ZERO) + amount
    pools = dict(spent_by_fund)
    for row in (r for r in rules.funding_rows if r.spent_first):
        for fund, left in pools.items():
            take = min(left, max(final_by_fund.get((row.label, fund), ZERO), ZERO))
            if take > 0 and row.takes(fund):
                spent[row.label] += take
                pools[fund] -= take
    for row in (r for r in rules.funding_rows if not r.spent_first):
        for fund, left in pools.items():
            if left != 0 and row.takes(fund):
                spent[row.label] += left
                pools[fund] = ZERO
    spent[UNASSIGNED] += sum(pools.values(), ZERO)
    rows = [BudgetRow(FUNDING_GROUP, label, initial[label], final[label], spent[label]) for label in labels]
    if initial[UNASSIGNED] or final[UNASSIGNED] or spent[UNASSIGNED]:
        rows.append(BudgetRow(FUNDING_GROUP, UNASSIGNED, initial[UNASSIGNED], final[UNASSIGNED], spent[UNASSIGNED]))
    return rows


def evaluate_projects(fig: Figures, rules: Rules) -> list[ProjectEvaluation]:
    """Every project's self-evaluation, scored as 财预〔2020〕10号 scores a project: 预算执行
    (the rules file's points) × min(执行率, 1), plus its indicators' scores from the
    performance_indicators mart (产出/效益/满意度 points shared per project, over-achievement
    capped by the rules file)."""
    points = Decimal(str(rules.points["预算执行"]))
    indicators = fig.project_indicators
    out = []
    for p in fig.all_projects:
        info = fig.project_info.get(p.code)
        lines = [(b.fund_source, b.budget_kind, b.amount) for b in fig.budget_by_kind if b.project_code == p.code]
        spent = dict(info.spent_by_fund) if info else {}
        total = BudgetRow("年度资金总额", "年度资金总额", p.initial, p.final, p.spent)
        b_score = budget_score(total.rate, points)
        inds = indicators.get(p.code, [])
        ind_points = sum((i.weight for i in inds if i.weight is not None), ZERO)
        ind_score = sum((i.score for i in inds if i.score is not None), ZERO)
        score = (b_score or ZERO) + ind_score
        if inds:
            # Graded on the total shown, as the department is (domain.md: ≥ 90 优 … on the
            # total), also when the ledger sets points for part of the 90 only.
            grade = grade_of(score, rules)
        else:  # nothing to score the project's performance on: its points stay in the total, and no grade
            ind_points = sum((Decimal(str(rules.points[k])) for k in ("产出指标", "效益指标", "满意度指标")), ZERO)
            grade = NO_INDICATORS_GRADE
        out.append(ProjectEvaluation(
            p.code, p.name, p.secret, [total, *allocate_funding(rules, lines, spent)], points, b_score,
            info.goal if info else None, info.goal_result if info else None, inds, ind_points, ind_score,
            points + ind_points, score, grade, info.office if info else None))
    return out


def evaluate(fig: Figures, rules: Rules) -> SelfEvaluation:
    # 年度资金总额's 全年执行数 is total spending (支出合计, every 7xxx line, contract 3), the
    # other types' included, so 执行率 and the budget-execution score are 预算完成率's.
    total = BudgetRow("年度资金总额", "年度资金总额", *(fig.budget_sum(a) for a in ("initial", "final", "spent")))
    rows = [total, *funding_rows(fig, rules), *spending_rows(fig)]

    points = Decimal(str(rules.points["预算执行"]))
    b_score = budget_score(total.rate, points)
    indicators = fig.department_indicators
    ind_points = sum((i.weight for i in indicators if i.weight is not None), ZERO)
    ind_score = sum((i.score for i in indicators if i.score is not None), ZERO)
    unscored = [i for i in indicators if i.score is None]
    total_score = (b_score or ZERO) + ind_score
    return SelfEvaluation(
        rows=rows, budget_points=points, budget_score=b_score, indicators=indicators,
        indicator_points=ind_points, indicator_score=ind_score, unscored=unscored,
        total_points=points + ind_points, total_score=total_score, grade=grade_of(total_score, rules),
        projects=evaluate_projects(fig, rules),
    )
