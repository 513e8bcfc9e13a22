"""Evaluation outputs for each unit-year: the 自评表 (XLSX), the 自评报告 (internal and
public; Markdown and DOCX) and their charts (PNG), in
`<warehouse>/reports/<unit_code>/<fiscal_year>/`.

Each unit-year is read with a few small queries filtered on that unit-year (figures.py),
so regenerating one takes about a second whatever the size of the warehouse. The
internal report reads the `build` marts; the public one reads `build_public`, where 涉密
projects are one undisclosed line and their indicators are absent.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Callable, Iterable

import duckdb

from pipelines.evaluation import charts
from pipelines.evaluation.figures import NoSuchUnitYear, read_figures
from pipelines.evaluation.redaction import mentions, redact, redact_report, secret_tokens
from pipelines.evaluation.report import build_report
from pipelines.evaluation.report_docx import render_docx
from pipelines.evaluation.report_md import render_md
from pipelines.evaluation.rules import Rules
from pipelines.evaluation.scoring import evaluate
from pipelines.evaluation.table_xlsx import write_table
from pipelines.evaluation.texts import read_texts

TABLE_FILE = "部门整体支出绩效自评表.xlsx"
REPORT_STEM = "部门整体支出绩效自评报告"
PUBLIC_STEM = "部门整体支出绩效自评报告（公开版）"
CHART_FILES = {
    "class": "图1_支出按经济分类.png",
    "top": "图2_支出最多的十个项目.png",
    "budget": "图3_项目预算与执行.png",
    "scores": "图4_自评得分.png",
}
PUBLIC_CHART_FILES = {**CHART_FILES, "top": "图2_支出最多的十个项目（公开版）.png",
                      "budget": "图3_项目预算与执行（公开版）.png"}
# Only when a department indicator's name mentions a 涉密 project: the public report gets
# its own scores chart with that name masked.
PUBLIC_SCORES_FILE = "图4_自评得分（公开版）.png"


def _replace(tmp: Path, final: Path) -> Path:
    os.replace(tmp, final)
    return final


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.stem}.tmp{path.suffix}")


def write_unit_year(con: duckdb.DuckDBPyConnection, settings, unit_code: str, year: int, rules: Rules,
                    progress: Callable[[str], None] = lambda _: None) -> list[Path]:
    """Write every evaluation output of one unit-year; returns the absolute paths written."""
    out = settings.reports_dir / unit_code / str(year)
    out.mkdir(parents=True, exist_ok=True)
    internal = read_figures(con, unit_code, year, public=False)
    public = read_figures(con, unit_code, year, public=True)
    for warning in dict.fromkeys(internal.warnings + public.warnings):
        progress(f"reports: {unit_code} {year}: totals do not tie out: {warning}")
    ev = evaluate(internal, rules)
    texts = read_texts(settings.texts_dir, unit_code)
    if not texts.exists:
        progress(f"reports: {unit_code} {year}: no narrative file {texts.path}; the report shows placeholders")
    for key in texts.unknown_keys:
        progress(f"reports: {unit_code} {year}: {texts.shown_path} has an unknown section ## {key} (ignored)")

    written: list[Path] = []
    written.append(_replace(write_table(_tmp(out / TABLE_FILE), internal, ev, rules.grades), out / TABLE_FILE))

    paths = {k: out / v for k, v in CHART_FILES.items()}
    public_paths = {k: out / v for k, v in PUBLIC_CHART_FILES.items()}
    charts.spending_by_class(internal, paths["class"])
    charts.indicator_scores(internal, ev, paths["scores"])
    charts.largest_projects(internal, paths["top"])
    charts.budget_vs_spent(internal, paths["budget"])
    charts.largest_projects(public, public_paths["top"])
    charts.budget_vs_spent(public, public_paths["budget"])
    secrets = secret_tokens(con)
    if any(mentions(i.name, secrets) for i in ev.indicators):
        public_paths["scores"] = out / PUBLIC_SCORES_FILE
        masked = dataclasses.replace(ev, indicators=[dataclasses.replace(i, name=redact(i.name, secrets))
                                                     for i in ev.indicators])
        charts.indicator_scores(internal, masked, public_paths["scores"])
    written.extend(dict.fromkeys([*paths.values(), *public_paths.values()]))

    for fig, stem, chart_paths in ((internal, REPORT_STEM, paths), (public, PUBLIC_STEM, public_paths)):
        report = build_report(fig, ev, texts, chart_paths)
        if fig.public:  # the department's narrative may name a 涉密 project: masked, never published
            redact_report(report, secrets)
        md = out / f"{stem}.md"
        _tmp(md).write_text(render_md(report), encoding="utf-8")
        written.append(_replace(_tmp(md), md))
        docx = out / f"{stem}.docx"
        written.append(_replace(render_docx(report, _tmp(docx)), docx))

    keep = {p.name for p in written}
    for stale in out.glob("图*.png"):
        if stale.name not in keep:
            stale.unlink()
    return written


def write_reports(con: duckdb.DuckDBPyConnection, settings, scope: Iterable[tuple[str, int]], rules: Rules,
                  progress: Callable[[str], None]) -> list[str]:
    """The evaluation outputs of every (unit_code, fiscal_year) in scope; returns the files
    written, relative to the warehouse folder."""
    written: list[str] = []
    units = sorted(set(scope))
    for n, (unit_code, year) in enumerate(units, start=1):
        progress(f"reports: {unit_code} {year} ({n}/{len(units)})")
        try:
            paths = write_unit_year(con, settings, unit_code, int(year), rules, progress)
        except NoSuchUnitYear:
            # Its files left the landing folder: its reports go too.
            removed = remove_unit_year(settings, unit_code, int(year))
            progress(f"reports: {unit_code} {year} is no longer in the warehouse; {removed} old file(s) removed")
            continue
        written.extend(path.relative_to(settings.warehouse_dir).as_posix() for path in paths)
    return written


def remove_unit_year(settings, unit_code: str, year: int) -> int:
    """Delete the outputs this module writes for a unit-year (nothing else); returns how many."""
    out = settings.reports_dir / unit_code / str(year)
    if not out.is_dir():
        return 0
    ours = {TABLE_FILE, *(f"{stem}{ext}" for stem in (REPORT_STEM, PUBLIC_STEM) for ext in (".md", ".docx"))}
    removed = 0
    for path in out.iterdir():
        if path.name in ours or (path.name.startswith("图") and path.suffix == ".png"):
            path.unlink()
            removed += 1
    for folder in (out, out.parent):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed
