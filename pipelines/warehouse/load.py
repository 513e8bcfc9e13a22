"""The load, stage by stage. Each stage is a function over one DuckDB connection and the
unit-years it builds; the Dagster assets (pipelines.defs) call them one asset a stage,
with a run's partition keys as the unit-years; the benchmark calls them directly. The
load's summary is kept as JSON in meta.loads, each run of the load adding its part: it
is a record of what the load did, for the printed summary, never a step's input.

The ingest marks the (unit, year)s whose inputs changed in `meta.dirty`, in the
transactions that change their rows (`to_rebuild` reads them, with the later years that
read them); a unit-year is unmarked only once its reports are written (`mark_done`). A
run that fails or is killed half-way leaves them marked, and the next load finishes the
job (pipelines.warehouse.dirty).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.bi.publishing import after_publish
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



# ------------------------------------------------------------------ stages


def stage_ingest(con: duckdb.DuckDBPyConnection, settings: Settings, progress: Progress = ingest_module.quiet,
                 full_refresh: bool = False, when_reading=lambda: None) -> ingest_module.IngestResult:
    """Landing folder -> raw -> staging; decide which files count; mark dirty unit-years.

    The ingest marks unit-years in the same transactions that change their rows (see
    pipelines.warehouse.ingest.stage_pending and _delete_stale); a full refresh deletes
    and reads every file again, which marks every unit-year."""
    dirty.ensure(con)
    result = ingest_module.ingest(con, settings.landing_dir, settings.work_dir, progress, full_refresh, when_reading)
    con.execute("BEGIN")
    rebuild_quarantine(con)
    con.execute("COMMIT")
    publish_module.write_quarantine_parquet(con, settings.quarantine_dir)
    return result


def mark_dirty(con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    dirty.mark(con, scope)


def to_rebuild(con: duckdb.DuckDBPyConnection) -> Scope:
    """The unit-years a load must rebuild: the marked ones and the years after them (their
    year-over-year figures read the marked year)."""
    return transform.with_following_years(con, dirty.marked(con)[0])


dirty_scope = to_rebuild  # the benchmarks' name


def dirty_scope_and_mark(con: duckdb.DuckDBPyConnection) -> tuple[Scope, int]:
    """`to_rebuild` and the highest mark number seen: what `mark_done` may clear once they are built."""
    return to_rebuild(con), dirty.marked(con)[1]


def unit_years_with_data(con: duckdb.DuckDBPyConnection) -> Scope:
    """Unit-years the landing files hold, were built, or are marked: the partition grid's
    other keys are empty (a unit that started reporting in a later year)."""
    return transform.all_unit_years(con) | transform.built_unit_years(con) | dirty.marked(con)[0]


def stage_core(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, int]:
    con.execute("BEGIN")
    transform.set_scope(con, scope)
    counts = transform.build_core(con)
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
    bi = after_publish(con, settings, result)  # bi.duckdb, the XLSX exports, the PostgreSQL mirror
    result.bi_lines, result.bi_failed = bi.lines, bi.failed
    return result


def mark_done(con: duckdb.DuckDBPyConnection, unit_years: Scope, up_to: int) -> None:
    """Record unit-years as done, once their marts, public marts and reports are all written
    (withheld ones are not done): their marks numbered `up_to` or lower go."""
    dirty.unmark(con, unit_years, up_to)


def note_run_mark(con: duckdb.DuckDBPyConnection, load_id: str, run_id: str) -> int:
    """Note, before a run rebuilds core, the highest mark so far: what the run may clear once
    its reports are written (a mark made after this is another run's, on rows this run did
    not read). Kept in the load's summary by run id."""
    up_to = dirty.marked(con)[1]
    marks = read_summary(con, load_id).dirty_marks
    update_load(con, load_id, dirty_marks={**marks, run_id: up_to})
    return up_to


def run_mark(con: duckdb.DuckDBPyConnection, load_id: str, run_id: str) -> int | None:
    """The mark noted by this run's core step; None for a run that did not rebuild core."""
    return read_summary(con, load_id).dirty_marks.get(run_id)


def earlier_check_runs(con: duckdb.DuckDBPyConnection, load_id: str) -> list[tuple]:
    """quality.check_runs of the load's earlier runs (a load over several rectangles is several runs)."""
    if not con.execute("SELECT count(*) FROM information_schema.tables "
                       "WHERE table_schema = 'quality' AND table_name = 'check_runs'").fetchall()[0][0]:
        return []
    return con.execute("SELECT check_id, passed, failing, fatal_failing FROM quality.check_runs WHERE load_id = ?",
                       [load_id]).fetchall()


