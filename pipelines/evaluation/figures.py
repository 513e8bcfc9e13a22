"""Every figure of one unit-year's self-evaluation, read from the warehouse.

A handful of small queries, each filtered on (unit_code, fiscal_year), over the built
marts (`build.*` for the internal version, `build_public.*` for the public one),
`core.fact_staffing` and `core.dim_unit_year`. Sums are done in SQL on DECIMAL columns;
Python only arranges the few dozen mart rows. Money stays `Decimal` yuan here; it becomes
万元 (two decimals, half-up) only when printed, through `to_wan` / `fmt_wan`, so every
printed figure is the exact yuan sum rounded once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

from pipelines.evaluation.numbers import ZERO, dec, ratio, round2
from pipelines.evaluation.provisional import read_quarantined
from pipelines.quality.tieouts import scope_tie_out_failures, tie_out_failures

UNDISCLOSED = "UNDISCLOSED"
UNDISCLOSED_LABEL = "涉密项目（不予公开）"

# Fund sources in the order the provincial tables list them; others follow by name.
FUND_ORDER = ["一般公共预算", "政府性基金预算", "国有资本经营预算", "财政专户管理资金", "单位资金"]
NO_FUND = "未注明资金性质"

# The spending types of contract 2.1: 基本 and 项目 (on 7101/7201, the only ones budget lines
# have), then the other types in the order of their accounts (7301 … 7901). Total spending
# (支出合计) is all of them; it is what budget execution measures against the final budget.
BASIC_AND_PROJECT = ("基本支出", "项目支出")
OTHER_TYPES = ("经营支出", "上缴上级支出", "对附属单位补助支出", "投资支出", "债务还本支出", "其他支出")

# Ranking of indicator levels (matched by substring, as the ledger spells them loosely).
LEVEL1_ORDER = ["产出", "效益", "满意"]
LEVEL2_ORDER = ["数量", "质量", "时效", "成本", "经济", "社会", "生态", "可持续", "满意"]


def level_rank(text: str | None, order: list[str]) -> int:
    for i, key in enumerate(order):
        if text and key in text:
            return i
    return len(order)


# ---------------------------------------------------------------- the figures


@dataclass(frozen=True)
class BudgetLine:
    spending_type: str
    fund_source: str
    initial: Decimal
    final: Decimal
    spent: Decimal


@dataclass(frozen=True)
class BudgetKindLine:
    """Budget lines of one spending type, fund source and kind (for the funding rows)."""

    spending_type: str
    fund_source: str
    budget_kind: str
    amount: Decimal
    project_code: str | None = None


@dataclass(frozen=True)
class ProjectInfo:
    """What a project's own 自评表 needs beyond its amounts: from the ledger (core.dim_project
    and the 项目 sheet's optional 年度总体目标 / 实际完成情况), and its spending by fund source."""

    office: str | None
    goal: str | None
    goal_result: str | None
    spent_by_fund: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True)
class Item:
    """An economic 款 (5 digits) inside a 类."""

    code: str
    name: str
    amount: Decimal


@dataclass
class EconClass:
    """Spending of one economic 类 (3 digits), with its 款 items, largest first."""

    code: str
    name: str
    amount: Decimal
    items: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class ClassByType:
    code: str
    name: str
    spending_type: str
    amount: Decimal


@dataclass(frozen=True)
class Project:
    code: str
    name: str
    category: str | None
    is_key: bool | None
    disclosure: str | None
    initial: Decimal
    final: Decimal
    spent: Decimal

    @property
    def undisclosed(self) -> bool:
        return self.code == UNDISCLOSED

    @property
    def secret(self) -> bool:
        return self.disclosure == "涉密"


# A target that says its own direction: the words staging reads a direction from at its
# start (sql/staging/ledger_indicators.sql), or 以上/以下/以内 at its end.
_STATES_DIRECTION = re.compile(r"^\s*(≥|>|大于|不低于|不少于|≧|≤|<|小于|不高于|不多于|不超过|≦|=)|(以上|以下|以内)\s*$")


def _with_unit(text: str, unit: str | None) -> str:
    """A target's or actual's text with its 计量单位, unless the text already ends with it
    (`95%`, `95%以上`)."""
    if not unit or re.search(re.escape(unit) + r"\s*(以上|以下|以内)?\s*$", text):
        return text
    return f"{text}{unit}"


