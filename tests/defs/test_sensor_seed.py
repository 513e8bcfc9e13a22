"""The sensor's first tick knows what the warehouse already holds (its cursor starts from meta.files)."""

import dagster as dg

from pipelines.defs.jobs import landing_files_sensor
from pipelines.defs.resources import WarehouseResource
from tests.conftest import payment, run_load, voucher_file


def _first_tick(landing, warehouse):
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(),
        resources={"warehouse": WarehouseResource(landing_dir=str(landing), warehouse_dir=str(warehouse))},
    )
    return landing_files_sensor(context)


def test_first_tick_after_a_cli_load_starts_nothing(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    voucher_file(landing / "a.csv", payment("2021-01-05", "记-1", "10"))
    assert isinstance(_first_tick(landing, warehouse), dg.RunRequest)  # no warehouse yet: everything is new
    assert run_load(landing, warehouse) == 0
    assert isinstance(_first_tick(landing, warehouse), dg.SkipReason)
    voucher_file(landing / "b.csv", payment("2021-02-05", "记-1", "20"))
    assert isinstance(_first_tick(landing, warehouse), dg.RunRequest)
