"""Which landing files count: identity by kind, unit, fiscal year and period (contract §1).

A file contributes one slice per unit and fiscal year it holds. Within a (kind, unit,
year) group, taken oldest first (file modification time, then path):
- a newer slice whose period contains an earlier one's (equal included) replaces it;
- slices with disjoint periods add up;
- any other overlap keeps both and flags them (rule `overlapping_files`).
Tables of one workbook never replace each other: they are parts of one export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipelines.landing.headers import KINDS

# The date column that gives a voucher file its period when no title line states one.
PERIOD_DATE = {"voucher_lines": "voucher_date"}


@dataclass
class Slice:
    source_id: str
    file_id: str
    source_file: str
    kind: str
    unit_code: str
    fiscal_year: int
    period_start: date
    period_end: date
    mtime_ns: int
    status: str = "active"
    replaced_by: str | None = None
    overlaps: set[str] = field(default_factory=set)


def record_slices(con: duckdb.DuckDBPyConnection, source_ids: list[str]) -> None:
    """Write meta.slices rows for freshly staged sources."""
    if not source_ids:
        return
    for kind in KINDS:
        date_column = PERIOD_DATE.get(kind)
        if date_column:
            period = """
                greatest(make_date(s.fiscal_year, 1, 1), coalesce(m.title_period_start, date_trunc('month', s.first_day)::DATE))::DATE,
                least(make_date(s.fiscal_year, 12, 31),
                      coalesce(m.title_period_end, last_day(s.last_day)))::DATE"""
            dates = f"min({date_column}) AS first_day, max({date_column}) AS last_day,"
        else:
            period = "make_date(s.fiscal_year, 1, 1), make_date(s.fiscal_year, 12, 31)"
            dates = ""
        con.execute(
            f"""INSERT INTO meta.slices
            SELECT s.source_id, '{kind}', s.unit_code, s.fiscal_year, {period}, s.rows_staged, 'active', NULL, NULL
            FROM (
                SELECT source_id, unit_code, fiscal_year, {dates} count(*) AS rows_staged
                FROM staging.{kind}
                WHERE source_id IN (SELECT unnest(?::VARCHAR[]))
                  AND unit_code IS NOT NULL AND fiscal_year IS NOT NULL
                  AND coalesce(reject_code, '') NOT IN ('date_out_of_range', 'unreadable_year')
                  -- a row quarantined for another reason first may still carry a year no
                  -- calendar has (make_date fails on it): it counts in no slice
                  AND (reject_code IS NULL OR fiscal_year BETWEEN 2000 AND year(current_date) + 1)
                GROUP BY ALL
            ) s
            JOIN meta.sources m USING (source_id)""",
            [source_ids],
        )


def _resolve_group(slices: list[Slice]) -> None:
    slices.sort(key=lambda s: (s.mtime_ns, s.source_file, s.source_id))
    for index, newer in enumerate(slices):
        for older in slices[:index]:
            if older.status != "active" or older.file_id == newer.file_id:
                continue
            if newer.period_start <= older.period_start and older.period_end <= newer.period_end:
                older.status = "replaced"
                older.replaced_by = newer.source_file
            elif newer.period_end < older.period_start or older.period_end < newer.period_start:
                continue
            else:
                older.overlaps.add(newer.source_file)
                newer.overlaps.add(older.source_file)


def resolve(con: duckdb.DuckDBPyConnection) -> set[tuple[str, int]]:
    """Recompute every slice's status; returns the (unit, year)s whose counting files changed."""
    rows = con.execute(
        """SELECT sl.source_id, so.file_id, so.source_file, sl.kind, sl.unit_code, sl.fiscal_year,
                  sl.period_start, sl.period_end, f.mtime_ns, sl.status, sl.replaced_by, sl.overlaps_with
        FROM meta.slices sl JOIN meta.sources so USING (source_id) JOIN meta.files f USING (file_id)"""
    ).fetchall()
    groups: dict[tuple[str, str, int], list[Slice]] = {}
    before = {}
    for row in rows:
        item = Slice(*row[:9])
        before[(item.source_id, item.unit_code, item.fiscal_year)] = (row[9], row[10], row[11])
        groups.setdefault((item.kind, item.unit_code, item.fiscal_year), []).append(item)
    changed: set[tuple[str, int]] = set()
    updates = []
    for group in groups.values():
        _resolve_group(group)
        for item in group:
            overlaps = "; ".join(sorted(item.overlaps)) or None
            after = (item.status, item.replaced_by, overlaps)
            key = (item.source_id, item.unit_code, item.fiscal_year)
            if before[key] != after:
                updates.append((*after, *key))
                if before[key][0] != after[0]:
                    changed.add((item.unit_code, item.fiscal_year))
    if updates:
        con.executemany(
            "UPDATE meta.slices SET status = ?, replaced_by = ?, overlaps_with = ? "
            "WHERE source_id = ? AND unit_code = ? AND fiscal_year = ?",
            updates,
        )
    return changed

