"""The command line: exit codes, usage errors, status."""

from pathlib import Path

from pipelines.cli import main
from tests.conftest import payment, voucher_file


def test_missing_landing_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["load", "--landing", str(tmp_path / "nowhere"), "--warehouse", str(tmp_path / "wh")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_broken_rules_file_is_a_configuration_error(tmp_path, monkeypatch, capsys):
    rules = tmp_path / "rules.toml"
    rules.write_text("[standards]\nbudget_completion = 'about 90'\n", encoding="utf-8")
    monkeypatch.setenv("FISCAL_RULES_FILE", str(rules))
    voucher_file(tmp_path / "landing" / "a.csv", payment("2021-01-05", "记-1", "10"))
    assert main(["load", "--landing", str(tmp_path / "landing"), "--warehouse", str(tmp_path / "wh")]) == 2
    assert "rules file" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error():
    try:
        main(["reload"])
    except SystemExit as exit_:
        assert exit_.code == 2


def test_report_without_warehouse_and_status(tmp_path, capsys):
    assert main(["report", "--warehouse", str(tmp_path / "wh")]) == 2
    landing = tmp_path / "landing"
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10"))
    assert main(["load", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["status", "--landing", str(landing), "--warehouse", str(tmp_path / "wh")]) == 0
    out = capsys.readouterr().out
    assert "900001" in out and "2021" in out and "everything loaded" in out
    voucher_file(landing / "b.csv", payment("2021-02-05", "记-1", "10"))
    assert main(["status", "--landing", str(landing), "--warehouse", str(tmp_path / "wh")]) == 0
    assert "new      b.csv" in capsys.readouterr().out
    assert main(["report", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"), "--year", "1999",
                 "--quiet"]) == 2


def test_each_warehouse_has_its_own_dagster_instance_within_one_process(tmp_path, monkeypatch):
    # A command sets DAGSTER_HOME for Dagster and its worker processes; a later command in
    # the same process, for another warehouse, must not find its runs and partitions in the
    # first warehouse's instance. One the user gives is used for every warehouse.
    from pipelines.cli import _instance
    from pipelines.settings import load_settings

    monkeypatch.setenv("DAGSTER_HOME", "")  # restored afterwards, whatever the commands set
    monkeypatch.delenv("DAGSTER_HOME")
    first, second = (load_settings(tmp_path / "landing", tmp_path / name) for name in ("first", "second"))
    assert Path(_instance(first).root_directory) == tmp_path / "first" / ".dagster"
    assert Path(_instance(second).root_directory) == tmp_path / "second" / ".dagster"
    assert Path(_instance(first).root_directory) == tmp_path / "first" / ".dagster"

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "given"))
    assert Path(_instance(first).root_directory) == tmp_path / "given"
    assert Path(_instance(second).root_directory) == tmp_path / "given"
