"""CSV files read alone (over GROUP_BYTES, or not batchable) are read on several threads at
once (CsvReaders): what they load, and what the load says, must be what reading them one
after the other gives."""

from __future__ import annotations

import threading
from pathlib import Path

from pipelines.landing.headers import KINDS
from pipelines.warehouse import ingest as ingest_module
from pipelines.warehouse import raw_batches
from pipelines.warehouse.db import connect
from pipelines.warehouse.quarantine import rebuild_quarantine
from tests.conftest import payment, voucher_file, write_csv

VOUCHERS_BIG = 3000  # 12,000 lines, ~1.1 MB: over GROUP_BYTES, so read alone


def _export(path: Path, month: int, vouchers: int, encoding: str = "utf-8") -> Path:
    """A month's export (title lines, header on row 4) with one unreadable amount (row 10)
    and one unreadable date (row 14), each of which also leaves its voucher unbalanced."""
    lines = []
    for n in range(vouchers):
        lines += payment(f"2021-{month:02d}-{n % 28 + 1:02d}", f"记-{n + 1}", f"{n + 1}.00")
    lines[5][6] = "12x"
    lines[9][0] = "2021-13-45"
    return voucher_file(path, lines, unit="900001 单位一", encoding=encoding)


def _unreadable_on_a_thread(path: Path, month: int, vouchers: int) -> None:
    """An export DuckDB refuses, and Python's reader too (a cell over FISCAL_MAX_CELL_BYTES)."""
    huge = _export(path, month, vouchers)
    huge.write_text(huge.read_text(encoding="utf-8") + f'2021-{month:02d}-28,"记\n-9",1\r\n2021-{month:02d}-28,记-10,1,"'
                    + "x" * 1_100_000 + '",7101\r\n', encoding="utf-8")


def _landing(landing: Path) -> None:
    """Every kind of CSV CsvReaders reads, in this file order."""
    write_csv(landing / "900000" / "notes.csv", [["no header here"]])
    _export(landing / "900001" / "2021-01.csv", 1, VOUCHERS_BIG)
    _export(landing / "900001" / "2021-02.csv", 2, VOUCHERS_BIG, encoding="utf-8-sig")
    _export(landing / "900001" / "2021-03.csv", 3, 3, encoding="gb18030")  # transcoded: not batchable
    # a quoted line break and a ragged row (quarantined): DuckDB refuses it strictly, Python reads it
    ragged = _export(landing / "900001" / "2021-04.csv", 4, 3)
    text = ragged.read_text(encoding="utf-8").replace("支付", '"支\n付"', 1)
    ragged.write_text(text + "2021-04-30,记-9,1\r\n", encoding="utf-8")
    # an empty line below the header (row 7): not batchable, the rows below it one further down
    empty = _export(landing / "900001" / "2021-05.csv", 5, 3)
    lines = empty.read_bytes().split(b"\r\n")
    empty.write_bytes(b"\r\n".join(lines[:6] + [b""] + lines[6:]))
    # DuckDB refuses it, and Python's reader too (a cell over FISCAL_MAX_CELL_BYTES): unreadable on its thread
    _unreadable_on_a_thread(landing / "900001" / "2021-06.csv", 6, 3)
    _export(landing / "900001" / "2021-07.csv", 7, 3)  # after the unreadable one, on whichever thread


# meta and quarantine less load times (the quarantine in the order it holds its rows)
META = {
    "keys": "SELECT source_key, source_file, rows_raw FROM meta.sources ORDER BY source_key",
    "sources": "SELECT * EXCLUDE (loaded_at) FROM meta.sources ORDER BY source_key",
    "files": "SELECT * EXCLUDE (loaded_at) FROM meta.files ORDER BY source_file",
    "slices": "SELECT * FROM meta.slices ORDER BY ALL",
    "quarantine": "SELECT * EXCLUDE (loaded_at) FROM quarantine",
}


