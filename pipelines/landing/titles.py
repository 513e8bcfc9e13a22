"""Title lines above a header row: the amount unit, the unit, the period, the year.

Exports carry facts about the whole file there (contract section 2): `单位：万元` scales
every amount, `单位：117001 常宁市住房和城乡建设局` names the unit when no column does,
`2021年1月1日至2021年3月31日` is a voucher file's period.

An amount-unit line is `单位：<unit>` or `金额单位：<unit>`, in brackets too (`（单位：万元）`),
alone in its cell or after a space or the name of the unit; its unit is one of the money
units (`money.MONEY_UNITS`: 元, 千元, 万元, 亿元). One naming another unit (`金额单位：美元`,
`单位：百万元`) makes the file unreadable (UnknownMoneyUnit): its amounts would load at a
wrong scale. A `单位：千元` is never a unit's name.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pipelines.landing.money import MONEY_WORD, money_factor
from pipelines.sqltext import sql_text

# The fold of digits and punctuation to ASCII is the one of the SQL macro fw_fold
# (sql/macros/parsing.sql), read from there: staging folds the cells with it, and a
# title line must read the same way (a copy here once lacked ＋ and −).
_FW_FOLD = re.compile(
    r"MACRO fw_fold\(s\) AS\s+fw_trim_set\(translate\(CAST\(s AS VARCHAR\), '([^']*)', '([^']*)'\)\)"
)


def _sql_fold_table() -> dict[int, int]:
    found = _FW_FOLD.search(sql_text("macros/parsing.sql"))
    if found is None or len(found.group(1)) != len(found.group(2)):
        raise RuntimeError("sql/macros/parsing.sql: fw_fold's translate() not found as titles.py reads it")
    return str.maketrans(found.group(1), found.group(2))


FULL_WIDTH = _sql_fold_table()

# On folded text (（） are ( ) there): `单位：千元`, `(金额单位：万元)`, at the start of the cell, after
# a space or before its own bracket (`某局（单位：万元）`); `金额单位：…` anywhere, whatever it names.
_AMOUNT_UNIT = re.compile(
    r"(?:(?<!\S)|(?=\())\(?\s*(?:金额)?单位\s*[:：]\s*(" + MONEY_WORD + r")\s*\)?(?=\s|$)"
)
_AMOUNT_UNIT_ANYWHERE = re.compile(r"\(?\s*金额单位\s*[:：]\s*(" + MONEY_WORD + r"|[^\s)\]】,;；]+)\s*\)?")
_UNIT_LINE = re.compile(r"^(?:单位|单位名称|单位编码|预算单位)[:：]\s*(.+?)\s*$")
_CODE = re.compile(r"^\[?([0-9A-Za-z][0-9A-Za-z\-_.]*)\]?$")
_DATE = r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?"
_PERIOD = re.compile(_DATE + r"\s*(?:至|到|-|—|－|~|～)\s*" + _DATE)
_MONTH_PERIOD = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:份)?\s*(?:至|到|-|—|~)\s*(?:(\d{4})\s*年)?\s*(\d{1,2})\s*月(?:份)?"
)
_YEAR = re.compile(r"(?:(\d{4})\s*年度)|(?:(?:预算)?年度[:：]\s*(\d{4}))")


@dataclass(frozen=True)
class TitleInfo:
    scale: Decimal = Decimal(1)
    unit_code: str | None = None
    unit_name: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    fiscal_year: int | None = None
    amount_unit_text: str | None = None


def _cells(rows: list[list[object]]) -> list[tuple[str, str]]:
    """Each non-empty cell as (folded, as written): full-width digits and punctuation folded
    to ASCII for matching, and the text as written for names, which keep their characters
    (`常宁市住房和城乡建设局（人防办）`). The folding maps one character to one, so a match's
    positions in the folded text are the same in the written one."""
    out = []
    for row in rows:
        for cell in row:
            if cell is None:
                continue
            written = str(cell).replace("\ufeff", "").strip()
            if written:
                out.append((written.translate(FULL_WIDTH), written))
    return out


def _safe_date(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def parse_title_rows(rows: list[list[object]]) -> TitleInfo:
    """Facts stated on the rows above the header (each row a list of cells)."""
    scale = Decimal(1)
    amount_unit_text = None
    unit_code = unit_name = None
    period_start = period_end = None
    fiscal_year = None
    for text, written in _cells(rows):
        amount = _AMOUNT_UNIT.search(text) or _AMOUNT_UNIT_ANYWHERE.search(text)
        if amount:
            amount_unit_text = amount.group(1)
            scale = money_factor(amount_unit_text, written)
            # A cell like `编制单位：X局  单位：万元` may also name the unit around it.
            start, end = amount.span()
            text = (text[:start] + " " + text[end:]).strip()
            written = (written[:start] + " " + written[end:]).strip()
            if not text:
                continue
        unit = _UNIT_LINE.match(text)
        if unit and re.fullmatch(MONEY_WORD, unit.group(1)):  # `预算单位：千元` names no unit
            amount_unit_text, scale = unit.group(1), money_factor(unit.group(1), written)
            continue
        if unit and unit_code is None and unit_name is None:
            # the code as folded (codes are ASCII), the name as written
            value, value_written = unit.group(1), written[unit.start(1): unit.end(1)]
            parts, parts_written = value.split(None, 1), value_written.split(None, 1)
            code = _CODE.match(parts[0]) if parts else None
            if code and any(ch.isdigit() for ch in code.group(1)):
                unit_code = code.group(1)
                unit_name = parts_written[1].strip() if len(parts_written) > 1 else None
            else:
                bracket = re.match(r"^\[([0-9A-Za-z\-_.]+)\]\s*(.*)$", value)
                if bracket:
                    unit_code, unit_name = bracket.group(1), value_written[bracket.start(2):] or None
                else:
                    unit_name = value_written
            continue
        period = _PERIOD.search(text)
        if period and period_start is None:
            start = _safe_date(*period.group(1, 2, 3))
            end = _safe_date(*period.group(4, 5, 6))
            if start and end and start <= end:
                period_start, period_end = start, end
                continue
        months = _MONTH_PERIOD.search(text)
        if months and period_start is None:
            y1, m1, y2, m2 = months.groups()
            y2 = y2 or y1
            try:
                start = date(int(y1), int(m1), 1)
                end = date(int(y2), int(m2), calendar.monthrange(int(y2), int(m2))[1])
            except ValueError:
                start = end = None
            if start and end and start <= end:
                period_start, period_end = start, end
                continue
        year = _YEAR.search(text)
        if year and fiscal_year is None:
            fiscal_year = int(year.group(1) or year.group(2))
    if fiscal_year is None and period_start is not None and period_start.year == period_end.year:
        fiscal_year = period_start.year
    return TitleInfo(scale, unit_code, unit_name, period_start, period_end, fiscal_year, amount_unit_text)
