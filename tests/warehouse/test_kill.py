"""kill -9 at any moment of a real `fiscal-warehouse load`, then a plain re-run: the same
warehouse as a load that was never interrupted (issue 12, item 1 of "What to build").

Each load runs as a subprocess in its own process group (its report and workbook workers
with it) and is killed with SIGKILL at a moment chosen by time: fractions of the duration
of the same load run uninterrupted, measured first. After each kill `status` answers, a
plain re-run exits 0, and every Parquet file (its rows, read with DuckDB, ordered) and
every report (Markdown text; XLSX cell values; DOCX paragraph and table-cell texts; PNG
bytes) equals the uninterrupted load's.

Two scenarios, both on a warehouse that already holds a load (as a nightly load finds it):
- new files: the 2021 exports arrive;
- removed files (issue 12, item 1 of the findings): the 2020 exports are taken out and one
  2021 export is re-exported, and the result must equal a clean load of the reduced folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import openpyxl
import pytest
from docx import Document

from pipelines.settings import DEMO_LANDING_DIR
from pipelines.sqltext import sql_string
from tests.conftest import run_load

# Fractions of an uninterrupted load. The default run kills the new-files load late (past
# the ingest, into the checks, publishing or reports) and the removal load early (in the
# ingest and the removal): each kill costs a re-run load and two `status` runs, and this
# module was the suite's longest. The soak (-m slow) has 28 moments.
DEFAULT_MOMENTS = (0.6,)
REMOVAL_MOMENTS = (0.3,)
SOAK_MOMENTS = tuple(round(0.05 * i, 2) for i in range(1, 20))  # 0.05 … 0.95
SOAK_REMOVAL_MOMENTS = tuple(round(0.1 * i, 1) for i in range(1, 10))
TIMEOUT = 600


def _command(action: str, landing: Path, warehouse: Path, quiet: bool = True) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", action, "--landing", str(landing), "--warehouse", str(warehouse),
            *(["--quiet"] if quiet else [])]


def _run(action: str, landing: Path, warehouse: Path) -> subprocess.CompletedProcess:
    return subprocess.run(_command(action, landing, warehouse), capture_output=True, text=True, timeout=TIMEOUT)


def _load(landing: Path, warehouse: Path) -> float:
    """An uninterrupted load as the killed ones run (a new process); returns how long it took."""
    started = time.monotonic()
    done = _run("load", landing, warehouse)
    assert done.returncode == 0, done.stdout + done.stderr
    return time.monotonic() - started


def _load_here(landing: Path, warehouse: Path) -> None:
    """An uninterrupted load in this process, for a warehouse whose load is not timed (no
    new Python to start, Dagster and Great Expectations already imported)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(warehouse / ".dagster"))  # the warehouse's own, as the CLI's; restored afterwards
        with contextlib.redirect_stdout(io.StringIO()):
            assert run_load(landing, warehouse) == 0


