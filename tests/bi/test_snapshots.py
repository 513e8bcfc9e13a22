"""Snapshots switched in one rename: a reader that resolves the link once reads one whole
publish, however many files it reads and however often publishes switch meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.warehouse.snapshots import Snapshots

UNITS = ["900001", "900002", "900003"]

READER = textwrap.dedent("""
    import os, sys, time
    import pyarrow.parquet as pq
    warehouse, units = sys.argv[1], sys.argv[2].split(",")
    reads = mixed = gone = 0
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(warehouse, "stop")) and time.monotonic() < deadline:
        root = os.path.realpath(os.path.join(warehouse, "marts"))
        try:
            states = {pq.read_table(f"{root}/m/fiscal_year=2021/{u}.parquet").column("state")[0].as_py() for u in units}
        except FileNotFoundError:
            gone += 1  # two publishes went by during this read: the snapshot was dropped
            continue
        reads += 1
        mixed += len(states) != 1
        if reads == 50:
            open(os.path.join(warehouse, "read_enough"), "w").close()
    print(reads, mixed, gone)
""")


def _publish(snapshots: Snapshots, state: int) -> None:
    snapshot = snapshots.begin()
    for unit in UNITS:
        path = snapshot / "marts" / "m" / "fiscal_year=2021" / f"{unit}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        # As publish does: written beside, renamed over the hard link (never written into it).
        pq.write_table(pa.table({"unit_code": [unit], "state": [state]}), path.with_suffix(".tmp"))
        os.replace(path.with_suffix(".tmp"), path)
    snapshots.switch(snapshot)


def test_a_reader_of_one_snapshot_never_sees_two_publishes(tmp_path):
    snapshots = Snapshots(tmp_path)
    _publish(snapshots, 0)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(tmp_path), ",".join(UNITS)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Publishing starts once the reader is up and goes on until it has read 50 times, so the
    # reads overlap the publishes however slowly the reader's process starts.
    assert reader.stdout.readline() == "ready\n"
    state = 0
    deadline = time.monotonic() + 50
    while state < 199 or (not (tmp_path / "read_enough").exists() and time.monotonic() < deadline):
        state += 1
        _publish(snapshots, state)
    (tmp_path / "stop").write_text("")
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    reads, mixed, _ = map(int, out.split())
    assert reads >= 50 and mixed == 0
    # The live snapshot and the one before it are kept, nothing older; the links are relative.
    live = Path(os.path.realpath(tmp_path / "marts")).parent
    assert len([p for p in (tmp_path / ".snapshots").iterdir() if p.name != "current"]) == 2
    assert pq.read_table(live / "marts" / "m" / "fiscal_year=2021" / "900001.parquet").column("state")[0].as_py() == state
    assert os.readlink(tmp_path / "marts") == ".snapshots/current/marts"
    assert os.readlink(tmp_path / ".snapshots" / "current") == live.name


def test_unchanged_files_are_hard_links_to_the_previous_snapshot(tmp_path):
    snapshots = Snapshots(tmp_path)
    _publish(snapshots, 1)
    before = os.path.realpath(tmp_path / "marts" / "m" / "fiscal_year=2021" / "900001.parquet")
    snapshot = snapshots.begin()
    after = snapshot / "marts" / "m" / "fiscal_year=2021" / "900001.parquet"
    assert os.stat(before).st_ino == after.stat().st_ino
    snapshots.abandon(snapshot)
    assert os.path.realpath(tmp_path / "marts" / "m" / "fiscal_year=2021" / "900001.parquet") == before