@dataclass(frozen=True)
class Indicator:
    project_code: str | None
    project_name: str | None
    level1: str
    level2: str
    name: str
    measure_unit: str | None
    direction: str | None
    target_text: str | None
    actual_text: str | None
    weight: Decimal | None
    score: Decimal | None
    note: str | None
    reason: str | None

    @property
    def target_display(self) -> str:
        """指标方向, target and 计量单位 as one text (`≥95%`). A ledger often writes the target
        as it reads (`≥95%`, `95%以上`): its direction and unit are not added again, and a
        target without a number (`按期完成`) has none."""
        if self.target_text is None:
            return ""
        # A qualitative target (按期完成) reads without a sign: its direction is only a default.
        stated = _STATES_DIRECTION.search(self.target_text) or not any(c.isdigit() for c in self.target_text)
        direction = "" if stated else (self.direction or "")
        return f"{direction}{_with_unit(self.target_text, self.measure_unit)}"

    @property
    def actual_display(self) -> str:
        if self.actual_text is None:
            return ""
        return _with_unit(self.actual_text, self.measure_unit)

    @property
    def reason_zh(self) -> str | None:
        """The mart's reason as the tables show it: its Chinese part (before ` / `)."""
        return self.reason.split(" / ")[0] if self.reason else None

    @property
    def full_marks(self) -> bool:
        return self.score is not None and self.weight is not None and round2(self.score) >= round2(self.weight)


@dataclass(frozen=True)
class CommonIndicator:
    code: str
    name: str
    value: float | None
    numerator: Decimal | None
    denominator: Decimal | None
    formula: str
    standard: str
    meets: bool | None
    reason: str | None

    @property
    def rate(self) -> Decimal | None:
        """The value as an exact ratio of the mart's numerator and denominator."""
        if self.value is None:
            return None
        return ratio(self.numerator, self.denominator)

    @property
    def verdict(self) -> str:
        """达标 / 未达标 against the standard; 仅报告 without one; 无法计算 without a value."""
        if self.value is None:
            return "无法计算"
        if self.meets is None:
            return "仅报告"
        return "达标" if self.meets else "未达标"


@dataclass(frozen=True)
class Staffing:
    authorized: int | None
    in_service: int | None
    retired: int | None


@dataclass
class Figures:
    unit_code: str
    unit_name: str
    year: int
    public: bool
    budget: list[BudgetLine]
    basic_classes: list[EconClass]
    classes_by_type: list[ClassByType]
    basic: Decimal
    project: Decimal
    total: Decimal
    three_public: Decimal
    projects: list[Project]
    indicators: list[Indicator]
    common: list[CommonIndicator]
    staffing: Staffing | None
    warnings: list[str] = field(default_factory=list)
    budget_by_kind: list[BudgetKindLine] = field(default_factory=list)  # basic and every project's
    project_info: dict[str, ProjectInfo] = field(default_factory=dict)  # of all_projects
    all_projects: list[Project] = field(default_factory=list)  # also those without money (not UNDISCLOSED)
    # Rows of this unit-year left in quarantine (provisional.py): the outputs say so.
    quarantined: object | None = None  # provisional.Quarantined

    # --- budget totals (yuan)
    def budget_sum(self, attr: str, spending_type: str | None = None, fund_source: str | None = None) -> Decimal:
        return sum(
            (getattr(b, attr) for b in self.budget
             if (spending_type is None or b.spending_type == spending_type)
             and (fund_source is None or b.fund_source == fund_source)),
            ZERO,
        )

    @property
    def other(self) -> Decimal:
        """Spending of the other types (经营支出, 上缴上级支出 …): total − basic − project."""
        return self.total - self.basic - self.project

    @property
    def other_by_type(self) -> dict[str, Decimal]:
        """Spending of each other type (contract 2.1) that has budget_execution rows, in the
        order of their accounts (a type the list does not know last, by name)."""
        out: dict[str, Decimal] = {}
        for b in self.budget:
            if b.spending_type not in BASIC_AND_PROJECT:
                out[b.spending_type] = out.get(b.spending_type, ZERO) + b.spent
        rank = {t: i for i, t in enumerate(OTHER_TYPES)}
        return dict(sorted(out.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))

    @property
    def fund_sources(self) -> list[str]:
        present = {b.fund_source for b in self.budget}
        known = [f for f in FUND_ORDER if f in present]
        return known + sorted(present - set(FUND_ORDER) - {NO_FUND}) + ([NO_FUND] if NO_FUND in present else [])

    @property
    def department_indicators(self) -> list[Indicator]:
        return [i for i in self.indicators if i.project_code is None]

    @property
    def project_indicators(self) -> dict[str, list[Indicator]]:
        grouped: dict[str, list[Indicator]] = {}
        for i in self.indicators:
            if i.project_code is not None:
                grouped.setdefault(i.project_code, []).append(i)
        return grouped

    @property
    def projects_listed_total(self) -> Decimal:
        return sum((p.spent for p in self.projects), ZERO)

    @property
    def project_gap(self) -> Decimal:
        """Project spending not carried by any project row (shown as its own line, never absorbed)."""
        return self.project - self.projects_listed_total

    @property
    def basic_gap(self) -> Decimal:
        return self.basic - sum((c.amount for c in self.basic_classes), ZERO)