def _killed_load(landing: Path, warehouse: Path, after: float, log: Path) -> int | None:
    """Start a load and SIGKILL its whole process group `after` seconds later; returns its
    exit code when it finished before that (None when it was killed). Its progress goes
    to `log`, to say where the kill fell (the moment is chosen by time alone)."""
    with log.open("wb") as out:
        process = subprocess.Popen(_command("load", landing, warehouse, quiet=False), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            process.wait(timeout=after)
            return process.returncode
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
            return None
        finally:
            try:  # workers the load left, if it finished first and they linger
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# ------------------------------------------------------------------ what a warehouse holds


def _parquet_rows(path: Path) -> list[tuple]:
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT * FROM read_parquet({sql_string(path.as_posix())}) ORDER BY ALL").fetchall()
    finally:
        con.close()


def _xlsx_cells(path: Path) -> list:
    workbook = openpyxl.load_workbook(path)
    try:
        return [(sheet.title, [[cell.value for cell in row] for row in sheet.iter_rows()]) for sheet in workbook]
    finally:
        workbook.close()


def _docx_texts(path: Path) -> list:
    document = Document(str(path))
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    return [[p.text for p in document.paragraphs], tables]


READERS = {
    ".md": lambda path: path.read_text(encoding="utf-8"),
    ".xlsx": _xlsx_cells,
    ".docx": _docx_texts,
    ".png": lambda path: hashlib.sha256(path.read_bytes()).hexdigest(),
}


def outputs(warehouse: Path) -> dict[str, object]:
    """Every published Parquet file's rows and every report's content, by path. The quality
    reports are left out: they are named after the load that wrote them (a killed load
    leaves its own)."""
    out: dict[str, object] = {}
    parquet = sorted(warehouse.glob("marts*/*/fiscal_year=*/*.parquet")) + sorted(warehouse.glob("quarantine/*.parquet"))
    for path in parquet:
        out[path.relative_to(warehouse).as_posix()] = _parquet_rows(path)
    for path in sorted((warehouse / "reports").rglob("*")):
        relative = path.relative_to(warehouse).as_posix()
        if path.is_dir() or relative.startswith("reports/quality/"):
            continue
        reader = READERS.get(path.suffix)
        out[relative] = reader(path) if reader and path.stat().st_size else f"unexpected file, {path.stat().st_size} bytes"
    return out


def _differences(got: dict, expected: dict) -> list[str]:
    return ([f"missing {k}" for k in sorted(expected.keys() - got.keys())]
            + [f"extra {k}" for k in sorted(got.keys() - expected.keys())]
            + [f"differs {k}" for k in sorted(expected.keys() & got.keys()) if got[k] != expected[k]])


# ------------------------------------------------------------------ the scenarios


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Landing folders and loaded warehouses every kill starts from (copies are cheap)."""
    root = tmp_path_factory.mktemp("kill")
    full = root / "landing_full"
    shutil.copytree(DEMO_LANDING_DIR, full)  # copytree keeps modification times
    without_2021 = root / "landing_2020"
    shutil.copytree(full, without_2021)
    for folder in without_2021.glob("*/2021"):
        shutil.rmtree(folder)
    reduced = root / "landing_reduced"
    shutil.copytree(full, reduced)
    for folder in reduced.glob("*/2020"):
        shutil.rmtree(folder)
    staffing = next(reduced.glob("*/2021/**/*人员*.csv"))
    staffing.write_bytes(staffing.read_bytes() + b"\r\n")  # re-exported: other bytes, the same rows
    os.utime(staffing, ns=(staffing.stat().st_atime_ns, staffing.stat().st_mtime_ns + 10**9))

    base = root / "wh_2020"  # what the nightly load finds: 2020 loaded
    _load_here(without_2021, base)
    uninterrupted = root / "wh_full"
    shutil.copytree(base, uninterrupted, symlinks=True)
    seconds = _load(full, uninterrupted)
    clean_reduced = root / "wh_reduced"
    _load_here(reduced, clean_reduced)
    reduced_after_full = root / "wh_full_then_reduced"  # the removal scenario's load, uninterrupted
    shutil.copytree(uninterrupted, reduced_after_full, symlinks=True)
    seconds_removal = _load(reduced, reduced_after_full)
    return {
        "root": root, "full": full, "reduced": reduced, "base": base, "uninterrupted": uninterrupted,
        "seconds": {"new": seconds, "removed": seconds_removal},
        "expected_full": outputs(uninterrupted), "expected_reduced": outputs(clean_reduced),
        "reduced_after_full": outputs(reduced_after_full),
    }


def _kill_and_rerun(folders, start_from: Path, landing: Path, fraction: float, expected: dict, name: str) -> str:
    warehouse = folders["root"] / name
    shutil.rmtree(warehouse, ignore_errors=True)
    shutil.copytree(start_from, warehouse, symlinks=True)
    after = fraction * folders["seconds"][name.split("_")[0]]
    log = folders["root"] / f"{name}.log"
    finished = _killed_load(landing, warehouse, after, log)
    last = (log.read_text(encoding="utf-8", errors="replace").strip().splitlines() or ["(nothing)"])[-1]
    outcome = (f"killed at {after:.1f} s, after: {last[:80]}" if finished is None
               else f"finished before {after:.1f} s (exit {finished})")

    status = _run("status", landing, warehouse)
    assert status.returncode == 0, f"{outcome}: status failed: {status.stdout}{status.stderr}"
    rerun = _run("load", landing, warehouse)
    assert rerun.returncode == 0, f"{outcome}: re-run failed: {rerun.stdout}{rerun.stderr}"
    assert _differences(outputs(warehouse), expected) == [], outcome
    after_rerun = _run("status", landing, warehouse)
    assert after_rerun.returncode == 0 and not re.search(r"\bpending\b", after_rerun.stdout), after_rerun.stdout
    shutil.rmtree(warehouse, ignore_errors=True)
    return outcome


def _check_moments(folders, moments, removal_moments):
    outcomes = []
    for fraction in moments:
        outcomes.append(_kill_and_rerun(folders, folders["base"], folders["full"], fraction,
                                        folders["expected_full"], f"new_{fraction}"))
    for fraction in removal_moments:
        outcomes.append(_kill_and_rerun(folders, folders["uninterrupted"], folders["reduced"], fraction,
                                        folders["expected_reduced"], f"removed_{fraction}"))
    killed = [o for o in outcomes if o.startswith("killed")]
    print(f"{len(killed)} of {len(outcomes)} loads killed and repaired: " + "; ".join(outcomes))
    assert len(killed) * 2 >= len(outcomes), outcomes  # most moments fall inside the loads


def test_the_uninterrupted_reduced_load_equals_a_clean_one(folders):
    """The reference for the removal scenario holds without kills too."""
    assert _differences(folders["reduced_after_full"], folders["expected_reduced"]) == []


def test_a_load_killed_at_any_moment_is_finished_by_the_next(folders):
    _check_moments(folders, DEFAULT_MOMENTS, REMOVAL_MOMENTS)


@pytest.mark.slow
def test_soak_many_kill_moments(folders):
    _check_moments(folders, SOAK_MOMENTS, SOAK_REMOVAL_MOMENTS)
