"""CLI runs are runs of the code location's named jobs, as the UI lists them."""

import dagster as dg

from pipelines.cli import main as cli_main
from tests.conftest import payment, run_load, voucher_file


def test_cli_runs_carry_the_job_name(tmp_path, monkeypatch):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10"))
    assert run_load(landing, warehouse) == 0
    assert cli_main(["report", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    with dg.DagsterInstance.get() as instance:
        names = [run.job_name for run in instance.get_runs()]
    assert sorted(names) == ["ingest_landing", "rebuild_reports", "rebuild_unit_years"]
