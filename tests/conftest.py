"""Shared fixtures: writing real landing files, running real loads."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from filelock import FileLock

from pipelines.cli import main as cli_main
from pipelines.settings import DEMO_LANDING_DIR, Settings, load_settings

VOUCHER_HEADER = ["凭证日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额",
                  "功能分类", "经济分类", "项目", "资金性质"]


# The modules that take longest, longest first (measured with --durations on 2 workers,
# November 2026). pytest-xdist's --dist loadscope hands out one module at a time in the
# order of the collection (with --no-loadscope-reorder, see pyproject.toml; its default
# order, most tests first, started the kill test last, and one worker ran it alone for
# minutes at the end): a long module started first runs beside all the others.
LONGEST_FIRST = (
    "tests/warehouse/test_kill.py",
    "tests/distributed/",
    "tests/quality/test_rules.py",
    "tests/quality/test_row_accounting_slices.py",
    "tests/defs/test_operations.py",
    "tests/warehouse/test_ingest.py",
    "tests/landing/test_fuzz.py",
    "tests/landing/test_hostile.py",
    "tests/warehouse/test_crash_marks.py",
    "tests/bi/test_postgres.py",
    "tests/bi/test_bi_file.py",
)


def pytest_collection_modifyitems(config, items):
    """Longest modules first (LONGEST_FIRST); the order within a module and of the rest stays."""

    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if path.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8", newline: str = "\r\n") -> Path:
    """A CSV as an export writes it (rows may be shorter than others: title lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


def payment(date: str, no: str, amount: str, econ: str = "30201", func: str = "2120101", project: str = "",
            fund: str = "一般公共预算", account: str = "7101") -> list[list[object]]:
    """A balanced direct payment: both books, four lines."""
    return [
        [date, no, 1, "支付", account, "行政支出", amount, "", func, econ, project, fund],
        [date, no, 2, "支付", "6001", "财政拨款预算收入", "", amount, "", "", "", fund],
        [date, no, 3, "支付", "5001", "业务活动费用", amount, "", func, econ, project, fund],
        [date, no, 4, "支付", "4001", "财政拨款收入", "", amount, "", "", "", fund],
    ]


def voucher_file(path: Path, lines: list[list[object]], unit: str = "900001 测试单位", period: str | None = None,
                 amount_unit: str = "单位：元", encoding: str = "gb18030") -> Path:
    title = [["序时账"], [f"单位：{unit}"]]
    if period:
        title.append([period])
    title.append([amount_unit])
    return write_csv(path, title + [VOUCHER_HEADER] + lines, encoding=encoding)


def run_load(landing: Path, warehouse: Path, *extra: str) -> int:
    return cli_main(["load", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet", *extra])


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
    try:
        # The views marts.* read Parquet paths relative to the warehouse folder, as connect() sets it.
        con.execute(f"SET file_search_path = '{warehouse.resolve().as_posix()}'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _run_temp_dir(tmp_path_factory) -> Path:
    """The temporary folder of this test run that every xdist worker sees (a worker's own
    base folder is a sub-folder of it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def demo_load(tmp_path_factory) -> Path:
    """The bundled demo data loaded by `fiscal-warehouse load` ONCE per test run, whichever
    worker asks first (the others wait on the lock and reuse it): a load of the demo costs
    ~15 s of CPU, and several fixtures need one. Never use this folder itself: take a copy
    (copy_demo_warehouse), so that no test sees another's changes or locks."""
    shared = _run_temp_dir(tmp_path_factory)
    warehouse, done = shared / "demo_load", shared / "demo_load.done"
    with FileLock(shared / "demo_load.lock"):
        if not done.exists():
            shutil.rmtree(warehouse, ignore_errors=True)
            with pytest.MonkeyPatch.context() as mp:
                mp.delenv("FISCAL_LANDING_DIR", raising=False)
                mp.delenv("FISCAL_WAREHOUSE_DIR", raising=False)
                mp.setenv("DAGSTER_HOME", str(warehouse / ".dagster"))  # the warehouse's own, restored afterwards
                # No --landing: the bundled demo is the default landing folder.
                assert cli_main(["load", "--warehouse", str(warehouse), "--quiet"]) == 0
            done.write_text("")
    return warehouse


def copy_demo_warehouse(demo_load: Path, warehouse: Path) -> Path:
    """A private copy of the demo load at `warehouse` (links kept: marts/ and
    .snapshots/current are relative symbolic links). The same files as a load into it,
    except where a load logs its folder: meta.loads' summary and Dagster's run history
    name the folder of the one load."""
    shutil.copytree(demo_load, warehouse, symlinks=True, dirs_exist_ok=True)
    return warehouse


def copy_loaded(loaded: tuple[Path, Path], into: Path) -> tuple[Path, Path]:
    """A private copy of a loaded (landing, warehouse) pair under `into`: a load of the copy
    finds every landing file as it left it (copytree keeps sizes and modification times,
    all the ingest compares; the warehouse's links are relative), so it starts where a
    further load into the original would, at the cost of a copy rather than of a load."""
    landing, warehouse = into / "landing", into / "wh"
    shutil.copytree(loaded[0], landing)
    shutil.copytree(loaded[1], warehouse, symlinks=True)
    code, said = load_saying(landing, warehouse)  # ms: it stops before Dagster
    assert code == 0 and "nothing to do" in said, said
    return landing, warehouse


def load_saying(landing: Path, warehouse: Path) -> tuple[int, str]:
    """A load as run_load, with what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_load(landing, warehouse)
    return code, out.getvalue()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory, demo_load) -> Settings:
    """The bundled demo data loaded (a copy of the run's one demo load, this worker's own);
    read-only for tests."""
    warehouse = copy_demo_warehouse(demo_load, tmp_path_factory.mktemp("demo_warehouse"))
    return load_settings(DEMO_LANDING_DIR, warehouse)


@pytest.fixture
def today() -> dt.date:
    return dt.date.today()
