"""Honest figures: what a unit-year's quarantined rows leave out of its tables and reports.

A row that fails a check is quarantined, and the figures are computed without it. The
self-evaluation must then say so rather than present the figures as final: the 自评表
carries a note and the internal report a paragraph (how many rows, how much money as far
as the amounts could be read, which files, where the error report is); the public report
says only that the figures are provisional. The load's summary names the unit-years.

A quarantined row belongs to a unit-year by its own unit and year; a row whose year could
not be read (or lies out of range) belongs to the unit-years its file covers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePosixPath

import duckdb

from pipelines.evaluation.numbers import ZERO, fmt_wan

# The quarantined rows of one unit-year (?1 unit, ?2 year): by its own year, or, when the
# row's year is unknown or out of range, by the years its file covers (and only those: a
# date of next January in a file for this year is this year's row, not next year's).
_ROWS = """
    WITH covered AS (
        SELECT DISTINCT so.source_file FROM meta.sources so JOIN meta.slices sl USING (source_id)
        WHERE sl.unit_code = $unit AND sl.fiscal_year = $year AND sl.status = 'active'
    )
    SELECT q.kind, q.source_file, q.sheet, q.source_row, q.reason_code
    FROM quarantine q
    WHERE q.unit_code = $unit
      AND CASE WHEN q.fiscal_year IS NULL OR q.reason_code = 'date_out_of_range'
               THEN q.source_file IN (SELECT source_file FROM covered)
               ELSE q.fiscal_year = $year END
"""

# Amounts that could be read on those rows: spending (7xxx voucher lines, debit − credit)
# and budget lines.
_AMOUNTS = f"""
    WITH q AS ({_ROWS})
    SELECT
        (SELECT sum(v.amount) FROM staging.voucher_lines v
         JOIN q ON q.kind = 'voucher_lines' AND q.source_file = v.source_file AND q.source_row = v.source_row
         WHERE v.unit_code = $unit AND v.reject_code IS NOT NULL AND v.is_spending),
        (SELECT sum(b.amount) FROM staging.budget_lines b
         JOIN q ON q.kind = 'budget_lines' AND q.source_file = b.source_file AND q.source_row = b.source_row
         WHERE b.unit_code = $unit AND b.reject_code IS NOT NULL)
"""

PUBLIC_NOTE = "说明：部分导出数据尚待核实更正，本报告所列数据为暂定数，以更正后的数据为准。"


@dataclass(frozen=True)
class Quarantined:
    """What the quarantine holds for one unit-year (plain data, picklable)."""

    rows: int
    spending_yuan: Decimal  # Σ(debit − credit) of the quarantined 7xxx lines whose amounts could be read
    budget_yuan: Decimal  # Σ amount of the quarantined budget lines whose amounts could be read
    unreadable_amounts: int  # rows whose amount could not be read at all
    files: tuple[str, ...]
    report: str | None  # the error report, relative to the warehouse folder

    @property
    def money(self) -> str:
        parts = []
        if self.spending_yuan != 0:
            parts.append(f"支出{fmt_wan(self.spending_yuan)}万元")
        if self.budget_yuan != 0:
            parts.append(f"预算指标{fmt_wan(self.budget_yuan)}万元")
        text = "涉及可读金额" + "、".join(parts) if parts else "其中无可读的支出或预算金额"
        if self.unreadable_amounts:
            text += f"（另有{self.unreadable_amounts}行金额无法识别，未计入）"
        return text

    @property
    def where(self) -> str:
        return self.report or "reports/quality/ 下最近一次加载的错误报告"

    def note(self) -> str:
        """The 自评表's note (internal)."""
        return (f"数据说明：本年度有{self.rows}行导出数据未通过检查，已隔离、未计入本表，{self.money}；"
                f"涉及文件：{'、'.join(self.files)}；明细见错误报告 {self.where}。本表数据为暂定数，更正后重新生成。")

    def paragraph(self) -> str:
        """The internal report's paragraph."""
        return (f"数据质量说明：{self.rows}行导出数据未通过检查，已隔离，未计入本报告的任何数据，{self.money}。"
                f"涉及文件：{'、'.join(self.files)}。逐行原因见错误报告 {self.where}；"
                f"相关单位更正导出数据后重新加载，本报告即按更正后的数据重新生成。在此之前，本报告数据为暂定数。")


def read_quarantined(con: duckdb.DuckDBPyConnection, unit_code: str, year: int) -> Quarantined | None:
    """The quarantined rows of one unit-year, or None when it has none."""
    params = {"unit": unit_code, "year": year}
    rows = con.execute(_ROWS, params).fetchall()
    if not rows:
        return None
    spending, budget = con.execute(_AMOUNTS, params).fetchone()
    files = tuple(sorted({source_file + (f"（{sheet}）" if sheet else "") for _, source_file, sheet, _, _ in rows}))
    unreadable = sum(1 for *_, reason in rows if reason == "unreadable_amount")
    return Quarantined(len(rows), spending or ZERO, budget or ZERO, unreadable, files,
                       _error_report(con, unit_code, year))


def _error_report(con: duckdb.DuckDBPyConnection, unit_code: str, year: int) -> str | None:
    """The error report of the latest load that rebuilt the unit-year (it lists every
    quarantined row of the files in its scope)."""
    for (summary,) in con.execute(
            "SELECT summary FROM meta.loads WHERE summary IS NOT NULL ORDER BY started_at DESC LIMIT 100").fetchall():
        data = json.loads(summary)
        rebuilt = data.get("rebuilt") or data.get("scope") or []  # "scope": loads before the unit-year partitions
        if [unit_code, year] in [list(s) for s in rebuilt] and data.get("quality_report"):
            return str(PurePosixPath("reports", "quality", PurePosixPath(data["quality_report"]).name))
    return None


def quarantined_unit_years(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    """(unit_code, fiscal_year, rows) of every unit-year with quarantined rows, for the load's summary."""
    return con.execute("""
        WITH attributed AS (
            SELECT q.unit_code, q.fiscal_year, q.source_file, q.sheet, q.source_row FROM quarantine q
            WHERE q.unit_code IS NOT NULL AND q.fiscal_year IS NOT NULL AND q.reason_code <> 'date_out_of_range'
            UNION
            SELECT q.unit_code, sl.fiscal_year, q.source_file, q.sheet, q.source_row FROM quarantine q
            JOIN meta.sources so ON so.source_file = q.source_file
            JOIN meta.slices sl ON sl.source_id = so.source_id AND sl.unit_code = q.unit_code AND sl.status = 'active'
            WHERE q.unit_code IS NOT NULL AND (q.fiscal_year IS NULL OR q.reason_code = 'date_out_of_range')
        )
        SELECT unit_code, fiscal_year, count(*) FROM attributed GROUP BY ALL ORDER BY 1, 2""").fetchall()
