"""The checks of the quality stage, as data on disk: the rule catalogue
(`sql/rules/catalogue.csv` + `sql/rules/<id>.sql`) and the Great Expectations suites
(`expectations/<layer>.<table>.json`). Read here, run by `pipelines.quality.runner`,
declared as Dagster asset checks by `pipelines.defs.checks`.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from pipelines.settings import EXPECTATIONS_DIR, SQL_DIR

RULES_DIR = SQL_DIR / "rules"
CATALOGUE = RULES_DIR / "catalogue.csv"

SEVERITIES = ("fatal", "warning")
CATEGORIES = ("field", "cross-file", "tie-out")
RULE_COLUMNS = ("unit_code", "fiscal_year", "source_file", "source_row", "field", "value_provided",
                "value_expected", "difference", "detail")

Scope = set[tuple[str, int]]

# What the finance office calls the tables the checks look at (the report's wording).
LAYER_LABELS = {"raw": "原始", "staging": "整理后", "core": "入库"}
KIND_LABELS = {
    "voucher_lines": "凭证分录", "budget_lines": "预算指标", "ledger_projects": "项目台账（项目）",
    "ledger_indicators": "项目台账（绩效指标）", "staffing": "人员情况", "procurement": "政府采购台账",
    "fact_spending": "支出", "fact_budget": "预算指标", "fact_indicators": "绩效指标", "fact_staffing": "人员情况",
    "fact_procurement": "政府采购合同", "dim_project": "项目", "dim_unit_year": "单位年度",
}


def table_label(table: str) -> str:
    """`staging.voucher_lines` -> 整理后的凭证分录（staging.voucher_lines）."""
    layer, _, name = table.partition(".")
    if layer in LAYER_LABELS and name in KIND_LABELS:
        return f"{LAYER_LABELS[layer]}的{KIND_LABELS[name]}（{table}）"
    return table


def chinese_part(text: str) -> str:
    """The Chinese half of a bilingual 'chinese / english' description."""
    head, sep, _ = text.partition(" / ")
    return head if sep and head.strip() else text


# ------------------------------------------------------------------ the catalogue


@dataclass(frozen=True)
class Rule:
    id: str
    message_zh: str
    message_en: str
    severity: str  # fatal | warning
    category: str  # field | cross-file | tie-out
    target_table: str
    description: str

    @property
    def kind(self) -> str:
        return "rule"

    @property
    def check_id(self) -> str:
        return self.id

    @property
    def path(self) -> Path:
        return RULES_DIR / f"{self.id}.sql"

    @property
    def sql(self) -> str:
        return rule_sql(self.path)


@cache
def rule_sql(path: Path) -> str:
    """A rule file: one SELECT (CTEs allowed), comments kept, a trailing ';' dropped."""
    text = path.read_text(encoding="utf-8").strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def load_catalogue(path: Path = CATALOGUE) -> list[Rule]:
    """The rule catalogue, checked: unique identifier ids, known severity and category,
    a target table, and a SQL file per rule (and no SQL file without a rule)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rules, seen = [], set()
    for number, row in enumerate(rows, 2):
        rule = Rule(**{k: (row.get(k) or "").strip() for k in Rule.__dataclass_fields__})
        problems = []
        if not re.fullmatch(r"[a-z][a-z0-9_]*", rule.id):
            problems.append("id must be lower_snake_case")
        if rule.id in seen:
            problems.append("duplicate id")
        if rule.severity not in SEVERITIES:
            problems.append(f"severity must be one of {SEVERITIES}")
        if rule.category not in CATEGORIES:
            problems.append(f"category must be one of {CATEGORIES}")
        if not rule.target_table or not rule.message_zh or not rule.message_en:
            problems.append("target_table, message_zh and message_en are required")
        if not rule.path.exists():
            problems.append(f"no query {rule.path.name}")
        if problems:
            raise ValueError(f"{path}:{number} rule {rule.id!r}: " + "; ".join(problems))
        seen.add(rule.id)
        rules.append(rule)
    orphans = sorted(p.stem for p in RULES_DIR.glob("*.sql") if p.stem not in seen)
    if orphans:
        raise ValueError(f"{RULES_DIR}: queries without a catalogue entry: {orphans}")
    return rules


# ------------------------------------------------------------------ the suites


# Expectation types that judge rows one by one (or row combinations); not table-level ones
# such as expect_table_row_count_to_be_between, which can fail on an empty table.
ROW_EXPECTATION_PREFIXES = ("expect_column_values_", "expect_compound_columns_", "unexpected_rows_expectation")


@dataclass(frozen=True)
class Suite:
    table: str  # "staging.voucher_lines"
    path: Path

    @property
    def kind(self) -> str:
        return "expectation"

    @property
    def check_id(self) -> str:
        return "gx_" + self.table.replace(".", "_")

    @property
    def target_table(self) -> str:
        return self.table

    @property
    def view(self) -> str:
        layer, name = self.table.split(".")
        return f"quality.gx_{layer}__{name}"

    @cached_property  # read once: the properties below all look into it
    def raw(self) -> dict:
        return json.loads(self.path.read_text(encoding="utf-8"))

    @property
    def row_id_columns(self) -> list[str]:
        return list(self.raw.get("meta", {}).get("row_id_columns", ["source_file", "source_row"]))

    @property
    def severity(self) -> str:
        """'fatal' when the suite has a critical expectation, else 'warning'."""
        return "fatal" if any(e.get("severity") == "critical" for e in self.raw["expectations"]) else "warning"

    @property
    def description(self) -> str:
        return self.raw.get("meta", {}).get("notes") or f"Great Expectations suite for {self.table}"

    @property
    def passes_on_no_rows(self) -> bool:
        """Every expectation is about rows (values, uniqueness, unexpected rows): over no
        rows none can fail, so a table with nothing in scope needs no GX run."""
        return all(e["type"].startswith(ROW_EXPECTATION_PREFIXES) for e in self.raw["expectations"])

    def load(self):
        from pipelines.quality.gx_duckdb import load_suite  # lazy: Great Expectations takes seconds to import; only a GX run needs it

        return _load_suite_cached(self.path, self.path.stat().st_mtime_ns, load_suite)


@cache
def _load_suite_cached(path: Path, _mtime: int, loader):
    return loader(path)


def list_suites(directory: Path = EXPECTATIONS_DIR) -> list[Suite]:
    """`expectations/<layer>.<table>.json`, files starting with `_` (examples) excluded."""
    suites = []
    for path in sorted(directory.glob("*.json")):
        if path.name.startswith("_"):
            continue
        table = path.stem
        raw = json.loads(path.read_text(encoding="utf-8"))
        declared = raw.get("meta", {}).get("table")
        if declared != table or table.count(".") != 1:
            raise ValueError(f"{path}: meta.table must be the file name's <layer>.<table> ({declared!r})")
        descriptions = [e.get("description") for e in raw.get("expectations", [])]
        if not all(descriptions) or len(set(descriptions)) != len(descriptions):
            # failed expectations are matched back to the file by (type, description)
            raise ValueError(f"{path}: every expectation needs its own description")
        suites.append(Suite(table, path))
    return suites


def asset_key_of(target_table: str) -> list[str]:
    """`staging.voucher_lines` -> ["staging", "voucher_lines"]; `quarantine` -> ["quarantine"]."""
    return target_table.split(".")
