"""Reading workbooks (XLSX/XLSM/XLS/ODS) in worker processes, within limits.

python-calamine (Rust) allocates a sheet's whole used range at once: a sparse sheet whose
range is A1:XFD1048576 makes it abort the process (`__rust_alloc_error_handler`), and a
zip bomb inflates to gigabytes. So, before the reader allocates anything, the zip's
member sizes and each sheet's `<dimension>` are checked against ReadLimits (from the
zip's directory and the first bytes of each sheet, without inflating the rest); and the
reader runs in a worker process, so that whatever still crashes it (a sheet without a
<dimension> whose cells span A1:XFD1048576) kills the worker, not the load: that file is
reported unreadable, a new worker is started, and the next file goes on. The workers
also turn the cells into text, and read the next workbooks (two at a time, on two cores)
while the loader writes the files before them. Measured (300 workbooks of 8 lines, on a
busy 2-core machine): 4.3 ms a file read in the loader's process, 8.8-9.4 ms through the
workers, worker start included.

An Excel error cell (`#N/A`, `#REF!`, `#DIV/0!`, `#SPILL!` ...) is read as its text, as a CSV
export writes it: python-calamine (0.9) gives '' for one, as for an empty cell, and cannot
say a cell's type (dimastbk/python-calamine#105), so the error cells of an XLSX/XLSM sheet
are found in its XML (`t="e"`), which check_limits reads on anyway, and put back. Staging
then takes `#N/A` as any unreadable value (in an amount, a date, a count) and quarantines
the row (contract 2), where '' was 0.00 or NULL; in any other cell as excel_error
(sql/staging/excel_errors.sql). Not in .xls or .ods files (README).

This module is what a worker imports: keep it light (no DuckDB, no pyarrow).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from pipelines.landing.headers import HeaderMatch, find_header
from pipelines.landing.money import UnknownMoneyUnit
from pipelines.landing.titles import TitleInfo, parse_title_rows
from pipelines.settings import MAX_SHEET_CELLS_ENV, MAX_UNCOMPRESSED_BYTES_ENV, ReadLimits, usable_cpu_count

HEAD_ROWS = 60
DIMENSION_PEEK_BYTES = 64 * 1024  # <dimension> comes right after <sheetPr>, near the start
# The most address space a worker may take: a reader that wants more fails there (and
# the file is reported) instead of drawing the machine into swap or the OOM killer.
WORKER_MEMORY_BYTES = 6 * 1024 ** 3


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message says why (in Chinese and English)."""


@dataclass
class SheetCells:
    """A sheet's rows below its header that hold any text: 1-based row numbers, cells as
    text column by column (the header's width), and the cells beyond it as JSON."""

    rows: list[int]
    columns: list[list[str | None]]
    overflow: list[str | None]


@dataclass
class SheetRead:
    sheet: str
    header: HeaderMatch | None = None
    title: TitleInfo | None = None
    cells: SheetCells | None = None
    skipped_reason: str | None = None  # set when the sheet holds no table
    empty: bool = False


