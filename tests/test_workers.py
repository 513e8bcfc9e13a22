"""The fork server the workers come from: started once a load has work, ended with the command."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from multiprocessing import forkserver
from pathlib import Path

from pipelines.workers import process_pool, start_server, stop_server
from tests.conftest import payment, voucher_file


def _server_pid() -> int | None:
    return forkserver._forkserver._forkserver_pid


def test_stop_server_ends_it_and_the_next_pool_starts_it_again():
    start_server()
    pid = _server_pid()
    assert pid is not None
    os.kill(pid, 0)  # running
    stop_server()
    assert _server_pid() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError(f"the fork server {pid} still runs")
    stop_server()  # none running: nothing to do
    with process_pool(1) as pool:  # a later pool starts a new server
        assert pool.submit(os.getpid).result() != os.getpid()
    assert _server_pid() not in (None, pid)


def test_workers_inherit_the_servers_modules_out_of_the_collectors_sight():
    with process_pool(1) as pool:
        frozen = pool.submit(gc.get_freeze_count).result()
    assert frozen > 50_000  # GX, python-docx, lxml …: pipelines.forkserver_heap froze them in the server


def _holders(pipe_end: int) -> list[str]:
    """The command lines of the other processes that hold this pipe (Linux's /proc)."""
    target = os.readlink(f"/proc/self/fd/{pipe_end}")
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == target for fd in os.listdir(f"/proc/{pid}/fd")):
                found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:  # gone meanwhile, or not ours to look at
            continue
    return found


def test_the_fork_server_does_not_outlive_the_command(tmp_path):
    """Whoever reads the command's output through a pipe (CI, `| tee`) gets its end when the
    command exits, not when the fork server it started has wound down its interpreter
    (0.7-0.8 s). multiprocessing's resource tracker may still hold it: it ends at once."""
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10"), unit="900001 甲")
    command = [sys.executable, "-m", "pipelines.cli", "load", "--landing", str(landing), "--warehouse", str(warehouse)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.wait(timeout=300) == 0
    holders = _holders(process.stdout.fileno())
    assert [h for h in holders if "forkserver" in h] == [], holders
    assert b"took" in process.stdout.read()
    process.stdout.close()


def test_a_process_on_one_cpu_fans_out_to_one_worker():
    """One per CPU the process may run on (a container's CPU set, a pinned dask worker), not
    one per CPU of the machine: two processes of Python on one CPU only take longer."""
    first_cpu = min(os.sched_getaffinity(0))
    script = ("import os; os.sched_setaffinity(0, {%d}); "
              "from pipelines.settings import ReadLimits, worker_count; "
              "from pipelines.landing.workbooks import WorkbookReader; "
              "print(worker_count(), WorkbookReader(ReadLimits()).size)" % first_cpu)
    env = {key: value for key, value in os.environ.items() if key != "FISCAL_WORKERS"}

    def printed(code: str) -> list[str]:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                              cwd=Path(__file__).resolve().parent.parent, check=True).stdout.split()

    assert printed(script) == ["1", "1"]
    assert printed("from pipelines.settings import worker_count; print(worker_count())") \
        == [str(len(os.sched_getaffinity(0)))]
