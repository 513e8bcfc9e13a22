"""Recognised tables into raw.<kind>__rows and meta: one table at a time, or the tables of
many small files of one header layout in one statement each.

A county's monthly exports are about 300 lines: what such a file costs is the fixed cost
of each statement, not its bytes. So the small files of one header layout (a CSV's
delimiter and title lines too) are written together: one DuckDB `read_csv` over the list
of CSV files (or one Arrow table of the workbooks' sheets), one insert into raw, one
insert of their sources' counts into meta.sources and one of their files into
meta.files. The rows, their row numbers and their lineage are what the file-by-file path
writes: the row kind and `extra` are the same SQL over the same cells, and each file's
rows are numbered within that file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.landing.headers import ALIASES, ROW_IDENTITY, HeaderMatch
from pipelines.landing.readers import TableInFile, read_csv_sql
from pipelines.sqltext import sql_string


def row_kind_sql(header: HeaderMatch) -> str:
    """blank / footer / header (a repeated header row) / data. A footer has a footer word
    (合计, 小计, 本年累计 …) and none of the kind's identity cells (headers.ROW_IDENTITY).

    Nearly every row is data, and a row with visible text in its first mapped column,
    no 计 in any cell (every footer word has one) and not that column's header text is
    data: the first branch decides it with cheap tests, and CASE evaluates the later
    branches only for the rows still undecided.

    The later tests run over the list of cells in a lambda, so that each macro (and the
    regular expressions in it) is bound once, not once per column: binding a dozen copies
    of fw_text took most of the time of a 300-line file's insert (~130 ms of ~190 ms)."""
    width = header.width
    cells = f"[{', '.join(f'c{i}' for i in range(width))}]"
    first = min(header.columns)
    first_header = header.headers[first]
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
    identity = [i for i, column in header.columns.items() if column in ROW_IDENTITY[header.kind]]
    if identity:  # a data row whose text happens to start with 累计 or 合计 keeps its identity cells
        footer = (f"({footer}) AND NOT list_bool_or(list_transform([{', '.join(f'c{i}' for i in identity)}], "
                  "lambda x: fw_text(x) IS NOT NULL AND NOT fw_is_footer_word(x)))")
    mapped = sorted(header.columns)
    # fw_text(c) = header for every mapped column; a NULL cell fails it, as in an AND of them
    repeated = (f"list_transform([{', '.join(f'c{i}' for i in mapped)}], lambda x: fw_text(x)) = "
                f"[{', '.join(sql_string(header.headers[i]) for i in mapped)}]")
    return (f"CASE WHEN {surely_data} THEN 'data' WHEN {blank} THEN 'blank' WHEN {any_ji} AND ({footer}) "
            f"THEN 'footer' WHEN {repeated} THEN 'header' ELSE 'data' END")


def extra_names(header: HeaderMatch) -> dict[int, str]:
    """Column position -> the key in raw.extra of each column whose header we do not map
    (its header text, made unique; 列<n> when it has none)."""
    names: dict[int, str] = {}
    for i, text in enumerate(header.headers):
        if i in header.columns:
            continue
        key = text or f"列{i + 1}"
        while key in names.values():
            key += "'"
        names[i] = key
    return names


def extra_sql(header: HeaderMatch) -> str:
    """JSON of the cells under headers we do not map, plus cells beyond the header's width."""
    names = extra_names(header)
    pairs = [f"{sql_string(key)}, c{i}" for i, key in names.items()] + ["'超出表头的单元格', overflow"]
    obj = f"json_object({', '.join(pairs)})"
    any_value = " OR ".join([f"fw_text(c{i}) IS NOT NULL" for i in names] + ["overflow IS NOT NULL"])
    return f"CASE WHEN {any_value} THEN CAST({obj} AS VARCHAR) END"


def insert_raw(con: duckdb.DuckDBPyConnection, header: HeaderMatch, cells: str, source_key: int | None = None) -> None:
    """The rows of relation `cells` `(source_row, c0.., overflow)` into raw.<kind>__rows,
    all under `source_key`; without one, `cells` carries a source_key column (many tables
    of one header layout) and the rows go in by source and row."""
    kind = header.kind
    mapped = {canonical: f"c{pos}" for pos, canonical in header.columns.items()}
    select_canon = ", ".join(f"{mapped.get(c, 'NULL')} AS {c}" for c in ALIASES[kind])
    key = "?" if source_key is not None else "source_key"
    order = "" if source_key is not None else " ORDER BY source_key, source_row"
    con.execute(
        f"""INSERT INTO raw.{kind}__rows (source_key, source_row, row_kind, {', '.join(ALIASES[kind])}, extra)
        SELECT {key}, source_row, {row_kind_sql(header)}, {select_canon}, {extra_sql(header)}
        FROM {cells}{order}""",
        [source_key] if source_key is not None else [],
    )


@dataclass(frozen=True)
class NewSource:
    """A table read into raw, to record in meta.sources."""

    source_id: str
    source_key: int
    file_id: str
    source_file: str
    table: TableInFile


