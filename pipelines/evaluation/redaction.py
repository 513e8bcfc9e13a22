"""The last line of defence of the public (公开版) outputs: no code or name of a 涉密
project in their text, not even inside other text.

The public marts (sql/marts_public/) already fold 涉密 projects into one undisclosed line
and drop indicators that mention them; what they cannot see is the department's own
narrative (`_texts/<unit>.md`) and the labels drawn from the internal evaluation (the
scores chart). Every text of a public report passes through `redact_report` before it is
rendered, so a secret name typed into a narrative is masked rather than published.
"""

from __future__ import annotations

import duckdb

MASK = "（涉密内容，不予公开）"

_FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def secret_tokens(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Codes and names of every 涉密 project the warehouse knows (all units and years), and
    the names of their performance indicators that no public project or department uses
    (the public marts leave those indicators out, contract 3), each also in full-width form
    (４３３０…), longest first so that a name is masked before a code inside it. Categories
    and offices are not masked in the narrative: the seed's public report names them (人防)."""
    rows = con.execute("""
        SELECT DISTINCT t.token
        FROM core.dim_project p, unnest([p.project_code, p.project_name]) t(token)
        WHERE p.disclosure = '涉密' AND length(t.token) >= 2
        UNION
        SELECT DISTINCT i.name
        FROM core.fact_indicators i
        JOIN core.dim_project p
          ON p.unit_code = i.unit_code AND p.fiscal_year = i.fiscal_year AND p.project_code = i.project_code
        WHERE p.disclosure = '涉密' AND length(i.name) >= 2
          AND NOT EXISTS (
              SELECT 1 FROM core.fact_indicators o
              LEFT JOIN core.dim_project q
                ON q.unit_code = o.unit_code AND q.fiscal_year = o.fiscal_year AND q.project_code = o.project_code
              WHERE o.name = i.name AND (o.project_code IS NULL OR q.disclosure IS DISTINCT FROM '涉密'))""").fetchall()
    tokens = {variant for (token,) in rows for variant in (token, token.translate(_FULL_WIDTH))}
    return sorted(tokens, key=lambda t: (-len(t), t))


def mentions(text: str | None, tokens: list[str]) -> bool:
    return bool(text) and any(t in text for t in tokens)


def redact(text: str, tokens: list[str]) -> str:
    for token in tokens:
        if token in text:
            text = text.replace(token, MASK)
    for bracketed in (f"（{MASK}）", f"({MASK})"):  # `名称（代码）` masked twice reads as one mask
        text = text.replace(bracketed, MASK)
    return text


def redact_report(report, tokens: list[str]) -> int:
    """Mask secret tokens in every text of a report's blocks (in place); returns how many
    texts were changed."""
    if not tokens:
        return 0
    changed = 0

    def fix(text):
        nonlocal changed
        if isinstance(text, str) and mentions(text, tokens):
            changed += 1
            return redact(text, tokens)
        return text

    report.title = fix(report.title)
    for block in report.blocks:
        for attr in ("text", "caption"):
            if hasattr(block, attr):
                setattr(block, attr, fix(getattr(block, attr)))
        if getattr(block, "lines", None):
            block.lines = tuple(fix(line) for line in block.lines)
        if hasattr(block, "header"):
            block.header = [fix(cell) for cell in block.header]
            block.rows = [[fix(cell) for cell in row] for row in block.rows]
    return changed
