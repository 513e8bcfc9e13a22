"""Unit-year partitions: how a set of unit-years becomes ranged runs, and what a real
instance (DAGSTER_HOME in tmp_path) records of CLI loads: per-partition materializations of
every stage, per-partition check results, and a load that rebuilds exactly the changed
unit-year and the later years that read it."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.defs.partitions import Rectangle, rectangles
from tests.conftest import payment, run_load, voucher_file

UNITS = ["900001", "900002", "900003"]
YEARS = ["2020", "2021", "2022"]


def _cover(unit_years, empty=()):
    return rectangles(unit_years, UNITS, YEARS, empty)


@pytest.mark.parametrize("unit_years, expected", [
    (set(), []),
    ({(u, int(y)) for u in UNITS for y in YEARS}, [Rectangle((2020, 2021, 2022), tuple(UNITS))]),
    ({("900002", 2021), ("900002", 2022)}, [Rectangle((2021, 2022), ("900002",))]),
    # 900002 is not rebuilt: it splits the units
    ({("900001", 2021), ("900003", 2021)}, [Rectangle((2021,), ("900001",)), Rectangle((2021,), ("900003",))]),
    # a gap in the years splits them too
    ({("900001", 2020), ("900001", 2022)}, [Rectangle((2020,), ("900001",)), Rectangle((2022,), ("900001",))]),
    # units with different years: one rectangle per run of years, shared by neighbours
    ({("900001", 2020), ("900001", 2021), ("900002", 2020), ("900002", 2021), ("900003", 2021)},
     [Rectangle((2020, 2021), ("900001", "900002")), Rectangle((2021,), ("900003",))]),
])
def test_rectangles_cover_exactly_the_unit_years(unit_years, expected):
    found = _cover(unit_years)
    assert found == expected
    covered = [uy for rect in found for uy in rect.unit_years]
    assert sorted(covered) == sorted(unit_years)  # each once, nothing else


def test_a_rectangle_may_cover_keys_that_hold_no_data():
    # 900003 started reporting in 2021: its 2020 key is empty, so one run covers all
    wanted = {(u, y) for u in UNITS for y in (2020, 2021)} - {("900003", 2020)}
    assert _cover(wanted, empty={("900003", 2020)}) == [Rectangle((2020, 2021), tuple(UNITS))]
    assert len(_cover(wanted)) == 2


def test_rectangle_tags_are_a_partition_range():
    rect = Rectangle((2020, 2021), ("900001", "900002"))
    assert rect.tags() == {"dagster/asset_partition_range_start": "2020|900001",
                           "dagster/asset_partition_range_end": "2021|900002"}


STAGES = ("core", "marts", "parquet", "reports")


def _materialized(instance, stage):
    return instance.get_materialized_partitions(dg.AssetKey(["unit_year", stage]))


def test_cli_loads_record_each_unit_year_and_rebuild_only_what_changed(tmp_path, monkeypatch):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    voucher_file(landing / "a20.csv", payment("2020-01-05", "记-1", "10"), unit="900001 甲")
    voucher_file(landing / "a21.csv", payment("2021-01-05", "记-1", "11"), unit="900001 甲")
    voucher_file(landing / "b21.csv", payment("2021-01-05", "记-1", "20"), unit="900002 乙")
    assert run_load(landing, warehouse) == 0
    all_keys = {"2020|900001", "2021|900001", "2021|900002"}
    with dg.DagsterInstance.get() as instance:
        for stage in STAGES:  # 2020|900002 holds no data: the one run may cover it (a rectangle), writing nothing
            assert _materialized(instance, stage) - {"2020|900002"} == all_keys, stage
        runs = instance.get_runs()
        assert sorted(r.job_name for r in runs) == ["ingest_landing", "rebuild_unit_years"]
        check = dg.AssetCheckKey(dg.AssetKey(["unit_year", "marts"]), "no_blocking_failure")
        evaluations = instance.event_log_storage.get_asset_check_execution_history(check, limit=10)
        assert {e.event.dagster_event.event_specific_data.partition for e in evaluations} >= all_keys
        assert all(e.event.dagster_event.event_specific_data.passed for e in evaluations)
        # the marts step's outcomes went to the check's own step, which used them up
        assert list((warehouse / ".work" / "check_outcomes").iterdir()) == []
        before = {stage: len(instance.fetch_materializations(dg.AssetKey(["unit_year", stage]), limit=100).records)
                  for stage in STAGES}

    # 900001's 2020 changes: 2020 and 2021 of 900001 (which reads 2020) are rebuilt, 900002 is not
    other = warehouse / "marts" / "spending_by_year" / "fiscal_year=2021" / "900002.parquet"
    other_mtime = other.stat().st_mtime_ns
    voucher_file(landing / "a20.csv", payment("2020-01-05", "记-1", "12"), unit="900001 甲")
    assert run_load(landing, warehouse) == 0
    with dg.DagsterInstance.get() as instance:
        rebuilds = [r for r in instance.get_runs() if r.job_name == "rebuild_unit_years"]
        latest = rebuilds[0]
        assert (latest.tags["dagster/asset_partition_range_start"], latest.tags["dagster/asset_partition_range_end"]) \
            == ("2020|900001", "2021|900001")
        for stage in STAGES:
            records = instance.fetch_materializations(dg.AssetKey(["unit_year", stage]), limit=100).records
            new = records[:len(records) - before[stage]]
            assert sorted(r.partition_key for r in new) == ["2020|900001", "2021|900001"], stage
    assert other.stat().st_mtime_ns == other_mtime


def test_a_backfill_of_chosen_partitions_rebuilds_those_and_no_others(tmp_path):
    """The runs a UI backfill of chosen keys makes (BackfillPolicy.single_run: Dagster's ranges
    of the chosen keys) rebuild exactly those keys; the other unit-years' files stay."""
    from dagster._core.definitions.partitions.context import partition_loading_context

    from pipelines.definitions import defs
    from pipelines.defs.partitions import unit_year_partitions
    from pipelines.defs.resources import WarehouseResource

    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    for unit, name in (("900001", "甲"), ("900002", "乙")):
        for year in (2020, 2021):
            voucher_file(landing / f"{unit}-{year}.csv", payment(f"{year}-01-05", "记-1", "10"), unit=f"{unit} {name}")
    assert run_load(landing, warehouse) == 0
    marts = warehouse / "marts" / "spending_by_year"
    mtimes = {p.relative_to(marts).as_posix(): p.stat().st_mtime_ns for p in marts.rglob("*.parquet")}
    chosen = {"2021|900001", "2020|900002"}
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("fiscal_year", ["2020", "2021"])
    instance.add_dynamic_partitions("unit", ["900001", "900002"])
    with partition_loading_context(dynamic_partitions_store=instance):
        ranges = unit_year_partitions.subset_with_partition_keys(chosen).get_partition_key_ranges(unit_year_partitions)
    assert len(ranges) == 2
    job = defs.resolve_job_def("rebuild_unit_years")
    resources = {"warehouse": WarehouseResource(landing_dir=str(landing), warehouse_dir=str(warehouse))}
    for key_range in ranges:
        tags = {"dagster/asset_partition_range_start": key_range.start,
                "dagster/asset_partition_range_end": key_range.end}
        assert job.execute_in_process(instance=instance, resources=resources, tags=tags).success
    for stage in STAGES:
        assert _materialized(instance, stage) == chosen, stage
    rebuilt = {p.relative_to(marts).as_posix() for p in marts.rglob("*.parquet")
               if p.stat().st_mtime_ns != mtimes.get(p.relative_to(marts).as_posix())}
    assert rebuilt <= {"fiscal_year=2021/900001.parquet", "fiscal_year=2020/900002.parquet"}
    assert mtimes["fiscal_year=2020/900001.parquet"] == (marts / "fiscal_year=2020" / "900001.parquet").stat().st_mtime_ns
    assert mtimes["fiscal_year=2021/900002.parquet"] == (marts / "fiscal_year=2021" / "900002.parquet").stat().st_mtime_ns
