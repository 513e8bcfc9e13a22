"""A writer lends the warehouse file to its own readers (Writer.let_go, for the checks'
worker processes) and no other writer takes it meanwhile: two loads started together once
failed because the second load's checks dropped the first one's scoped views in that gap."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from pipelines.warehouse.db import Writer, connect

PROJECT = Path(__file__).resolve().parents[2]


def _in_another_process(code: str, db_path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(db_path)], capture_output=True, text=True, cwd=PROJECT,
        timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


READ = """
    import sys
    from pathlib import Path
    from pipelines.warehouse.db import connect
    con = connect(Path(sys.argv[1]), read_only=True, wait=0)
    print(con.execute("SELECT sum(x) FROM main.numbers").fetchone()[0])
"""

WRITE = """
    import sys
    from pathlib import Path
    from pipelines.warehouse.db import WarehouseBusy, connect
    try:
        connect(Path(sys.argv[1]), wait=0.5, on_wait=lambda notice: None).close()
        print("opened for writing")
    except WarehouseBusy as error:
        print("busy, lent to workers:", "workers are reading it" in str(error))
"""


def test_a_writer_lends_the_file_to_readers_and_to_no_other_writer(tmp_path):
    db_path = tmp_path / "warehouse.duckdb"
    writer = Writer(db_path, connect(db_path))
    writer.con.execute("CREATE TABLE main.numbers AS SELECT range AS x FROM range(10)")
    before = writer.con
    assert _in_another_process(WRITE, db_path) == "busy, lent to workers: False"  # DuckDB's own lock
    with writer.let_go() as lent:
        assert lent == db_path
        assert _in_another_process(READ, db_path) == "45"  # readers come in
        assert _in_another_process(WRITE, db_path) == "busy, lent to workers: True"  # a writer does not
    assert writer.con is not before
    writer.con.execute("INSERT INTO main.numbers VALUES (100)")  # the writer has it back
    assert writer.con.execute("SELECT sum(x) FROM main.numbers").fetchone()[0] == 145
    writer.con.close()
    assert _in_another_process(WRITE, db_path) == "opened for writing"
