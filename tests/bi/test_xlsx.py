"""The marts as XLSX for Excel/WPS: Chinese headers, amounts in 元 with two decimals, text as text."""

from __future__ import annotations

import shutil
from decimal import Decimal

import duckdb
import openpyxl
import pytest

from pipelines.bi.xlsx import _read, _read_each, unit_year_export_path, write_unit_year_exports, write_workbook
from pipelines.cli import main as cli_main
from pipelines.sqltext import sql_string
from pipelines.warehouse.dictionary import chinese_title, column_descriptions, column_labels
from pipelines.warehouse.transform import MART_MODELS
from tests.conftest import payment, run_load, voucher_file


@pytest.mark.parametrize("mart", MART_MODELS)
def test_every_column_has_a_chinese_label(mart):
    # test_dictionary checks that every column of the marts is described; each described one needs a label.
    labels = column_labels(mart)
    assert sorted(set(column_descriptions(mart)) - set(labels)) == []
    assert chinese_title(mart)


def test_each_unit_year_has_a_workbook_of_its_public_marts(demo_warehouse):
    path = unit_year_export_path(demo_warehouse.warehouse_dir, "117001", 2021)
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert workbook.sheetnames == [chinese_title(m) for m in MART_MODELS]
    sheet = workbook[chinese_title("spending_by_year")]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("年度", "单位编码", "单位名称", "基本支出（元）")
    con = duckdb.connect()
    total = con.execute(
        f"SELECT total_yuan FROM read_parquet('{demo_warehouse.marts_public_dir}/spending_by_year/fiscal_year=2021/"
        "117001.parquet')").fetchone()[0]
    column = rows[0].index("支出合计（元）")
    assert Decimal(str(rows[1][column])) == total
    projects = list(workbook[chinese_title("spending_by_project")].iter_rows(values_only=True))
    codes = [row[projects[0].index("项目编码")] for row in projects[1:]]
    assert "UNDISCLOSED" in codes  # the public marts: 涉密 projects folded into one line


def test_worker_processes_write_the_same_exports(demo_warehouse, tmp_path):
    """The exports of a scope written by two worker processes are those written in-process."""

    def cells(warehouse_dir, unit, year):
        workbook = openpyxl.load_workbook(unit_year_export_path(warehouse_dir, unit, year), read_only=True)
        return {name: list(workbook[name].iter_rows(values_only=True)) for name in workbook.sheetnames}

    copies = {}
    for workers in (1, 2):
        copy = tmp_path / f"workers{workers}"
        shutil.copytree(demo_warehouse.warehouse_dir, copy, symlinks=True)
        shutil.rmtree(copy / "exports")
        scope = [("117001", 2021), ("117001", 2020), ("999999", 2021)]  # the last has no marts: no workbook
        written = write_unit_year_exports(copy, scope, workers=workers)
        assert written == [f"exports/117001/{year}/117001_{year}_公开数据.xlsx" for year in (2020, 2021)]
        copies[workers] = {year: cells(copy, "117001", year) for year in (2020, 2021)}
    assert copies[2] == copies[1]
    assert copies[1][2021][chinese_title("spending_by_year")][1][:2] == (2021, "117001")


def test_files_read_in_one_query_are_read_as_each_alone(demo_warehouse, tmp_path):
    """The unit-year exports read a batch's Parquet files with one query for those of the same
    columns: each file's columns and rows are what reading it alone gives, an empty file
    and a file of other columns (a mart of an older release, say) included; the rows in
    the order the file holds them (the mart's)."""
    files = sorted(demo_warehouse.marts_public_dir.resolve().glob("*/fiscal_year=*/*.parquet"))
    year_file = next(f for f in files if f.parent.parent.name == "spending_by_year")
    other = tmp_path / "spending_by_year" / "fiscal_year=2021"
    other.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_parquet('{year_file}') LIMIT 0) TO '{other}/empty.parquet'")
    con.execute(f"COPY (SELECT *, 'x' AS added FROM read_parquet('{year_file}')) TO '{other}/it''s wider.parquet'")
    files += [other / "empty.parquet", other / "it's wider.parquet"]
    alone = [_read(con, [file], None, None) for file in files]
    assert _read_each(con, files) == alone
    for file, (_, rows) in zip(files, alone):  # in the mart's order, as published, not shuffled by the ORDER BY
        assert rows == con.execute(f"SELECT * FROM read_parquet({sql_string(file.as_posix())}, hive_partitioning = "
                                   "true, hive_types = {'fiscal_year': INTEGER})").fetchall()
    assert alone[-2][1] == [] and alone[-1][0][-1] == "added" and len(alone[-1][1]) == len(alone[files.index(year_file)][1])


