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
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.landing.discovery import LandingFile, discover
from pipelines.landing.headers import KINDS
from pipelines.landing.readers import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    UTF8_ENCODINGS,
    FileScan,
    SkippedSheet,
    TableInFile,
    UnreadableFile,
    WorkbookReader,
    recognise,
    scan_file,
    with_cells,
)
from pipelines.reference import load_reference
from pipelines.settings import read_limits
from pipelines.sqltext import model_sql, sql_text
from pipelines.warehouse import dirty, slices
from pipelines.warehouse.db import run_sql_file, table_exists
from pipelines.warehouse.raw_rows import (
    NewSource,
    csv_files_cells,
    insert_raw,
    record_files,
    record_sources,
    sheets_cells,
)
from pipelines.warehouse.raw_batches import (
    READ_ERRORS,
    CsvReaders,
    Progress,
    RawBatch,
    one_thread_a_query,
    quiet,
)
from pipelines.warehouse.schema import ROW_KIND_DDL, excel_errors_sql, raw_table_ddl


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
        con.execute(sql_text("staging/row_fate.sql").format(kind=kind))


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
    insert_raw(con, table.header, cells, source_key)
    source = NewSource(source_id, source_key, file_id, source_file, table)
    data_rows = record_sources(con, table.header.kind, [source], loaded_at)[source_key]
    progress(_read_line(source, data_rows))


def _read_line(source: NewSource, data_rows: int) -> str:
    where = f" [{source.table.sheet}]" if source.table.sheet else ""
    return printable(f"  read {source.source_file}{where}: {source.table.header.kind}, {data_rows:,} rows")


@dataclass
class RecognisedFile:
    """A landing file to read, its tables recognised (a workbook's cells read already)."""

    landing: LandingFile
    scan: FileScan
    tables: list[TableInFile]
    skipped: list[SkippedSheet]

    @property
    def file_id(self) -> str:
        return file_id_for(self.landing.source_file, self.scan.sha256)

    def source_id(self, table: TableInFile) -> str:
        return f"{self.file_id}:{table.sheet or ''}"

    def meta_row(self) -> tuple:
        """Its row of meta.files less status, reason and load time."""
        notes = None
        if self.skipped:
            notes = json.dumps(
                {"skipped_sheets": [{"sheet": s.sheet, "reason": s.reason, "empty": s.empty} for s in self.skipped]},
                ensure_ascii=False,
            )
        return (self.file_id, self.landing.source_file, self.scan.sha256, self.landing.size, self.landing.mtime_ns, notes)


def _recognise(landing: LandingFile, scan: FileScan, workbooks: WorkbookReader) -> RecognisedFile:
    """The file's tables; raises UnreadableFile when it holds nothing readable."""
    suffix = landing.path.suffix.lower()
    if suffix not in CSV_SUFFIXES | EXCEL_SUFFIXES:
        raise UnreadableFile(f"不支持的文件类型 / unsupported file type '{suffix or landing.path.name}'")
    tables, skipped = recognise(landing.path, workbooks)
    return RecognisedFile(landing, scan, tables, skipped)


def _read_file(con, file: RecognisedFile, workdir: Path, loaded_at, progress: Progress,
               python_csv: bool = False, source_keys: list[int] | None = None) -> list[str]:
    """Read one recognised file into raw and record it in meta; returns its source ids. Runs
    inside the caller's transaction (RawBatch), which is rolled back when this raises.
    `source_keys`: one per table, taken beforehand (CsvReaders: in file order whichever
    thread reads the file); else taken here.

    Raises UnreadableFile when Python's reader cannot read a CSV (`python_csv`), and
    duckdb.InvalidInputException when DuckDB cannot read a CSV strictly (read it again
    with `python_csv`)."""
    landing, file_id = file.landing, file.file_id
    _delete_file(con, file_id)  # what a load that died half-way through this file left
    source_ids = []
    keys = iter(source_keys or [])
    for table in file.tables:
        source_id = file.source_id(table)
        source_key = next(keys, None) or con.execute("SELECT nextval('meta.source_keys')").fetchall()[0][0]
        write = partial(_write_table, con, table, source_id, source_key, file_id, landing.source_file, loaded_at,
                        progress)
        with_cells(con, landing.path, table, workdir, write, python_csv=python_csv, empty_lines=file.scan.empty_lines)
        source_ids.append(source_id)
    record_files(con, [file.meta_row()], loaded_at)
    return source_ids


# Files are recognised a window at a time and the small ones of a window written together
# (one statement for the lot). The window bounds what is held in memory before it is
# written (workbooks' cells: about ten times their file's size as Python text), and a
# file over GROUP_BYTES is a window of its own: read alone, as it always was (a CSV
# streamed and numbered as it comes).
WINDOW_FILES = 200
WINDOW_BYTES = 16 * 1024 * 1024
GROUP_BYTES = 1024 * 1024
# files hashed at once before the reading (each scan hashes on a thread of its own too)
SCAN_THREADS = 2


