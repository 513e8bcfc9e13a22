"""Starting and stopping a dask.distributed scheduler and its workers as separate processes.

    cluster = start_cluster(folder, workers=2, environment=worker_environment(...))
    cluster.scheduler_address             # tcp://127.0.0.1:<port>
    stop_cluster(cluster)

On one machine this is the whole distributed setup; on several, the same commands run on
each (docs/deploy.md): `python -m dask scheduler` once, and `python -m dask worker ADDRESS
--preload pipelines.distributed.worker_setup` on every machine, with `--resources
writer=1` and FISCAL_WORKER_ROLE=writer on the one that writes the warehouse.

Each worker is one process with one thread (`--no-nanny --nthreads 1`): two Dagster steps
in threads of one process deadlock (seen here: one thread's step setting up its run's
logging (logging.config.dictConfig) while another's holds a handler's lock), and a process
per worker is what the scaling figures count. Dask's memory management is off (`--memory-limit 0`): a step holds its
data in DuckDB, not in dask, and a worker paused for memory would only stall a load.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dask.distributed import Client

from pipelines.distributed.postgres import free_port
from pipelines.distributed.tags import WRITER_RESOURCE
from pipelines.distributed.worker_setup import PRELOAD_ENV, ROLE_ENV
from pipelines.settings import LANDING_ENV, PROJECT_DIR, WAREHOUSE_ENV

SETUP_MODULE = "pipelines.distributed.worker_setup"


@dataclass
class DaskCluster:
    folder: Path
    scheduler_address: str
    processes: list[subprocess.Popen] = field(default_factory=list)  # scheduler first, then the workers


def worker_environment(dagster_home: Path, landing_dir: Path | None = None, warehouse_dir: Path | None = None,
                       preload: str | None = None, **extra: str) -> dict[str, str]:
    """This process's environment plus what a worker needs: DAGSTER_HOME (the instance on
    PostgreSQL), FISCAL_LANDING_DIR / FISCAL_WAREHOUSE_DIR (the shared folders, as this
    machine mounts them) and PYTHONPATH with the project, so that the code location and
    anything beside it (a test's job) import the same as here. `preload`: the modules
    (comma-separated) a worker imports before it joins, default pipelines.definitions."""
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(dagster_home)
    if landing_dir is not None:
        env[LANDING_ENV] = str(landing_dir)
    if warehouse_dir is not None:
        env[WAREHOUSE_ENV] = str(warehouse_dir)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_DIR), env.get("PYTHONPATH", "")) if p)
    if preload is not None:
        env[PRELOAD_ENV] = preload
    env.update(extra)
    return env


def scheduler_command(port: int, scheduler_file: Path) -> list[str]:
    return [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
            "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)]


def worker_command(address: str, name: str, local_dir: Path, writer: bool) -> list[str]:
    command = [sys.executable, "-m", "dask", "worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
               "--memory-limit", "0", "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--local-directory", str(local_dir), "--death-timeout", "60",
               "--preload", SETUP_MODULE]
    if writer:  # the one unit of the writer resource: one writer step at a time
        command += ["--resources", f"{WRITER_RESOURCE}=1"]
    return command


def start_cluster(folder: Path, workers: int = 2, environment: dict[str, str] | None = None,
                  timeout: float = 180.0, wait: bool = True, pin: bool = False) -> DaskCluster:
    """A scheduler and `workers` workers (the first one the writer) on 127.0.0.1; returns
    once all workers have joined (with wait=False at once: call wait_for_workers). Each
    process logs to folder/<name>.log. `pin`: each worker (and
    the processes it starts) on one CPU of its own, the writer on the first, as if each
    were a machine of one core (the benchmark's scaling figure; more workers than CPUs
    share them round)."""
    if workers < 1:
        raise ValueError("a distributed load needs at least one worker (the writer)")
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(environment or os.environ)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    cluster = DaskCluster(folder, address)
    try:
        cluster.processes.append(_spawn(scheduler_command(port, folder / "scheduler.json"), folder / "scheduler.log", env))
        cpus = sorted(os.sched_getaffinity(0))
        for index in range(workers):
            writer = index == 0
            name = "writer" if writer else f"worker-{index}"
            role_env = {**env, ROLE_ENV: "writer" if writer else "worker"}
            # Each worker in a session of its own, as a worker service on its own machine would
            # be: Linux's autogroup scheduling gives a session one CPU share whatever its
            # processes, so workers left in this session would share one share between them.
            # A worker whose scheduler is gone exits by itself (--death-timeout).
            cluster.processes.append(_spawn(worker_command(address, name, folder / name, writer),
                                            folder / f"{name}.log", role_env, own_session=True,
                                            cpus={cpus[index % len(cpus)]} if pin else None))
        if wait:
            wait_for_workers(cluster, workers, timeout)
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def wait_for_workers(cluster: DaskCluster, workers: int, timeout: float = 180.0) -> None:
    """Return once `workers` workers are connected to the scheduler; fail with the logs of a process that died."""
    deadline = time.monotonic() + timeout
    client = None
    try:
        while True:
            _raise_if_dead(cluster)
            if client is None:
                try:
                    client = Client(cluster.scheduler_address, timeout=5)
                except OSError:
                    client = None
            if client is not None and len(client.scheduler_info(n_workers=-1)["workers"]) >= workers:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{workers} dask worker(s) did not join {cluster.scheduler_address} within "
                                   f"{timeout:.0f} s; logs in {cluster.folder}")
            time.sleep(0.2)
    finally:
        if client is not None:
            client.close()


def stop_cluster(cluster: DaskCluster, timeout: float = 20.0) -> None:
    """Stop the workers, then the scheduler (SIGTERM, SIGKILL after `timeout`)."""
    for process in reversed(cluster.processes):
        if process.poll() is None:
            process.terminate()
    for process in reversed(cluster.processes):
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _spawn(command: list[str], log: Path, env: dict[str, str], own_session: bool = False,
           cpus: set[int] | None = None) -> subprocess.Popen:
    with open(log, "ab") as handle:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=str(PROJECT_DIR), start_new_session=own_session,
                                preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)


def _raise_if_dead(cluster: DaskCluster) -> None:
    for process in cluster.processes:
        if process.poll() is not None:
            logs = "\n".join(
                f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:])
                for path in sorted(cluster.folder.glob("*.log"))
            )
            raise RuntimeError(f"{' '.join(map(str, process.args[1:5]))} exited with {process.returncode}\n{logs}")
