"""Where the quality stage's public names used to live, kept so that importers need not
change: the catalogue and the suites are read in `catalogue`, the suites run in
`expectations`, a run is `runner.run_quality`, and the error report is `report`."""

from pipelines.quality.catalogue import (  # noqa: F401
    CATALOGUE, CATEGORIES, RULE_COLUMNS, RULES_DIR, SEVERITIES, Rule, Scope, Suite, asset_key_of, list_suites,
    load_catalogue,
)
from pipelines.quality.report import REPORT_HEADERS, SEVERITY_LABELS, write_report  # noqa: F401
from pipelines.quality.runner import QualityOutcome, RuleError, run_quality  # noqa: F401

__all__ = [
    "CATALOGUE", "CATEGORIES", "RULE_COLUMNS", "RULES_DIR", "SEVERITIES", "Rule", "Scope", "Suite", "asset_key_of",
    "list_suites", "load_catalogue", "REPORT_HEADERS", "SEVERITY_LABELS", "write_report", "QualityOutcome",
    "RuleError", "run_quality",
]
