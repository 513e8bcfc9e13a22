"""Landing folder -> raw layer (as read, with lineage) -> staging layer (typed, checked).

Incremental by file content: a file whose path and bytes were loaded before is not read
again; a changed file's rows are replaced, a removed file's rows deleted. Which files
count (a newer export replacing an older one) is decided afterwards, per kind, unit and
fiscal year, in `pipelines.warehouse.slices`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.landing.headers import ALIASES, KINDS
from pipelines.landing.readers import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    TableInFile,
    UnreadableFile,
    drop_cells,
    load_csv_cells,
    load_sheet_cells,
    recognise,
)
from pipelines.reference import load_reference
from pipelines.warehouse.db import model_sql, run_sql_file, table_exists

Progress = Callable[[str], None]

LINEAGE_COLUMNS = ("source_id", "source_file", "sheet", "source_row", "row_kind")
IGNORED_NAMES = {"readme.md", "readme.txt", "thumbs.db", "desktop.ini", ".ds_store"}


@dataclass(frozen=True)
class LandingFile:
    path: Path
    source_file: str  # relative to the landing folder, '/'-separated
    size: int
    mtime_ns: int


@dataclass
class IngestResult:
    files_seen: int = 0
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    loaded_sources: list[str] = field(default_factory=list)
    touched_scope: set[tuple[str, int]] = field(default_factory=set)  # (unit, year) whose inputs changed


def discover(landing_dir: Path) -> list[LandingFile]:
    """Every candidate file below the landing folder, in a stable order."""
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing folder {landing_dir} does not exist")
    found = []
    for root, dirs, files in os.walk(landing_dir):
        # `_texts` holds the report's narrative texts, not exports.
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if name.startswith((".", "~$")) or name.lower() in IGNORED_NAMES:
                continue
            path = Path(root) / name
            stat = path.stat()
            found.append(LandingFile(path, path.relative_to(landing_dir).as_posix(), stat.st_size, stat.st_mtime_ns))
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def file_id_for(source_file: str, sha: str) -> str:
    return hashlib.sha256(f"{source_file}\0{sha}".encode()).hexdigest()[:20]


def raw_table_ddl(kind: str) -> str:
    canon = ", ".join(f"{c} VARCHAR" for c in ALIASES[kind])
    return (
        f"CREATE TABLE IF NOT EXISTS raw.{kind} (source_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, "
        f"sheet VARCHAR, source_row BIGINT NOT NULL, row_kind VARCHAR NOT NULL, {canon}, extra VARCHAR, "
        f"file_sha256 VARCHAR NOT NULL, loaded_at TIMESTAMP NOT NULL)"
    )


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    load_reference(con)
    for kind in KINDS:
        con.execute(raw_table_ddl(kind))
    con.execute("CREATE TEMP TABLE IF NOT EXISTS _batch(source_id VARCHAR)")
    for kind in KINDS:
        if not table_exists(con, f"staging.{kind}"):
            con.execute("DELETE FROM _batch")
            con.execute(f"CREATE TABLE staging.{kind} AS {model_sql(f'staging/{kind}.sql')} LIMIT 0")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _row_kind_sql(table: TableInFile) -> str:
    """blank / footer / header (a repeated header row) / data, cheapest test first: DuckDB
    evaluates CASE branches and AND terms only for the rows still undecided."""
    width = table.header.width
    cells = [f"fw_text(c{i})" for i in range(width)] + ["fw_text(overflow)"]
    blank = f"coalesce({', '.join(cells)}) IS NULL"
    first_cell = f"coalesce({', '.join(cells[:-1])})"
    # Every footer word (合计, 小计, 累计, 总计 ...) contains 计.
    maybe_footer = f"contains(concat({', '.join(f'c{i}' for i in range(width))}), '计')"
    footer = " OR ".join([f"fw_is_footer_text({first_cell})"] + [f"fw_is_footer_word(c{i})" for i in range(width)])
    repeated = " AND ".join(
        f"fw_text(c{i}) = {_sql_string(table.header.headers[i])}" for i in sorted(table.header.columns)
    )
    return (f"CASE WHEN {blank} THEN 'blank' WHEN {maybe_footer} AND ({footer}) THEN 'footer' "
            f"WHEN {repeated} THEN 'header' ELSE 'data' END")


def _extra_sql(table: TableInFile) -> tuple[str, list[str]]:
    """JSON of the cells under headers we do not map, plus cells beyond the header's width."""
    pairs, names, used = [], [], set()
    for i, text in enumerate(table.header.headers):
        if i in table.header.columns:
            continue
        key = text or f"列{i + 1}"
        while key in used:
            key += "'"
        used.add(key)
        names.append(key)
        pairs.append(f"{_sql_string(key)}, c{i}")
    pairs.append("'超出表头的单元格', overflow")
    obj = f"json_object({', '.join(pairs)})"
    named = [f"c{i}" for i in range(table.header.width) if i not in table.header.columns]
    any_value = " OR ".join([f"fw_text({c}) IS NOT NULL" for c in named] + ["overflow IS NOT NULL"])
    return f"CASE WHEN {any_value} THEN CAST({obj} AS VARCHAR) END", names