class NoSuchUnitYear(LookupError):
    pass


# The queries below filter on the unit-year with markers: $WHERE$ (or $WHERE:i$ for the
# columns of alias i), and put the unit-year's columns first where $KEY$ ($KEY:i$) stands, in
# the select list, a GROUP BY and an ORDER BY. For one unit-year they become
# `unit_code = ? AND fiscal_year = ?` and nothing; for a scope (ScopeRows) the filter is
# the scope's list and the rows come keyed, so that each query runs once for all of it.
_MARK = re.compile(r"\$(KEY|WHERE)(?::(\w+))?\$")
_IN_SCOPE = "({a}unit_code, {a}fiscal_year) IN (SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[]))"


def _query(sql: str, keyed: bool) -> tuple[str, int]:
    """The SQL with its markers replaced, and how many filters (each takes two parameters)."""
    def replace(match: re.Match) -> str:
        alias = f"{match[2]}." if match[2] else ""
        if match[1] == "WHERE":
            return _IN_SCOPE.format(a=alias) if keyed else f"{alias}unit_code = ? AND {alias}fiscal_year = ?"
        return f"{alias}unit_code, {alias}fiscal_year," if keyed else ""

    return _MARK.sub(replace, sql), sql.count("$WHERE")


class UnitYearRows:
    """The rows of read_figures' queries for one unit-year, a query at a time. What does not
    depend on the audience (the quarantine, the tie-out failures) is read once a unit-year:
    read_figures runs for the internal and the public figures with the same source."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.per_unit_year: dict[tuple[str, int], dict[str, object]] = {}  # unit-year -> what -> rows

    def rows(self, sql: str, key: tuple[str, int]) -> list[tuple]:
        text, filters = _query(sql, keyed=False)
        return self.con.execute(text, list(key) * filters).fetchall()

    def _once(self, what: str, key: tuple[str, int], read):
        kept = self.per_unit_year.setdefault(key, {})
        if what not in kept:
            kept[what] = read(self.con, *key)
        return kept[what]

    def quarantined(self, key: tuple[str, int]):
        return self._once("quarantined", key, read_quarantined)

    def tie_out_failures(self, key: tuple[str, int]) -> list[tuple]:
        return self._once("tie_out_failures", key, tie_out_failures)


class ScopeRows(UnitYearRows):
    """The rows of read_figures' queries for every unit-year of a scope: each query runs once
    for the whole scope (a query's fixed cost, about 2 ms of CPU, was paid 26 times a
    unit-year), its rows kept by unit-year in their order; the quarantine once a unit-year."""

    def __init__(self, con: duckdb.DuckDBPyConnection, scope: list[tuple[str, int]]):
        super().__init__(con)
        self.units = [unit for unit, _ in scope]
        self.years = [int(year) for _, year in scope]
        self.cache: dict[str, dict[tuple[str, int], list[tuple]]] = {}
        self.quarantined_units: set[str] | None = None  # units of the scope with any row in quarantine
        self.tie_outs: dict[tuple[str, int], list[tuple]] | None = None  # the scope's failing tie-outs

    def rows(self, sql: str, key: tuple[str, int]) -> list[tuple]:
        if sql not in self.cache:
            text, filters = _query(sql, keyed=True)
            by_key: dict[tuple[str, int], list[tuple]] = {}
            for row in self.con.execute(text, [self.units, self.years] * filters).fetchall():
                by_key.setdefault((row[0], int(row[1])), []).append(row[2:])
            self.cache[sql] = by_key
        return self.cache[sql].get((key[0], int(key[1])), [])

    def quarantined(self, key: tuple[str, int]):
        if self.quarantined_units is None:  # a unit without quarantined rows has none in any year
            self.quarantined_units = {unit for (unit,) in self.con.execute(
                "SELECT DISTINCT unit_code FROM quarantine WHERE unit_code IN (SELECT unnest(?::VARCHAR[]))",
                [self.units]).fetchall()}
        if key[0] not in self.quarantined_units:
            return None
        return super().quarantined(key)

    def tie_out_failures(self, key: tuple[str, int]) -> list[tuple]:
        if self.tie_outs is None:
            self.tie_outs = scope_tie_out_failures(self.con, list(zip(self.units, self.years)))
        return self.tie_outs.get((key[0], int(key[1])), [])

    def forget(self, key: tuple[str, int]) -> None:
        """Drop a unit-year's rows once gathered (a county's scope is hundreds)."""
        for by_key in self.cache.values():
            by_key.pop(key, None)
        if self.tie_outs is not None:
            self.tie_outs.pop((key[0], int(key[1])), None)
        self.per_unit_year.pop(key, None)


def read_figures(con: duckdb.DuckDBPyConnection, unit_code: str, year: int, public: bool = False,
                 source: UnitYearRows | None = None) -> Figures:
    """The figures of one unit-year; `public` reads the redacted `build_public` marts.
    `source` (a ScopeRows) reads them for a whole scope at once."""
    schema = "build_public" if public else "build"
    key = (unit_code, int(year))
    source = source or UnitYearRows(con)

    def _rows(sql: str) -> list[tuple]:
        return source.rows(sql, key)

    unit = _rows("SELECT $KEY$ unit_name FROM core.dim_unit_year WHERE $WHERE$")
    if not unit:
        raise NoSuchUnitYear(f"unit {unit_code} has no year {year} in the warehouse")
    unit_name = unit[0][0] or unit_code

    budget = [
        BudgetLine(t, f or NO_FUND, i, fi, s)
        for t, f, i, fi, s in _rows(f"""
            SELECT $KEY$ spending_type, fund_source,
                   sum(budget_initial_yuan), sum(budget_final_yuan), sum(spent_yuan)
            FROM {schema}.budget_execution WHERE $WHERE$
            GROUP BY ALL ORDER BY $KEY$ spending_type, fund_source""")
    ]

    # Basic spending by 类 and 款, and all spending by 类 × type (for the chart).
    basic_classes: dict[str, EconClass] = {}
    for l1, l1_name, code, name, amount in _rows(f"""
            SELECT $KEY$ econ_l1_code, any_value(econ_l1_name), econ_code, any_value(econ_name),
                   sum(amount_yuan) AS amount
            FROM {schema}.spending_by_category WHERE $WHERE$ AND spending_type = '基本支出'
            GROUP BY $KEY$ econ_l1_code, econ_code ORDER BY $KEY$ econ_l1_code, amount DESC, econ_code"""):
        cls = basic_classes.setdefault(l1, EconClass(l1, l1_name or f"经济分类{l1}", ZERO))
        cls.amount += amount
        cls.items.append(Item(code, name or f"经济分类{code}", amount))
    classes_by_type = [
        ClassByType(code, name or f"经济分类{code}", t, amount)
        for code, name, t, amount in _rows(f"""
            SELECT $KEY$ econ_l1_code, any_value(econ_l1_name), spending_type, sum(amount_yuan)
            FROM {schema}.spending_by_category WHERE $WHERE$
            GROUP BY $KEY$ econ_l1_code, spending_type ORDER BY $KEY$ econ_l1_code, spending_type""")
    ]

    totals = _rows(f"""
        SELECT $KEY$ basic_yuan, project_yuan, total_yuan, three_public_yuan
        FROM {schema}.spending_by_year WHERE $WHERE$""")
    basic, project, total, three_public = totals[0] if totals else (ZERO, ZERO, ZERO, ZERO)

    projects = [
        Project(*row)
        for row in _rows(f"""
            SELECT $KEY$ project_code, CASE WHEN project_code = '{UNDISCLOSED}' THEN '{UNDISCLOSED_LABEL}'
                                      ELSE coalesce(project_name, project_code) END,
                   category, is_key, disclosure, budget_initial_yuan, budget_final_yuan, spent_yuan
            FROM {schema}.spending_by_project WHERE $WHERE$
            ORDER BY $KEY$ spent_yuan DESC, budget_final_yuan DESC, project_code""")
    ]
    # Every project has its own 自评表 (a ledger row is enough); the report lists those with money.
    all_projects = [p for p in projects if not p.undisclosed]
    projects = [p for p in projects if p.spent != 0 or p.final != 0 or p.initial != 0]

    # Indicators in the ledger's own order within their levels (core.fact_indicators
    # keeps the ledger row; the mart does not).
    indicator_rows = _rows(f"""
        WITH ledger AS (
            SELECT unit_code, fiscal_year, project_code, level1, level2, name, min(source_file) AS source_file,
                   min(source_row) AS source_row
            FROM core.fact_indicators WHERE $WHERE$ GROUP BY ALL
        )
        SELECT $KEY:i$ i.project_code, p.project_name, i.level1, i.level2, i.name, i.measure_unit, i.direction,
               i.target_text, i.actual_text, i.weight, i.score, i.note, i.reason
        FROM {schema}.performance_indicators i
        LEFT JOIN ledger l ON l.unit_code = i.unit_code AND l.fiscal_year = i.fiscal_year
             AND l.project_code IS NOT DISTINCT FROM i.project_code
             AND l.level1 = i.level1 AND l.level2 = i.level2 AND l.name = i.name
        LEFT JOIN {schema}.spending_by_project p
             ON p.unit_code = i.unit_code AND p.fiscal_year = i.fiscal_year AND p.project_code = i.project_code
        WHERE $WHERE:i$
        ORDER BY $KEY:i$ l.source_file NULLS LAST, l.source_row NULLS LAST, i.name""")
    indicators = [
        Indicator(pc, pn, l1 or "", l2 or "", name, mu, direction, tt, at, dec(w), dec(s), note or None, reason)
        for pc, pn, l1, l2, name, mu, direction, tt, at, w, s, note, reason in indicator_rows
    ]
    project_rank = {p.code: i for i, p in enumerate(projects)}
    # Stable sort keeps the ledger order inside each level.
    indicators.sort(key=lambda i: (
        i.project_code is not None, project_rank.get(i.project_code, len(project_rank)), i.project_code or "",
        level_rank(i.level1, LEVEL1_ORDER), level_rank(i.level2, LEVEL2_ORDER),
    ))

    common = [
        CommonIndicator(*row)
        for row in _rows(f"""
            SELECT $KEY$ indicator_code, indicator_name, value, numerator, denominator, formula, standard,
                   meets_standard, nullif(reason, '')
            FROM {schema}.evaluation_indicators WHERE $WHERE$ ORDER BY $KEY$ indicator_order""")
    ]

    staff = _rows("SELECT $KEY$ authorized, in_service, retired FROM core.fact_staffing WHERE $WHERE$")
    staffing = Staffing(*staff[0]) if staff else None

    fig = Figures(unit_code, unit_name, year, public, budget, list(basic_classes.values()), classes_by_type,
                  basic, project, total, three_public, projects, indicators, common, staffing)
    fig.all_projects = all_projects
    listed = {p.code for p in all_projects}  # the public figures list no 涉密 code
    fig.budget_by_kind = [
        BudgetKindLine(t, f or NO_FUND, k, amount, p if p in listed else None)
        for t, f, k, p, amount in _rows("""
            SELECT $KEY$ spending_type, fund_source, budget_kind, project_code, sum(amount) FROM core.fact_budget
            WHERE $WHERE$ GROUP BY ALL ORDER BY ALL""")
    ]
    by_fund: dict[str, list[tuple[str, Decimal]]] = {}
    for code, fund, amount in _rows("""
            SELECT $KEY$ project_code, fund_source, sum(amount) FROM core.fact_spending
            WHERE $WHERE$ AND spending_type = '项目支出' GROUP BY ALL ORDER BY ALL"""):
        if code in listed:
            by_fund.setdefault(code, []).append((fund or NO_FUND, amount))
    # The ledger's latest row of the project that year (as core.dim_project takes its name).
    for code, office, goal, goal_result in _rows("""
            SELECT $KEY:d$ d.project_code, d.office, arg_max(l.goal, l.source_row), arg_max(l.goal_result, l.source_row)
            FROM core.dim_project d
            LEFT JOIN staging.ledger_projects l
              ON l.unit_code = d.unit_code AND l.fiscal_year = d.fiscal_year AND l.project_code = d.project_code
             AND l.reject_code IS NULL
             AND EXISTS (SELECT 1 FROM meta.slices a WHERE a.source_id = l.source_id AND a.unit_code = l.unit_code
                         AND a.fiscal_year = l.fiscal_year AND a.status = 'active')
            WHERE $WHERE:d$ GROUP BY ALL"""):
        if code in listed:
            fig.project_info[code] = ProjectInfo(office, goal, goal_result, tuple(by_fund.get(code, ())))
    fig.quarantined = source.quarantined(key)
    _tie_out(source, key, fig)
    return fig


def _tie_out(source: UnitYearRows, key: tuple[str, int], fig: Figures) -> None:
    """Totals must agree across marts: a failure of the catalogue's mart tie-out rules (the
    ones a load withholds a unit-year on: internal marts against the facts, public against
    internal) for this unit-year is reported; the report still shows a gap as its own line."""
    for rule_id, field_name, provided, expected, difference in source.tie_out_failures(key):
        fig.warnings.append(f"{rule_id}: {field_name} {provided} ≠ {expected} (difference {difference})")
