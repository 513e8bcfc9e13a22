"""The DuckDB connection and the runner for the SQL files in `sql/`."""

from __future__ import annotations

import os
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from pipelines.settings import SQL_DIR
from pipelines.sqltext import split_statements, sql_string, sql_text
from pipelines.warehouse import dirty
from pipelines.warehouse.schema import schema_fingerprint, table_exists

SCHEMAS = ("meta", "ref", "raw", "staging", "core", "build", "build_public", "marts", "marts_public", "quality")


MEMORY_LIMIT_ENV = "FISCAL_DUCKDB_MEMORY_LIMIT"
# DuckDB's default is 80 % of the machine's memory; the warehouse keeps to a fixed budget
# and spills to disk beyond it, so that a province-size load fits next to other work.
DEFAULT_MEMORY_LIMIT = "1GB"


LOCK_TIMEOUT_ENV = "FISCAL_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 1800.0  # seconds a load waits for another process to let go of the file


def connect(db_path: Path, *, read_only: bool = False, memory_limit: str | None = None,
            wait: float | None = None, on_wait=None) -> duckdb.DuckDBPyConnection:
    """A connection with the macros loaded.

    DuckDB allows one writer process: while another process holds the file, this waits
    (up to FISCAL_LOCK_TIMEOUT seconds, default 30 minutes), so that two loads started
    together run one after the other instead of failing. While it waits it says who holds
    the file, at once and then every 10 s with the time left. Readers of the marts read
    bi.duckdb or the Parquet files and never wait."""
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    limit_seconds = float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT)) if wait is None else wait
    started = time.monotonic()
    deadline = started + limit_seconds
    delay = 0.1
    next_notice = started
    while True:
        try:
            con = _open(db_path, read_only)
            break
        except (duckdb.IOException, LentToWorkers) as error:
            if not isinstance(error, LentToWorkers) and "lock" not in str(error).lower():
                raise
            holder = str(error) if isinstance(error, LentToWorkers) else lock_holder(db_path, str(error))
            now = time.monotonic()
            if now >= deadline:
                raise WarehouseBusy(
                    f"{db_path} is held by {holder} and did not come free within {limit_seconds:.0f} s. "
                    "DuckDB allows one writer, and no reader beside it: BI tools open bi.duckdb or the Parquet "
                    "marts, never this file. Try again when it has let go."
                ) from error
            if now >= next_notice:
                # Said at once, then every 10 s with the time left: a load waiting on an open
                # dashboard must not look like a hung load.
                notice = (f"waiting for {db_path.name}: held by {holder}; "
                          f"{deadline - now:,.0f} s left (FISCAL_LOCK_TIMEOUT)")
                if on_wait:
                    on_wait(notice)
                else:
                    print(notice, file=sys.stderr, flush=True)
                next_notice = now + 10
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    con.execute("SET enable_progress_bar = false")
    # Paths in the views (marts.*, marts_public.*) are relative to the warehouse folder.
    con.execute(f"SET file_search_path = {sql_string(db_path.parent.resolve().as_posix())}")
    limit = memory_limit or os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
    con.execute(f"SET memory_limit = '{limit}'")
    if not read_only:
        con.execute(f"SET temp_directory = {sql_string((db_path.parent / '.work' / 'duckdb_tmp').as_posix())}")
    if not read_only:
        # One transaction: an upgrade killed half-way leaves the warehouse as it was.
        con.execute("BEGIN")
        try:
            carried = _upgrade_if_needed(con)
            for schema in SCHEMAS:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            run_sql_file(con, "meta/tables.sql")
            con.execute("CREATE TABLE IF NOT EXISTS meta.schema_version(version VARCHAR)")
            if not con.execute("SELECT count(*) FROM meta.schema_version").fetchone()[0]:
                con.execute("INSERT INTO meta.schema_version VALUES (?)", [schema_fingerprint()])
            if carried is not None:
                carried.restore(con)
            con.execute("COMMIT")
        except BaseException:
            con.close()  # rolls back
            raise
    load_macros(con)
    return con