def _insert_raw(con, kind: str, table: TableInFile, source_id: str, source_file: str, sha: str, loaded_at) -> None:
    mapped = {canonical: f"c{pos}" for pos, canonical in table.header.columns.items()}
    select_canon = ", ".join(f"{mapped.get(c, 'NULL')} AS {c}" for c in ALIASES[kind])
    extra, _ = _extra_sql(table)
    con.execute(
        f"""INSERT INTO raw.{kind} ({', '.join(LINEAGE_COLUMNS)}, {', '.join(ALIASES[kind])}, extra, file_sha256, loaded_at)
        SELECT ?, ?, ?, source_row, {_row_kind_sql(table)}, {select_canon}, {extra}, ?, ?
        FROM _cells""",
        [source_id, source_file, table.sheet, sha, loaded_at],
    )


def _record_source(con, table: TableInFile, source_id, file_id, source_file, loaded_at) -> tuple[int, int]:
    kind = table.header.kind
    counts = con.execute(
        f"SELECT count(*), count(*) FILTER (row_kind = 'blank'), count(*) FILTER (row_kind IN ('footer', 'header')) "
        f"FROM raw.{kind} WHERE source_id = ?",
        [source_id],
    ).fetchone()
    headers = {canonical: table.header.headers[pos] for pos, canonical in table.header.columns.items()}
    _, extra_names = _extra_sql(table)
    title = table.title
    con.execute(
        """INSERT INTO meta.sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE)""",
        [
            source_id, file_id, source_file, table.sheet, kind, table.header.row_index + 1,
            json.dumps(headers, ensure_ascii=False), json.dumps(extra_names, ensure_ascii=False) if extra_names else None,
            title.scale, json.dumps(sorted(table.header.scaled_columns)) if table.header.scaled_columns else None,
            table.encoding, title.unit_code, title.unit_name, title.period_start, title.period_end,
            title.fiscal_year, counts[0] - counts[1], counts[1], counts[2], loaded_at,
        ],
    )
    return counts[0] - counts[1] - counts[2], counts[2]


def _delete_file(con, file_id: str) -> None:
    sources = [r[0] for r in con.execute("SELECT source_id FROM meta.sources WHERE file_id = ?", [file_id]).fetchall()]
    for kind in KINDS:
        for layer in ("raw", "staging"):
            con.execute(f"DELETE FROM {layer}.{kind} WHERE source_id IN (SELECT unnest(?::VARCHAR[]))", [sources])
    con.execute("DELETE FROM meta.slices WHERE source_id IN (SELECT unnest(?::VARCHAR[]))", [sources])
    con.execute("DELETE FROM meta.sources WHERE file_id = ?", [file_id])
    con.execute("DELETE FROM meta.files WHERE file_id = ?", [file_id])


def _scope_of_files(con, file_ids: list[str]) -> set[tuple[str, int]]:
    rows = con.execute(
        """SELECT DISTINCT sl.unit_code, sl.fiscal_year FROM meta.slices sl JOIN meta.sources so USING (source_id)
        WHERE so.file_id IN (SELECT unnest(?::VARCHAR[]))""",
        [file_ids],
    ).fetchall()
    return {(u, y) for u, y in rows}


def _read_file(con, landing: LandingFile, sha: str, workdir: Path, loaded_at, progress: Progress) -> list[str]:
    """Read one file into raw, one committed transaction per table; returns its source ids.

    Raises UnreadableFile (nothing of the file is left behind then)."""
    file_id = file_id_for(landing.source_file, sha)
    suffix = landing.path.suffix.lower()
    if suffix not in CSV_SUFFIXES | EXCEL_SUFFIXES:
        raise UnreadableFile(f"不支持的文件类型 / unsupported file type '{suffix or landing.path.name}'")
    tables, skipped = recognise(landing.path)
    source_ids = []
    try:
        for table in tables:
            source_id = f"{file_id}:{table.sheet or ''}"
            # Reading into the temp table happens outside the transaction: DuckDB reads
            # faster into committed temp storage than into transaction-local storage.
            if table.rows is None:
                load_csv_cells(con, landing.path, table, workdir)
            else:
                load_sheet_cells(con, table)
            con.execute("BEGIN")
            _insert_raw(con, table.header.kind, table, source_id, landing.source_file, sha, loaded_at)
            data_rows, _ = _record_source(con, table, source_id, file_id, landing.source_file, loaded_at)
            con.execute("COMMIT")
            drop_cells(con)
            where = f" [{table.sheet}]" if table.sheet else ""
            progress(f"  read {landing.source_file}{where}: {table.header.kind}, {data_rows:,} rows")
            source_ids.append(source_id)
    except BaseException:
        _rollback_quietly(con)
        drop_cells(con)
        _delete_file(con, file_id)
        raise
    notes = None
    if skipped:
        notes = json.dumps(
            {"skipped_sheets": [{"sheet": s.sheet, "reason": s.reason, "empty": s.empty} for s in skipped]},
            ensure_ascii=False,
        )
    con.execute(
        "INSERT INTO meta.files VALUES (?, ?, ?, ?, ?, 'loaded', NULL, ?, ?)",
        [file_id, landing.source_file, sha, landing.size, landing.mtime_ns, notes, loaded_at],
    )
    return source_ids


