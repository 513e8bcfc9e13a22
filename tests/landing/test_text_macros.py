"""fw_text and fw_trim test a cell's ends by code point: the same cells need trimming as
with the regular expression they used, [\\s\\x{3000}\\x{a0}\\x{feff}] at either end."""

from __future__ import annotations

import random

REGEX = r"'^[\s\x{3000}\x{a0}\x{feff}]|[\s\x{3000}\x{a0}\x{feff}]$'"
CHARACTERS = ["a", "中", "1", "-", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x85", "\xa0", "\u2003", "\u2028", "\u3000",
              "\ufeff", "\u0301", "\u200d", "\U0001f600"]


def test_fw_text_and_fw_trim_are_what_the_regular_expression_made_them(con):
    rng = random.Random(7)
    cells = [None, ""] + ["".join(rng.choice(CHARACTERS) for _ in range(rng.randint(1, 5))) for _ in range(20_000)]
    con.execute("CREATE TABLE cells AS SELECT unnest(?::VARCHAR[]) AS s", [cells])
    differ = con.execute(
        f"""SELECT count(*) FILTER (fw_text(s) IS DISTINCT FROM CASE WHEN s IS NULL OR s = '' THEN NULL
                                  WHEN regexp_matches(s, {REGEX}) THEN NULLIF(fw_trim_set(s), '') ELSE s END),
                   count(*) FILTER (fw_trim(s) IS DISTINCT FROM CASE WHEN regexp_matches(s, {REGEX})
                                  THEN fw_trim_set(s) ELSE s END),
                   count(*) FILTER (fw_text(s) IS NULL AND s IS NOT NULL AND s <> '')
            FROM cells"""
    ).fetchone()
    assert differ[:2] == (0, 0)
    assert differ[2] > 100  # cells of white space alone were among them
