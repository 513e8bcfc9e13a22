"""Evaluation outputs for each unit-year: the 自评表 (XLSX), the 自评报告 (internal and
public; Markdown and DOCX) and their charts (PNG), in
`<warehouse>/reports/<unit_code>/<fiscal_year>/`.

Two steps, so that the work fans out over processes while DuckDB keeps one writer:

- **gather** (`gather_unit_year`, in the process that holds the connection): a few small
  queries filtered on the unit-year (figures.py; `write_reports` runs each of them once
  for its whole scope, figures.ScopeRows, since this is the stage's serial part), the
  scoring and the department's texts, into a `UnitYearInputs` of plain, picklable data. The internal report reads the `build`
  marts; the public one reads `build_public`, where 涉密 projects are one undisclosed line
  and their indicators are absent.
- **render** (`render_unit_year`, in a worker process, or in-process with one worker):
  every file of that one unit-year from the inputs alone; it never opens the DuckDB file.
  Every file is written beside its final name and renamed into place, so a killed load
  leaves old or new files, never a half-written one.

`write_reports` runs both for a scope: the writer gathers, `worker_count()` processes
render (FISCAL_WORKERS, default one per usable CPU), the writer collects the paths written.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import duckdb

from pipelines.evaluation import charts
from pipelines.evaluation.figures import Figures, NoSuchUnitYear, ScopeRows, UnitYearRows, read_figures
from pipelines.evaluation.project_table import remove_project_tables, write_project_tables
from pipelines.evaluation.redaction import mentions, redact, redact_report, secret_tokens
from pipelines.evaluation.report import build_report
from pipelines.evaluation.report_docx import render_docx
from pipelines.evaluation.report_md import render_md
from pipelines.evaluation.rules import Rules
from pipelines.evaluation.scoring import SelfEvaluation, evaluate
from pipelines.evaluation.table_xlsx import write_table
from pipelines.evaluation.texts import Texts, read_texts
from pipelines.files import remove_empty_folders, remove_leftovers, replace_with, temporary_beside, write_in_place
from pipelines.workers import process_pool, workers_for

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


# ---------------------------------------------------------------- gather (writer: needs the connection)


@dataclass(frozen=True)
class UnitYearInputs:
    """Everything one unit-year's outputs are rendered from: plain data, picklable, no connection."""

    unit_code: str
    year: int
    out_dir: Path
    internal: Figures
    public: Figures
    evaluation: SelfEvaluation
    texts: Texts
    grades: list[tuple[str, float]]
    secrets: list[str]  # codes and names of 涉密 projects, masked in every public text


def gather_unit_year(con: duckdb.DuckDBPyConnection, settings, unit_code: str, year: int, rules: Rules,
                     progress: Callable[[str], None] = lambda _: None,
                     secrets: list[str] | None = None, source: UnitYearRows | None = None) -> UnitYearInputs:
    """Read what one unit-year's outputs need (raises NoSuchUnitYear when it has no data).
    `secrets` (from `secret_tokens`, the same for every unit-year) is read when not given;
    `source` (a figures.ScopeRows) reads the figures of a whole scope at once."""
    source = source or UnitYearRows(con)  # one for both audiences: the quarantine and tie-outs read once
    internal = read_figures(con, unit_code, year, public=False, source=source)
    public = read_figures(con, unit_code, year, public=True, source=source)
    for warning in dict.fromkeys(internal.warnings + public.warnings):
        progress(f"reports: {unit_code} {year}: totals do not tie out: {warning}")
    texts = read_texts(settings.texts_dir, unit_code)
    if not texts.exists:
        progress(f"reports: {unit_code} {year}: no narrative file {texts.path}; the report shows placeholders")
    for key in texts.unknown_keys:
        progress(f"reports: {unit_code} {year}: {texts.shown_path} has an unknown section ## {key} (ignored)")
    return UnitYearInputs(unit_code, year, settings.reports_dir / unit_code / str(year), internal, public,
                          evaluate(internal, rules), texts, list(rules.grades),
                          secret_tokens(con) if secrets is None else secrets)


# ---------------------------------------------------------------- render (worker: plain data in, files out)


def _write_charts(inputs: UnitYearInputs) -> tuple[dict[str, Path], dict[str, Path]]:
    """The charts of both reports. A chart whose public version shows the same as the
    internal one is drawn once and written under both names."""
    out, internal, public, ev = inputs.out_dir, inputs.internal, inputs.public, inputs.evaluation
    paths = {k: out / v for k, v in CHART_FILES.items()}
    public_paths = {k: out / v for k, v in PUBLIC_CHART_FILES.items()}
    scores = [(charts.indicator_scores(internal, ev), [paths["scores"]])]
    if any(mentions(i.name, inputs.secrets) for i in ev.indicators):
        public_paths["scores"] = out / PUBLIC_SCORES_FILE
        masked = dataclasses.replace(ev, indicators=[dataclasses.replace(i, name=redact(i.name, inputs.secrets))
                                                     for i in ev.indicators])
        scores.append((charts.indicator_scores(internal, masked), [public_paths["scores"]]))
    specs = {
        "class": [(charts.spending_by_class(internal), [paths["class"]])],
        "scores": scores,
        "top": [(charts.largest_projects(internal), [paths["top"]]),
                (charts.largest_projects(public), [public_paths["top"]])],
        "budget": [(charts.budget_vs_spent(internal), [paths["budget"]]),
                   (charts.budget_vs_spent(public), [public_paths["budget"]])],
    }
    for versions in specs.values():
        if len(versions) == 2 and versions[0][0] == versions[1][0]:
            versions[:] = [(versions[0][0], versions[0][1] + versions[1][1])]
        for spec, targets in versions:
            png = charts.render_png(spec)
            for target in targets:
                write_in_place(target, png)
    return paths, public_paths