def _rollback_quietly(con) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # no transaction was open


def stage_pending(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Type and check, in one transaction, every source read into raw but not yet staged.

    Staging runs once over the whole batch after the files are read: per file it costs
    far more (measured: 1.9x the whole ingest), as every run has fixed costs and reads
    back raw rows. A load that dies between the two leaves sources unstaged, and the
    next load stages them first (meta.sources.staged)."""
    pending = [r[0] for r in con.execute("SELECT source_id FROM meta.sources WHERE NOT staged ORDER BY 1").fetchall()]
    if not pending:
        return []
    kinds = {k for (k,) in con.execute(
        "SELECT DISTINCT kind FROM meta.sources WHERE source_id IN (SELECT unnest(?::VARCHAR[]))", [pending]).fetchall()}
    con.execute("BEGIN")
    con.execute("DELETE FROM _batch")
    con.execute("INSERT INTO _batch SELECT unnest(?::VARCHAR[])", [pending])
    for kind in KINDS:
        if kind not in kinds:
            continue
        con.execute(f"DELETE FROM staging.{kind} WHERE source_id IN (SELECT source_id FROM _batch)")
        con.execute(f"INSERT INTO staging.{kind} {model_sql(f'staging/{kind}.sql')}")
    if "voucher_lines" in kinds:
        run_sql_file(con, "staging/voucher_lines__balance.sql")
    con.execute("UPDATE meta.sources SET staged = TRUE WHERE source_id IN (SELECT source_id FROM _batch)")
    con.execute("COMMIT")
    return pending


def ingest(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    workdir: Path,
    progress: Progress = lambda message: None,
    full_refresh: bool = False,
) -> IngestResult:
    ensure_tables(con)
    workdir.mkdir(parents=True, exist_ok=True)
    result = IngestResult()
    on_disk = discover(landing_dir)
    result.files_seen = len(on_disk)
    known = {
        row[0]: row[1:]
        for row in con.execute("SELECT source_file, file_id, file_sha256, size_bytes, mtime_ns FROM meta.files").fetchall()
    }
    if full_refresh:
        gone = [known[name][0] for name in known]
        result.touched_scope |= _scope_of_files(con, gone)
        for file_id in gone:
            _delete_file(con, file_id)
        known = {}

    to_read: list[tuple[LandingFile, str]] = []
    for landing in on_disk:
        previous = known.get(landing.source_file)
        if previous and previous[2] == landing.size and previous[3] == landing.mtime_ns:
            continue  # same size and modification time: the bytes loaded before
        sha = sha256_of(landing.path)
        if previous and previous[1] == sha:
            con.execute("UPDATE meta.files SET mtime_ns = ? WHERE file_id = ?", [landing.mtime_ns, previous[0]])
            continue
        to_read.append((landing, sha))
        (result.changed if previous else result.new).append(landing.source_file)

    disk_names = {f.source_file for f in on_disk}
    result.removed = sorted(name for name in known if name not in disk_names)
    stale = [known[name][0] for name in result.removed] + [
        known[landing.source_file][0] for landing, _ in to_read if landing.source_file in known
    ]
    result.touched_scope |= _scope_of_files(con, stale)
    for file_id in stale:
        con.execute("BEGIN")
        _delete_file(con, file_id)
        con.execute("COMMIT")

    loaded_at = datetime.now().replace(microsecond=0)
    for number, (landing, sha) in enumerate(to_read, 1):
        progress(f"[{number}/{len(to_read)}] {landing.source_file} ({landing.size / 1e6:,.1f} MB)")
        try:
            result.loaded_sources += _read_file(con, landing, sha, workdir, loaded_at, progress)
        except (UnreadableFile, duckdb.Error, OSError, ValueError, UnicodeError) as error:
            reason = str(error) if isinstance(error, UnreadableFile) else f"无法读取 / cannot read: {error}"
            progress(f"  UNREADABLE {landing.source_file}: {reason}")
            result.unreadable.append((landing.source_file, reason))
            con.execute(
                "INSERT INTO meta.files VALUES (?, ?, ?, ?, ?, 'unreadable', ?, NULL, ?)",
                [file_id_for(landing.source_file, sha), landing.source_file, sha, landing.size, landing.mtime_ns,
                 reason, loaded_at],
            )

    pending = stage_pending(con)
    if pending:
        progress(f"staged {len(pending)} table(s)")
        result.loaded_sources = sorted(set(result.loaded_sources) | set(pending))
    return result