def _layout(table: TableInFile) -> tuple:
    """What the SQL that writes a table's rows depends on: kind and header row."""
    header = table.header
    return header.kind, header.headers, tuple(sorted(header.columns.items()))


def _group_key(file: RecognisedFile) -> tuple | None:
    """Files with the same key are written together; None: the file is read alone (a
    transcoded CSV, one with empty lines below its header, which DuckDB skips and the row
    numbers must account for one file at a time). A file over GROUP_BYTES is read alone
    whatever its key: it is a window of its own (_windows)."""
    if file.landing.path.suffix.lower() in CSV_SUFFIXES:
        (table,) = file.tables
        empty = file.scan.empty_lines
        if (table.encoding not in UTF8_ENCODINGS or empty is None
                or any(line > table.header.row_index + 1 for line in empty)):
            return None
        return "csv", _layout(table), table.delimiter, table.header.row_index
    if all(table.cells is not None for table in file.tables):
        return ("sheets",) + tuple(_layout(table) for table in file.tables)
    return None


def _groups(files: list[RecognisedFile]) -> list[list[RecognisedFile]]:
    """The files in groups to write together (in the order of each group's first file);
    a file read alone is a group of one."""
    groups: dict[object, list[RecognisedFile]] = {}
    for position, file in enumerate(files):
        key = _group_key(file)
        groups.setdefault(position if key is None else key, []).append(file)
    return list(groups.values())


def _read_group(con, group: list[RecognisedFile], loaded_at, first_number: int, total: int,
                progress: Progress) -> list[str]:
    """Read files of one group (_group_key) into raw and record them in meta, one
    statement a step for them all; returns their source ids. Runs inside the caller's
    transaction (RawBatch). The files' progress lines come when all is written."""
    file_ids = [file.file_id for file in group]
    left = con.execute(
        """SELECT DISTINCT file_id FROM (SELECT file_id FROM meta.sources UNION ALL SELECT file_id FROM meta.files)
        WHERE file_id IN (SELECT unnest(?::VARCHAR[]))""",
        [file_ids],
    ).fetchall()
    for (file_id,) in left:
        _delete_file(con, file_id)  # what a load that died half-way through this file left
    per_file = len(group[0].tables)
    keys = sorted(key for (key,) in con.execute(
        "SELECT nextval('meta.source_keys') FROM range(?)", [len(group) * per_file]).fetchall())
    sources: list[NewSource] = []
    data_rows: dict[int, int] = {}
    for position in range(per_file):
        tables = [file.tables[position] for file in group]
        table_keys = [keys[number * per_file + position] for number in range(len(group))]
        header = tables[0].header
        if tables[0].cells is None:
            insert_raw(con, header, csv_files_cells([file.landing.path for file in group], table_keys, tables[0]))
        else:
            con.register("_sheets_cells", sheets_cells(tables, table_keys))
            try:
                insert_raw(con, header, "_sheets_cells")
            finally:
                con.unregister("_sheets_cells")
        of_table = [NewSource(file.source_id(table), key, file.file_id, file.landing.source_file, table)
                    for file, table, key in zip(group, tables, table_keys)]
        data_rows |= record_sources(con, header.kind, of_table, loaded_at)
        sources += of_table
    record_files(con, [file.meta_row() for file in group], loaded_at)
    by_file: dict[str, list[NewSource]] = {}
    for source in sorted(sources, key=lambda s: s.source_key):
        by_file.setdefault(source.file_id, []).append(source)
    for number, file in enumerate(group, first_number):
        progress(_file_line(number, total, file.landing))
        for source in by_file[file.file_id]:
            progress(_read_line(source, data_rows[source.source_key]))
    return [source.source_id for source in sorted(sources, key=lambda s: s.source_key)]


def _write_one(con, batch: RawBatch, file: RecognisedFile, workdir: Path, loaded_at, progress: Progress,
               unreadable: Callable[[tuple, Exception], None], source_keys: list[int] | None = None) -> list[str]:
    """Write one file in the batch (a CSV DuckDB cannot read strictly read again with
    Python); returns its source ids, none when it is unreadable (reported)."""
    landing, scan = file.landing, file.scan
    read = partial(_read_file, con, file, workdir, loaded_at, progress=progress, source_keys=source_keys)
    try:
        try:
            return batch.write((landing, scan), read)
        except duckdb.Error as error:  # InvalidInputException mostly; also "the parallel scanner does
            # not support null_padding with quoted new lines", and whatever a DuckDB version adds
            if landing.path.suffix.lower() not in CSV_SUFFIXES:
                raise
            progress("  DuckDB cannot read it strictly (ragged rows, line breaks in cells?): reading it with Python"
                     f" ({type(error).__name__})")
            return batch.write((landing, scan), partial(read, python_csv=True))
    except READ_ERRORS as error:
        unreadable((landing, scan), error)
        return []


def _file_line(number: int, total: int, landing: LandingFile) -> str:
    return f"[{number}/{total}] {printable(landing.source_file)} ({max(landing.size, 0) / 1e6:,.1f} MB)"