def test_export_any_selection(demo_warehouse, tmp_path, capsys):
    output = tmp_path / "选取.xlsx"
    assert cli_main(["export", "--warehouse", str(demo_warehouse.warehouse_dir), "--unit", "117001", "--year", "2020",
                     "--mart", "budget_execution", "--mart", "three_public", "--output", str(output)]) == 0
    assert str(output) in capsys.readouterr().out
    workbook = openpyxl.load_workbook(output)
    assert workbook.sheetnames == ["预算执行", "三公经费"]
    sheet = workbook["三公经费"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["年度", "单位编码", "单位名称", "经济分类编码", "三公经费项目"]
    assert "排序" not in header  # item_order only orders the rows
    assert {sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)} == {2020}
    assert sheet.max_row == 1 + 4  # the four 三公 items
    spent = header.index("支出数（元）") + 1
    assert sheet.cell(2, spent).number_format == "#,##0.00"
    assert cli_main(["export", "--warehouse", str(demo_warehouse.warehouse_dir), "--mart", "no_such_mart"]) == 2
    assert cli_main(["export", "--warehouse", str(demo_warehouse.warehouse_dir), "--year", "1999"]) == 2


def test_text_from_the_exports_is_never_a_formula(tmp_path):
    path = tmp_path / "x.xlsx"
    hostile = ['=HYPERLINK("http://example.invalid","点击查看")', "+1+1+cmd|' /C calc'!A0", "@SUM(A1:A2)"]
    columns = ["fiscal_year", "unit_code", "unit_name", "basic_yuan"]
    write_workbook(path, {"spending_by_year": (columns, [(2021, "117001", text, Decimal("1.50")) for text in hostile])})
    sheet = openpyxl.load_workbook(path)[chinese_title("spending_by_year")]
    assert [sheet.cell(r, 3).value for r in range(2, 5)] == hostile
    assert all(sheet.cell(r, 3).data_type == "s" for r in range(2, 5))
    assert sheet.cell(2, 4).value == 1.5 and sheet.cell(2, 4).number_format == "#,##0.00"


def test_a_unit_year_a_full_refresh_removes_leaves_no_exports_folder(tmp_path):
    """Its workbook goes, and its year's folder and then its unit's once empty, as its reports' do.
    One full refresh removes both: 900002's 2021 (its 2020 stays) and 900003's only year."""
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    voucher_file(landing / "900001" / "2021.csv", payment("2021-01-05", "记-1", "10.00"), unit="900001 甲")
    voucher_file(landing / "900002" / "2020.csv", payment("2020-01-05", "记-1", "5.00"), unit="900002 乙")
    voucher_file(landing / "900002" / "2021.csv", payment("2021-01-05", "记-1", "7.00"), unit="900002 乙")
    voucher_file(landing / "900003" / "2021.csv", payment("2021-01-05", "记-1", "3.00"), unit="900003 丙")
    assert run_load(landing, warehouse) == 0
    assert unit_year_export_path(warehouse, "900002", 2021).is_file()
    assert unit_year_export_path(warehouse, "900003", 2021).is_file()
    assert (warehouse / "reports" / "900003" / "2021").is_dir()

    (landing / "900002" / "2021.csv").unlink()
    shutil.rmtree(landing / "900003")
    assert run_load(landing, warehouse, "--full-refresh") == 0
    assert not (warehouse / "exports" / "900002" / "2021").exists()
    assert unit_year_export_path(warehouse, "900002", 2020).is_file()  # the unit's other year stays
    assert not (warehouse / "reports" / "900002" / "2021").exists()
    assert not (warehouse / "exports" / "900003").exists()
    assert not (warehouse / "reports" / "900003").exists()
    assert sorted(p.relative_to(warehouse).as_posix() for p in (warehouse / "exports").rglob("*")) == [
        "exports/900001", "exports/900001/2021", "exports/900001/2021/900001_2021_公开数据.xlsx",
        "exports/900002", "exports/900002/2020", "exports/900002/2020/900002_2020_公开数据.xlsx"]