def add_earlier_check_runs(con: duckdb.DuckDBPyConnection, load_id: str, earlier: list[tuple]) -> None:
    """Add the load's earlier runs' counts to this run's quality.check_runs (which run_quality
    replaced): a check's result for the load is over all its unit-years."""
    if earlier:
        con.executemany(
            "UPDATE quality.check_runs SET passed = passed AND ?, failing = failing + ?, "
            "fatal_failing = fatal_failing + ? WHERE load_id = ? AND check_id = ?",
            [(passed, failing, fatal, load_id, check_id) for check_id, passed, failing, fatal in earlier],
        )


def failing_checks_by_unit_year(con: duckdb.DuckDBPyConnection, load_id: str) -> dict[tuple[str, int], tuple[list, list]]:
    """(unit, year) -> (ids of fatal checks failing there, ids of warnings failing there), for one load."""
    rows = con.execute(
        """SELECT unit_code, fiscal_year, list(DISTINCT check_id ORDER BY check_id) FILTER (WHERE severity = 'fatal'),
                  list(DISTINCT check_id ORDER BY check_id) FILTER (WHERE severity <> 'fatal')
        FROM quality.results WHERE load_id = ? AND unit_code IS NOT NULL AND fiscal_year IS NOT NULL GROUP BY ALL""",
        [load_id],
    ).fetchall()
    return {(u, y): (list(fatal or []), list(warn or [])) for u, y, fatal, warn in rows}


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
    rebuilt: list[tuple[str, int]] = field(default_factory=list)  # unit-years whose core the load rebuilt
    dirty_marks: dict[str, int] = field(default_factory=dict)  # run id -> the marks it may clear (note_run_mark)
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
    same identity; footer and repeated header rows are skipped and counted. A row's fate
    is the view staging.<kind>__fate (sql/staging/row_fate.sql), which the quarantine and
    the rule row_accounting read too.
    """
    out = {}
    for kind in KINDS:
        row = con.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE fate = 'loaded'), count(*) FILTER (WHERE fate = 'quarantined'),
                       count(*) FILTER (WHERE fate = 'superseded'), count(*) FILTER (WHERE fate = 'unassigned')
            FROM staging.{kind}__fate"""
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
        f"{summary.marts_unchanged} unchanged; {len(summary.rebuilt)} unit-year(s) rebuilt"
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
         json.dumps(data.get("rebuilt", [])), load_id],
    )


def add_to_load(con: duckdb.DuckDBPyConnection, load_id: str, **fields) -> None:
    """Add what one run of a load did to the load's summary: counts add up, lists grow
    (a check failing in two runs of the load counts once, with both runs' failing rows)."""
    data = read_summary(con, load_id).as_dict()
    merged = {}
    for name, value in fields.items():
        old = data.get(name)
        if name == "checks_failed":
            by_id = {c["id"]: dict(c) for c in old or []}
            for check in value:
                if check["id"] in by_id:
                    kept = by_id[check["id"]]
                    kept["failing"] = kept.get("failing", 0) + check.get("failing", 0)
                    kept["unit_years"] = sorted({*map(tuple, kept.get("unit_years") or []),
                                                 *map(tuple, check.get("unit_years") or [])})
                else:
                    by_id[check["id"]] = dict(check)
            merged[name] = list(by_id.values())
        elif isinstance(value, list):
            seen = {json.dumps(x, default=str) for x in old or []}
            merged[name] = [*(old or []), *(x for x in value if json.dumps(x, default=str) not in seen)]
        elif isinstance(value, int) and isinstance(old, int):
            merged[name] = old + value
        else:
            merged[name] = value
    update_load(con, load_id, **merged)


def read_summary(con: duckdb.DuckDBPyConnection, load_id: str) -> LoadSummary:
    row = con.execute("SELECT summary FROM meta.loads WHERE load_id = ?", [load_id]).fetchone()
    if row is None:
        raise KeyError(f"no load {load_id} in the warehouse")
    data = json.loads(row[0])
    summary = LoadSummary(**{k: v for k, v in data.items() if k in LoadSummary.__dataclass_fields__})
    summary.rebuilt = [tuple(x) for x in summary.rebuilt]
    summary.withheld = [tuple(x) for x in summary.withheld]
    summary.files_unreadable = [tuple(x) for x in summary.files_unreadable]
    summary.overlapping_files = [tuple(x) for x in summary.overlapping_files]
    return summary


def new_load_id() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
