"""`fiscal-warehouse load --scheduler`: refused, with the reason, where the workers could not
record their steps (the load itself on a cluster: tests/distributed)."""

from pipelines.cli import main as cli_main
from tests.conftest import payment, voucher_file


def test_scheduler_needs_an_instance_on_postgresql(tmp_path, monkeypatch, capsys):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10"))
    command = ["load", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet",
               "--scheduler", "tcp://127.0.0.1:9"]
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert cli_main(command) == 2
    assert "needs DAGSTER_HOME" in capsys.readouterr().err
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert cli_main(command) == 2
    assert "is not on PostgreSQL" in capsys.readouterr().err
    assert cli_main([*command, "--unit", "900001"]) == 2
    assert "--unit/--year are for a local load" in capsys.readouterr().err
    assert not (warehouse / "warehouse.duckdb").exists()  # nothing was loaded
