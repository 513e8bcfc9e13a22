"""Header rows: which kind of export a table is, and which column means what.

The departments' systems label the same field in several ways (contract section 2);
every alias maps to one canonical column name. A file's kind is recognised from its
header row alone, never from its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from pipelines.landing.money import MONEY_WORD, money_factor

# Canonical column -> the header texts that mean it, per kind. Order matters only for
# readability; matching is on the normalised header text.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "voucher_lines": {
        "unit_code": ("单位编码", "单位代码", "预算单位编码"),
        "unit_name": ("单位名称", "预算单位名称"),
        "voucher_date": ("凭证日期", "记账日期", "日期", "制单日期"),
        "voucher_no": ("凭证号", "凭证字号", "凭证编号"),
        "line_no": ("分录号", "序号", "行号"),
        "summary": ("摘要",),
        "account_code": ("科目编码", "会计科目编码", "科目代码"),
        "account_name": ("科目名称", "会计科目", "会计科目名称"),
        "debit": ("借方金额", "借方", "借方发生额"),
        "credit": ("贷方金额", "贷方", "贷方发生额"),
        "func_class": ("功能分类", "支出功能分类", "功能科目", "支出功能分类科目"),
        "econ_class": ("经济分类", "部门经济分类", "支出经济分类", "部门预算支出经济分类"),
        "project_code": ("项目", "项目编码", "项目代码"),
        "fund_source": ("资金性质", "资金来源"),
        "payment_method": ("支付方式",),
    },
    "budget_lines": {
        "unit_code": ("单位编码", "单位代码", "预算单位编码"),
        "unit_name": ("单位名称", "预算单位名称"),
        "fiscal_year": ("年度", "预算年度"),
        "doc_no": ("指标文号", "文号"),
        "budget_kind": ("指标类型", "指标类别"),
        "func_class": ("功能分类", "支出功能分类", "功能科目"),
        "econ_class": ("经济分类", "部门经济分类", "支出经济分类"),
        "project_code": ("项目编码", "项目", "项目代码"),
        "fund_source": ("资金性质", "资金来源"),
        "amount": ("金额", "指标金额"),
        "procurement_amount": ("政府采购预算", "政府采购金额", "采购预算"),
    },
    "ledger_projects": {
        "unit_code": ("单位编码", "单位代码"),
        "unit_name": ("单位名称",),
        "project_code": ("项目编码", "项目代码"),
        "project_name": ("项目名称",),
        "category": ("项目类别", "项目类型"),
        "office": ("责任股室", "责任科室", "实施股室"),
        "is_key": ("是否重点项目", "重点项目"),
        "disclosure": ("公开属性", "是否公开"),
        "start_date": ("开工日期", "开始日期"),
        "end_date": ("计划完工日期", "完工日期", "结束日期"),
        "status": ("状态", "项目状态"),
        "fiscal_year": ("年度", "预算年度"),
        # Optional (contract 2.3, added 2026-11-29): the project's 年度总体目标 and its result,
        # also headed as the contract writes them, both names in one cell.
        "goal": ("年度总体目标", "总体目标", "预期目标", "年度目标", "年度总体目标（预期目标）",
                 "预期目标（年度总体目标）"),
        "goal_result": ("实际完成情况", "年度总体目标完成情况", "总体目标完成情况", "目标完成情况",
                        "实际完成情况（年度总体目标完成情况）", "年度总体目标完成情况（实际完成情况）"),
    },
    "ledger_indicators": {
        "unit_code": ("单位编码", "单位代码"),
        "unit_name": ("单位名称",),
        "project_code": ("项目编码", "项目代码"),
        "level1": ("一级指标",),
        "level2": ("二级指标",),
        "name": ("三级指标", "指标名称"),
        "measure_unit": ("计量单位",),
        "direction": ("指标方向", "方向"),
        "target": ("年度指标值", "指标值", "目标值"),
        "actual": ("实际完成值", "完成值", "实际值"),
        "weight": ("分值", "权重"),
        "fiscal_year": ("年度", "预算年度"),
        "note": ("偏差原因", "偏差原因分析及改进措施", "备注"),
        # Optional (contract 2.3, added 2026-11-29): a score entered by hand, used for an
        # indicator whose target or actual has no number (qualitative).
        "score": ("得分", "自评得分"),
    },
    "staffing": {
        "unit_code": ("单位编码", "单位代码"),
        "unit_name": ("单位名称",),
        "fiscal_year": ("年度", "预算年度"),
        "authorized": ("编制数", "编制人数"),
        "in_service": ("实有在职人数", "在职人数", "实有人数"),
        "retired": ("离退休人数", "退休人数"),
    },
    "procurement": {
        "unit_code": ("单位编码", "单位代码"),
        "unit_name": ("单位名称",),
        "fiscal_year": ("年度", "预算年度"),
        "project_code": ("项目编码", "项目", "项目代码"),
        "contract_no": ("合同编号", "合同号"),
        "method": ("采购方式",),
        "contract_amount": ("合同金额", "采购金额"),
        "date": ("签订日期", "合同签订日期", "日期"),
    },
}

# The columns a header row must have to be taken as that kind.
SIGNATURES: dict[str, tuple[frozenset[str], ...]] = {
    "voucher_lines": (frozenset({"account_code", "debit", "credit"}),),
    "budget_lines": (frozenset({"amount", "budget_kind"}), frozenset({"amount", "doc_no"})),
    "ledger_projects": (frozenset({"project_code", "project_name"}),),
    "ledger_indicators": (frozenset({"name", "level1"}), frozenset({"name", "level2"})),
    "staffing": (frozenset({"authorized"}), frozenset({"in_service"})),
    "procurement": (frozenset({"contract_no", "contract_amount"}),),
}

# What a data row of the kind always carries and a footer row (合计, 本年累计 …) never does:
# a row with a footer word in it is a footer only when it has none of these (or only the
# footer word there). 累计折旧计提 or 合计支付办公费 is a voucher line's 摘要, not a total.
ROW_IDENTITY: dict[str, tuple[str, ...]] = {
    "voucher_lines": ("account_code", "voucher_no"),
    "budget_lines": ("budget_kind", "doc_no"),
    "ledger_projects": ("project_code",),
    "ledger_indicators": ("name",),
    "staffing": ("unit_code",),
    "procurement": ("contract_no",),
}

# Money columns, scaled by a file's amount-unit line (`单位：万元`) or their own header (`金额（千元）`).
AMOUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "voucher_lines": ("debit", "credit"),
    "budget_lines": ("amount", "procurement_amount"),
    "procurement": ("contract_amount",),
}

KINDS: tuple[str, ...] = tuple(ALIASES)

KIND_LABELS = {
    "voucher_lines": "凭证明细",
    "budget_lines": "预算指标",
    "ledger_projects": "项目台账·项目",
    "ledger_indicators": "项目台账·绩效指标",
    "staffing": "人员情况",
    "procurement": "政府采购台账",
}

_SPACES = re.compile(r"[\s\u3000\u00a0\ufeff]+")
# `借方金额（元）`, `金额(千元)`, `*单位编码`: the hint is dropped from the name and kept.
_UNIT_HINT = re.compile(r"[（(]\s*(" + MONEY_WORD + r")\s*[）)]$")


_HALF_WIDTH_PARENTHESES = str.maketrans("()", "（）")


def normalise_header(text: object) -> tuple[str, str | None]:
    """Header cell -> (name to match aliases on, amount unit hint such as '千元', or None). The
    name has no spaces and full-width parentheses, as the aliases are written."""
    if text is None:
        return "", None
    name = _SPACES.sub("", str(text)).lstrip("*＊")
    hint = None
    match = _UNIT_HINT.search(name)
    if match:
        hint = match.group(1)
        name = name[: match.start()]
    return name.translate(_HALF_WIDTH_PARENTHESES), hint


@dataclass(frozen=True)
class HeaderMatch:
    """A header row recognised as one kind: which cell is which canonical column."""

    kind: str
    row_index: int  # 0-based index of the header row among the rows given
    headers: tuple[str, ...]  # the header cells as written (stripped), one per column
    columns: dict[int, str]  # cell position -> canonical column
    # amount columns whose header names their unit (`金额（千元）`): {column: factor to yuan},
    # which wins over the file's amount-unit line
    scaled_columns: dict[str, Decimal] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return len(self.headers)


# Per kind: header text (normalised) -> canonical column; built once, not per row looked at.
_LOOKUPS: dict[str, dict[str, str]] = {
    kind: {alias: canonical for canonical, names in aliases.items() for alias in names} for kind, aliases in ALIASES.items()
}


def match_header_row(cells: list[object]) -> tuple[str, dict[int, str], dict[str, str]] | None:
    """Best kind for one row of cells, or None when no kind's signature is present; with the
    unit its header names for each amount column that names one ({column: '千元'})."""
    normalised = [normalise_header(c) for c in cells]
    best: tuple[int, str, dict[int, str], dict[str, str]] | None = None
    for kind, lookup in _LOOKUPS.items():
        columns: dict[int, str] = {}
        units: dict[str, str] = {}
        for position, (name, hint) in enumerate(normalised):
            canonical = lookup.get(name)
            if canonical is None or canonical in columns.values():
                continue
            columns[position] = canonical
            if hint is not None and canonical in AMOUNT_COLUMNS.get(kind, ()):
                units[canonical] = hint
        present = set(columns.values())
        if not any(signature <= present for signature in SIGNATURES[kind]):
            continue
        if best is None or len(columns) > best[0]:
            best = (len(columns), kind, columns, units)
    if best is None:
        return None
    return best[1], best[2], best[3]


def find_header(rows: list[list[object]], max_rows: int = 40) -> HeaderMatch | None:
    """The first row among the first `max_rows` that is a recognised header row. Raises
    money.UnknownMoneyUnit when an amount column's header names a unit not known
    (`金额（美元）`): the file cannot be read."""
    for index, cells in enumerate(rows[:max_rows]):
        found = match_header_row(cells)
        if found is None:
            continue
        kind, columns, units = found
        headers = tuple(_SPACES.sub(" ", str(c)).strip() if c is not None else "" for c in cells)
        position_of = {canonical: position for position, canonical in columns.items()}
        scaled = {canonical: money_factor(unit, headers[position_of[canonical]], header=True)
                  for canonical, unit in units.items()}
        # Trailing empty header cells carry no column; keep the width to the last named one.
        width = max(columns) + 1
        for position in range(len(headers) - 1, -1, -1):
            if headers[position]:
                width = max(width, position + 1)
                break
        return HeaderMatch(kind, index, headers[:width], columns, scaled)
    return None
