"""The load, stage by stage. Each stage is a function over one DuckDB connection; the
Dagster assets (pipelines.defs) call them one asset a stage, the benchmark calls them
directly. The load's summary is kept as JSON in meta.loads, each stage adding its part.

Stages hand work to each other through the warehouse itself: ingest marks the (unit,
year)s whose inputs changed in `meta.dirty`, in the transactions that change their rows;
core, marts, checks, publishing and reports rebuild those; a unit-year is unmarked only
once its reports are written (`mark_done`). A run that fails or is killed half-way
leaves them marked, and the next run finishes the job (pipelines.warehouse.dirty).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.evaluation import provisional
from pipelines.evaluation.rules import Rules, register_rules
from pipelines.landing.headers import KINDS
from pipelines.settings import Settings
from pipelines.warehouse import dirty
from pipelines.warehouse import ingest as ingest_module
from pipelines.warehouse import publish as publish_module
from pipelines.warehouse import transform
from pipelines.warehouse.quarantine import rebuild_quarantine

Progress = Callable[[str], None]
Scope = set[tuple[str, int]]



@dataclass
class ScopeFilter:
    """`--unit` / `--year`: what to rebuild and publish even if unchanged, and nothing else
    (ingest always runs; other changed unit-years stay marked for the next load)."""

    units: frozenset[str] = frozenset()
    years: frozenset[int] = frozenset()
    everything: bool = False  # rebuild every unit-year (that matches), changed or not

    def __call__(self, scope: Scope) -> Scope:
        return {(u, y) for u, y in scope if (not self.units or u in self.units) and (not self.years or y in self.years)}

    @property
    def active(self) -> bool:
        return bool(self.units or self.years or self.everything)


# ------------------------------------------------------------------ stages


def stage_ingest(con: duckdb.DuckDBPyConnection, settings: Settings, progress: Progress = ingest_module.quiet,
                 full_refresh: bool = False) -> ingest_module.IngestResult:
    """Landing folder -> raw -> staging; decide which files count; mark dirty unit-years.

    The ingest marks unit-years in the same transactions that change their rows (see
    pipelines.warehouse.ingest.stage_pending and _delete_stale); a full refresh deletes
    and reads every file again, which marks every unit-year."""
    dirty.ensure(con)
    return ingest_module.ingest(con, settings.landing_dir, settings.work_dir, progress, full_refresh)


def mark_dirty(con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    dirty.mark(con, scope)


def dirty_scope(con: duckdb.DuckDBPyConnection, scope_filter: ScopeFilter | None = None) -> Scope:
    return dirty_scope_and_mark(con, scope_filter)[0]


def dirty_scope_and_mark(con: duckdb.DuckDBPyConnection, scope_filter: ScopeFilter | None = None) -> tuple[Scope, int]:
    """The unit-years to rebuild (the marked ones and the years after them), and the
    highest mark number seen: what `mark_done` may clear once they are built."""
    scope, up_to = dirty.marked(con)
    scope = transform.with_following_years(con, scope)
    if scope_filter and scope_filter.active:
        # Asked for explicitly: rebuild those even when nothing changed.
        scope = scope_filter(scope | transform.all_unit_years(con))
    return scope, up_to


def stage_core(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, int]:
    con.execute("BEGIN")
    transform.set_scope(con, scope)
    counts = transform.build_core(con)
    rebuild_quarantine(con)
    con.execute("COMMIT")
    return counts


def stage_marts(con: duckdb.DuckDBPyConnection, scope: Scope, rules: Rules) -> dict[str, int]:
    con.execute("BEGIN")
    transform.set_scope(con, scope)
    register_rules(con, rules)
    counts = transform.build_marts(con)
    publish_module.build_public(con)
    con.execute("COMMIT")
    return counts


def stage_publish(con: duckdb.DuckDBPyConnection, settings: Settings, scope: Scope,
                  withheld: Scope = frozenset()) -> publish_module.PublishResult:
    result = publish_module.publish(con, settings.warehouse_dir, scope, set(withheld))
    publish_module.create_views(con, settings.warehouse_dir)
    publish_module.write_quarantine_parquet(con, settings.quarantine_dir)
    from pipelines.bi.publishing import after_publish  # bi.duckdb and the PostgreSQL mirror

    bi = after_publish(con, settings, result)
    result.bi_lines, result.bi_failed = bi.lines, bi.failed
    return result


def mark_done(con: duckdb.DuckDBPyConnection, unit_years: Scope, up_to: int) -> None:
    """Record unit-years as done, once their marts, public marts and reports are all written
    (withheld ones are not done): their marks numbered `up_to` or lower go."""
    dirty.unmark(con, unit_years, up_to)


# ------------------------------------------------------------------ the summary


@dataclass
class LoadSummary:
    load_id: str
    landing_dir: str
    warehouse_dir: str
    files_seen: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_removed: int = 0
    files_unreadable: list[tuple[str, str]] = field(default_factory=list)
    rows_by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)
    quarantined_unit_years: list[tuple[str, int, int]] = field(default_factory=list)  # unit, year, rows (issue 13)
    files_mismatched: list[str] = field(default_factory=list)
    overlapping_files: list[tuple[str, str]] = field(default_factory=list)
    scope: list[tuple[str, int]] = field(default_factory=list)
    scope_fixed: bool = False  # set by the run's first step that decides the scope
    dirty_mark: int = 0  # the highest meta.dirty mark when the scope was fixed: what this run may clear
    core_built: bool = False  # this run rebuilt core for its scope (`report` does not, and clears nothing)
    marts_written: int = 0
    marts_deleted: int = 0
    marts_unchanged: int = 0
    withheld: list[tuple[str, int]] = field(default_factory=list)
    checks_failed: list[dict] = field(default_factory=list)
    quality_report: str | None = None
    reports_written: list[str] = field(default_factory=list)
    bi_lines: list[str] = field(default_factory=list)  # bi.duckdb and the PostgreSQL mirror (pipelines.bi)
    bi_failed: bool = False  # the mirror failed: exit 1, the Parquet marts are still published
    seconds: float = 0.0

    @property
    def rows_loaded(self) -> int:
        return sum(k["loaded"] for k in self.rows_by_kind.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantine_by_reason.values())

    @property
    def blocking_failures(self) -> list[dict]:
        return [c for c in self.checks_failed if c.get("severity") == "fatal"]

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def row_accounting(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Per kind: rows read, loaded (counted), quarantined, superseded, and non-data rows skipped.

    Every data row read is loaded, quarantined, or superseded by a newer file for the
    same identity; footer and repeated header rows are skipped and counted.
    """
    out = {}
    for kind in KINDS:
        row = con.execute(
            f"""SELECT
                count(*),
                count(*) FILTER (WHERE s.reject_code IS NULL AND a.status = 'active'),
                count(*) FILTER (WHERE s.reject_code IS NOT NULL AND coalesce(a.status, 'active') = 'active'),
                count(*) FILTER (WHERE a.status = 'replaced'),
                count(*) FILTER (WHERE s.reject_code IS NULL AND a.status IS NULL)
            FROM staging.{kind} s
            LEFT JOIN meta.slices a
              ON a.source_id = s.source_id AND a.unit_code = s.unit_code AND a.fiscal_year = s.fiscal_year"""
        ).fetchone()
        skipped = con.execute(
            "SELECT coalesce(sum(rows_footer), 0) FROM meta.sources WHERE kind = ?", [kind]
        ).fetchone()[0]
        out[kind] = {
            "read": row[0], "loaded": row[1], "quarantined": row[2], "superseded": row[3],
            "unassigned": row[4], "skipped_footer_rows": int(skipped),
        }
    return out


