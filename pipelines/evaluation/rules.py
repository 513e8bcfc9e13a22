"""The one rules file a department changes: scoring points, grades, indicator standards."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import duckdb

DEFAULT_RULES_FILE = Path(__file__).with_name("rules.toml")
RULES_ENV = "FISCAL_RULES_FILE"
_STANDARD = re.compile(r"^\s*(<=|>=|<|>|=|≤|≥)\s*(-?\d+(?:\.\d+)?)\s*$")


class RulesError(ValueError):
    pass


@dataclass(frozen=True)
class Rules:
    points: dict[str, float]
    grades: list[tuple[str, float]]  # best first
    standards: dict[str, tuple[str, float]]
    path: Path

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
        match = _STANDARD.match(str(text))
        if not match:
            raise RulesError(f"rules file {path}: standard for {code!r} must look like '<= 1', not {text!r}")
        op = {"≤": "<=", "≥": ">="}.get(match.group(1), match.group(1))
        standards[code] = (op, float(match.group(2)))
    grades = sorted(((k, float(v)) for k, v in data.get("grades", {}).items()), key=lambda g: -g[1])
    points = {k: float(v) for k, v in data.get("points", {}).items()}
    for level in ("产出指标", "效益指标", "满意度指标", "预算执行"):
        if level not in points:
            raise RulesError(f"rules file {path}: [points] needs {level!r}")
    return Rules(points, grades, standards, path)


def register_rules(con: duckdb.DuckDBPyConnection, rules: Rules) -> None:
    """Temp tables `_rules(key, value)` and `_standards(indicator_code, op, threshold)` for the SQL models."""
    con.execute("CREATE OR REPLACE TEMP TABLE _rules(key VARCHAR, value DOUBLE)")
    con.executemany("INSERT INTO _rules VALUES (?, ?)", [(f"points.{k}", v) for k, v in rules.points.items()])
    con.execute("CREATE OR REPLACE TEMP TABLE _standards(indicator_code VARCHAR, op VARCHAR, threshold DOUBLE)")
    if rules.standards:
        con.executemany("INSERT INTO _standards VALUES (?, ?, ?)", [(k, *v) for k, v in rules.standards.items()])
