"""Shared fixtures: writing real landing files, running real loads."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipelines.cli import main as cli_main
from pipelines.settings import DEMO_LANDING_DIR, Settings, load_settings

VOUCHER_HEADER = ["凭证日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额",
                  "功能分类", "经济分类", "项目", "资金性质"]


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


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Settings:
    """The bundled demo data loaded once for the whole session (read-only for tests)."""
    warehouse = tmp_path_factory.mktemp("demo_warehouse")
    assert run_load(DEMO_LANDING_DIR, warehouse) == 0
    return load_settings(DEMO_LANDING_DIR, warehouse)


@pytest.fixture
def today() -> dt.date:
    return dt.date.today()
