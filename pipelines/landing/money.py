"""The money units amounts are stated in, and their factors to yuan.

One list, the SQL macro `fw_money_unit_factor` (sql/macros/parsing.sql), read from there:
staging reads a cell that names its unit (`1元`) with it, and a title line (`单位：千元`) or a
header (`金额（万元）`) must know the same units with the same factors.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pipelines.sqltext import sql_text

_MACRO = re.compile(r"MACRO fw_money_unit_factor\(u\) AS\s+CASE u((?:\s+WHEN '[^']+' THEN \d+)+)\s+END;")
_UNIT = re.compile(r"WHEN '([^']+)' THEN (\d+)")


def _sql_money_units() -> dict[str, Decimal]:
    found = _MACRO.search(sql_text("macros/parsing.sql"))
    if found is None:
        raise RuntimeError("sql/macros/parsing.sql: fw_money_unit_factor not found as money.py reads it")
    return {unit: Decimal(factor) for unit, factor in _UNIT.findall(found.group(1))}


MONEY_UNITS = _sql_money_units()  # {'元': 1, '千元': 1000, '万元': 10000, '亿元': 100000000}

# What a title line or a header may name as an amount's unit: a word ending in 元 (千元, 美元,
# 百万元), after an optional 人民币 (`金额单位：人民币元`). Which of them are known is MONEY_UNITS.
MONEY_WORD = r"(?:人民币)?[^\s\d:：()（）\[\]【】,，;；]{0,3}元"


class UnknownMoneyUnit(ValueError):
    """An amount unit the warehouse does not know: the file cannot be read (its amounts
    would load at a wrong scale). The message says which, in Chinese and English."""


def money_factor(word: str, text: str, header: bool = False) -> Decimal:
    """The factor to yuan of a unit as written (`万元`, `人民币千元`); UnknownMoneyUnit when
    it is not one of MONEY_UNITS. `text` is the title line (or, `header`, the header cell)
    that names it, for the reason."""
    unit = word.strip().removeprefix("人民币").strip()
    factor = MONEY_UNITS.get(unit)
    if factor is None:
        where_zh, where_en = ("表头", "header") if header else ("标题行", "title line")
        raise UnknownMoneyUnit(
            f"{where_zh}“{text}”的金额单位“{word}”无法识别（可用：{'、'.join(MONEY_UNITS)}） / unknown amount unit "
            f"'{word}' in the {where_en} '{text}' (known: {', '.join(MONEY_UNITS)})"
        )
    return factor
