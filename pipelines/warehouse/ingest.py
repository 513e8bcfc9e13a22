"""Landing folder -> raw layer (as read, with lineage) -> staging layer (typed, checked).

Incremental by file content: a file whose path and bytes were loaded before is not read
again; a changed file's rows are replaced, a removed file's rows deleted. Which files
count (a newer export replacing an older one) is decided afterwards, per kind, unit and
fiscal year, in `pipelines.warehouse.slices`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.landing.discovery import LandingFile, discover
from pipelines.landing.headers import ALIASES, KINDS
from pipelines.landing.readers import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    FileScan,
    TableInFile,
    UnreadableFile,
    WorkbookReader,
    recognise,
    scan_file,
    with_cells,
)
from pipelines.reference import load_reference
from pipelines.settings import read_limits
from pipelines.sqltext import model_sql, sql_string, sql_text
from pipelines.warehouse import dirty, slices
from pipelines.warehouse.db import run_sql_file, table_exists
from pipelines.warehouse.schema import ROW_KIND_DDL, raw_table_ddl

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """A Progress that says nothing."""


@dataclass
class IngestResult:
    files_seen: int = 0
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    loaded_sources: list[str] = field(default_factory=list)
    touched_scope: set[tuple[str, int]] = field(default_factory=set)  # (unit, year) whose inputs changed


_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Text for a line of the progress log or the summary: control characters (a newline
    in a file name) escaped as \\n, \\x1b …, so that a name cannot forge a line of the log."""
    return _CONTROL_CHARACTERS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def file_id_for(source_file: str, sha: str) -> str:
    return hashlib.sha256(f"{source_file}\0{sha}".encode()).hexdigest()[:20]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    load_reference(con)
    if not con.execute("SELECT count(*) FROM duckdb_types() WHERE schema_name = 'raw' AND type_name = 'row_kind'").fetchall()[0][0]:
        # An enum: one byte a row where a text column would cost as much as a cell.
        con.execute(ROW_KIND_DDL)
    con.execute("CREATE TEMP TABLE IF NOT EXISTS _batch(source_key INTEGER)")
    for kind in KINDS:
        con.execute(raw_table_ddl(kind))
        con.execute(sql_text("raw/lineage_view.sql").format(kind=kind))
        if not table_exists(con, f"staging.{kind}__rows"):
            con.execute("DELETE FROM _batch")
            con.execute(f"CREATE TABLE staging.{kind}__rows AS {model_sql(f'staging/{kind}.sql')} LIMIT 0")
        con.execute(sql_text("staging/lineage_view.sql").format(kind=kind))


def _row_kind_sql(table: TableInFile) -> str:
    """blank / footer / header (a repeated header row) / data.

    Nearly every row is data, and a row with visible text in its first mapped column,
    no 计 in any cell (every footer word has one) and not that column's header text is
    data: the first branch decides it with cheap tests, and CASE evaluates the later
    branches only for the rows still undecided.

    The later tests run over the list of cells in a lambda, so that each macro (and the
    regular expressions in it) is bound once, not once per column: binding a dozen copies
    of fw_text took most of the time of a 300-line file's insert (~130 ms of ~190 ms)."""
    width = table.header.width
    cells = f"[{', '.join(f'c{i}' for i in range(width))}]"
    first = min(table.header.columns)
    first_header = table.header.headers[first]
    any_ji = f"contains(concat({', '.join(f'c{i}' for i in range(width))}), '计')"
    surely_data = " AND ".join(
        # a first character that is not white space (space, tab, CR, LF, U+3000, NBSP, BOM)
        [f"unicode(c{first}) NOT IN (-1, 0, 9, 10, 11, 12, 13, 32, 160, 12288, 65279)", f"NOT {any_ji}"]
        + ([f"NOT contains(c{first}, {sql_string(first_header)})"] if first_header else [])
    )
    blank = f"NOT list_bool_or(list_transform(list_append({cells}, overflow), lambda x: fw_text(x) IS NOT NULL))"
    first_cell = f"list_filter(list_transform({cells}, lambda x: fw_text(x)), lambda x: x IS NOT NULL)[1]"
    footer = (f"fw_is_footer_text({first_cell}) OR "
              f"list_bool_or(list_transform({cells}, lambda x: fw_is_footer_word(x)))")
    mapped = sorted(table.header.columns)
    # fw_text(c) = header for every mapped column; a NULL cell fails it, as in an AND of them
    repeated = (f"list_transform([{', '.join(f'c{i}' for i in mapped)}], lambda x: fw_text(x)) = "
                f"[{', '.join(sql_string(table.header.headers[i]) for i in mapped)}]")
    return (f"CASE WHEN {surely_data} THEN 'data' WHEN {blank} THEN 'blank' WHEN {any_ji} AND ({footer}) "
            f"THEN 'footer' WHEN {repeated} THEN 'header' ELSE 'data' END")


