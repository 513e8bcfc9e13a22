"""The one rules file a department changes: scoring points, grades, indicator standards."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

DEFAULT_RULES_FILE = Path(__file__).with_name("rules.toml")
RULES_ENV = "FISCAL_RULES_FILE"
# A threshold: a fraction with at most 6 decimals (99.9999 %), kept as a Decimal and compared
# exactly (sql/marts/evaluation_indicators.sql: _standards.threshold is DECIMAL(18, 6)).
_NUMBER = r"(-?\d{1,12}(?:\.\d{1,6})?)"
_STANDARD = re.compile(r"^\s*(<=|>=|<|>|=|≤|≥)\s*" + _NUMBER + r"\s*$")
# `between 0.9 1`: low ≤ value ≤ high, both bounds included.
_BETWEEN = re.compile(r"^\s*between\s+" + _NUMBER + r"\s+" + _NUMBER + r"\s*$")
_CHECKPOINT = re.compile(r"^(\d{2})-(\d{2})$")


class RulesError(ValueError):
    pass


@dataclass(frozen=True)
class FundingRow:
    """A funding row of the 自评表 (年度资金总额 其中 …): the budget lines whose fund source
    and budget kind it takes (empty = any). A budget line goes to the first row that takes
    it. Spending carries a fund source but no budget kind: rows marked `spent_first` (the
    carry-over) take the spending of their fund sources first, up to their final budget
    (结转资金优先使用); the other rows then take what is left of their fund sources."""

    label: str
    fund_sources: tuple[str, ...] = ()
    budget_kinds: tuple[str, ...] = ()
    spent_first: bool = False

    def takes(self, fund_source: str, budget_kind: str | None = None) -> bool:
        return ((not self.fund_sources or fund_source in self.fund_sources)
                and (budget_kind is None or not self.budget_kinds or budget_kind in self.budget_kinds))


FISCAL = ("一般公共预算", "政府性基金预算", "国有资本经营预算")
# 财预〔2020〕10号 附件 (项目支出绩效自评表): 本年财政拨款 / 上年结转资金 / 其他资金.
DEFAULT_FUNDING_ROWS = (
    FundingRow("本年财政拨款", FISCAL, ("年初预算", "追加", "追减", "调剂")),
    FundingRow("上年结转资金", (), ("上年结转",), spent_first=True),
    FundingRow("其他资金"),
)


@dataclass(frozen=True)
class Rules:
    points: dict[str, float]
    grades: list[tuple[str, float]]  # best first
    # op, threshold, upper bound of `between`: Decimals, so that a rate exactly at its
    # threshold meets it (the verdict is decided in DECIMAL, never on a DOUBLE).
    standards: dict[str, tuple[str, Decimal, Decimal | None]]
    path: Path
    # 支付进度 checkpoints: (month, day, share of the final budget to have been paid by then).
    payment_schedule: tuple[tuple[int, int, float], ...] = ((6, 30, 0.5), (9, 30, 0.75), (12, 31, 1.0))
    funding_rows: tuple[FundingRow, ...] = DEFAULT_FUNDING_ROWS
    # The most an indicator's actual / target counts for (1: over-achievement earns no more
    # than the indicator's points).
    completion_cap: float = 1.0

    def grade(self, score: float) -> str:
        for name, lowest in self.grades:
            if score >= lowest:
                return name
        return "差"


def load_rules(path: Path | None = None) -> Rules:
    path = Path(path or os.environ.get(RULES_ENV) or DEFAULT_RULES_FILE)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RulesError(f"rules file {path}: {error}") from error
    standards = {}
    for code, text in data.get("standards", {}).items():
        match, between = _STANDARD.match(str(text)), _BETWEEN.match(str(text))
        if between:
            low, high = Decimal(between.group(1)), Decimal(between.group(2))
            if low > high:
                raise RulesError(f"rules file {path}: standard for {code!r}: {text!r} has its bounds the wrong way round")
            standards[code] = ("between", low, high)
            continue
        if not match:
            raise RulesError(f"rules file {path}: standard for {code!r} must look like '<= 1' or 'between 0.9 1'"
                             f" (at most 6 decimals), not {text!r}")
        op = {"≤": "<=", "≥": ">="}.get(match.group(1), match.group(1))
        standards[code] = (op, Decimal(match.group(2)), None)
    schedule = []
    for key, share in data.get("payment_schedule", {}).items():
        checkpoint = _CHECKPOINT.match(str(key))
        if not checkpoint or not isinstance(share, (int, float)) or not 0 < share <= 1:
            raise RulesError(f"rules file {path}: [payment_schedule] needs \"MM-DD\" = share between 0 and 1,"
                             f" not {key!r} = {share!r}")
        schedule.append((int(checkpoint.group(1)), int(checkpoint.group(2)), float(share)))
    grades = sorted(((k, float(v)) for k, v in data.get("grades", {}).items()), key=lambda g: -g[1])
    points = {k: float(v) for k, v in data.get("points", {}).items()}
    for level in ("产出指标", "效益指标", "满意度指标", "预算执行"):
        if level not in points:
            raise RulesError(f"rules file {path}: [points] needs {level!r}")
    kwargs: dict = {"payment_schedule": tuple(sorted(schedule))} if schedule else {}
    funding = []
    for row in data.get("funding_rows", []):
        if not isinstance(row, dict) or not str(row.get("label", "")).strip():
            raise RulesError(f"rules file {path}: every [[funding_rows]] needs a label, not {row!r}")
        funding.append(FundingRow(str(row["label"]).strip(), tuple(row.get("fund_sources", [])),
                                  tuple(row.get("budget_kinds", [])), bool(row.get("spent_first", False))))
    if funding:
        kwargs["funding_rows"] = tuple(funding)
    cap = data.get("scoring", {}).get("completion_cap")
    if cap is not None:
        if not isinstance(cap, (int, float)) or cap < 1:
            raise RulesError(f"rules file {path}: [scoring] completion_cap must be a number ≥ 1, not {cap!r}")
        kwargs["completion_cap"] = float(cap)
    return Rules(points, grades, standards, path, **kwargs)


def register_rules(con: duckdb.DuckDBPyConnection, rules: Rules) -> None:
    """Temp tables `_rules(key, value)`, `_standards(indicator_code, op, threshold, threshold_high)` and
    `_payment_schedule(checkpoint_month, checkpoint_day, share)` for the SQL models."""
    con.execute("CREATE OR REPLACE TEMP TABLE _rules(key VARCHAR, value DOUBLE)")
    con.executemany("INSERT INTO _rules VALUES (?, ?)", [(f"points.{k}", v) for k, v in rules.points.items()]
                    + [("scoring.completion_cap", rules.completion_cap)])
    con.execute("CREATE OR REPLACE TEMP TABLE _standards("
                "indicator_code VARCHAR, op VARCHAR, threshold DECIMAL(18, 6), threshold_high DECIMAL(18, 6))")
    if rules.standards:
        con.executemany("INSERT INTO _standards VALUES (?, ?, ?, ?)", [(k, *v) for k, v in rules.standards.items()])
    con.execute("CREATE OR REPLACE TEMP TABLE _payment_schedule("
                "checkpoint_month INTEGER, checkpoint_day INTEGER, share DOUBLE)")
    con.executemany("INSERT INTO _payment_schedule VALUES (?, ?, ?)", list(rules.payment_schedule))