def _open(db_path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """duckdb.connect; a writer opens the file only while it holds the writer lock, which a
    writer lending the file to its own workers keeps (Writer.let_go)."""
    if read_only:
        return duckdb.connect(str(db_path), read_only=True)
    lock = writer_lock(db_path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LentToWorkers("a load whose workers are reading it (its checks)") from None
    try:
        return duckdb.connect(str(db_path))
    finally:
        lock.release()


def writer_lock(db_path: Path) -> FileLock:
    """The lock a writer holds while it opens the file and while it lends it to its workers.
    One object per file in a process (is_singleton), so that the writer lending the file
    takes it again when it opens the file again."""
    lock_file = db_path.parent / ".work" / f"{db_path.name}.writer.lock"
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(lock_file), is_singleton=True)


class WarehouseBusy(RuntimeError):
    pass


class LentToWorkers(RuntimeError):
    """A writer's open failed: the file is lent to another writer's workers (Writer.let_go)."""


class Writer:
    """A step's writing connection (`con`), which the step can let go of for a while.

    DuckDB allows one process to write the file, or any number to read it, not both: the
    checks' worker processes (pipelines.quality.runner) read the warehouse while the
    writer has closed it. It keeps the writer lock meanwhile, so that another load waiting
    for the file does not take it and change what the workers read. `con` is a new
    connection afterwards; temp tables are gone with the old one."""

    def __init__(self, db_path: Path, con: duckdb.DuckDBPyConnection):
        self.db_path, self.con = db_path, con

    @contextmanager
    def let_go(self):
        with writer_lock(self.db_path):
            self.con.close()
            try:
                yield self.db_path
            finally:
                self.con = connect(self.db_path)


def lock_holder(db_path: Path, message: str = "") -> str:
    """Who holds the DuckDB file: DuckDB's message names the PID; else /proc/*/fd is scanned."""
    pids = [int(pid) for pid in re.findall(r"\(PID (\d+)\)", message)]
    if not pids:
        target = str(db_path.resolve())
        for fd_dir in Path("/proc").glob("[0-9]*/fd"):
            try:
                if any(os.readlink(fd) == target for fd in fd_dir.iterdir()):
                    pids.append(int(fd_dir.parent.name))
            except OSError:
                continue
        pids = [pid for pid in pids if pid != os.getpid()]
    if not pids:
        return "another process"
    described = []
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            command = ""
        described.append(f"process {pid}" + (f" ({command[:120]})" if command else ""))
    return ", ".join(described)


@dataclass
class _CarriedOver:
    """What an upgrade keeps of a warehouse it drops: the unit-years to rebuild and the BI work owed."""

    to_rebuild: set[tuple[str, int]]
    owed: dict[str, list[tuple[str, int]]]

    def restore(self, con: duckdb.DuckDBPyConnection) -> None:
        dirty.mark(con, self.to_rebuild)
        for table, unit_years in self.owed.items():
            dirty.owe(con, table, unit_years)


def _upgrade_if_needed(con: duckdb.DuckDBPyConnection) -> _CarriedOver | None:
    """Drop a warehouse built by other models (another schema fingerprint): everything in it
    derives from the landing files, and the next load reads them all again. What it says
    about the outputs outside the file is carried over (restored once the schemas are
    created again, in the same transaction): every unit-year it had published or marked is
    marked to rebuild, so that the next load rebuilds it, or removes everywhere one whose
    files have left the landing folder meanwhile, as on any load; the BI work it owed stays
    owed."""
    if not table_exists(con, "meta.files"):
        return None
    version = None
    if table_exists(con, "meta.schema_version"):
        row = con.execute("SELECT max(version) FROM meta.schema_version").fetchone()
        version = row[0] if row else None
    if version == schema_fingerprint():
        return None
    dirty.ensure(con)  # a warehouse from before the marks were numbered
    to_rebuild = dirty.marked(con)[0]
    if table_exists(con, "meta.published"):
        to_rebuild |= set(con.execute("SELECT DISTINCT unit_code, fiscal_year FROM meta.published").fetchall())
    carried = _CarriedOver(to_rebuild, {table: dirty.owed(con, table) for table in dirty.OWED})
    for schema in SCHEMAS:
        if schema != "ref":
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    con.execute("DROP TABLE IF EXISTS quarantine")
    return carried


def run_sql_file(con: duckdb.DuckDBPyConnection, relative: str) -> None:
    """Run every statement of a SQL file (statements separated by `;` at a line end)."""
    for statement in split_statements(sql_text(relative)):
        con.execute(statement)


def load_macros(con: duckdb.DuckDBPyConnection) -> None:
    for path in sorted((SQL_DIR / "macros").glob("*.sql")):
        run_sql_file(con, f"macros/{path.name}")