# ---------------------------------------------------------------- limits, before reading


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d{1,7})(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?"')
_SHEET_ENTRY = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_RELATIONSHIP = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"')
_RELATIONSHIP_REVERSED = re.compile(rb'<Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """zip member of each worksheet -> the sheet's name as Excel shows it (best effort)."""
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    targets = {rid: target for rid, target in _RELATIONSHIP.findall(rels)}
    targets.update({rid: target for target, rid in _RELATIONSHIP_REVERSED.findall(rels)})
    names = {}
    for name, rid in _SHEET_ENTRY.findall(workbook):
        target = targets.get(rid)
        if target:
            target = target.decode("utf-8", "replace").lstrip("/")
            names[target if target.startswith("xl/") else f"xl/{target}"] = name.decode("utf-8", "replace")
    return names


def check_limits(path: Path, limits: ReadLimits) -> dict[str, list[tuple[int, int, str]]]:
    """Raise UnreadableFile when a zipped workbook (XLSX/XLSM/ODS) would inflate beyond
    max_uncompressed_bytes or holds a sheet whose used range is over max_sheet_cells.
    Reads the zip's directory and at most DIMENSION_PEEK_BYTES of each sheet for that; and,
    the zip being open, the rest of each sheet for its error cells, which it returns by
    sheet name ((row, column, text), 0-based; see "error cells" below)."""
    if not zipfile.is_zipfile(path):
        return {}  # .xls (OLE2) or not a workbook at all: the reader says which
    errors: dict[str, list[tuple[int, int, str]]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            inflated = sum(member.file_size for member in members)
            if inflated > limits.max_uncompressed_bytes:
                raise UnreadableFile(
                    f"工作簿解压后 {inflated:,} 字节，超过上限 {limits.max_uncompressed_bytes:,}（{MAX_UNCOMPRESSED_BYTES_ENV}）"
                    f" / the workbook inflates to {inflated:,} bytes, over the limit of "
                    f"{limits.max_uncompressed_bytes:,} ({MAX_UNCOMPRESSED_BYTES_ENV})"
                )
            names = _sheet_names(archive)
            with_errors = []
            for member in members:
                if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
                    continue
                with archive.open(member) as stream:
                    head = stream.read(DIMENSION_PEEK_BYTES)
                    _check_dimension(head, limits, names.get(member.filename, member.filename))
                    if _holds_error_cells(stream, head):
                        with_errors.append(member)
            for member in with_errors:  # rare: a second read, of the whole sheet
                errors[names.get(member.filename, member.filename)] = _sheet_error_cells(archive.read(member))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, zlib.error) as error:
        raise UnreadableFile(f"工作簿的压缩结构已损坏 / the workbook's zip structure is broken: {error}") from error
    return errors


def _check_dimension(head: bytes, limits: ReadLimits, sheet: str) -> None:
    found = _DIMENSION.search(head)
    if not found:
        return
    first_col, first_row, last_col, last_row = found.groups()
    if last_col is None:
        return  # a single cell
    rows = abs(int(last_row) - int(first_row)) + 1
    columns = abs(_column_number(last_col) - _column_number(first_col)) + 1
    if rows * columns > limits.max_sheet_cells:
        used = found.group(0).split(b'"')[1].decode()
        raise UnreadableFile(
            f"工作表 {sheet} 的使用区域 {used} 有 {rows * columns:,} 个单元格，超过上限 "
            f"{limits.max_sheet_cells:,}（{MAX_SHEET_CELLS_ENV}） / the used range {used} of sheet "
            f"{sheet} has {rows * columns:,} cells, over the limit of {limits.max_sheet_cells:,} "
            f"({MAX_SHEET_CELLS_ENV})"
        )


# ---------------------------------------------------------------- error cells


# A cell of type error: `<c r="D7" s="3" t="e"><f>VLOOKUP(...)</f><v>#N/A</v></c>`. Only cells
# carry t="e" in a sheet's XML (formulas have t="shared"/"array", rows none), so a sheet
# without one, nearly every sheet, costs one inflate and a search (_holds_error_cells).
_ERROR_TYPE = re.compile(rb"""\st\s*=\s*["']e["']""")
_ERROR_CELL = re.compile(rb"""<(?:\w+:)?c(?=\s)(?=[^>]*\st\s*=\s*["']e["'])([^>]*?)(/)?>""")
_CELL_OR_ROW = re.compile(rb"""<(?:\w+:)?(c|row)(?=[\s/>])([^>]*?)(/)?>""")
_CELL_END = re.compile(rb"""(.*?)</(?:\w+:)?c>""", re.S)
_CELL_VALUE = re.compile(rb"""<(?:\w+:)?v>([^<]*)<""")
_CELL_REF = re.compile(rb"""\sr\s*=\s*["']\$?([A-Z]{1,3})\$?(\d{1,7})["']""")
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*["'](\d{1,7})["']""")
_ENTITIES = {b"&amp;": b"&", b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'"}
# The error values python-calamine (0.9) knows. A sheet holding another one (Excel 365's
# #SPILL!, #CALC!, #GETTING_DATA …) fails whole ("Unsupported cell error value"): such a
# workbook is read from a copy whose error cells hold #N/A (_known_errors_only), and each
# error cell's own text is put back as every error cell's is.
_CALAMINE_ERRORS = frozenset({"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"})
_ERROR_CELL_WHOLE = re.compile(
    rb"""(<(?:\w+:)?c(?=\s)(?=[^>]*\st\s*=\s*["']e["'])[^>]*(?<!/)>)(.*?)(</(?:\w+:)?c>)""", re.S)
_VALUE_TEXT = re.compile(rb"""(<(?:\w+:)?v>)[^<]*(<)""")
ERROR_TEXT = "#N/A"  # for an error cell that holds no value: still an error, never empty
_STREAM_CHUNK = 1024 * 1024


def _error_value(xml: bytes, end: int, closed: bool) -> str:
    """The text of the error cell whose start tag ends at `end` (`#REF!`)."""
    body = None if closed else _CELL_END.match(xml, end)
    value = _CELL_VALUE.search(body.group(1)) if body else None
    if not value or not value.group(1).strip():
        return ERROR_TEXT
    text = value.group(1).strip()
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return text.decode("utf-8", "replace")


def _sheet_error_cells(xml: bytes) -> list[tuple[int, int, str]]:
    """(row, column, text) of each error cell of a sheet's XML, 0-based as python-calamine's
    rows and cells (read with skip_empty_area=False) are."""
    found = []
    for cell in _ERROR_CELL.finditer(xml):
        ref = _CELL_REF.search(cell.group(1))
        if ref is None:  # a writer may leave out r=: count the rows and cells instead
            return _sheet_error_cells_counted(xml)
        found.append((int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1,
                      _error_value(xml, cell.end(), cell.group(2) is not None)))
    return found


def _sheet_error_cells_counted(xml: bytes) -> list[tuple[int, int, str]]:
    """_sheet_error_cells where cells or rows lack their r= (a row or cell without it is the
    one after the previous): every row and cell is looked at, so only for such sheets."""
    found = []
    row, column = -1, -1
    for tag in _CELL_OR_ROW.finditer(xml):
        name, attributes = tag.group(1), tag.group(2)
        if name == b"row":
            number = _ROW_NUMBER.search(attributes)
            row, column = (int(number.group(1)) - 1 if number else row + 1), -1
            continue
        ref = _CELL_REF.search(attributes)
        if ref:
            row, column = int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1
        else:
            column += 1
        if _ERROR_TYPE.search(attributes):
            found.append((max(row, 0), column, _error_value(xml, tag.end(), tag.group(3) is not None)))
    return found


def _holds_error_cells(stream, head: bytes) -> bool:
    """Whether a sheet's XML (`head`, then the rest of `stream`, in chunks: a sheet may be
    100 MB) holds an error cell. Every error value starts with `#`, which a sheet's XML
    rarely holds elsewhere: a chunk without one (found at memchr's speed) has none, one with
    one is searched for `"e"` (`'e'` where the writer quotes attributes so), then confirmed.
    A 300-line export: 0.25 ms to inflate the rest, against 5-7 ms to read it. (An error cell
    without a value, which no spreadsheet program writes, is only seen beside one with.)"""
    value = b"'e'" if b"='" in head and b'="' not in head else b'"e"'
    previous, chunk = b"", head
    while chunk:
        if b"#" in chunk:  # the cell's t="e" is before its value: in this chunk or the one before
            window = previous + chunk if previous else chunk
            if value in window and _ERROR_TYPE.search(window):
                return True
        previous, chunk = chunk, stream.read(_STREAM_CHUNK)
    return False


def _open_workbook(path: str, errors: dict[str, list[tuple[int, int, str]]]):
    """python-calamine's workbook; from a copy (_known_errors_only) when an error cell holds
    a value python-calamine does not know."""
    from python_calamine import CalamineWorkbook

    if all(text in _CALAMINE_ERRORS for cells in errors.values() for _, _, text in cells):
        return CalamineWorkbook.from_path(path)
    return CalamineWorkbook.from_filelike(io.BytesIO(_known_errors_only(path)))


def _known_errors_only(path: str) -> bytes:
    """The workbook, uncompressed, with #N/A in every error cell of its sheets."""
    copy = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/") and _ERROR_TYPE.search(data):
                data = _ERROR_CELL_WHOLE.sub(
                    lambda cell: cell.group(1) + _VALUE_TEXT.sub(rb"\g<1>#N/A\g<2>", cell.group(2)) + cell.group(3), data)
            target.writestr(item, data, compress_type=zipfile.ZIP_STORED)
    return copy.getvalue()


def _put_error_cells(rows: list[list[object]], cells: list[tuple[int, int, str]]) -> None:
    """Write each error cell's text into the rows python-calamine returned (as '' there)."""
    for row, column, text in cells:
        while len(rows) <= row:
            rows.append([])
        record = rows[row]
        if len(record) <= column:
            record.extend([""] * (column + 1 - len(record)))
        record[column] = text


# ---------------------------------------------------------------- reading (in a worker)


def cell_text(value: object) -> str | None:
    """A workbook cell as the text a person sees; numbers exactly, dates as ISO dates."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    return str(value)


def _texts(record: list[object]) -> list[str | None]:
    """cell_text of each cell; a text cell (most of them) as it is, without the calls."""
    return [value if value.__class__ is str and value else cell_text(value) for value in record]


def _sheet_cells(rows: list[list[object]], header: HeaderMatch) -> SheetCells:
    width = header.width
    first = header.row_index + 2
    numbers: list[int] = []
    columns: list[list[str | None]] = [[] for _ in range(width)]
    overflow: list[str | None] = []
    for offset, record in enumerate(rows[header.row_index + 1:]):
        texts = _texts(record)
        if not any(t and not t.isspace() for t in texts):
            continue
        numbers.append(first + offset)
        if len(texts) < width:
            texts += [None] * (width - len(texts))
        for column, text in zip(columns, texts):
            column.append(text)
        extra = [t for t in texts[width:] if t is not None and t.strip()]
        overflow.append(json.dumps(extra, ensure_ascii=False) if extra else None)
    return SheetCells(numbers, columns, overflow)


def read_workbook(path: str, limits: ReadLimits) -> list[SheetRead]:
    """Every sheet of the workbook: its table (header, title facts, cells as text) or why
    it holds none. Raises UnreadableFile for the workbook as a whole."""
    errors = check_limits(Path(path), limits)
    try:
        workbook = _open_workbook(path, errors)
    except Exception as error:  # calamine raises its own error types for corrupt files
        raise UnreadableFile(f"无法打开工作簿 / cannot open the workbook: {error}") from error
    sheets: list[SheetRead] = []
    for name in workbook.sheet_names:
        try:
            rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as error:
            sheets.append(SheetRead(name, skipped_reason=f"无法读取工作表 / cannot read the sheet: {error}"))
            continue
        if name in errors:
            _put_error_cells(rows, errors[name])
        if not any(any(cell not in ("", None) for cell in row) for row in rows):
            sheets.append(SheetRead(name, skipped_reason="空工作表 / empty sheet", empty=True))
            continue
        texts = [_texts(row) for row in rows[:HEAD_ROWS]]
        try:
            header = find_header(texts)
            title = parse_title_rows(texts[: header.row_index]) if header else None
        except UnknownMoneyUnit as error:  # its amounts would load at a wrong scale: the file is unreadable
            raise UnreadableFile(f"工作表 {name}：{error}") from error
        if header is None:
            sheets.append(SheetRead(
                name, skipped_reason=f"工作表 {name} 中未找到可识别的表头行 / no recognisable header row in sheet {name}"
            ))
            continue
        sheets.append(SheetRead(name, header, title, _sheet_cells(rows, header)))
        del rows
    return sheets


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass  # not on this platform: the worker is still a process of its own


def _send(stream, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little") + data)
    stream.flush()


def _receive(stream) -> object:
    """The next message; EOFError when the other side is gone."""
    size = stream.read(8)
    if len(size) < 8:
        raise EOFError
    data = stream.read(int.from_bytes(size, "little"))
    if len(data) < int.from_bytes(size, "little"):
        raise EOFError
    return pickle.loads(data)


def worker_main() -> None:
    """A worker: read (path, limits) requests from stdin, answer each on stdout with
    ("ok", sheets) or ("error", UnreadableFile), until stdin closes."""
    _limit_memory()
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the answers
    while True:
        try:
            path, limits = _receive(requests)
        except EOFError:
            return
        try:
            answer = ("ok", read_workbook(path, limits))
        except UnreadableFile as error:
            answer = ("error", error)
        except Exception as error:  # noqa: BLE001 - whatever the reader raises is this file's problem
            answer = ("error", UnreadableFile(f"无法读取工作簿 / cannot read the workbook: {type(error).__name__}: {error}"))
        _send(answers, answer)


# ---------------------------------------------------------------- the workers (in the loader)


class _Worker:
    """One worker process (`python -m pipelines.landing.workbooks`), one workbook at a time.

    A process started by hand rather than by multiprocessing: multiprocessing's spawn and
    forkserver import the parent's __main__ module into every worker (for the CLI, that is
    Dagster: seconds and 200 MB a worker), and fork is unsafe next to DuckDB's threads."""

    def __init__(self):
        env = dict(os.environ, RUST_BACKTRACE="0")  # a dying reader says so in one line, not a backtrace
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.landing.workbooks"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env, cwd=Path(__file__).resolve().parents[2],
        )
        self.path: str | None = None  # the workbook it is reading

    def ask(self, path: str, limits: ReadLimits) -> None:
        self.path = path
        _send(self.process.stdin, (path, limits))

    def answer(self) -> list[SheetRead]:
        """The sheets of the workbook asked for; UnreadableFile when it cannot be read or the
        worker died reading it (the worker is then of no further use)."""
        try:
            status, value = _receive(self.process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            code = self.process.wait()
            raise UnreadableFile(
                f"读取工作簿时 Excel 读取程序崩溃（退出码 {code}；文件可能已损坏或过大） / the Excel reader crashed on this "
                f"workbook (exit code {code}; it may be corrupt, or too large for the memory a reader may take)"
            ) from None
        finally:
            self.path = None
        if status == "error":
            raise value
        return value

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


class WorkbookReader:
    """Workbooks read ahead in worker processes, handed over in the loader's order.

    `prefetch(paths)` queues the workbooks a load will read; `read(path)` returns one's
    sheets (reading it now when it was not queued). Each worker reads one workbook at a
    time, so that a worker that dies (the native reader aborted, or ran out of the memory
    a worker may take) names the file that killed it: that file is reported, a new worker
    takes its place, and the others go on."""

    def __init__(self, limits: ReadLimits, workers: int | None = None):
        self.limits = limits
        self.size = workers or min(2, usable_cpu_count())
        self.workers: list[_Worker] = []
        self.queue: list[str] = []
        self.ready: dict[str, tuple[bool, object]] = {}  # answers collected before they were asked for

    def prefetch(self, paths: Iterable[Path]) -> None:
        self.queue.extend(str(p) for p in paths)

    def read(self, path: Path) -> list[SheetRead]:
        key = str(path)
        if key in self.ready:
            return self._result(self.ready.pop(key))
        if key in self.queue:
            self.queue.remove(key)
        worker = next((w for w in self.workers if w.path == key), None)
        if worker is None:
            worker = self._idle_worker()
            worker.ask(key, self.limits)
        self._fill()
        outcome = self._collect(worker)
        self._fill()
        return self._result(outcome)

    def _collect(self, worker: _Worker) -> tuple[bool, object]:
        """(True, sheets) or (False, the UnreadableFile) of the worker's workbook; a worker
        that died is replaced (by the next _idle_worker)."""
        try:
            outcome = (True, worker.answer())
        except UnreadableFile as error:
            outcome = (False, error)
        if not worker.alive:
            self.workers.remove(worker)
        return outcome

    @staticmethod
    def _result(outcome: tuple[bool, object]) -> list[SheetRead]:
        ok, value = outcome
        if not ok:
            raise value
        return value

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers.clear()
        self.queue.clear()
        self.ready.clear()

    def __enter__(self) -> WorkbookReader:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def _idle_worker(self) -> _Worker:
        for worker in self.workers:
            if worker.path is None:
                return worker
        if len(self.workers) < self.size:
            self.workers.append(_Worker())
            return self.workers[-1]
        # every worker busy with a workbook read ahead: keep the first one's answer for later
        busy = self.workers[0]
        key = busy.path
        self.ready[key] = self._collect(busy)
        return self._idle_worker()

    def _fill(self) -> None:
        """Give idle workers the next queued workbooks."""
        while self.queue:
            idle = [w for w in self.workers if w.path is None]
            if not idle and len(self.workers) >= self.size:
                return
            worker = idle[0] if idle else self._idle_worker()
            worker.ask(self.queue.pop(0), self.limits)


if __name__ == "__main__":
    # by its module's name: what the worker sends back must unpickle as
    # pipelines.landing.workbooks.SheetRead in the loader, not as __main__.SheetRead
    from pipelines.landing.workbooks import worker_main as run

    run()
