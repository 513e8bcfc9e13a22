"""A private PostgreSQL server in a folder, for Dagster's instance storage in tests,
benchmarks and a single-machine try-out of the distributed setup.

    server = start_postgres(folder)       # initdb on first use, then pg_ctl start
    server.dsn                            # postgresql://fiscal@127.0.0.1:<port>/postgres
    stop_postgres(server)

The cluster lives in `folder/data`, its unix socket and log in `folder`. It listens on
127.0.0.1 only, on a free port, trusts local connections (it is nobody's but this
process's) and keeps nothing safe against a power cut (fsync off): it is for Dagster's
run bookkeeping while the folder exists, not for data anyone keeps. A production
deployment uses a PostgreSQL server of its own (docs/deploy.md).

PostgreSQL refuses to run as root: as root the server runs as the system's `postgres`
user (runuser), and the folder is given to that user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

PG_USER = "fiscal"  # the database role Dagster connects as
PG_TOOLS = ("initdb", "pg_ctl", "postgres")
DEBIAN_PG_DIR = Path("/usr/lib/postgresql")  # Debian's package keeps the programs in <version>/bin, off PATH


class MissingServer(RuntimeError):
    """A program the distributed setup needs is not installed; the message says which and how to get it."""


@dataclass(frozen=True)
class PostgresServer:
    folder: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def dsn(self) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/postgres"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pg_tool(name: str) -> str | None:
    """A PostgreSQL program: on PATH, else in Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(DEBIAN_PG_DIR.glob(f"*/bin/{name}"), key=lambda p: _version(p.parts[-3]))
    return str(candidates[-1]) if candidates else None


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def postgres_tools_missing() -> list[str]:
    return [tool for tool in PG_TOOLS if pg_tool(tool) is None]


def _as_server_user(command: list[str]) -> list[str]:
    """The command as the `postgres` user when we are root (PostgreSQL will not run as root)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _give_to_server_user(folder: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        shutil.chown(folder, user="postgres", group="postgres")


def start_postgres(folder: Path, port: int | None = None, timeout: float = 60.0) -> PostgresServer:
    """Start (creating it on first use) a PostgreSQL cluster in `folder`; returns when it accepts connections."""
    missing = postgres_tools_missing()
    if missing:
        raise MissingServer(
            f"PostgreSQL is not installed: {', '.join(missing)} not on PATH nor in /usr/lib/postgresql/*/bin. "
            "The distributed setup keeps Dagster's instance on PostgreSQL (15 or newer): on Debian "
            "`apt-get install -y postgresql` (`python3 scripts/test` does it when run as root)."
        )
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    _give_to_server_user(folder)
    server = PostgresServer(folder, port or free_port())
    if not (server.data_dir / "PG_VERSION").exists():
        _run(_as_server_user([pg_tool("initdb"), "-D", str(server.data_dir), "-A", "trust", "-U", PG_USER,
                              "--encoding", "UTF8", "--locale", "C"]), "initdb")
    options = (f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    _run(_as_server_user([pg_tool("pg_ctl"), "-D", str(server.data_dir), "-o", options, "-l", str(folder / "postgres.log"),
                          "-t", str(int(timeout)), "-w", "start"]), "pg_ctl start", folder / "postgres.log")
    return server


def stop_postgres(server: PostgresServer) -> None:
    """Stop the server (fast shutdown: open connections are ended); the folder stays."""
    if (server.data_dir / "postmaster.pid").exists():
        _run(_as_server_user([pg_tool("pg_ctl"), "-D", str(server.data_dir), "-m", "fast", "-w", "stop"]), "pg_ctl stop")


def _run(command: list[str], what: str, log: Path | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = ""
        if log is not None and log.exists():
            tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}{tail}")
