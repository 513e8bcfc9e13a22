"""Small files of one header layout are written together (one DuckDB read of the CSV
files, one Arrow table of the workbooks' sheets): their rows, row numbers, row kinds,
lineage, meta and quarantine must be what reading them one by one gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.landing.headers import KINDS
from pipelines.warehouse import ingest as ingest_module
from pipelines.warehouse.db import connect
from pipelines.warehouse.quarantine import rebuild_quarantine
from tests.conftest import VOUCHER_HEADER, payment, voucher_file, write_csv, write_xlsx


def _landing(landing: Path) -> None:
    """Monthly exports of two units, UTF-8 with and without BOM, with footers, a blank row,
    a repeated header row, cells beyond the header, bad rows, and a workbook per month."""
    for unit in ("900001", "900002"):
        for month in range(1, 5):
            lines = payment(f"2021-{month:02d}-05", f"记-{month}", f"{month}00.00")
            lines += [[""] * 12]  # a row of empty cells: blank, not an empty line
            lines += payment(f"2021-{month:02d}-06", f"记-{month}b", "1,234.50", econ="30211 差旅费")
            if month == 2:
                lines += [VOUCHER_HEADER]  # the header again, mid-file
                lines += [["2021-02-07", "记-9", 1, "坏金额", "7101", "行政支出", "12x", "", "2120101", "30201", "",
                           "一般公共预算"]]
            lines += [["", "", "", "本月合计", "", "", "1.00", "1.00"]]
            voucher_file(landing / unit / f"2021-{month:02d}.csv", lines, unit=f"{unit} 单位{unit}",
                         period=f"2021年{month}月1日至2021年{month}月28日",
                         encoding="utf-8-sig" if month % 2 else "utf-8")
        for month in range(5, 8):
            rows = [["序时账"], [f"单位：{unit} 单位{unit}"], ["单位：元"], VOUCHER_HEADER]
            rows += payment(f"2021-{month:02d}-05", f"记-{month}", f"{month}00.00")
            rows += [["合计", None, None, None, None, None, 1, 1]]
            write_xlsx(landing / unit / f"2021-{month:02d}.xlsx", {"凭证": rows})
    # one CSV of the same layout that DuckDB cannot read strictly (a quoted line break):
    # its group falls back to the files one by one, and it to Python's reader
    ragged = landing / "900003" / "2021-01.csv"
    voucher_file(ragged, payment("2021-01-05", "记-1", "5.00"), unit="900003 单位三", encoding="utf-8")
    ragged.write_text(ragged.read_text(encoding="utf-8").replace("支付", '"支\n付"', 1), encoding="utf-8")
    voucher_file(landing / "900003" / "2021-02.csv", payment("2021-02-05", "记-1", "6.00"), unit="900003 单位三",
                 encoding="utf-8")
    write_csv(landing / "900003" / "notes.csv", [["no header here"]], encoding="utf-8")


def _load(landing: Path, warehouse: Path) -> tuple[dict, list[str]]:
    con = connect(warehouse / "warehouse.duckdb")
    messages: list[str] = []
    try:
        result = ingest_module.ingest(con, landing, warehouse / ".work", progress=messages.append)
        rebuild_quarantine(con)
        found = {"unreadable": sorted(result.unreadable)}
        for kind in KINDS:
            found[f"raw.{kind}"] = con.execute(
                f"SELECT * EXCLUDE (source_id, loaded_at) FROM raw.{kind} ORDER BY source_file, sheet, source_row").fetchall()
            found[f"staging.{kind}"] = con.execute(
                f"SELECT * EXCLUDE (source_id) FROM staging.{kind} ORDER BY source_file, sheet, source_row").fetchall()
            # within each source the rows are stored in file order, as a file read alone stores them
            found[f"order.{kind}"] = con.execute(
                f"""SELECT s.source_file, list(r.source_row ORDER BY r.rowid) FROM raw.{kind}__rows r
                JOIN meta.sources s USING (source_key) GROUP BY ALL ORDER BY 1""").fetchall()
        found["sources"] = con.execute(
            "SELECT * EXCLUDE (source_id, source_key, loaded_at) FROM meta.sources ORDER BY source_file, sheet").fetchall()
        found["files"] = con.execute("SELECT * EXCLUDE (loaded_at) FROM meta.files ORDER BY source_file").fetchall()
        found["slices"] = con.execute(
            """SELECT so.source_file, sl.* EXCLUDE (source_id) FROM meta.slices sl JOIN meta.sources so USING (source_id)
            ORDER BY ALL""").fetchall()
        found["quarantine"] = con.execute("SELECT * EXCLUDE (loaded_at) FROM quarantine").fetchall()
    finally:
        con.close()
    return found, messages


def test_files_written_together_are_what_files_written_one_by_one_are(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    _landing(landing)
    grouped: list[list[str]] = []
    real_read_group = ingest_module._read_group

    def read_group(con, group, *args, **kwargs):
        if kwargs.get("progress") is not ingest_module.quiet:  # not written again after a later rollback
            grouped.append([file.landing.source_file for file in group])
        return real_read_group(con, group, *args, **kwargs)

    monkeypatch.setattr(ingest_module, "_read_group", read_group)
    together, messages = _load(landing, tmp_path / "together")
    # the CSV files of the first two units in one read, their workbooks in another
    assert sorted(len(group) for group in grouped) == [2, 6, 8]
    assert ["900003/2021-01.csv", "900003/2021-02.csv"] in grouped  # tried together, then one by one

    monkeypatch.setattr(ingest_module, "_group_key", lambda file: None)
    alone, _ = _load(landing, tmp_path / "alone")
    for key in alone:
        assert together[key] == alone[key], key
    assert len(together["raw.voucher_lines"]) == 2 * (4 * 10 + 2 + 3 * 5) + 2 * 4
    assert [r[:3] for r in together["quarantine"] if r[3] == "unreadable_amount"] == [
        ("900001/2021-02.csv", None, 16), ("900002/2021-02.csv", None, 16)]
    assert together["unreadable"] == [("900003/notes.csv",
                                       "未找到可识别的表头行 / no recognisable header row in the first rows")]
    # every file has its numbered line and its read line
    numbered = [m for m in messages if m.startswith("[")]
    assert [m.split("]")[0] for m in numbered] == [f"[{n}/{len(numbered)}" for n in range(1, len(numbered) + 1)]
    assert sum(m.startswith("  read ") for m in messages) == len(numbered) - 1


@pytest.mark.parametrize("empty_line_at", [None, 7])
def test_an_empty_line_below_the_header_keeps_the_file_alone_and_its_row_numbers(tmp_path, empty_line_at):
    landing = tmp_path / "landing"
    for month in (1, 2):
        path = voucher_file(landing / f"2021-0{month}.csv", payment(f"2021-0{month}-05", "记-1", "5.00"),
                            encoding="utf-8")
        if empty_line_at and month == 2:
            lines = path.read_bytes().split(b"\r\n")
            path.write_bytes(b"\r\n".join(lines[:empty_line_at - 1] + [b""] + lines[empty_line_at - 1:]))
    found, _ = _load(landing, tmp_path / "wh")
    rows = [(r[0], r[2]) for r in found["raw.voucher_lines"]]
    second = [5, 6, 8, 9] if empty_line_at else [5, 6, 7, 8]
    assert rows == [("2021-01.csv", n) for n in (5, 6, 7, 8)] + [("2021-02.csv", n) for n in second]
