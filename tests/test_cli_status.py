"""`fiscal-warehouse status` as people read it (labelled counts, local time to the second)
and `report` with a unit or year the warehouse does not hold (answered before any run)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pipelines.cli import main
from tests.conftest import payment, query, voucher_file


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("status")
    landing, warehouse = root / "landing", root / "wh"
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10") + payment("2021-02-05", "记-2", "20"))
    assert main(["load", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    return landing, warehouse


def test_status_labels_its_columns_and_shows_local_time(loaded, capsys):
    landing, warehouse = loaded
    capsys.readouterr()
    assert main(["status", "--landing", str(landing), "--warehouse", str(warehouse)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[2].split()
    assert header == ["单位编码", "年度", "最近加载（北京时间）", "支出行数", "预算行数", "隔离行数", "未通过检查", "状态", "单位名称"]
    row = lines[4].split()
    assert row[0:2] == ["900001", "2021"]
    failed = query(warehouse, "SELECT count(DISTINCT check_id) FROM quality.results")[0][0]
    assert failed == 1  # unit_over_budget: spending and no budget file
    assert row[4:9] == ["2", "0", "0", "1", "已发布"] and row[9] == "测试单位"

    # the stored (machine-local, naive) time shown in Asia/Shanghai, without microseconds
    stored = query(warehouse, "SELECT max(loaded_at) FROM meta.sources")[0][0]
    assert f"{row[2]} {row[3]}" == stored.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    started = query(warehouse, "SELECT max(started_at) FROM meta.loads")[0][0]
    shown = started.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    assert lines[0] == f"last load: {shown} (Asia/Shanghai)"
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", "\n".join(lines))
    # the columns line up under their labels, Chinese labels counted two columns a character
    assert lines[3] == "-" * (len(lines[2]) + sum(1 for c in lines[2] if ord(c) > 0x2E80))


def test_report_for_a_unit_or_year_not_held_is_answered_at_once(loaded, capsys):
    landing, warehouse = loaded
    loads = query(warehouse, "SELECT count(*) FROM meta.loads")
    capsys.readouterr()
    started = datetime.now()
    assert main(["report", "--landing", str(landing), "--warehouse", str(warehouse), "--unit", "999999"]) == 2
    err = capsys.readouterr().err
    assert "no unit-year in the warehouse matches --unit 999999; it holds units 900001, years 2021 (900001/2021)" in err
    assert main(["report", "--landing", str(landing), "--warehouse", str(warehouse), "--unit", "900001",
                 "--year", "1999"]) == 2
    assert "matches --unit 900001 --year 1999; it holds units 900001, years 2021" in capsys.readouterr().err
    assert query(warehouse, "SELECT count(*) FROM meta.loads") == loads  # no run was started
    assert (datetime.now() - started).total_seconds() < 10


def test_load_for_a_unit_that_matches_nothing_says_so(loaded, capsys):
    # The load reads the landing folder first (the unit may be new there); a unit that is in
    # neither is a usage error, not a load that passes for having rebuilt it.
    landing, warehouse = loaded
    capsys.readouterr()
    assert main(["load", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet", "--unit", "999999"]) == 2
    assert "no unit-year in the warehouse matches --unit 999999; it holds units 900001" in capsys.readouterr().err
    assert main(["load", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet", "--unit", "900001"]) == 0
