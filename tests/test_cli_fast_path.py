"""`fiscal-warehouse load` when nothing changed: one line, exit 0, no Dagster run, no GX
import, no file written; and `--workers`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import build_parser
from pipelines.settings import PROJECT_DIR, WORKERS_ENV
from tests.conftest import payment, query, run_load, voucher_file


def files_with_times(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def cli_in_new_process(*args: str) -> subprocess.CompletedProcess:
    """The CLI in a fresh interpreter, reporting afterwards which heavy packages it imported."""
    code = ("import sys\nfrom pipelines.cli import main\nrc = main(sys.argv[1:])\n"
            "print('imported:', sorted(m for m in ('dagster', 'great_expectations', 'matplotlib', 'docx') "
            "if m in sys.modules))\nsys.exit(rc)")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=PROJECT_DIR, env=env, capture_output=True,
                          text=True, timeout=300)


def test_nothing_changed_is_one_line_and_touches_nothing(tmp_path, monkeypatch):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    export = voucher_file(landing / "900001" / "2021年1月序时账.csv", payment("2021-01-05", "记-0001", "1,200.00"),
                          period="2021年1月1日至2021年1月31日")
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert run_load(landing, warehouse, "--workers", "1") == 0
    loads = query(warehouse, "SELECT count(*) FROM meta.loads")[0][0]
    before = files_with_times(warehouse)

    done = cli_in_new_process("load", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"fiscal-warehouse load: nothing changed in {landing} since the last load; nothing to do",
        "imported: []",
    ]
    assert files_with_times(warehouse) == before
    assert query(warehouse, "SELECT count(*) FROM meta.loads")[0][0] == loads

    # Same bytes, a new modification time: the ingest looks (and finds the same hash).
    os.utime(export, ns=(export.stat().st_atime_ns, export.stat().st_mtime_ns + 10**9))
    done = cli_in_new_process("load", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "files:            1 seen, 0 new, 0 changed, 0 removed, 0 unreadable" in done.stdout

    # A changed export is loaded as before.
    voucher_file(export, payment("2021-01-05", "记-0001", "1,300.00"), period="2021年1月1日至2021年1月31日")
    assert run_load(landing, warehouse) == 0
    assert query(warehouse, "SELECT sum(debit) FROM staging.voucher_lines")[0][0] == 2600


@pytest.mark.parametrize("command", ["load", "report"])
def test_workers_must_be_a_positive_number(command, capsys):
    parser = build_parser()
    assert parser.parse_args([command, "--workers", "2"]).workers == 2
    for bad in ("0", "two"):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([command, "--workers", bad])
        assert exit_.value.code == 2
    assert "--workers" in capsys.readouterr().err