def _windows(files: list, limit_files: int, limit_bytes: int):
    """The files in consecutive windows of at most `limit_files` files and `limit_bytes`
    bytes; a file over GROUP_BYTES in a window of its own."""
    window, size = [], 0
    for file in files:
        landing = file[0]
        alone = landing.size > GROUP_BYTES
        if window and (alone or len(window) >= limit_files or size + max(landing.size, 0) > limit_bytes):
            yield window
            window, size = [], 0
        window.append(file)
        size += max(landing.size, 0)
        if alone:
            yield window
            window, size = [], 0
    if window:
        yield window




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
    pending = con.execute(
        "SELECT source_id, source_key, kind, sheet IS NOT NULL FROM meta.sources WHERE NOT staged ORDER BY 1"
    ).fetchall()
    staged = [source_id for source_id, _, _, _ in pending]
    kinds = {kind for _, _, kind, _ in pending}
    # Excel error values are looked for in workbooks only; on the rows of CSV files the
    # search costs (3.5 s for 5,000,000 voucher lines) and can find nothing
    kinds_in_workbooks = {kind for _, _, kind, workbook in pending if workbook}
    con.execute("BEGIN")
    if pending:
        con.execute("DELETE FROM _batch")
        con.execute("INSERT INTO _batch SELECT unnest(?::INTEGER[])", [[key for _, key, _, _ in pending]])
        for kind in KINDS:
            if kind not in kinds:
                continue
            con.execute(f"DELETE FROM staging.{kind}__rows WHERE source_key IN (SELECT source_key FROM _batch)")
            con.execute(f"INSERT INTO staging.{kind}__rows {model_sql(f'staging/{kind}.sql')}")
            if kind in kinds_in_workbooks:
                con.execute(excel_errors_sql(kind))
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
    when_reading: Callable[[], None] = lambda: None,
) -> IngestResult:
    """`when_reading` is called once the files to read are known and there are any."""
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
    to_scan = [
        landing for landing in on_disk
        # same size and modification time: the bytes loaded before
        if not ((previous := known.get(landing.source_file)) and previous[2:] == (landing.size, landing.mtime_ns))
    ]
    # Several files hashed at once (hashlib and reading let go of the GIL): the scan of a
    # big landing folder comes before any reading, 1.4 s of one thread for 600 MB
    with ThreadPoolExecutor(max_workers=SCAN_THREADS, thread_name_prefix="scan") as scanning:
        scanned = list(scanning.map(_scan, to_scan))
    for landing, scan in scanned:
        previous = known.get(landing.source_file)
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

    def lost(key, error: Exception) -> None:
        """A file, or each file of a group, that could not be written again (RawBatch)."""
        for file in key if isinstance(key, list) else [key]:
            unreadable(file if isinstance(file, tuple) else (file.landing, file.scan), error)

    # Files that cannot be read at all are recorded first, each on its own: recorded inside
    # the batch's transaction, a later file's rollback would take the record away.
    to_read.sort(key=lambda file: file[1] is not None)
    if to_read:
        when_reading()
    batch = RawBatch(con, on_lost=lost)
    number, total = 0, len(to_read)
    write_alone = partial(_write_one, workdir=workdir, loaded_at=loaded_at)
    with (one_thread_a_query(con) as threads, WorkbookReader(read_limits()) as workbooks,
          closing(CsvReaders(con, threads, progress, write_alone)) as csv_readers):
        # From here on every line, those of `unreadable` too, waits for the files before it.
        progress = csv_readers.in_file_order
        workbooks.prefetch(l.path for l, scan in to_read if scan and l.path.suffix.lower() in EXCEL_SUFFIXES)
        for window in _windows(to_read, WINDOW_FILES, WINDOW_BYTES):
            recognised, failed = [], []
            for landing, scan in window:
                try:
                    if scan is None:
                        raise UnreadableFile(landing.problem)
                    recognised.append(_recognise(landing, scan, workbooks))
                except READ_ERRORS as error:
                    failed.append(((landing, scan), error))
            if failed:
                batch.commit()  # a record made inside the batch's transaction would go with a later rollback
            for file, error in failed:
                number += 1
                progress(_file_line(number, total, file[0]))
                unreadable(file, error)
            for group in _groups(recognised):
                if len(group) > 1:
                    # the files' progress lines come once they are written (written again: none)
                    read_group = partial(_read_group, con, group, loaded_at, number + 1, total, progress=progress)
                    try:
                        result.loaded_sources += batch.write(group, read_group)
                    except READ_ERRORS:
                        pass  # one of them DuckDB cannot read strictly, say: each file on its own, as below
                    else:
                        number += len(group)
                        continue
                for file in group:
                    number += 1
                    if csv_readers.takes(file):
                        csv_readers.submit(_file_line(number, total, file.landing), file)
                        continue
                    progress(_file_line(number, total, file.landing))
                    result.loaded_sources += _write_one(con, batch, file, workdir, loaded_at, progress, unreadable)
                csv_readers.emit(result.loaded_sources)
        batch.commit()
        for key, error in csv_readers.finish(result.loaded_sources):
            lost(key, error)

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