def _extra_names(table: TableInFile) -> dict[int, str]:
    """Column position -> the key in raw.extra of each column whose header we do not map
    (its header text, made unique; 列<n> when it has none)."""
    names: dict[int, str] = {}
    for i, text in enumerate(table.header.headers):
        if i in table.header.columns:
            continue
        key = text or f"列{i + 1}"
        while key in names.values():
            key += "'"
        names[i] = key
    return names


def _extra_sql(table: TableInFile) -> str:
    """JSON of the cells under headers we do not map, plus cells beyond the header's width."""
    names = _extra_names(table)
    pairs = [f"{sql_string(key)}, c{i}" for i, key in names.items()] + ["'超出表头的单元格', overflow"]
    obj = f"json_object({', '.join(pairs)})"
    any_value = " OR ".join([f"fw_text(c{i}) IS NOT NULL" for i in names] + ["overflow IS NOT NULL"])
    return f"CASE WHEN {any_value} THEN CAST({obj} AS VARCHAR) END"


def _insert_raw(con, kind: str, table: TableInFile, source_key: int, cells: str) -> None:
    """The rows of relation `cells` (from with_cells) into raw.<kind>__rows."""
    mapped = {canonical: f"c{pos}" for pos, canonical in table.header.columns.items()}
    select_canon = ", ".join(f"{mapped.get(c, 'NULL')} AS {c}" for c in ALIASES[kind])
    extra = _extra_sql(table)
    con.execute(
        f"""INSERT INTO raw.{kind}__rows (source_key, source_row, row_kind, {', '.join(ALIASES[kind])}, extra)
        SELECT ?, source_row, {_row_kind_sql(table)}, {select_canon}, {extra}
        FROM {cells}""",
        [source_key],
    )


def _record_source(con, table: TableInFile, source_id, source_key, file_id, source_file, loaded_at) -> int:
    """Record the source in meta.sources, its row counts taken from raw in the same
    statement; returns its data rows (not blank, footer or header)."""
    kind = table.header.kind
    headers = {canonical: table.header.headers[pos] for pos, canonical in table.header.columns.items()}
    extra_names = list(_extra_names(table).values())
    title = table.title
    return con.execute(
        f"""INSERT INTO meta.sources
        SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
               count(*) FILTER (row_kind <> 'blank'), count(*) FILTER (row_kind = 'blank'),
               count(*) FILTER (row_kind IN ('footer', 'header')), ?, FALSE
        FROM raw.{kind}__rows WHERE source_key = ?
        RETURNING rows_raw - rows_footer""",
        [
            source_id, source_key, file_id, source_file, table.sheet, kind, table.header.row_index + 1,
            json.dumps(headers, ensure_ascii=False), json.dumps(extra_names, ensure_ascii=False) if extra_names else None,
            title.scale, json.dumps(sorted(table.header.scaled_columns)) if table.header.scaled_columns else None,
            table.encoding, title.unit_code, title.unit_name, title.period_start, title.period_end,
            title.fiscal_year, loaded_at, source_key,
        ],
    ).fetchall()[0][0]


def _delete_file(con, file_id: str) -> None:
    found = con.execute(
        """SELECT source_id, source_key, kind FROM meta.sources WHERE file_id = $1
        UNION ALL SELECT NULL, NULL, NULL FROM meta.files WHERE file_id = $1""",
        [file_id],
    ).fetchall()
    if not found:
        return  # a file new to the warehouse: nothing to delete (the common case: one statement, not four)
    sources = [row for row in found if row[0] is not None]
    for kind in sorted({kind for _, _, kind in sources}):
        keys = [key for _, key, of_kind in sources if of_kind == kind]
        for layer in ("raw", "staging"):
            con.execute(f"DELETE FROM {layer}.{kind}__rows WHERE source_key IN (SELECT unnest(?::INTEGER[]))", [keys])
    if sources:
        con.execute("DELETE FROM meta.slices WHERE source_id IN (SELECT unnest(?::VARCHAR[]))", [[s for s, _, _ in sources]])
    con.execute("DELETE FROM meta.sources WHERE file_id = ?", [file_id])
    con.execute("DELETE FROM meta.files WHERE file_id = ?", [file_id])