def _ingest(landing: Path, warehouse: Path, monkeypatch) -> tuple[dict, set[str]]:
    """Ingest with DuckDB's `threads` at 2 (what CsvReaders takes, MAX_READ_THREADS
    allowing); everything a load leaves that must not depend on the threads, and the
    threads that read the files."""
    readers: set[str] = set()
    real_read = raw_batches.CsvReaders._read

    def read(self, *args, **kwargs):
        readers.add(threading.current_thread().name)
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(raw_batches.CsvReaders, "_read", read)
    con = connect(warehouse / "warehouse.duckdb")
    messages: list[str] = []
    try:
        con.execute("SET threads = 2")
        result = ingest_module.ingest(con, landing, warehouse / ".work", progress=messages.append)
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(2,)]  # given back
        rebuild_quarantine(con)
        found = {"progress": messages, "unreadable": result.unreadable, "loaded": result.loaded_sources,
                 "new": result.new}
        for kind in KINDS:
            # every cell of every row, under the key it was given
            found[f"raw.{kind}"] = con.execute(
                f"""SELECT s.source_file, r.* FROM raw.{kind}__rows r JOIN meta.sources s USING (source_key)
                ORDER BY r.source_key, r.source_row""").fetchall()
            found[f"staging.{kind}"] = con.execute(
                f"SELECT * FROM staging.{kind}__rows ORDER BY source_key, source_row").fetchall()
        found |= {name: con.execute(sql).fetchall() for name, sql in META.items()}
    finally:
        con.close()
    return found, readers