def render_unit_year(inputs: UnitYearInputs) -> list[Path]:
    """Write every evaluation output of one unit-year from its inputs; returns the absolute
    paths written. Runs in a worker process: it touches only this unit-year's folder."""
    out = inputs.out_dir
    out.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out)
    internal, public, ev = inputs.internal, inputs.public, inputs.evaluation

    written: list[Path] = []
    table = out / TABLE_FILE
    written.append(replace_with(write_table(temporary_beside(table), internal, ev, inputs.grades, inputs.texts), table))
    # 项目支出绩效自评表, one per project (internal), and the public set without 涉密 projects.
    written.extend(write_project_tables(out, internal, public, ev.projects, inputs.grades,
                                        mask=lambda text: redact(text, inputs.secrets)))

    paths, public_paths = _write_charts(inputs)
    written.extend(dict.fromkeys([*paths.values(), *public_paths.values()]))

    for fig, stem, chart_paths in ((internal, REPORT_STEM, paths), (public, PUBLIC_STEM, public_paths)):
        report = build_report(fig, ev, inputs.texts, chart_paths)
        if fig.public:  # the department's narrative may name a 涉密 project: masked, never published
            redact_report(report, inputs.secrets)
        written.append(write_in_place(out / f"{stem}.md", render_md(report).encode("utf-8")))
        docx = out / f"{stem}.docx"
        written.append(replace_with(render_docx(report, temporary_beside(docx)), docx))

    keep = {p.name for p in written}
    for stale in out.glob("图*.png"):
        if stale.name not in keep:
            stale.unlink()
    return written


def write_unit_year(con: duckdb.DuckDBPyConnection, settings, unit_code: str, year: int, rules: Rules,
                    progress: Callable[[str], None] = lambda _: None) -> list[Path]:
    """Gather and render one unit-year in this process; returns the absolute paths written."""
    return render_unit_year(gather_unit_year(con, settings, unit_code, year, rules, progress))


# ---------------------------------------------------------------- a scope: gather here, render on every core


def _render_timed(inputs: UnitYearInputs) -> tuple[list[Path], float]:
    started = time.process_time()
    return render_unit_year(inputs), time.process_time() - started


def render_all(inputs: Iterable[UnitYearInputs], workers: int, cpu: list[float] | None = None) -> list[list[Path]]:
    """Render every unit-year of `inputs` with `workers` processes (one: in this process);
    returns the paths each wrote, in the order given. `inputs` is consumed as the workers
    go, so a generator that gathers lets this process read the next unit-year while the
    workers render the previous ones. `cpu`, when given, receives each unit-year's render
    CPU seconds (wherever it ran)."""
    if workers <= 1:
        results = [_render_timed(one) for one in inputs]
    else:
        with process_pool(workers) as pool:
            futures = [pool.submit(_render_timed, one) for one in inputs]
            results = [future.result() for future in futures]
    if cpu is not None:
        cpu.extend(seconds for _, seconds in results)
    return [paths for paths, _ in results]


def write_reports(con: duckdb.DuckDBPyConnection, settings, scope: Iterable[tuple[str, int]], rules: Rules,
                  progress: Callable[[str], None], workers: int | None = None) -> list[str]:
    """The evaluation outputs of every (unit_code, fiscal_year) in scope; returns the files
    written, relative to the warehouse folder, in unit-year order.

    This process gathers each unit-year's inputs and hands them to `workers` processes
    that render them (by default `pipelines.workers.workers_for`); with one worker it renders in-process."""
    units = sorted((unit, int(year)) for unit, year in set(scope))
    gathered = (inputs for _, inputs in gather_scope(con, settings, units, rules, progress))
    results = render_all(gathered, workers_for(len(units), workers))
    return [path.relative_to(settings.warehouse_dir).as_posix() for paths in results for path in paths]


def gather_scope(con: duckdb.DuckDBPyConnection, settings, units: list[tuple[str, int]], rules: Rules,
                 progress: Callable[[str], None]) -> Iterator[tuple[tuple[str, int], UnitYearInputs]]:
    """((unit_code, year), its inputs) for each of `units` in turn, with a progress line
    each. A unit-year no longer in the warehouse (its files left the landing folder) yields
    nothing: its reports are removed here."""
    secrets = secret_tokens(con) if units else []
    source = ScopeRows(con, units)  # each figures query once for the scope, not once a unit-year
    for n, (unit_code, year) in enumerate(units, start=1):
        progress(f"reports: {unit_code} {year} ({n}/{len(units)})")
        try:
            inputs = gather_unit_year(con, settings, unit_code, year, rules, progress, secrets, source)
        except NoSuchUnitYear:
            removed = remove_unit_year(settings, unit_code, year)
            progress(f"reports: {unit_code} {year} is no longer in the warehouse; {removed} old file(s) removed")
            continue
        finally:
            source.forget((unit_code, year))
        yield (unit_code, year), inputs


def remove_unit_year(settings, unit_code: str, year: int) -> int:
    """Delete the outputs this module writes for a unit-year (nothing else); returns how many."""
    out = settings.reports_dir / unit_code / str(year)
    if not out.is_dir():
        return 0
    remove_leftovers(out)
    ours = {TABLE_FILE, *(f"{stem}{ext}" for stem in (REPORT_STEM, PUBLIC_STEM) for ext in (".md", ".docx"))}
    removed = remove_project_tables(out)
    for path in out.iterdir():
        if path.name in ours or (path.name.startswith("图") and path.suffix == ".png"):
            path.unlink()
            removed += 1
    remove_empty_folders(out, out.parent)
    return removed
