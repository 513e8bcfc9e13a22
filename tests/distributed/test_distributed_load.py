"""A full load on the distributed executor equals the in-process load.

PostgreSQL, a dask scheduler and two workers run as separate processes
(pipelines.distributed.runs.local_stack); the load's runs (the ingest, then the
partitioned rebuild) are the code location's jobs on the distributed executor
(pipelines.distributed.definitions). A landing folder of two units × two years in the
county's shape (bench/county.py) is loaded both ways; every mart and public mart is
compared row by row, every published Parquet file byte by byte, the checks' outcomes, and
every unit-year's reports by their text (Markdown, DOCX paragraphs and tables, XLSX
cells). Which steps ran in the writer is read from the run's events.
"""

import duckdb
import pytest

from pipelines.distributed.load import distributed_load
from pipelines.distributed.runs import local_stack
from tests.conftest import query, run_load
from tests.evaluation.test_report_equivalence import report_folders, unit_year_content, xlsx_content

pytestmark = pytest.mark.distributed

UNITS = 2
YEARS = (2020, 2021)


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    from bench.county import generate_county

    folder = tmp_path_factory.mktemp("distributed_load") / "landing"
    generate_county(folder, units=UNITS, years=YEARS, lines_per_year=300, processes=1)
    return folder


def mart_tables(warehouse) -> list[str]:
    rows = query(warehouse, "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                            "WHERE table_schema IN ('marts', 'marts_public') ORDER BY 1")
    return [name for (name,) in rows]


def sorted_rows(warehouse, table: str) -> list[tuple]:
    return sorted(query(warehouse, f"SELECT * FROM {table}"), key=repr)


def test_a_distributed_load_equals_the_in_process_load(landing, tmp_path_factory):
    in_process = tmp_path_factory.mktemp("in_process_warehouse")
    assert run_load(landing, in_process) == 0

    distributed = tmp_path_factory.mktemp("distributed_warehouse")
    with local_stack(workers=2, landing_dir=landing, warehouse_dir=distributed,
                     preload="pipelines.distributed.definitions") as stack, stack.instance() as instance:
        load = distributed_load(instance, stack.scheduler_address)
        assert load.success, f"the distributed load failed; logs in {stack.folder}"
        assert load.unit_years == {(f"7{n:05d}", year) for n in range(UNITS) for year in YEARS}
        # Every step ran on a dask worker: none in this process, which only orchestrated.
        step_pids = {record.dagster_event.pid for run in instance.get_runs() for record in instance.all_logs(run.run_id)
                     if record.dagster_event is not None and record.dagster_event.event_type_value == "STEP_START"}
        assert step_pids and step_pids <= set(stack.worker_pids), (step_pids, stack.worker_pids)

        # Nothing changed, but bi.duckdb is gone: the load rebuilds nothing and the writer
        # writes bi.duckdb again, as the in-process load does (jobs.rebuild_scope).
        (distributed / "bi.duckdb").unlink()
        again = distributed_load(instance, stack.scheduler_address)
        assert again.success and again.unit_years == set() and again.rebuild_success == []
        bi = duckdb.connect(str(distributed / "bi.duckdb"), read_only=True)
        try:
            from_bi = sorted(bi.execute("SELECT * FROM marts.spending_by_year").fetchall(), key=repr)
        finally:
            bi.close()
        assert from_bi and from_bi == sorted_rows(distributed, "marts.spending_by_year")

    # The expectation suites, shared out over both workers, and the rules found what the
    # in-process load found.
    checks = ("SELECT check_id, kind, severity, passed, failing, fatal_failing FROM quality.check_runs "
              "WHERE load_id = (SELECT min(load_id) FROM quality.check_runs) ORDER BY check_id")
    expected_checks = query(in_process, checks)
    assert len([c for c in expected_checks if c[1] == "expectation"]) == 19
    assert query(distributed, checks) == expected_checks

    tables = mart_tables(in_process)
    assert tables and mart_tables(distributed) == tables
    for table in tables:
        expected = sorted_rows(in_process, table)
        assert expected, table
        assert sorted_rows(distributed, table) == expected, table

    # The Parquet files, which the workers wrote from the rows the writer handed over: the same bytes.
    for folder in ("marts", "marts_public"):
        expected_files = sorted(p.relative_to(in_process / folder) for p in (in_process / folder).rglob("*.parquet"))
        assert len(expected_files) == 7 * UNITS * len(YEARS), folder
        assert sorted(p.relative_to(distributed / folder) for p in (distributed / folder).rglob("*.parquet")) \
            == expected_files
        for relative in expected_files:
            assert (distributed / folder / relative).read_bytes() == (in_process / folder / relative).read_bytes(), \
                relative

    expected_reports = report_folders(in_process / "reports")
    actual_reports = report_folders(distributed / "reports")
    assert len(expected_reports) == UNITS * len(YEARS)
    assert list(actual_reports) == list(expected_reports)
    for key, folder in expected_reports.items():
        other = actual_reports[key]
        assert unit_year_content(other) == unit_year_content(folder), key
        for md in sorted(folder.rglob("*.md")):
            assert (other / md.relative_to(folder)).read_text(encoding="utf-8") == md.read_text(encoding="utf-8"), md

    # The public XLSX exports (written by tasks over the workers on the distributed executor)
    expected_exports = sorted(p.relative_to(in_process) for p in (in_process / "exports").rglob("*.xlsx"))
    assert len(expected_exports) == UNITS * len(YEARS)
    assert sorted(p.relative_to(distributed) for p in (distributed / "exports").rglob("*.xlsx")) == expected_exports
    for relative in expected_exports:
        assert xlsx_content(distributed / relative) == xlsx_content(in_process / relative), relative
