"""The public marts as XLSX for Excel and WPS users, who read neither Parquet nor DuckDB.

Headers in Chinese (the columns' labels in sql/marts/<mart>.toml), amounts in 元 with two
decimals, rates as percentages. Every text cell is written as a string (an export's text
that starts with `=` is never a formula). Two ways:

- after each publish, per changed unit-year, `exports/<unit_code>/<year>/<unit_code>_<year>_公开数据.xlsx`,
  a sheet per public mart (pipelines.bi.publishing);
- `fiscal-warehouse export [--unit] [--year] [--mart] [--internal]`: any selection as one
  workbook, a sheet per mart.

Both read the published Parquet files of the live snapshot, nothing else.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.distributed.fanout import in_turn, map_on_workers, on_dask_worker, slices_of
from pipelines.files import remove_empty_folders
from pipelines.sqltext import sql_paths, sql_string
from pipelines.warehouse.dictionary import chinese_title, column_labels
from pipelines.warehouse.publish import PUBLISHED_ORDER, partition_path, read_published
from pipelines.warehouse.transform import MART_MODELS
from pipelines.workers import process_pool, workers_for

EXPORTS = "exports"
# Columns that only order rows; they mean nothing to a reader of the sheet.
HIDDEN = {"item_order", "indicator_order"}


class ExportError(ValueError):
    pass


def export_marts(warehouse_dir: Path, units=None, years=None, marts=None, internal: bool = False,
                 output: str | Path | None = None) -> tuple[Path, int]:
    """One workbook with a sheet per selected mart; returns (path, rows written)."""
    marts = list(marts or MART_MODELS)
    unknown = [m for m in marts if m not in MART_MODELS]
    if unknown:
        raise ExportError(f"no mart {', '.join(unknown)}; the marts are {', '.join(MART_MODELS)}")
    folder = "marts" if internal else "marts_public"
    snapshot = Path(os.path.realpath(warehouse_dir / folder))  # one publish, even if another switches in meanwhile
    con = duckdb.connect()
    try:
        sheets = {}
        for mart in marts:
            files = sorted(snapshot.glob(f"{mart}/fiscal_year=*/*.parquet"))
            sheets[mart] = _read(con, files, units, years)
    finally:
        con.close()
    if not any(rows for _, rows in sheets.values()):
        raise ExportError("nothing published matches --unit/--year")
    if output is None:
        name = "_".join(["internal" if internal else "public", "-".join(units or ["all"]),
                         "-".join(map(str, years or ["all"]))])
        output = warehouse_dir / EXPORTS / f"{re.sub(r'[^0-9A-Za-z_.-]', '_', name)}.xlsx"
    path = Path(output)
    write_workbook(path, {mart: sheets[mart] for mart in marts})
    return path, sum(len(rows) for _, rows in sheets.values())


def write_unit_year_exports(warehouse_dir: Path, unit_years, workers: int | None = None) -> list[str]:
    """exports/<unit>/<year>/<unit>_<year>_公开数据.xlsx: a sheet per public mart with rows for the
    unit-year (one workbook, not one per mart: the fixed cost of a workbook is most of its
    cost). Written by worker processes (pipelines.workers: a workbook is Python's work, 30-40
    ms each, and reads only Parquet files). A unit-year without public marts loses its
    workbook, and its folders once empty (as its reports do). Returns the paths written,
    relative to the warehouse, in unit-year order."""
    snapshot = Path(os.path.realpath(warehouse_dir / "marts_public"))
    chosen = sorted(unit_years)
    # On a dask worker (the distributed executor's publishing step) a task per EXPORT_BATCH
    # unit-years over every worker of the cluster, as the reports' rendering is; else
    # FISCAL_WORKERS processes. Either way slices taken in turn, so that they are even.
    on_dask = on_dask_worker()
    parts = slices_of(chosen, EXPORT_BATCH) if on_dask else in_turn(chosen, workers_for(len(chosen), workers))
    slices = [(warehouse_dir, snapshot, part) for part in parts]
    if on_dask:
        done = map_on_workers(_write_export_batch, slices)
    elif len(slices) == 1:
        done = [_write_export_batch(slices[0])]
    else:
        with process_pool(len(slices)) as pool:
            done = list(pool.map(_write_export_batch, slices))
    written = {unit_year: path for paths in done for unit_year, path in paths}
    for unit, year in chosen:  # here, once the workers are done: one may be writing another year of the unit
        if (unit, year) not in written:
            path = unit_year_export_path(warehouse_dir, unit, year)
            remove_empty_folders(path.parent, path.parent.parent)  # the year's, then the unit's
    return [written[unit_year] for unit_year in chosen if unit_year in written]


EXPORT_BATCH = 50  # unit-years whose Parquet files one query reads


def _write_export_batch(batch: tuple[Path, Path, list[tuple[str, int]]]) -> list[tuple]:
    return _write_exports(*batch)


def _write_exports(warehouse_dir: Path, snapshot: Path, unit_years: list[tuple[str, int]]) -> list[tuple]:
    """The exports of these unit-years, ((unit, year), relative path) for each written."""
    written = []
    con = duckdb.connect()
    try:
        for start in range(0, len(unit_years), EXPORT_BATCH):
            batch = unit_years[start:start + EXPORT_BATCH]
            sources = {(unit_year, mart): source for unit_year in batch for mart in MART_MODELS
                       if (source := snapshot / partition_path(mart, unit_year[1], unit_year[0])).exists()}
            read = dict(zip(sources, _read_each(con, list(sources.values()))))
            for unit, year in batch:
                path = unit_year_export_path(warehouse_dir, unit, year)
                sheets = {mart: read[(unit, year), mart] for mart in MART_MODELS if ((unit, year), mart) in read}
                if not sheets:
                    path.unlink(missing_ok=True)
                    continue
                write_workbook(path, sheets)
                written.append(((unit, year), path.relative_to(warehouse_dir).as_posix()))
    finally:
        con.close()
    return written


def unit_year_export_path(warehouse_dir: Path, unit: str, year: int) -> Path:
    stem = re.sub(r"[^0-9A-Za-z_.-]", "_", unit)
    return warehouse_dir / EXPORTS / stem / str(year) / f"{stem}_{year}_公开数据.xlsx"


def _read(con, files: list[Path], units, years) -> tuple[list[str], list[tuple]]:
    if not files:
        return [], []
    paths = sql_paths(files)
    where = []
    if units:
        where.append("unit_code IN (" + ", ".join(sql_string(u) for u in units) + ")")
    if years:
        where.append("fiscal_year IN (" + ", ".join(str(int(y)) for y in years) + ")")
    relation = con.execute(
        f"SELECT * EXCLUDE (file_row_number) FROM {read_published(paths, 'union_by_name = true')} "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY {PUBLISHED_ORDER}"
    )
    columns = [d[0] for d in relation.description]
    return columns, relation.fetchall()


def _read_each(con, files: list[Path]) -> list[tuple[list[str], list[tuple]]]:
    """`_read` of each file on its own, in one query for the files whose columns are the same
    (the columns and types of their Parquet schemas): a query's fixed cost, about 2.7 ms,
    was two thirds of a unit-year's workbook, which reads seven files."""
    if len(files) < 2:
        return [_read(con, [file], None, None) for file in files]
    by_name = {file.as_posix(): file for file in files}
    layouts: dict[tuple, list[Path]] = {}
    for name, layout in con.execute(
        f"SELECT file_name, list((name, duckdb_type) ORDER BY column_id) FROM parquet_schema({sql_paths(files)}) "
        "GROUP BY file_name"
    ).fetchall():
        layouts.setdefault(tuple(map(tuple, layout)), []).append(by_name[name])
    read: dict[Path, tuple[list[str], list[tuple]]] = {}
    for group in layouts.values():
        relation = con.execute(
            f"SELECT filename, * EXCLUDE (filename, file_row_number) FROM {read_published(sql_paths(group), 'filename = true')} "
            f"ORDER BY filename, {PUBLISHED_ORDER}"
        )
        columns = [d[0] for d in relation.description[1:]]
        for file in group:
            read[file] = (columns, [])
        for name, *row in relation.fetchall():
            read[by_name[name]][1].append(tuple(row))
    return [read[file] for file in files]


