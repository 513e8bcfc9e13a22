"""Reading landing files into cell tables: every physical row, its 1-based row number as a
spreadsheet shows it, and its cells as text.

CSV goes through DuckDB's reader (no Python loop over rows), as a view that the raw insert
reads in the same pass; a CSV DuckDB cannot read strictly (ragged rows, quoted line
breaks, mixed line endings) falls back to Python's csv module so that nothing is dropped. GBK/GB18030 files are transcoded to
UTF-8 first, because DuckDB reads UTF-8 only without its (downloaded) encodings
extension. XLSX/XLS/ODS go through python-calamine (Rust, several times faster than
openpyxl, reads .xls too), in worker processes and within limits (`workbooks`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import mmap
import os
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from charset_normalizer import from_bytes

from pipelines.landing.headers import HeaderMatch, find_header
from pipelines.landing.money import UnknownMoneyUnit
from pipelines.landing.titles import TitleInfo, parse_title_rows
from pipelines.landing.workbooks import SheetCells, UnreadableFile, WorkbookReader
from pipelines.settings import read_limits
from pipelines.sqltext import sql_paths, sql_string

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
HEAD_BYTES = 256 * 1024
# UTF-8 with undecodable bytes, under Python's other spelling of the codec: not one of
# UTF8_ENCODINGS, so it is transcoded with replacement like a legacy encoding and staging's
# unreadable-text check (encoding not utf-8) runs on its rows.
UTF8_WITH_BAD_BYTES = "utf_8"
HEAD_ROWS = 60
TRANSCODE_CHUNK = 16 * 1024 * 1024


@dataclass
class TableInFile:
    """One recognised table: a CSV file, or one sheet of a workbook."""

    sheet: str | None
    header: HeaderMatch
    title: TitleInfo
    encoding: str | None = None
    delimiter: str | None = None
    cells: SheetCells | None = None  # workbook sheets: every row below the header, read already


@dataclass
class SkippedSheet:
    sheet: str
    reason: str
    empty: bool = False


# ---------------------------------------------------------------- encodings and CSV


def detect_encoding(head: bytes) -> str:
    """utf-8 (BOM or not), else GB18030 (a superset of GBK and GB2312), else a guess."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    trimmed = head[: head.rfind(b"\n") + 1] if len(head) == HEAD_BYTES and b"\n" in head else head
    for encoding in ("utf-8", "gb18030"):
        try:
            trimmed.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    # A few bad bytes in an otherwise good export (a damaged cell) are the rows' problem, not
    # the file's: the encoding that leaves the fewest undecodable, whose rows with them
    # staging quarantines as unreadable text, while the rest load.
    damaged = {encoding: trimmed.decode(encoding, errors="replace").count("\ufffd") for encoding in ("utf-8", "gb18030")}
    fewest = min(damaged, key=damaged.get)
    if damaged[fewest] <= max(4, len(trimmed) // 1000):
        return UTF8_WITH_BAD_BYTES if fewest == "utf-8" else fewest
    guess = from_bytes(trimmed).best()
    if guess is None:
        raise UnreadableFile("无法识别文件编码 / cannot detect the text encoding")
    return guess.encoding


def _sniff_delimiter(lines: list[str]) -> str:
    sample = "\n".join(lines[:HEAD_ROWS])
    counts = {d: sample.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv_head(path: Path) -> tuple[str, str, list[list[object]]]:
    """(encoding, delimiter, first rows) of a CSV file."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.strip():
        raise UnreadableFile("文件为空 / the file is empty")
    encoding = detect_encoding(head)
    text = head.decode(encoding, errors="replace")
    if len(head) == HEAD_BYTES:  # up to the last whole line (CR alone ends a line too)
        text = text[: max(text.rfind("\n"), text.rfind("\r")) + 1]
    lines = text.splitlines()
    delimiter = _sniff_delimiter(lines)
    rows = _csv_records(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), HEAD_ROWS)
    return encoding, delimiter, rows


def _csv_records(reader, limit: int | None = None) -> list[list[str]]:
    """The reader's records (the first `limit`), with a cell over the limit reported as the
    file's problem rather than the csv module's."""
    max_cell = read_limits().max_cell_bytes
    csv.field_size_limit(max_cell)  # process-wide; every CSV read here sets it first
    records = []
    try:
        for record in reader:
            records.append(record)
            if limit is not None and len(records) >= limit:
                break
    except csv.Error as error:
        raise UnreadableFile(_csv_error_reason(error, reader.line_num, max_cell)) from error
    return records


def _csv_error_reason(error: csv.Error, line: int, max_cell: int) -> str:
    if "field larger than field limit" in str(error):
        return (f"第 {line} 行附近有超过 {max_cell:,} 个字符的单元格（FISCAL_MAX_CELL_BYTES） / a cell near line {line} "
                f"is longer than {max_cell:,} characters (FISCAL_MAX_CELL_BYTES)")
    return f"第 {line} 行附近无法按 CSV 读取 / not readable as CSV near line {line}: {error}"


def recognise_csv(path: Path) -> TableInFile:
    encoding, delimiter, rows = read_csv_head(path)
    try:
        header = find_header(rows)
        title = parse_title_rows(rows[: header.row_index]) if header else None
    except UnknownMoneyUnit as error:  # its amounts would load at a wrong scale
        raise UnreadableFile(str(error)) from error
    if header is None:
        raise UnreadableFile("未找到可识别的表头行 / no recognisable header row in the first rows")
    return TableInFile(None, header, title, encoding=encoding, delimiter=delimiter)


def _utf8_copy(path: Path, encoding: str, workdir: Path) -> Path:
    """Stream-transcode to UTF-8; undecodable bytes become U+FFFD, which staging rejects."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    handle, name = tempfile.mkstemp(suffix=".csv", dir=workdir)
    with os.fdopen(handle, "wb") as out, open(path, "rb") as src:
        while chunk := src.read(TRANSCODE_CHUNK):
            out.write(decoder.decode(chunk).encode("utf-8"))
        out.write(decoder.decode(b"", final=True).encode("utf-8"))
    return Path(name)


@dataclass(frozen=True)
class FileScan:
    sha256: str
    empty_lines: tuple[int, ...] | None  # 1-based; None when not looked for


# A newline followed by an empty line (LF or CRLF); the lookahead lets runs of empty
# lines match one by one.
_BEFORE_EMPTY_LINE = re.compile(rb"\n(?=\r?\n)")
SCAN_CHUNK = 8 * 1024 * 1024


def scan_file(path: Path, find_empty_lines: bool = False) -> FileScan:
    """The file's sha256 and, when asked, its empty lines (which DuckDB's CSV reader skips
    without a trace, so that row numbers must be corrected for them), in one read: the
    hash is computed on a second thread (hashlib lets go of the GIL) while this one searches."""
    digest = hashlib.sha256()
    after_newlines: set[int] = set()  # offsets of the newlines an empty line follows
    starts_empty = False
    with open(path, "rb") as handle, ThreadPoolExecutor(max_workers=1) as hasher:
        carry, offset = b"", 0  # the previous chunk's last bytes, for a match across chunks
        while chunk := handle.read(SCAN_CHUNK):
            hashing = hasher.submit(digest.update, chunk)
            if find_empty_lines:
                if offset == 0:
                    starts_empty = chunk[:1] in (b"\n", b"\r")
                text = carry + chunk
                base = offset - len(carry)
                after_newlines.update(base + m.start() for m in _BEFORE_EMPTY_LINE.finditer(text))
                carry = text[-2:]
            offset += len(chunk)
            hashing.result()
    if not find_empty_lines:
        return FileScan(digest.hexdigest(), None)
    return FileScan(digest.hexdigest(), _line_numbers_after(path, sorted(after_newlines), starts_empty))


def _line_numbers_after(path: Path, newline_offsets: list[int], starts_empty: bool) -> tuple[int, ...]:
    """1-based numbers of the lines that follow the newlines at these byte offsets."""
    found = [1] if starts_empty else []
    if newline_offsets:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            line, last = 1, 0
            for position in newline_offsets:
                line += data[last:position].count(b"\n")
                last = position
                found.append(line + 1)
    return tuple(sorted(set(found)))


def _cell_columns(width: int) -> list[str]:
    return [f"c{i}" for i in range(width)]


# Encodings DuckDB reads as they are; a CSV in any other is read through a UTF-8 copy.
UTF8_ENCODINGS = ("utf-8", "utf-8-sig", "ascii")


def read_csv_sql(sources: list[Path], delimiter: str, width: int, first_data_line: int) -> str:
    """DuckDB's strict read of CSV files of one layout (one file, or a list read one after
    the other) from their first data line on, every cell as text in c0.."""
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in _cell_columns(width)) + "}"
    files = (sql_string(sources[0].as_posix()) if len(sources) == 1
             else sql_paths(sources))
    return f"""read_csv({files},
        auto_detect=false, header=false, skip={first_data_line - 1}, delim={sql_string(delimiter)}, quote='"',
        escape='"', strict_mode=true, null_padding=true, columns={columns})"""


def with_cells(con: duckdb.DuckDBPyConnection, path: Path, table: TableInFile, workdir: Path,
               use: Callable[..., None], python_csv: bool = False, empty_lines: tuple[int, ...] | None = None) -> None:
    """Call `use(cells=<relation>)` with a relation `(source_row, c0.., overflow)` holding
    every row of the table below its header, and drop what it took afterwards.

    For a CSV the relation is a subquery over DuckDB's reader, so the file is parsed while
    `use` writes its rows (no view to create and drop: two statements a file, which is
    what a small file costs); a file DuckDB cannot read strictly (ragged rows, quoted line
    breaks, bad bytes) raises duckdb.InvalidInputException from `use`, and is to be read
    again with `python_csv`: through Python's csv module, which reads what DuckDB refuses,
    into temp table `_cells` (as a workbook sheet is).
    `empty_lines` are the file's, from scan_file (looked for here when not given).
    Runs inside the caller's transaction: when `use` fails, the rollback takes the temp
    relations away (DuckDB refuses any statement in an aborted transaction, a DROP included)."""
    made = ["TABLE _cells"]  # what to drop afterwards (asking the catalog cost as much as a small file's insert)
    if table.cells is not None:
        _cells_from_columns(con, table.cells.rows, table.cells.columns, table.cells.overflow)
        use(cells="_cells")
    else:
        width = table.header.width
        first_data_line = table.header.row_index + 2
        delimiter = table.delimiter or ","
        source = path
        if table.encoding not in UTF8_ENCODINGS:
            source = _utf8_copy(path, table.encoding, workdir)
            empty_lines = None  # in the copy, as DuckDB reads it
        try:
            if python_csv:
                _python_csv(con, source, delimiter, width, first_data_line)
                use(cells="_cells")
            else:
                if empty_lines is None:
                    empty_lines = scan_file(source, find_empty_lines=True).empty_lines
                cells, made = _duckdb_csv(con, source, delimiter, width, first_data_line, empty_lines)
                use(cells=cells)
        finally:
            if source != path:
                source.unlink(missing_ok=True)
    for relation in made:
        con.execute(f"DROP {relation}")


def _duckdb_csv(con, source: Path, delimiter: str, width: int, first_data_line: int,
                empty_lines: tuple[int, ...]) -> tuple[str, list[str]]:
    """The rows of a CSV as a subquery over DuckDB's reader, and the temp relations made for it."""
    # row_number() OVER () runs as DuckDB's streaming window, in file order (on the one
    # thread RawBatch gives the insert; a test checks 120,000 rows of one file).
    numbered = f"SELECT row_number() OVER () - 1 AS k, * FROM {read_csv_sql([source], delimiter, width, first_data_line)}"
    empties = [n for n in empty_lines if n >= first_data_line]
    cells = ", ".join(_cell_columns(width))
    if not empties:
        return (f"""(SELECT {first_data_line} + k AS source_row, {cells}, NULL::VARCHAR AS overflow
            FROM ({numbered}))""", [])
    # Row k (0-based, file order) sits after every empty line whose count of non-empty
    # lines before it is <= k.
    thresholds = [(e - first_data_line - i, i + 1) for i, e in enumerate(empties)]
    con.execute("CREATE OR REPLACE TEMP TABLE _empties(t BIGINT, n BIGINT)")
    con.executemany("INSERT INTO _empties VALUES (?, ?)", thresholds)
    return (f"""(WITH e AS (SELECT t, max(n) AS n FROM _empties GROUP BY t)
        SELECT {first_data_line} + r.k + coalesce(e.n, 0) AS source_row, {cells}, NULL::VARCHAR AS overflow
        FROM ({numbered}) r ASOF LEFT JOIN e ON r.k >= e.t)""", ["TABLE _empties"])


def _python_csv(con, source: Path, delimiter: str, width: int, first_data_line: int) -> None:
    columns: list[list[str | None]] = [[] for _ in range(width)]
    rows: list[int] = []
    overflow: list[str | None] = []
    max_cell = read_limits().max_cell_bytes
    csv.field_size_limit(max_cell)  # a 10 MB cell is a broken export, not a cell to hold in memory
    with open(source, encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        # Rows are counted as a spreadsheet shows them (contract: source_row), one per record:
        # a quoted cell with a line break in it is one row, not two (as the header's index is).
        row = 0
        try:
            for record in reader:
                row += 1
                if row < first_data_line or not record:
                    continue
                rows.append(row)
                for i in range(width):
                    value = record[i] if i < len(record) else ""
                    columns[i].append(value if value != "" else None)
                extra = [v for v in record[width:] if v.strip()]
                overflow.append(json.dumps(extra, ensure_ascii=False) if extra else None)
        except csv.Error as error:
            raise UnreadableFile(_csv_error_reason(error, reader.line_num, max_cell)) from error
    _cells_from_columns(con, rows, columns, overflow)


def _cells_from_columns(con, rows: list[int], columns: list[list], overflow: list) -> None:
    arrays = {"source_row": pa.array(rows, pa.int64())}
    for i, values in enumerate(columns):
        arrays[f"c{i}"] = pa.array(values, pa.string())
    arrays["overflow"] = pa.array(overflow, pa.string())
    arrow = pa.table(arrays)
    con.register("_cells_arrow", arrow)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _cells AS SELECT * FROM _cells_arrow")
    finally:
        con.unregister("_cells_arrow")


# ---------------------------------------------------------------- workbooks


def recognise_workbook(path: Path, workbooks: WorkbookReader | None = None) -> tuple[list[TableInFile], list[SkippedSheet]]:
    """The workbook's tables, read (within the read limits) by a worker process of
    `workbooks`, or of a pool of its own when none is given."""
    if workbooks is None:
        with WorkbookReader(read_limits(), workers=1) as own:
            return recognise_workbook(path, own)
    tables: list[TableInFile] = []
    skipped: list[SkippedSheet] = []
    for sheet in workbooks.read(path):
        if sheet.header is None:
            skipped.append(SkippedSheet(sheet.sheet, sheet.skipped_reason or "", sheet.empty))
        else:
            tables.append(TableInFile(sheet.sheet, sheet.header, sheet.title, cells=sheet.cells))
    return tables, skipped


def recognise(path: Path, workbooks: WorkbookReader | None = None) -> tuple[list[TableInFile], list[SkippedSheet]]:
    """The tables a landing file holds; raises UnreadableFile when it holds none."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return [recognise_csv(path)], []
    if suffix in EXCEL_SUFFIXES:
        tables, skipped = recognise_workbook(path, workbooks)
        if not tables:
            reasons = "; ".join(f"{s.sheet}: {s.reason}" for s in skipped) or "没有工作表 / no sheets"
            raise UnreadableFile(f"工作簿中没有可识别的表 / no recognisable table in the workbook ({reasons})")
        return tables, skipped
    raise UnreadableFile(f"不支持的文件类型 / unsupported file type '{suffix}'")