def record_sources(con: duckdb.DuckDBPyConnection, kind: str, sources: list[NewSource], loaded_at: datetime) -> dict[int, int]:
    """Record the sources (all of one kind) in meta.sources, in one statement, their row
    counts taken from raw in it; returns each source_key's data rows (not blank, footer
    or header)."""
    columns: dict[str, list] = {name: [] for name in (
        "source_id", "source_key", "file_id", "source_file", "sheet", "header_row", "headers", "extra_headers", "scale",
        "scaled_columns", "encoding", "unit_code", "unit_name", "period_start", "period_end", "fiscal_year")}
    for source in sources:
        table, header, title = source.table, source.table.header, source.table.title
        extra = list(extra_names(header).values())
        for name, value in (
            ("source_id", source.source_id), ("source_key", source.source_key), ("file_id", source.file_id),
            ("source_file", source.source_file), ("sheet", table.sheet), ("header_row", header.row_index + 1),
            ("headers", json.dumps({canonical: header.headers[pos] for pos, canonical in header.columns.items()},
                                   ensure_ascii=False)),
            ("extra_headers", json.dumps(extra, ensure_ascii=False) if extra else None),
            ("scale", str(title.scale)),
            ("scaled_columns", json.dumps({c: str(f) for c, f in sorted(header.scaled_columns.items())})
             if header.scaled_columns else None),
            ("encoding", table.encoding), ("unit_code", title.unit_code), ("unit_name", title.unit_name),
            ("period_start", title.period_start), ("period_end", title.period_end), ("fiscal_year", title.fiscal_year),
        ):
            columns[name].append(value)
    types = {"source_key": "INTEGER", "header_row": "INTEGER", "period_start": "DATE", "period_end": "DATE",
             "fiscal_year": "INTEGER"}
    unnested = ", ".join(f"unnest(?::{types.get(name, 'VARCHAR')}[]) AS {name}" for name in columns)
    found = con.execute(
        f"""INSERT INTO meta.sources
        SELECT s.source_id, s.source_key, s.file_id, s.source_file, s.sheet, ?, s.header_row, s.headers,
               s.extra_headers, CAST(s.scale AS DECIMAL(18, 2)), s.scaled_columns, s.encoding, s.unit_code,
               s.unit_name, s.period_start, s.period_end, s.fiscal_year,
               coalesce(c.rows_raw, 0), coalesce(c.rows_blank, 0), coalesce(c.rows_footer, 0), ?, FALSE
        FROM (SELECT {unnested}) s
        LEFT JOIN (SELECT source_key, count(*) FILTER (row_kind <> 'blank') AS rows_raw,
                          count(*) FILTER (row_kind = 'blank') AS rows_blank,
                          count(*) FILTER (row_kind IN ('footer', 'header')) AS rows_footer
                   FROM raw.{kind}__rows WHERE source_key IN (SELECT unnest(?::INTEGER[]))
                   GROUP BY source_key) c USING (source_key)
        ORDER BY s.source_key
        RETURNING source_key, rows_raw - rows_footer""",
        [kind, loaded_at, *columns.values(), columns["source_key"]],
    ).fetchall()
    return dict(found)


def record_files(con: duckdb.DuckDBPyConnection, files: list[tuple[str, str, str, int, int, str | None]],
                 loaded_at: datetime) -> None:
    """Files read into raw, (file_id, source_file, sha256, size, mtime_ns, notes) each, into
    meta.files in one statement."""
    lists = [list(column) for column in zip(*files)]
    con.execute(
        """INSERT INTO meta.files
        SELECT file_id, source_file, sha, size, mtime, 'loaded', NULL, notes, ?
        FROM (SELECT unnest(?::VARCHAR[]) AS file_id, unnest(?::VARCHAR[]) AS source_file, unnest(?::VARCHAR[]) AS sha,
                     unnest(?::BIGINT[]) AS size, unnest(?::BIGINT[]) AS mtime, unnest(?::VARCHAR[]) AS notes)""",
        [loaded_at, *lists],
    )


def csv_files_cells(paths: list[Path], source_keys: list[int], table: TableInFile) -> str:
    """The rows of CSV files of one layout (`table`'s header, title lines, delimiter; UTF-8,
    no empty line below the header) as one subquery `(source_key, source_row, c0..,
    overflow)` over one DuckDB read of them all.

    DuckDB reads the files of the list one after the other (on the one thread RawBatch
    gives the insert), so the running row number, less its first value in the file, is
    the row's place in its file, as row_number() OVER () is for a file read alone."""
    width = table.header.width
    first_data_line = table.header.row_index + 2
    names = [f"c{i}" for i in range(width)]
    keys = "[" + ", ".join(str(k) for k in source_keys) + "]"
    numbered = (f"SELECT row_number() OVER () - 1 AS k, file_index, * "
                f"FROM {read_csv_sql(paths, table.delimiter or ',', width, first_data_line)}")
    return f"""(SELECT {keys}[CAST(file_index AS BIGINT) + 1] AS source_key,
        {first_data_line} + k - min(k) OVER (PARTITION BY file_index) AS source_row,
        {', '.join(names)}, NULL::VARCHAR AS overflow FROM ({numbered}))"""


def sheets_cells(tables: list[TableInFile], source_keys: list[int]) -> pa.Table:
    """The cells of workbook sheets of one layout (read already), as one Arrow table
    `(source_key, source_row, c0.., overflow)`."""
    width = tables[0].header.width
    keys: list[int] = []
    rows: list[int] = []
    columns: list[list] = [[] for _ in range(width)]
    overflow: list = []
    for table, key in zip(tables, source_keys):
        cells = table.cells
        keys += [key] * len(cells.rows)
        rows += cells.rows
        for i in range(width):
            columns[i] += cells.columns[i]
        overflow += cells.overflow
    arrays = {"source_key": pa.array(keys, pa.int32()), "source_row": pa.array(rows, pa.int64())}
    for i, values in enumerate(columns):
        arrays[f"c{i}"] = pa.array(values, pa.string())
    arrays["overflow"] = pa.array(overflow, pa.string())
    return pa.table(arrays)