def test_files_read_on_threads_load_what_files_read_one_after_the_other_load(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    _landing(landing)
    assert [p.stat().st_size > ingest_module.GROUP_BYTES for p in sorted((landing / "900001").iterdir())] == [
        True, True, False, False, False, True, False]

    monkeypatch.setattr(raw_batches, "MAX_READ_THREADS", 1)
    one, one_reader = _ingest(landing, tmp_path / "one", monkeypatch)
    monkeypatch.undo()
    assert raw_batches.MAX_READ_THREADS >= 2
    threaded, readers = _ingest(landing, tmp_path / "threaded", monkeypatch)
    assert len(one_reader) == 1 and len(readers) == 2  # else the comparison below proves nothing

    for key in one:
        assert threaded[key] == one[key], key

    # source keys in file order, whichever thread read the file
    assert one["keys"] == [
        (1, "900001/2021-01.csv", 12000), (2, "900001/2021-02.csv", 12000), (3, "900001/2021-03.csv", 12),
        (4, "900001/2021-04.csv", 13), (5, "900001/2021-05.csv", 12), (7, "900001/2021-07.csv", 12)]
    assert len(one["raw.voucher_lines"]) == 2 * 12000 + 12 + 13 + 12 + 12
    rows = {}
    for source_file, _, source_row, *_ in one["raw.voucher_lines"]:
        rows.setdefault(source_file, []).append(source_row)
    assert rows["900001/2021-01.csv"] == list(range(5, 12005))
    assert rows["900001/2021-04.csv"] == list(range(5, 18))  # the quoted line break is one row
    assert rows["900001/2021-05.csv"] == [5, 6] + list(range(8, 18))  # the empty line is row 7
    assert [(r[1], r[5]) for r in one["files"]] == [("900000/notes.csv", "unreadable")] + [
        (f"900001/2021-0{m}.csv", "loaded") for m in (1, 2, 3, 4, 5)] + [
        ("900001/2021-06.csv", "unreadable"), ("900001/2021-07.csv", "loaded")]
    assert [(file, reason.split(" / ")[1]) for file, reason in one["unreadable"]] == [
        ("900000/notes.csv", "no recognisable header row in the first rows"),
        ("900001/2021-06.csv", "a cell near line 19 is longer than 1,048,576 characters (FISCAL_MAX_CELL_BYTES)")]
    bad_rows = [(9, "unbalanced_voucher"), (10, "unreadable_amount"), (13, "unbalanced_voucher"), (14, "unreadable_date")]
    quarantined = []
    for month in (1, 2, 3, 4, 5, 7):
        shift = 1 if month == 5 else 0  # below the empty line
        quarantined += [(f"900001/2021-0{month}.csv", row + shift, reason) for row, reason in bad_rows]
        if month == 4:
            quarantined.append(("900001/2021-04.csv", 17, "missing_required"))  # the ragged row
    quarantined += [("900000/notes.csv", None, "unreadable_file"), ("900001/2021-06.csv", None, "unreadable_file")]
    assert [(r[0], r[2], r[3]) for r in one["quarantine"]] == quarantined

    # every file's lines, in file order; what turned out unreadable on a thread once the threads are done
    python = "  DuckDB cannot read it strictly (ragged rows, line breaks in cells?): reading it with Python"
    assert [m.split(":")[0] if m.startswith("  UNREADABLE") else m.rsplit(" (", 1)[0] for m in one["progress"]] == [
        "[1/8] 900000/notes.csv", "  UNREADABLE 900000/notes.csv",
        "[2/8] 900001/2021-01.csv", "  read 900001/2021-01.csv: voucher_lines, 12,000 rows",
        "[3/8] 900001/2021-02.csv", "  read 900001/2021-02.csv: voucher_lines, 12,000 rows",
        "[4/8] 900001/2021-03.csv", "  read 900001/2021-03.csv: voucher_lines, 12 rows",
        "[5/8] 900001/2021-04.csv", python, "  read 900001/2021-04.csv: voucher_lines, 13 rows",
        "[6/8] 900001/2021-05.csv", "  read 900001/2021-05.csv: voucher_lines, 12 rows",
        "[7/8] 900001/2021-06.csv", python,
        "[8/8] 900001/2021-07.csv", "  read 900001/2021-07.csv: voucher_lines, 12 rows",
        "  UNREADABLE 900001/2021-06.csv", "staged 6 table(s)"]


def test_the_callers_own_lines_and_files_unreadable_on_threads_keep_file_order(tmp_path, monkeypatch):
    """A file the caller finds unreadable after a file still read on a thread is reported after
    it; files that turn out unreadable on threads are reported in file order, whichever thread
    finished first (the first here is the bigger: it finishes last)."""
    landing = tmp_path / "landing"
    _export(landing / "900001" / "2021-01.csv", 1, VOUCHERS_BIG)
    write_csv(landing / "900001" / "2021-02.csv", [["no header here"]])
    _unreadable_on_a_thread(landing / "900001" / "2021-03.csv", 3, 3 * VOUCHERS_BIG)
    _unreadable_on_a_thread(landing / "900001" / "2021-04.csv", 4, 3)

    monkeypatch.setattr(raw_batches, "MAX_READ_THREADS", 1)
    one, _ = _ingest(landing, tmp_path / "one", monkeypatch)
    monkeypatch.undo()
    threaded, readers = _ingest(landing, tmp_path / "threaded", monkeypatch)
    assert len(readers) == 2
    for key in ("progress", "unreadable", "files", "quarantine"):
        assert threaded[key] == one[key], key
    assert [m.split(":")[0] for m in one["progress"] if not m.startswith("  DuckDB")] == [
        "[1/4] 900001/2021-01.csv (1.1 MB)", "  read 900001/2021-01.csv",
        "[2/4] 900001/2021-02.csv (0.0 MB)", "  UNREADABLE 900001/2021-02.csv",
        "[3/4] 900001/2021-03.csv (4.3 MB)", "[4/4] 900001/2021-04.csv (1.1 MB)",
        "  UNREADABLE 900001/2021-03.csv", "  UNREADABLE 900001/2021-04.csv", "staged 1 table(s)"]
    assert [file for file, _ in one["unreadable"]] == ["900001/2021-02.csv", "900001/2021-03.csv",
                                                       "900001/2021-04.csv"]
