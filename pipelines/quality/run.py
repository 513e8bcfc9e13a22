"""Placeholder until the rule catalogue lands."""
from dataclasses import dataclass, field


@dataclass
class QualityOutcome:
    failed: list = field(default_factory=list)
    withheld: set = field(default_factory=set)
    report_path: str | None = None


def run_quality(con, settings, scope, load_id):
    return QualityOutcome()
