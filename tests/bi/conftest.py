"""A real PostgreSQL server in a temporary folder, for the mirror's tests.

Not as root (initdb and postgres refuse): the folder belongs to the `postgres` user and the
server runs through `runuser -u postgres` when the tests run as root. A machine without
PostgreSQL fails these tests with a clear message rather than skipping them: CI must run
them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

SUPERUSER = "fiscal_loader"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, folder: Path):
        for tool in ("initdb", "pg_ctl"):
            if not shutil.which(tool):
                pytest.fail(f"PostgreSQL's {tool} is not on PATH: install PostgreSQL 15 (the mirror's tests need a "
                            "real server; they are not skipped)")
        self.folder, self.port = folder, _free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--no-locale")

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self.as_owner, *command], capture_output=True, text=True, timeout=120)
        if done.returncode:
            pytest.fail(f"{' '.join(command)} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def dsn(self, user: str = SUPERUSER) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=postgres user={user}"

    def url(self, user: str = SUPERUSER) -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/postgres"


@pytest.fixture(scope="module")
def postgres():
    # Not under pytest's tmp_path: its /tmp/pytest-of-root is closed to the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="fiscal-postgres-"))
    try:
        server = PostgresServer(folder)
        server.start()
        yield server
        subprocess.run([*server.as_owner, "pg_ctl", "-D", str(folder / "data"), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
