"""Writing landing files into raw: in transactions that survive one bad file (RawBatch),
and the CSV files read alone on several threads at once (CsvReaders). Used by
pipelines.warehouse.ingest, which decides what to read."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import duckdb

from pipelines.landing.readers import CSV_SUFFIXES
from pipelines.warehouse.db import load_macros

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """A Progress that says nothing."""


# What reading a file may raise that makes that file unreadable. Everything short of an
# interrupt: one file never stops the others (a bug it brings out is reported with it).
READ_ERRORS = (Exception,)


class RawBatch:
    """The files a load reads, written to raw in one transaction where it can.

    A commit per file costs about a fifth more on exports of 100,000 lines (1.08 s against
    0.89 s a million lines): in one transaction DuckDB fills whole row groups and writes
    them as it goes. But an
    error aborts DuckDB's whole transaction, so when a file fails, the files written
    before it are written again in a transaction of their own, and the error is raised
    for the caller to deal with that one file. A file that fails when written again (it
    changed or vanished meanwhile) is handed to `on_lost`, and the others are kept."""

    def __init__(self, con: duckdb.DuckDBPyConnection, on_lost: Callable[[Any, Exception], None]):
        self.con = con
        self.on_lost = on_lost
        self.open = False
        self.done: list[tuple[Any, Callable[..., list[str]]]] = []

    def write(self, key: Any, read: Callable[..., list[str]]) -> list[str]:
        """Run `read` (a _read_file partial taking `progress`) in the batch; `key` names it
        to `on_lost`."""
        self._begin()
        try:
            source_ids = read()
        except BaseException:
            rollback_quietly(self.con)
            self._end()
            self._write_again()
            raise
        self.done.append((key, read))
        return source_ids

    def commit(self) -> None:
        if self.open:
            self.con.execute("COMMIT")
            self._end()
        self.done = []

    def _write_again(self) -> None:
        pending, self.done = self.done, []
        while pending:
            self._begin()
            for position, (key, read) in enumerate(pending):
                try:
                    read(progress=quiet)
                except READ_ERRORS as error:
                    rollback_quietly(self.con)
                    self._end()
                    self.on_lost(key, error)
                    pending = pending[:position] + pending[position + 1:]
                    break
            else:
                self.commit()
                pending = []

    def _begin(self) -> None:
        if not self.open:
            self.con.execute("BEGIN")
            self.open = True

    def _end(self) -> None:
        self.open = False


MAX_READ_THREADS = 8


class CsvReaders:
    """CSV files read alone (over GROUP_BYTES, or not groupable), read on `threads` threads.

    Each thread writes through its own cursor in its own RawBatch, and every query runs on
    the thread that asked for it (DuckDB's `threads` is 1 while the files are read:
    numbering a file's rows, row_number() OVER () in its cells, is sequential anyway, and
    a second DuckDB thread per query only adds coordination; bench/bench.py: 0.89 s against
    1.10 s a million lines). Two files read at once take both cores: 1.9x on the big shape's
    12 MB exports, the insert being what a big file costs. Appends to the same tables from
    two transactions do not conflict in DuckDB.

    What depends on the order of the files does not depend on the threads: source keys are
    taken here in file order; every line, the caller's own too (`in_file_order`), reaches
    `progress` in file order, from the caller's thread; and the files that turn out
    unreadable on a thread are handed back in file order once every thread is done
    (`finish`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, threads: int, progress: Progress, write: Callable[..., list[str]]):
        """`write(cursor, batch, file, progress=, unreadable=, source_keys=)` writes one file in
        the batch and returns its source ids (the ingest's _write_one)."""
        self.con, self.progress, self.write = con, progress, write
        # at most MAX_READ_THREADS transactions hold their files' rows at once
        self.pool = ThreadPoolExecutor(max_workers=min(threads, MAX_READ_THREADS), thread_name_prefix="csv-reader")
        self.local = threading.local()
        self.batches: list[RawBatch] = []
        self.queued: deque = deque()  # (future, or None for the caller's own line; lines) in file order
        self.positions: dict[str, int] = {}  # source_file -> its place in file order
        self.failed: list[tuple[Any, Exception]] = []  # (file key, error), reported at the end
        self.guard = threading.Lock()

    @staticmethod
    def takes(file) -> bool:
        return file.landing.path.suffix.lower() in CSV_SUFFIXES

    def submit(self, file_line: str, file) -> None:
        (key,) = self.con.execute("SELECT nextval('meta.source_keys')").fetchall()[0]
        lines = [file_line]
        self.positions[file.landing.source_file] = len(self.positions)
        self.queued.append((self.pool.submit(self._read, file, [key], lines), lines))

    def in_file_order(self, line: str) -> None:
        """A line of the caller's own, said after those of the files before it still read on threads."""
        if self.queued:
            self.queued.append((None, [line]))
        else:
            self.progress(line)

    def emit(self, loaded_sources: list[str], wait: bool = False) -> None:
        """The lines and sources of the files read so far, in file order; with `wait`, of all."""
        while self.queued and (wait or self.queued[0][0] is None or self.queued[0][0].done()):
            future, lines = self.queued.popleft()
            if future is not None:
                loaded_sources += future.result()
            for line in lines:
                self.progress(line)

    def finish(self, loaded_sources: list[str]) -> list[tuple[Any, Exception]]:
        """Wait for every file, commit each thread's batch; returns, in file order, what
        `lost` must hear of."""
        self.emit(loaded_sources, wait=True)
        self.pool.shutdown(wait=True)
        for batch in self.batches:
            batch.commit()
        return sorted(self.failed, key=lambda failed: self.positions[failed[0][0].source_file])

    def close(self) -> None:
        """After a failure elsewhere: let the threads finish, keep nothing of theirs."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        for batch in self.batches:
            rollback_quietly(batch.con)

    def _read(self, file, source_keys: list[int], lines: list[str]) -> list[str]:
        batch = getattr(self.local, "batch", None)
        if batch is None:
            cursor = self.con.cursor()
            load_macros(cursor)
            cursor.execute("SET enable_progress_bar = false")
            batch = self.local.batch = RawBatch(cursor, on_lost=self._failed)
            with self.guard:
                self.batches.append(batch)
        return self.write(batch.con, batch, file, progress=lines.append, unreadable=self._failed,
                          source_keys=source_keys)

    def _failed(self, key, error: Exception) -> None:
        with self.guard:
            self.failed.append((key, error))


@contextmanager
def one_thread_a_query(con: duckdb.DuckDBPyConnection):
    """DuckDB's `threads` is 1 while files are read (see CsvReaders); yields the setting it had."""
    threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    con.execute("SET threads = 1")
    try:
        yield threads
    finally:
        con.execute(f"SET threads = {threads}")


def rollback_quietly(con) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # no transaction was open
