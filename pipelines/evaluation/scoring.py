"""The self-evaluation table's arithmetic (domain.md, "The self-evaluation table").

Budget execution: 执行率 = 全年执行数 / 全年预算数, 得分 = min(执行率, 1) × 分值 (the
`预算执行` points of the rules file). Indicator scores come from the
`performance_indicators` mart (department level, project_code NULL). Every score is kept
exact and rounded to two decimals only when shown; the total is the exact sum rounded
once, so it may differ from the sum of the shown scores by 0.01 (stated on the table).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipelines.evaluation.figures import ZERO, Figures, Indicator, ratio
from pipelines.evaluation.rules import Rules


@dataclass(frozen=True)
class BudgetRow:
    group: str  # 年度资金总额 | 按收入性质分 | 按支出性质分
    label: str
    initial: Decimal
    final: Decimal
    spent: Decimal

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.spent, self.final)


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

    @property
    def total_row(self) -> BudgetRow:
        return self.rows[0]


def budget_score(rate: Decimal | None, points: Decimal) -> Decimal | None:
    """得分 = min(执行率, 1) × 分值; None when there is no final budget to rate against."""
    if rate is None:
        return None
    return min(rate, Decimal(1)) * points


def grade_of(score: Decimal, rules: Rules) -> str:
    return rules.grade(float(score))


def evaluate(fig: Figures, rules: Rules) -> SelfEvaluation:
    # Budget execution counts 基本 + 项目 spending only (BUDGETED_TYPES): the other types
    # have no budget and are not in the 预算完成率 numerator (contract 2.1).
    def amounts(**where) -> tuple[Decimal, Decimal, Decimal]:
        return tuple(fig.budget_sum(a, budgeted_only=True, **where) for a in ("initial", "final", "spent"))

    total = BudgetRow("年度资金总额", "年度资金总额", *amounts())
    rows = [total]
    for fund in fig.fund_sources:
        rows.append(BudgetRow("按收入性质分", fund, *amounts(fund_source=fund)))
    for kind in ("基本支出", "项目支出"):
        rows.append(BudgetRow("按支出性质分", kind, fig.budget_sum("initial", kind), fig.budget_sum("final", kind),
                              fig.budget_sum("spent", kind)))

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
    )
