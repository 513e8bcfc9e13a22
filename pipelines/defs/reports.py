"""The reports stage (`unit_year/reports`) in three steps, so that the rendering can run on
a worker that never opens warehouse.duckdb:

1. `gather_report_inputs` (the writer, once the marts are built: the reports read the
   marts, not their Parquet files, so the publishing need not come first): each unit-year's report inputs
   (pipelines.evaluation.outputs.gather_unit_year: plain, picklable data) into a file per
   partition, `<warehouse>/.work/report_inputs/<unit>.<year>.pickle`, written beside and
   renamed into place;
2. `render_reports` (any worker): every output of those unit-years from the files alone
   (render_all: FISCAL_WORKERS processes), and the list of files written beside each input;
3. `record_reports` (the writer, once the rendering and the publishing, unit_year/parquet,
   are done): the unit-years done (their marks cleared up to the run's own,
   pipelines.warehouse.dirty) and the files written, into the load's summary.

The op tags (pipelines.distributed.tags) say where each step may run; the default
in-process executor ignores them and runs the three in order in one process, where step 1
also renders each unit-year as soon as it is gathered (on FISCAL_WORKERS processes, while
it gathers the next: the rendering need not wait for the last unit-year's gathering) and
step 2 finds nothing left to render. What the steps hand each other goes through the
warehouse folder, which every worker shares.
"""


import json
import pickle
from pathlib import Path

import dagster as dg

from pipelines.defs.assets import (
    UNIT_YEAR_MARTS,
    UNIT_YEAR_PARQUET,
    UNIT_YEAR_REPORTS,
    ProgressFn,
    _connect,
    _withheld,
    reporter,
)
from pipelines.defs.partitions import unit_year_partitions, unit_years_of
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.run_tags import load_id_of
from pipelines.distributed.fanout import map_slices_on_workers, on_dask_worker
from pipelines.distributed.tags import ANY_WORKER_STEP_TAGS, WRITER_STEP_TAGS
from pipelines.evaluation.rules import load_rules
from pipelines.files import write_in_place
from pipelines.warehouse import load as stages

INPUTS_FOLDER = Path(".work") / "report_inputs"


# One folder for all of them: a folder per unit cost a mkdir and an rmdir each (~2 ms on a
# disk mounted with `discard`), 0.9 s of the writer's time at a county's 300 units.
def inputs_path(warehouse_dir: Path, unit: str, year: int) -> Path:
    return warehouse_dir / INPUTS_FOLDER / f"{unit}.{year}.pickle"


def written_path(warehouse_dir: Path, unit: str, year: int) -> Path:
    return warehouse_dir / INPUTS_FOLDER / f"{unit}.{year}.written.json"


def gather_to_files(con, settings, unit_years, rules, progress, render_here: bool = False) -> None:
    """Each unit-year's report inputs into its file; a unit-year no longer in the warehouse
    gets none (its old reports are removed here, as write_reports does). `render_here`
    (the in-process executor, whose render step would only start once every unit-year is
    gathered): each unit-year is also rendered as soon as it is gathered, by FISCAL_WORKERS
    processes while this one gathers the next, and the render step finds nothing left."""
    from pipelines.evaluation.outputs import gather_scope, render_all  # lazy: python-docx, Pillow, lxml (~1.3 s)
    from pipelines.workers import workers_for

    units = sorted((u, int(y)) for u, y in unit_years)
    for unit, year in units:  # what an earlier, killed run left: gathered again below, or gone
        inputs_path(settings.warehouse_dir, unit, year).unlink(missing_ok=True)
        written_path(settings.warehouse_dir, unit, year).unlink(missing_ok=True)
    gathered_keys = []

    def gathered():
        for (unit, year), inputs in gather_scope(con, settings, units, rules, progress):
            write_in_place(inputs_path(settings.warehouse_dir, unit, year),
                           pickle.dumps(inputs, protocol=pickle.HIGHEST_PROTOCOL))
            gathered_keys.append((unit, year))
            yield inputs

    if not render_here:
        for _ in gathered():
            pass
        return
    results = render_all(gathered(), workers_for(len(units)))
    for (unit, year), paths in zip(gathered_keys, results):
        _record_written(settings, unit, year, paths)


def render_one_file(path: Path) -> list[Path]:
    """One unit-year's outputs from its inputs file (a task any worker may run)."""
    from pipelines.evaluation.outputs import render_unit_year  # lazy: python-docx, Pillow, lxml (~1.3 s)

    return render_unit_year(pickle.loads(Path(path).read_bytes()))


RENDER_BATCH = 10  # unit-years a dask task renders: 0.3-0.6 s of work (fanout.map_slices_on_workers)


def render_files(paths: list[Path]) -> list[list[Path]]:
    """Several unit-years' outputs, one inputs file each (a task any worker may run)."""
    return [render_one_file(path) for path in paths]