def write_workbook(path: Path, sheets: dict[str, tuple[list[str], list[tuple]]]) -> None:
    """Write beside and rename into place: a reader never opens half a workbook."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.xlsx")
    workbook = xlsxwriter.Workbook(str(temporary), {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True,
                                                    "strings_to_numbers": False})
    try:
        header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        rate = workbook.add_format({"num_format": "0.00%"})
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        for mart, (columns, rows) in sheets.items():
            sheet = workbook.add_worksheet(chinese_title(mart)[:31])
            labels = column_labels(mart)
            shown = [i for i, c in enumerate(columns) if c not in HIDDEN]
            for j, i in enumerate(shown):
                sheet.write_string(0, j, labels.get(columns[i], columns[i]), header)
                sheet.set_column(j, j, 16 if columns[i].endswith(("_yuan", "_rate")) else 14)
            for r, row in enumerate(rows, start=1):
                for j, i in enumerate(shown):
                    _write_cell(sheet, r, j, columns[i], row[i], money, rate, day)
            sheet.freeze_panes(1, 0)
            if rows:
                sheet.autofilter(0, 0, len(rows), max(len(shown) - 1, 0))
        workbook.close()
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _write_cell(sheet, r: int, c: int, column: str, value, money, rate, day) -> None:
    if value is None:
        sheet.write_blank(r, c, None)
    elif isinstance(value, bool):
        sheet.write_string(r, c, "是" if value else "否")
    elif isinstance(value, Decimal):
        # Excel keeps numbers as doubles; the figure is exact to the fen it shows.
        sheet.write_number(r, c, float(value), money)
    elif isinstance(value, float):
        sheet.write_number(r, c, value, rate if column.endswith("_rate") else None)
    elif isinstance(value, int):
        sheet.write_number(r, c, value)
    elif isinstance(value, datetime | date):
        sheet.write_datetime(r, c, value if isinstance(value, datetime) else datetime(value.year, value.month, value.day),
                             day)
    else:
        sheet.write_string(r, c, str(value))