def fill_summary(con: duckdb.DuckDBPyConnection, summary: LoadSummary) -> None:
    summary.rows_by_kind = row_accounting(con)
    summary.quarantine_by_reason = dict(
        con.execute("SELECT reason_code, count(*) FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    )
    summary.quarantined_unit_years = [tuple(r) for r in provisional.quarantined_unit_years(con)]
    update_load(con, summary.load_id, quarantined_unit_years=summary.quarantined_unit_years)  # for the printed summary
    summary.files_unreadable = con.execute(
        "SELECT source_file, reason FROM meta.files WHERE status = 'unreadable' ORDER BY 1"
    ).fetchall()
    summary.overlapping_files = con.execute(
        "SELECT DISTINCT so.source_file, sl.overlaps_with FROM meta.slices sl JOIN meta.sources so USING (source_id) "
        "WHERE sl.overlaps_with IS NOT NULL ORDER BY 1"
    ).fetchall()


def format_summary(summary: LoadSummary) -> str:
    lines = [
        f"fiscal-warehouse load {summary.load_id}",
        f"  landing folder:   {summary.landing_dir}",
        f"  warehouse:        {summary.warehouse_dir}",
        f"  files:            {summary.files_seen} seen, {summary.files_new} new, {summary.files_changed} changed, "
        f"{summary.files_removed} removed, {len(summary.files_unreadable)} unreadable",
        f"  rows loaded:      {summary.rows_loaded:,}",
        f"  rows quarantined: {summary.rows_quarantined:,}"
        + (" (" + ", ".join(f"{k} {v:,}" for k, v in summary.quarantine_by_reason.items()) + ")"
           if summary.quarantine_by_reason else ""),
    ]
    for kind, counts in summary.rows_by_kind.items():
        if counts["read"] or counts["skipped_footer_rows"]:
            extra = f", {counts['superseded']:,} superseded by newer files" if counts["superseded"] else ""
            lines.append(
                f"    {kind:<18} {counts['read']:>10,} read = {counts['loaded']:,} loaded + "
                f"{counts['quarantined']:,} quarantined{extra}; {counts['skipped_footer_rows']:,} footer rows skipped"
            )
    if summary.quarantined_unit_years:  # their tables and reports say the figures are provisional
        lines.append("  PROVISIONAL (quarantined rows left out of the figures): " + ", ".join(
            f"{u}/{y} ({n:,} rows)" for u, y, n in summary.quarantined_unit_years))
    for name, reason in summary.files_unreadable:
        lines.append(f"  UNREADABLE {ingest_module.printable(name)}: {ingest_module.printable(reason)}")
    for name, others in summary.overlapping_files:
        lines.append(f"  OVERLAP    {ingest_module.printable(name)} overlaps {ingest_module.printable(others)} "
                     "(both kept; see the quality report)")
    fatal = summary.blocking_failures
    lines.append(
        f"  checks failed:    {len(summary.checks_failed)} ({len(fatal)} blocking)"
    )
    for check in summary.checks_failed[:20]:
        lines.append(f"    [{check['severity']}] {check['id']}: {check['failing']:,} — {check['message']}")
    lines.append(
        f"  marts:            {summary.marts_written} partition files written, {summary.marts_deleted} deleted, "
        f"{summary.marts_unchanged} unchanged; {len(summary.scope)} unit-year(s) rebuilt"
    )
    if summary.withheld:
        lines.append("  WITHHELD (blocking check failed, previous marts kept): "
                     + ", ".join(f"{u}/{y}" for u, y in summary.withheld))
    if summary.quality_report:
        lines.append(f"  quality report:   {summary.quality_report}")
    if summary.reports_written:
        folders = sorted({str(Path(p).parent) for p in summary.reports_written if not p.startswith("reports/quality")})
        lines.append(f"  reports:          {len(summary.reports_written)} files in "
                     + (", ".join(folders[:3]) + (f" and {len(folders) - 3} more folders" if len(folders) > 3 else "")))
    lines.extend(f"  {line}" for line in summary.bi_lines)
    lines.append(f"  took {summary.seconds:,.1f} s")
    return "\n".join(lines)


def start_load(con: duckdb.DuckDBPyConnection, load_id: str, settings: Settings) -> None:
    con.execute(
        "INSERT OR IGNORE INTO meta.loads (load_id, started_at, landing_dir, summary) VALUES (?, ?, ?, ?)",
        [load_id, datetime.now(), str(settings.landing_dir),
         json.dumps(LoadSummary(load_id, str(settings.landing_dir), str(settings.warehouse_dir)).as_dict(),
                    ensure_ascii=False, default=str)],
    )


def update_load(con: duckdb.DuckDBPyConnection, load_id: str, **fields) -> None:
    """Merge what a stage did into the load's summary (kept as JSON in meta.loads)."""
    row = con.execute("SELECT summary FROM meta.loads WHERE load_id = ?", [load_id]).fetchone()
    data = json.loads(row[0]) if row and row[0] else {}
    data.update(fields)
    con.execute(
        "UPDATE meta.loads SET summary = ?, finished_at = ?, files_seen = ?, files_new = ?, files_changed = ?, "
        "files_removed = ?, scope = ? WHERE load_id = ?",
        [json.dumps(data, ensure_ascii=False, default=str), datetime.now(), data.get("files_seen"),
         data.get("files_new"), data.get("files_changed"), data.get("files_removed"),
         json.dumps(data.get("scope", [])), load_id],
    )


def read_summary(con: duckdb.DuckDBPyConnection, load_id: str) -> LoadSummary:
    row = con.execute("SELECT summary FROM meta.loads WHERE load_id = ?", [load_id]).fetchone()
    if row is None:
        raise KeyError(f"no load {load_id} in the warehouse")
    data = json.loads(row[0])
    summary = LoadSummary(**{k: v for k, v in data.items() if k in LoadSummary.__dataclass_fields__})
    summary.scope = [tuple(x) for x in summary.scope]
    summary.withheld = [tuple(x) for x in summary.withheld]
    summary.files_unreadable = [tuple(x) for x in summary.files_unreadable]
    summary.overlapping_files = [tuple(x) for x in summary.overlapping_files]
    return summary


def new_load_id() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
