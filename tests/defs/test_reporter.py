"""Progress lines: every line to the CLI at once; the per-file and per-unit-year lines to
Dagster's run log in batches (a Dagster log message is a write to the event log, tens of ms each)."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from pipelines.defs.assets import reporter


def test_file_lines_reach_the_run_log_in_batches_and_none_is_lost():
    logged: list[str] = []
    printed: list[str] = []
    context = SimpleNamespace(log=SimpleNamespace(info=logged.append))
    report = reporter(context, printed.append)
    lines = ["[1/2] a.csv (0.0 MB)", "  read a.csv: voucher_lines, 300 rows", "[2/2] b.csv (0.0 MB)"]
    for line in lines:
        report(line)
    assert printed == lines and logged == []
    report("staged 2 table(s)")
    assert logged == ["\n".join(lines), "staged 2 table(s)"]

    report("[1/1] c.csv (0.0 MB)")  # the last file lines of a step, with no line after them
    del report
    gc.collect()
    assert logged[-1] == "[1/1] c.csv (0.0 MB)"
    assert printed[-1] == "[1/1] c.csv (0.0 MB)"


def test_unit_year_lines_of_the_reports_are_batched_too():
    logged: list[str] = []
    context = SimpleNamespace(log=SimpleNamespace(info=logged.append))
    report = reporter(context, lambda _: None)
    lines = ["reports: 117001 2021 (1/2)", "reports: 117001 2021: no narrative file /x/117001.md; the report shows "
             "placeholders", "reports: 117002-A 2020 is no longer in the warehouse; 9 old file(s) removed"]
    for line in lines:
        report(line)
    assert logged == []
    report("reports: 3 files written")  # about the stage, not one unit-year: at once
    assert logged == ["\n".join(lines), "reports: 3 files written"]