def render_from_files(settings, unit_years, workers: int | None = None) -> list[str]:
    """Render every unit-year whose inputs file is there and that is not rendered yet (its
    list of files written is not there: gather_to_files may have rendered it); never opens
    the DuckDB file. On a dask worker (the distributed executor) the unit-years fan out
    over every worker of the cluster as plain tasks of RENDER_BATCH unit-years
    (pipelines.distributed.fanout); else
    `workers` processes (FISCAL_WORKERS) render them, as write_reports does. Returns the
    files written by this call (relative to the warehouse folder), in unit-year order."""
    from pipelines.evaluation.outputs import render_all  # lazy: python-docx, Pillow, lxml (~1.3 s)
    from pipelines.workers import workers_for

    present = [(u, y) for u, y in sorted(unit_years) if inputs_path(settings.warehouse_dir, u, y).exists()
               and not written_path(settings.warehouse_dir, u, y).exists()]
    files = [inputs_path(settings.warehouse_dir, u, y) for u, y in present]
    results = map_slices_on_workers(render_files, files, RENDER_BATCH)
    if results is None:
        results = render_all((pickle.loads(f.read_bytes()) for f in files), workers_for(len(present), workers))
    relative = []
    for (unit, year), paths in zip(present, results):
        relative += _record_written(settings, unit, year, paths)
    return relative


def _record_written(settings, unit: str, year: int, paths: list[Path]) -> list[str]:
    """The unit-year's rendered files, listed beside its inputs for record_reports."""
    written = [p.relative_to(settings.warehouse_dir).as_posix() for p in paths]
    write_in_place(written_path(settings.warehouse_dir, unit, year), json.dumps(written).encode())
    return written


def collect_written(settings, unit_years) -> tuple[list[str], set[tuple[str, int]]]:
    """(files written, unit-years whose outputs are all written) from the render step's
    lists; the hand-over files go. A unit-year no longer in the warehouse is done too."""
    files, done = [], set()
    for unit, year in sorted(unit_years):
        listed = written_path(settings.warehouse_dir, unit, year)
        gathered = inputs_path(settings.warehouse_dir, unit, year)
        if listed.exists():
            files += json.loads(listed.read_text(encoding="utf-8"))
            done.add((unit, year))
        elif not gathered.exists():  # gathered as gone: nothing to render
            done.add((unit, year))
        listed.unlink(missing_ok=True)
        gathered.unlink(missing_ok=True)
    return files, done


@dg.op(tags=WRITER_STEP_TAGS, ins={"marts": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing),
       description="Gather each unit-year's report inputs into a file (reads warehouse.duckdb).")
def gather_report_inputs(context: dg.OpExecutionContext, warehouse: WarehouseResource,
                         progress: dg.ResourceParam[ProgressFn]) -> None:
    con = _connect(context, warehouse)
    try:
        scope = unit_years_of(context)
        scope -= _withheld(con, context, scope)
        gather_to_files(con, warehouse.settings, scope, load_rules(), reporter(context, progress),
                        render_here=not on_dask_worker())
    finally:
        con.close()


@dg.op(tags=ANY_WORKER_STEP_TAGS, ins={"gathered": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing),
       description="Render the unit-years' XLSX, DOCX, Markdown and charts from the gathered files "
                   "(never opens warehouse.duckdb).")
def render_reports(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    written = render_from_files(warehouse.settings, unit_years_of(context))
    if written:  # on the in-process executor the gathering step rendered them already
        context.log.info(f"reports: {len(written)} files written")


@dg.op(tags=WRITER_STEP_TAGS, ins={"rendered": dg.In(dg.Nothing), "parquet": dg.In(dg.Nothing)},
       out=dg.Out(dg.Nothing),
       description="Record the unit-years whose reports are written, and whose marts are published, as done "
                   "(meta.dirty).")
def record_reports(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    con = _connect(context, warehouse)
    try:
        load_id = load_id_of(context)
        scope = unit_years_of(context)
        scope -= _withheld(con, context, scope)
        written, done = collect_written(warehouse.settings, scope)
        mark = stages.run_mark(con, load_id, context.run.run_id)
        if mark is not None:  # this run rebuilt core: its unit-years are done
            stages.mark_done(con, done, mark)
        stages.add_to_load(con, load_id, reports_written=written)
    finally:
        con.close()
    context.add_output_metadata({"unit_years": dg.MetadataValue.int(len(done)),
                                 "files_written": dg.MetadataValue.int(len(written))})


@dg.graph_asset(
    key=UNIT_YEAR_REPORTS,
    group_name="unit_year",
    description="部门整体支出绩效自评表 (XLSX) and 自评报告 (DOCX, Markdown) of the unit-year: gathered by the writer, "
                "rendered by any worker, recorded as done by the writer. A unit-year is done (its rebuild mark "
                "cleared) once its reports are written; a run that did not rebuild core (`fiscal-warehouse "
                "report`) clears nothing.",
    ins={"marts": dg.AssetIn(key=UNIT_YEAR_MARTS, dagster_type=dg.Nothing),
         "parquet": dg.AssetIn(key=UNIT_YEAR_PARQUET, dagster_type=dg.Nothing)},
    partitions_def=unit_year_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"xlsx", "docx"},
)
def reports(marts, parquet):
    # The reports read the marts, not their Parquet files: gathered and rendered while the
    # writer publishes (on the distributed executor, rendered on the other workers meanwhile);
    # recorded as done once both are written.
    return record_reports(rendered=render_reports(gather_report_inputs(marts)), parquet=parquet)
