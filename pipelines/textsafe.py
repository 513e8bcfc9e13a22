"""No formula from input: text that came from an export is written as text.

Excel and WPS run a CSV field that starts with `=`, `+`, `-` or `@` as a formula
(`=HYPERLINK(...)`, `+1+1+cmd|' /C calc'!A0`, `@SUM(A1)`), and a leading tab or carriage
return hides such a start. OWASP's recommendation: prefix such a field with a single
quote, which the spreadsheet shows as text. Numbers we formatted ourselves (a negative
difference) are written as numbers, not passed through here.

In XLSX the same is done by writing text with xlsxwriter's `write_string` (never
`write`, which turns `=…` into a formula) — see `write_text`.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold (C0 controls but tab, LF and CR; lone surrogates; U+FFFE/FFFF):
# an export cell holding one (a NUL from a broken system) must not stop a DOCX from being written.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters an XML document cannot hold (each becomes U+FFFD)."""
    return _NOT_XML.sub("\ufffd", text)


def csv_safe(value: object) -> object:
    """A CSV field that no spreadsheet runs: text starting with a formula character gets a
    leading `'`; None becomes empty; numbers (int, float, Decimal) pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe_row(row, numeric_columns: frozenset[int] | set[int] = frozenset()) -> list:
    """`csv_safe` on every field of a row except the columns holding numbers we wrote
    (their text, e.g. `-1500.00`, is a number, not a formula)."""
    return ["" if v is None else v if col in numeric_columns else csv_safe(v) for col, v in enumerate(row)]


def write_text(sheet, row: int, col: int, value: str | None, fmt=None) -> None:
    """Text into an xlsxwriter cell as a string, whatever it starts with (None: blank)."""
    if value is None or value == "":
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def merge_text(sheet, first_row: int, first_col: int, last_row: int, last_col: int, value: str | None, fmt) -> None:
    """A merged range holding text as a string: `merge_range` writes its data with
    `write()`, which would make `=…` a formula, so the range is merged empty and the
    text written into its first cell with `write_string`."""
    if (first_row, first_col) == (last_row, last_col):
        write_text(sheet, first_row, first_col, value, fmt)
        return
    sheet.merge_range(first_row, first_col, last_row, last_col, "", fmt)
    write_text(sheet, first_row, first_col, value, fmt)
