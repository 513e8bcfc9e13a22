"""The quarantine: every row that could not be taken, with file, row, raw cells and reason.

Built from the staging tables' rejected rows (raw cells looked up in the raw layer, keyed
by the headers as the file wrote them) plus one row per file or sheet that could not be
read at all. Rows that a newer file replaces are not shown, the corrected export is what
counts: a rejected row of a unit-year a newer file replaces, and every rejected row of a
file a newer one replaces entirely (also those of no unit-year: an unreadable date). Which
rows these are is the view staging.<kind>__fate (sql/staging/row_fate.sql), the one
definition of a row's fate, which the load's row accounting (load.row_accounting) and the
rule row_accounting read too: rows read = loaded + quarantined + superseded, row for row.
Each row names the field the problem is in (`field`, the column's contract name, e.g.
`econ_class`) and the cell as the file wrote it (`value`), as the staging model that
rejected it wrote them (reject_field, reject_value); a file or sheet that could not be read
has neither.
"""

from __future__ import annotations

import json

import duckdb

from pipelines.landing.headers import ALIASES, KINDS
from pipelines.sqltext import sql_string

QUARANTINE_DDL = """CREATE OR REPLACE TABLE quarantine (
    source_file VARCHAR NOT NULL, sheet VARCHAR, source_row BIGINT, reason_code VARCHAR NOT NULL,
    field VARCHAR, value VARCHAR, reason VARCHAR NOT NULL, raw VARCHAR, loaded_at TIMESTAMP NOT NULL,
    kind VARCHAR, unit_code VARCHAR, fiscal_year INTEGER, file_sha256 VARCHAR)"""


def _raw_json_sql(headers: dict[str, str]) -> str:
    pairs = []
    for canonical in ALIASES_ORDER:
        if canonical in headers:
            pairs.append(f"{sql_string(headers[canonical])}, r.{canonical}")
    obj = f"json_object({', '.join(pairs)})" if pairs else "json_object()"
    # Unmapped columns were kept in raw.extra as a JSON object: merge them in.
    return f"CAST(CASE WHEN r.extra IS NULL THEN {obj} ELSE json_merge_patch({obj}, r.extra::JSON) END AS VARCHAR)"


ALIASES_ORDER: tuple[str, ...] = tuple(dict.fromkeys(c for kind in KINDS for c in ALIASES[kind]))


def rebuild_quarantine(con: duckdb.DuckDBPyConnection) -> int:
    """Recreate the quarantine table; returns its row count.

    One statement per kind and header layout (a county's 7,000 monthly exports share a
    handful), not one per source: at 9,600 files the per-statement cost was the rebuild's
    cost. The rows go in ordered by file, sheet and row, as they did source by source."""
    con.execute(QUARANTINE_DDL)  # replaced whole: a warehouse of an older layout gets this one
    layouts = con.execute(
        """SELECT so.kind, so.headers, list(so.source_key ORDER BY so.source_key)
        FROM meta.sources so
        GROUP BY ALL ORDER BY 1, 2"""
    ).fetchall()
    con.execute("CREATE OR REPLACE TEMP TABLE _quarantined AS SELECT * FROM quarantine LIMIT 0")
    for kind, headers, source_keys in layouts:
        raw_json = _raw_json_sql(json.loads(headers))
        con.execute(
            f"""INSERT INTO _quarantined
            SELECT so.source_file, so.sheet, s.source_row, s.reject_code, s.reject_field, s.reject_value, s.reject_reason,
                   {raw_json}, so.loaded_at,
                   '{kind}', s.unit_code, s.fiscal_year, f.file_sha256
            FROM staging.{kind}__fate s
            JOIN raw.{kind}__rows r ON r.source_key = s.source_key AND r.source_row = s.source_row
            JOIN meta.sources so ON so.source_key = s.source_key
            JOIN meta.files f ON f.file_id = so.file_id
            WHERE s.fate = 'quarantined' AND s.source_key IN (SELECT unnest(?::INTEGER[]))""",
            [source_keys],
        )
    con.execute("INSERT INTO quarantine SELECT * FROM _quarantined ORDER BY source_file, sheet NULLS LAST, source_row")
    con.execute("DROP TABLE _quarantined")
    con.execute(
        """INSERT INTO quarantine
        SELECT source_file, NULL, NULL, 'unreadable_file', NULL, NULL, reason, NULL, loaded_at, NULL, NULL, NULL,
               file_sha256
        FROM meta.files WHERE status = 'unreadable' ORDER BY source_file"""
    )
    skipped_sheets = []
    for source_file, notes, loaded_at, sha in con.execute(
        "SELECT source_file, notes, loaded_at, file_sha256 FROM meta.files WHERE notes IS NOT NULL ORDER BY source_file"
    ).fetchall():
        for sheet in json.loads(notes).get("skipped_sheets", []):
            if not sheet["empty"]:
                skipped_sheets.append((source_file, sheet["sheet"], sheet["reason"], loaded_at, sha))
    if skipped_sheets:
        con.executemany(
            "INSERT INTO quarantine VALUES (?, ?, NULL, 'unreadable_sheet', NULL, NULL, ?, NULL, ?, NULL, NULL, NULL, ?)",
            skipped_sheets,
        )
    return con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