def _scope_of_files(con, file_ids: list[str]) -> set[tuple[str, int]]:
    rows = con.execute(
        """SELECT DISTINCT sl.unit_code, sl.fiscal_year FROM meta.slices sl JOIN meta.sources so USING (source_id)
        WHERE so.file_id IN (SELECT unnest(?::VARCHAR[]))""",
        [file_ids],
    ).fetchall()
    return {(u, y) for u, y in rows}


def _write_table(con, table: TableInFile, source_id: str, source_key: int, file_id: str, source_file: str,
                 loaded_at, progress: Progress, cells: str) -> None:
    """The rows of relation `cells` into raw, and the source into meta.sources."""
    _insert_raw(con, table.header.kind, table, source_key, cells)
    data_rows = _record_source(con, table, source_id, source_key, file_id, source_file, loaded_at)
    where = f" [{table.sheet}]" if table.sheet else ""
    progress(printable(f"  read {source_file}{where}: {table.header.kind}, {data_rows:,} rows"))


def _read_file(con, landing: LandingFile, scan: FileScan, workdir: Path, loaded_at, workbooks: WorkbookReader,
               progress: Progress, python_csv: bool = False) -> list[str]:
    """Read one file into raw and record it in meta; returns its source ids. Runs inside the
    caller's transaction (RawBatch), which is rolled back when this raises.

    Raises UnreadableFile when the file holds nothing readable, and
    duckdb.InvalidInputException when DuckDB cannot read a CSV strictly (read it again
    with `python_csv`)."""
    file_id = file_id_for(landing.source_file, scan.sha256)
    suffix = landing.path.suffix.lower()
    if suffix not in CSV_SUFFIXES | EXCEL_SUFFIXES:
        raise UnreadableFile(f"不支持的文件类型 / unsupported file type '{suffix or landing.path.name}'")
    tables, skipped = recognise(landing.path, workbooks)
    _delete_file(con, file_id)  # what a load that died half-way through this file left
    source_ids = []
    for table in tables:
        source_id = f"{file_id}:{table.sheet or ''}"
        source_key = con.execute("SELECT nextval('meta.source_keys')").fetchall()[0][0]
        write = partial(_write_table, con, table, source_id, source_key, file_id, landing.source_file, loaded_at,
                        progress)
        with_cells(con, landing.path, table, workdir, write, python_csv=python_csv, empty_lines=scan.empty_lines)
        source_ids.append(source_id)
    notes = None
    if skipped:
        notes = json.dumps(
            {"skipped_sheets": [{"sheet": s.sheet, "reason": s.reason, "empty": s.empty} for s in skipped]},
            ensure_ascii=False,
        )
    con.execute(
        "INSERT INTO meta.files VALUES (?, ?, ?, ?, ?, 'loaded', NULL, ?, ?)",
        [file_id, landing.source_file, scan.sha256, landing.size, landing.mtime_ns, notes, loaded_at],
    )
    return source_ids


# What reading a file may raise that makes that file unreadable. Everything short of an
# interrupt: one file never stops the others (a bug it brings out is reported with it).
READ_ERRORS = (Exception,)


def _scan(landing: LandingFile) -> tuple[LandingFile, FileScan | None]:
    """The file's hash (and empty lines); no FileScan when it has a problem or cannot be
    opened (permission denied, gone): its modification time is then kept as -1, so that
    the next load tries it again."""
    if landing.problem:
        return landing, None
    try:
        return landing, scan_file(landing.path, find_empty_lines=landing.path.suffix.lower() in CSV_SUFFIXES)
    except OSError as error:
        problem = f"无法打开文件 / cannot open the file: {error.strerror or error}"
        return LandingFile(landing.path, landing.source_file, landing.size, -1, problem), None


class RawBatch:
    """The files a load reads, written to raw in one transaction where it can.

    A commit per file costs about a fifth more on exports of 100,000 lines (1.08 s against
    0.89 s a million lines): in one transaction DuckDB fills whole row groups and writes
    them as it goes. But an
    error aborts DuckDB's whole transaction, so when a file fails, the files written
    before it are written again in a transaction of their own, and the error is raised
    for the caller to deal with that one file. A file that fails when written again (it
    changed or vanished meanwhile) is handed to `on_lost`, and the others are kept.

    The batch runs DuckDB on one thread: numbering the rows (row_number() OVER () in
    _cells) makes the read sequential anyway, and a second thread only adds coordination
    (bench/bench.py: 0.89 s against 1.10 s a million lines)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, on_lost: Callable[[Any, Exception], None]):
        self.con = con
        self.on_lost = on_lost
        self.threads: int | None = None  # DuckDB's own setting while the batch is open
        self.done: list[tuple[Any, Callable[..., list[str]]]] = []

    def write(self, key: Any, read: Callable[..., list[str]]) -> list[str]:
        """Run `read` (a _read_file partial taking `progress`) in the batch; `key` names it
        to `on_lost`."""
        self._begin()
        try:
            source_ids = read()
        except BaseException:
            _rollback_quietly(self.con)
            self._end()
            self._write_again()
            raise
        self.done.append((key, read))
        return source_ids

    def commit(self) -> None:
        if self.threads is not None:
            self.con.execute("COMMIT")
            self._end()
        self.done = []

    def _write_again(self) -> None:
        pending, self.done = self.done, []
        while pending:
            self._begin()
            for position, (key, read) in enumerate(pending):
                try:
                    read(progress=quiet)
                except READ_ERRORS as error:
                    _rollback_quietly(self.con)
                    self._end()
                    self.on_lost(key, error)
                    pending = pending[:position] + pending[position + 1:]
                    break
            else:
                self.commit()
                pending = []

    def _begin(self) -> None:
        if self.threads is None:
            self.threads = int(self.con.execute("SELECT current_setting('threads')").fetchall()[0][0])
            self.con.execute("SET threads = 1")
            self.con.execute("BEGIN")

    def _end(self) -> None:
        if self.threads is not None:
            self.con.execute(f"SET threads = {self.threads}")
            self.threads = None


def _rollback_quietly(con) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # no transaction was open


def stage_pending(con: duckdb.DuckDBPyConnection) -> tuple[list[str], set[tuple[str, int]]]:
    """Type and check, in one transaction, every source read into raw but not yet staged;
    record what they contribute (meta.slices), decide again which files count, and mark
    the unit-years whose counting rows changed. Returns the sources staged and the
    unit-years marked.

    Staging runs once over the whole batch after the files are read: per file it costs
    far more (measured: 1.9x the whole ingest), as every run has fixed costs and reads
    back raw rows. A load that dies between the two leaves sources unstaged (they have
    no slices yet, so they count nowhere), and the next load stages them first
    (meta.sources.staged). Staging, slices and marks commit together: a load killed
    after this commit has nothing of these files left to do but the rebuild its marks
    ask for. Which files count is decided again on every load, because a file whose
    modification time alone changed may now be the newer one."""
    pending = con.execute("SELECT source_id, source_key, kind FROM meta.sources WHERE NOT staged ORDER BY 1").fetchall()
    staged = [source_id for source_id, _, _ in pending]
    kinds = {kind for _, _, kind in pending}
    con.execute("BEGIN")
    if pending:
        con.execute("DELETE FROM _batch")
        con.execute("INSERT INTO _batch SELECT unnest(?::INTEGER[])", [[key for _, key, _ in pending]])
        for kind in KINDS:
            if kind not in kinds:
                continue
            con.execute(f"DELETE FROM staging.{kind}__rows WHERE source_key IN (SELECT source_key FROM _batch)")
            con.execute(f"INSERT INTO staging.{kind}__rows {model_sql(f'staging/{kind}.sql')}")
        if "voucher_lines" in kinds:
            run_sql_file(con, "staging/voucher_lines__balance.sql")
        con.execute("UPDATE meta.sources SET staged = TRUE WHERE source_key IN (SELECT source_key FROM _batch)")
        slices.record_slices(con, staged)
    touched = slices.resolve(con) | {
        (u, y)
        for u, y in con.execute(
            "SELECT DISTINCT unit_code, fiscal_year FROM meta.slices WHERE source_id IN (SELECT unnest(?::VARCHAR[]))",
            [staged],
        ).fetchall()
    }
    dirty.mark(con, touched)
    con.execute("COMMIT")
    return staged, touched


def ingest(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    workdir: Path,
    progress: Progress = quiet,
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
    refreshed = [known[name][0] for name in known] if full_refresh else []
    if full_refresh:
        known = {}  # every file is read again, as new

    to_read: list[tuple[LandingFile, FileScan | None]] = []  # no FileScan: a file that cannot be read at all
    for landing in on_disk:
        previous = known.get(landing.source_file)
        if previous and previous[2] == landing.size and previous[3] == landing.mtime_ns:
            continue  # same size and modification time: the bytes loaded before
        landing, scan = _scan(landing)
        if scan is None:
            if previous and not previous[1]:
                continue  # could not be read before either: its record (and report) stays
            to_read.append((landing, None))
            (result.changed if previous else result.new).append(landing.source_file)
            continue
        if previous and previous[1] == scan.sha256:
            con.execute("UPDATE meta.files SET mtime_ns = ? WHERE file_id = ?", [landing.mtime_ns, previous[0]])
            continue
        to_read.append((landing, scan))
        (result.changed if previous else result.new).append(landing.source_file)

    disk_names = {f.source_file for f in on_disk}
    result.removed = sorted(name for name in known if name not in disk_names)
    stale = refreshed + [known[name][0] for name in result.removed] + [
        known[landing.source_file][0] for landing, _ in to_read if landing.source_file in known
    ]
    result.touched_scope |= _delete_stale(con, stale)

    loaded_at = datetime.now().replace(microsecond=0)

    def unreadable(file: tuple[LandingFile, FileScan | None], error: Exception) -> None:
        landing, scan = file
        sha = scan.sha256 if scan else ""  # no hash: bytes that could not be read at all
        file_id = file_id_for(landing.source_file, sha)
        if isinstance(error, UnreadableFile):
            reason = str(error)
        elif isinstance(error, (duckdb.Error, OSError, UnicodeError)):
            reason = f"无法读取 / cannot read: {error}"
        else:  # a bug of ours the file brought out: this file is reported, the others load
            reason = f"读取时出错 / error while reading: {type(error).__name__}: {error}"
        progress(f"  UNREADABLE {printable(landing.source_file)}: {printable(reason)}")
        result.unreadable.append((landing.source_file, reason))
        result.loaded_sources = [s for s in result.loaded_sources if not s.startswith(f"{file_id}:")]
        con.execute(
            "INSERT INTO meta.files VALUES (?, ?, ?, ?, ?, 'unreadable', ?, NULL, ?)",
            [file_id, landing.source_file, sha, landing.size, landing.mtime_ns, reason, loaded_at],
        )

    # Files that cannot be read at all are recorded first, each on its own: recorded inside
    # the batch's transaction, a later file's rollback would take the record away.
    to_read.sort(key=lambda file: file[1] is not None)
    batch = RawBatch(con, on_lost=unreadable)
    with WorkbookReader(read_limits()) as workbooks:
        workbooks.prefetch(l.path for l, scan in to_read if scan and l.path.suffix.lower() in EXCEL_SUFFIXES)
        for number, (landing, scan) in enumerate(to_read, 1):
            progress(f"[{number}/{len(to_read)}] {printable(landing.source_file)} ({max(landing.size, 0) / 1e6:,.1f} MB)")
            if scan is None:
                unreadable((landing, scan), UnreadableFile(landing.problem))
                continue
            read = partial(_read_file, con, landing, scan, workdir, loaded_at, workbooks, progress=progress)
            try:
                try:
                    result.loaded_sources += batch.write((landing, scan), read)
                except duckdb.Error as error:  # InvalidInputException mostly; also "the parallel scanner does
                    # not support null_padding with quoted new lines", and whatever a DuckDB version adds
                    if landing.path.suffix.lower() not in CSV_SUFFIXES:
                        raise
                    progress("  DuckDB cannot read it strictly (ragged rows, line breaks in cells?): reading it with Python"
                             f" ({type(error).__name__})")
                    result.loaded_sources += batch.write((landing, scan), partial(read, python_csv=True))
            except READ_ERRORS as error:
                unreadable((landing, scan), error)
        batch.commit()

    pending, touched = stage_pending(con)
    result.touched_scope |= touched
    if pending:
        progress(f"staged {len(pending)} table(s)")
        result.loaded_sources = sorted(set(result.loaded_sources) | set(pending))
    return result


def _delete_stale(con: duckdb.DuckDBPyConnection, file_ids: list[str]) -> set[tuple[str, int]]:
    """Delete the rows of removed, changed (and, on a full refresh, all) files, and mark
    the unit-years they counted in, in one transaction: a load killed or failing after
    it still rebuilds those unit-years, because the marks survive with the deletion.
    Returns the unit-years marked."""
    if not file_ids:
        return set()
    con.execute("BEGIN")
    scope = _scope_of_files(con, file_ids)
    for file_id in file_ids:
        _delete_file(con, file_id)
    dirty.mark(con, scope)
    con.execute("COMMIT")
    return scope
