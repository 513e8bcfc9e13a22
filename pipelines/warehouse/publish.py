"""Publishing the marts as Parquet for BI tools, and the DuckDB views over them.

Layout (contract §1): `<dir>/<mart>/fiscal_year=<YYYY>/<unit_code>.parquet`, zstd, rows
sorted by the mart's keys, `fiscal_year` (INTEGER) both inside each file and in the Hive
folder, the mart's column descriptions in the file's key-value metadata. Publishing is per
(year, unit) partition: a partition is rewritten only when its content hash changed, a
partition that lost all its rows is deleted, and all of one publish's changes appear
together: they go into a new snapshot switched in one rename (pipelines.warehouse.snapshots),
so readers see the old or the new state, never a mixture and never half a file. On the
distributed executor the writer hands each mart's rows over in one file and any worker
writes the partition files from it into the new snapshot (the files are the same bytes);
the writer records them and switches the snapshot.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.distributed.fanout import map_on_workers, on_dask_worker
from pipelines.sqltext import sql_string
from pipelines.warehouse import dirty
from pipelines.warehouse.db import table_exists
from pipelines.warehouse.schema import schema_fingerprint
from pipelines.warehouse.declarations import marts as declared_marts
from pipelines.warehouse.dictionary import column_descriptions, dictionary
from pipelines.warehouse.snapshots import Snapshots
from pipelines.warehouse.transform import MART_MODELS, build_mart, unit_year_table

# Sort order inside each file (the filters BI queries use most) and whether the public copy
# differs (a model in sql/marts_public/): both declared beside each mart's SQL.
SORT_KEYS: dict[str, str] = {name: mart.sort for name, mart in declared_marts().items()}
REDACTED_MARTS = tuple(name for name, mart in declared_marts().items() if mart.redacted)
AUDIENCES = {"internal": ("build", "marts"), "public": ("build_public", "marts_public")}

# Bumped when the files' layout changes (2: fiscal_year inside the files, column descriptions
# in the key-value metadata), so that every partition is written again once.
LAYOUT_VERSION = 2

PUBLISHED_DDL = """CREATE TABLE IF NOT EXISTS meta.published (
    mart VARCHAR NOT NULL, audience VARCHAR NOT NULL, fiscal_year INTEGER NOT NULL, unit_code VARCHAR NOT NULL,
    content_hash HUGEINT NOT NULL, row_count BIGINT NOT NULL, path VARCHAR NOT NULL, published_at TIMESTAMP NOT NULL,
    PRIMARY KEY (mart, audience, fiscal_year, unit_code))"""


@dataclass
class PublishResult:
    written: list[str] = field(default_factory=list)  # paths relative to the warehouse folder
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    withheld: list[tuple[str, int]] = field(default_factory=list)
    snapshot: Path | None = None  # the snapshot this publish switched to; None when nothing changed
    previous_snapshot: Path | None = None  # the one it replaced
    changed: set[tuple[str, int]] = field(default_factory=set)  # (unit, year)s with a file written or deleted
    changed_public: set[tuple[str, int]] = field(default_factory=set)  # … of the public marts
    bi_lines: list[str] = field(default_factory=list)  # what the BI steps did (pipelines.bi.publishing)
    bi_failed: bool = False


def file_stem(unit_code: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.\-]", "_", unit_code)


def build_public(con: duckdb.DuckDBPyConnection) -> None:
    """build_public.<mart> for the scope: the redaction rule of contract §3. A mart declared
    `public = "redacted"` is selected by its sql/marts_public model; the others are copied."""
    for name, mart in declared_marts().items():
        target = f"build_public.{name}"
        if mart.redacted:
            build_mart(con, target, mart, mart.public_sql_file)
            continue
        if not table_exists(con, target):
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM build.{name} LIMIT 0")
        con.execute(
            f"DELETE FROM {target} USING _scope s WHERE {target}.unit_code = s.unit_code "
            f"AND {target}.fiscal_year = s.fiscal_year"
        )
        con.execute(
            f"INSERT INTO {target} SELECT b.* FROM build.{name} b "
            "JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year"
        )


def publish(
    con: duckdb.DuckDBPyConnection,
    warehouse_dir: Path,
    scope: set[tuple[str, int]],
    withheld: set[tuple[str, int]] = frozenset(),
) -> PublishResult:
    """Write the changed partitions of every mart in scope, both audiences; skip `withheld`.

    Everything a publish changes goes into a new snapshot switched in one rename
    (pipelines.warehouse.snapshots); a publish that changes nothing writes nothing. What
    the changed unit-years are owed afterwards (their XLSX exports, the PostgreSQL
    mirror: pipelines.bi.publishing) is recorded in the transaction that records the
    publish, so that a load killed after the switch leaves it owed (pipelines.warehouse.dirty)."""
    con.execute(PUBLISHED_DDL)
    result = PublishResult(withheld=sorted(withheld & scope))
    publishable = sorted(scope - set(withheld))
    unit_year_table(con, "_publish", publishable)
    snapshots = Snapshots(warehouse_dir)
    live = snapshots.live()
    plans = [
        _plan_mart(con, f"{schema}.{mart}", mart, audience, folder, live, publishable, result)
        for audience, (schema, folder) in AUDIENCES.items()
        for mart in MART_MODELS
    ]
    if not any(plan.to_write or plan.to_delete for plan in plans):
        return result
    # The COPY's partition folders (<audience>/<mart>/_year=<YYYY>/_unit=<unit>/) are kept for the
    # next publish, which writes into them again (OVERWRITE_OR_IGNORE; only the files this publish
    # wrote are moved out): removing a folder costs ~2 ms on a disk mounted with `discard` (each
    # rmdir frees a block), 20 s for the county's 8,400, against 0.03 ms to unlink a file. A
    # single writer holds warehouse.duckdb, so no two publishes share the folder.
    staging_dir = warehouse_dir / ".work" / "publish"
    snapshot = snapshots.begin()
    now = datetime.now().replace(microsecond=0)
    con.execute("BEGIN")
    try:
        written = _write_files(con, [plan for plan in plans if plan.to_write], snapshot, staging_dir)
        for plan in plans:
            _record_mart(con, plan, written.get((plan.audience, plan.mart), []), snapshot, now, result)
        dirty.owe(con, dirty.EXPORTS_OWED, result.changed_public)
        # Owed whether or not a mirror is configured: switching one on later catches up.
        dirty.owe(con, dirty.MIRROR_OWED, result.changed)
        snapshots.switch(snapshot)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        snapshots.abandon(snapshot)
        raise
    result.snapshot, result.previous_snapshot = snapshot, live
    return result


@dataclass
class _MartPlan:
    table: str
    mart: str
    audience: str
    folder: str
    current: dict[tuple[int, str], tuple[int, int]]
    to_write: list[tuple[int, str]]
    to_delete: list[tuple[int, str]]


def _plan_mart(con, table, mart, audience, folder, live: Path | None, publishable: list[tuple[str, int]],
               result: PublishResult) -> _MartPlan:
    # LAYOUT_VERSION is mixed into the hash so that a change of the files' layout rewrites
    # every partition once, although the rows did not change.
    current = {
        (year, unit): (content_hash, rows)
        for year, unit, content_hash, rows in con.execute(
            f"""SELECT t.fiscal_year, t.unit_code, sum(hash(t))::HUGEINT + {LAYOUT_VERSION}, count(*)
            FROM {table} t JOIN _publish p ON p.unit_code = t.unit_code AND p.fiscal_year = t.fiscal_year
            GROUP BY ALL"""
        ).fetchall()
    }
    previous = {
        (year, unit): content_hash
        for year, unit, content_hash in con.execute(
            """SELECT m.fiscal_year, m.unit_code, m.content_hash FROM meta.published m
            JOIN _publish p ON p.unit_code = m.unit_code AND p.fiscal_year = m.fiscal_year
            WHERE m.mart = ? AND m.audience = ?""",
            [mart, audience],
        ).fetchall()
    }
    to_write = []
    for key, (content_hash, _) in sorted(current.items()):
        path = None if live is None else live / folder / partition_path(mart, *key)
        if previous.get(key) == content_hash and path is not None and path.exists():
            result.unchanged += 1
        else:
            to_write.append(key)
    # What the live snapshot holds is what is published; meta.published is its record, which
    # an upgrade drops (pipelines.warehouse.db): a partition without rows goes whether or not
    # it is recorded (a stat for each unit-year of the scope without rows in the mart).
    gone = set(previous) | {
        (year, unit) for unit, year in publishable
        if live is not None and (year, unit) not in current and (live / folder / partition_path(mart, year, unit)).exists()
    }
    return _MartPlan(table, mart, audience, folder, current, to_write, sorted(gone - set(current)))


def partition_path(mart: str, year: int, unit: str) -> str:
    """A partition's file below marts/ or marts_public/ (contract §1)."""
    return f"{mart}/fiscal_year={year}/{file_stem(unit)}.parquet"


# ORDER BY this over read_published(): each unit-year's rows as its file holds them, in the
# mart's order (SORT_KEYS). By fiscal_year and unit_code alone DuckDB may shuffle them.
PUBLISHED_ORDER = "fiscal_year, unit_code, file_row_number"


def read_published(paths: str, *options: str) -> str:
    """`read_parquet` of published partition files (`paths`: a SQL string or list), with the
    column file_row_number that PUBLISHED_ORDER sorts by; `options` are read_parquet's others."""
    return ", ".join([f"read_parquet({paths}", "hive_partitioning = true", "hive_types = {'fiscal_year': INTEGER}",
                      "file_row_number = true", *options]) + ")"


@dataclass(frozen=True)
class PartitionFiles:
    """One mart's changed partitions of one audience, for whichever process writes their files."""

    mart: str
    audience: str
    folder: str
    to_write: list[tuple[int, str]]  # (year, unit)
    staging: Path  # the COPY's partition folders (kept: see publish)
    snapshot: Path
    handed_over: Path | None = None  # the rows, written by the writer for a worker that never opens the warehouse


def _write_files(con, plans: list[_MartPlan], snapshot: Path, staging_dir: Path) -> dict[tuple[str, str], list[str]]:
    """Every changed partition's file, into the snapshot: (audience, mart) -> the files'
    paths relative to the warehouse folder, in the order of each plan's to_write.

    One COPY a mart writes its partitions, each file about a millisecond of one core
    (8,400 at a county: 6.5 s) while the rows themselves take milliseconds. So on a dask
    worker (the distributed executor) the writer hands each mart's rows over in one file
    (0.07 s for all fourteen at a county) and any worker of the cluster writes the
    partitions from it (write_handed_over, a task a mart); elsewhere this process writes
    them from the warehouse."""
    hand_over = on_dask_worker()
    if hand_over:
        staging_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for plan in plans:
        unit_year_table(con, "_write", [(u, y) for y, u in plan.to_write])
        rows = f"""SELECT t.*, t.fiscal_year AS _year, regexp_replace(t.unit_code, '[^0-9A-Za-z_.\\-]', '_', 'g') AS _unit
                FROM {plan.table} t JOIN _write w ON w.unit_code = t.unit_code AND w.fiscal_year = t.fiscal_year
                ORDER BY t.unit_code, {SORT_KEYS[plan.mart]}"""
        job = PartitionFiles(plan.mart, plan.audience, plan.folder, plan.to_write,
                             staging_dir / plan.audience / plan.mart, snapshot)
        if not hand_over:
            files.append(write_partition_files(con, rows, job))
            continue
        handed_over = staging_dir / f"{plan.audience}.{plan.mart}.rows.parquet"
        con.execute(f"COPY ({rows}) TO {sql_string(handed_over.as_posix())} (FORMAT parquet, COMPRESSION uncompressed)")
        files.append(replace(job, handed_over=handed_over))
    if hand_over:
        files = map_on_workers(write_handed_over, files)
    return {(plan.audience, plan.mart): paths for plan, paths in zip(plans, files)}


def write_handed_over(job: PartitionFiles) -> list[str]:
    """The mart's partition files from the rows the writer handed over (a task any worker
    may run: an in-memory DuckDB, never warehouse.duckdb); the hand-over file goes."""
    con = duckdb.connect()
    try:
        paths = write_partition_files(con, f"SELECT * FROM read_parquet({sql_string(job.handed_over.as_posix())})", job)
    finally:
        con.close()
    job.handed_over.unlink()
    return paths


def write_partition_files(con, rows: str, job: PartitionFiles) -> list[str]:
    """The query `rows` (the mart's columns, then _year and _unit, in the files' order)
    into a file per partition (PARTITION_BY into the staging folder, then each file
    renamed into the snapshot); returns their paths relative to the warehouse folder."""
    job.staging.mkdir(parents=True, exist_ok=True)
    # fiscal_year stays inside each file (INTEGER) as well as in the folder name, so that
    # a tool opening one file keeps the year; the column descriptions travel with it.
    con.execute(
        f"""COPY ({rows}) TO {sql_string(job.staging.as_posix())} (FORMAT parquet, COMPRESSION zstd,
            PARTITION_BY (_year, _unit), OVERWRITE_OR_IGNORE true, FILENAME_PATTERN 'part',
            KV_METADATA {parquet_kv_metadata(job.mart, job.audience)})"""
    )
    for year in sorted({year for year, _ in job.to_write}):
        (job.snapshot / job.folder / job.mart / f"fiscal_year={year}").mkdir(parents=True, exist_ok=True)
    paths = []
    for year, unit in job.to_write:
        relative = f"{job.folder}/{partition_path(job.mart, year, unit)}"
        os.replace(job.staging / f"_year={year}" / f"_unit={file_stem(unit)}" / "part0.parquet",
                   job.snapshot / relative)
        paths.append(relative)
    return paths


def _record_mart(con, plan: _MartPlan, paths: list[str], snapshot: Path, now: datetime,
                 result: PublishResult) -> None:
    """The mart's written partitions (`paths`, in the order of plan.to_write) in one
    statement into meta.published, and its partitions without rows out of the snapshot and
    the record: a publish costs what its rows and files cost, not statements per partition
    (8,400 single-row upserts took 27 ms each, 4 minutes at the county shape)."""
    mart, audience, folder = plan.mart, plan.audience, plan.folder
    if plan.to_write:
        # Content hashes travel as text: they are HUGEINTs, beyond what a Python list parameter keeps exact.
        con.execute(
            """INSERT OR REPLACE INTO meta.published
            SELECT ?, ?, fiscal_year, unit_code, content_hash::HUGEINT, row_count, path, ?
            FROM (SELECT unnest(?::INTEGER[]) AS fiscal_year, unnest(?::VARCHAR[]) AS unit_code,
                         unnest(?::VARCHAR[]) AS content_hash, unnest(?::BIGINT[]) AS row_count,
                         unnest(?::VARCHAR[]) AS path)""",
            [mart, audience, now, [y for y, _ in plan.to_write], [u for _, u in plan.to_write],
             [str(plan.current[key][0]) for key in plan.to_write], [plan.current[key][1] for key in plan.to_write],
             paths],
        )
        result.written.extend(paths)
        result.changed.update((unit, year) for year, unit in plan.to_write)
        if audience == "public":
            result.changed_public.update((unit, year) for year, unit in plan.to_write)
    if plan.to_delete:
        for year, unit in plan.to_delete:
            relative = f"{folder}/{partition_path(mart, year, unit)}"
            final = snapshot / relative
            final.unlink(missing_ok=True)
            if final.parent.exists() and not any(final.parent.iterdir()):
                final.parent.rmdir()
            result.deleted.append(relative)
        unit_year_table(con, "_gone", [(u, y) for y, u in plan.to_delete])
        con.execute(
            """DELETE FROM meta.published m USING _gone g WHERE m.mart = ? AND m.audience = ?
            AND m.fiscal_year = g.fiscal_year AND m.unit_code = g.unit_code""",
            [mart, audience],
        )
        result.changed.update((unit, year) for year, unit in plan.to_delete)
        if audience == "public":
            result.changed_public.update((unit, year) for year, unit in plan.to_delete)


def parquet_kv_metadata(mart: str, audience: str) -> str:
    """The file's key-value metadata as a DuckDB struct literal: what the file is and what
    each column means (from the mart's declaration, sql/marts/<mart>.toml), for tools that
    show Parquet metadata."""
    entries = {
        "fiscal_warehouse.mart": mart,
        "fiscal_warehouse.audience": audience,
        "fiscal_warehouse.title": dictionary()[mart]["title"],
        "fiscal_warehouse.column_descriptions": json.dumps(column_descriptions(mart), ensure_ascii=False),
    }
    return "{" + ", ".join(f'"{key}": {sql_string(value)}' for key, value in entries.items()) + "}"


def create_views(con: duckdb.DuckDBPyConnection, warehouse_dir: Path) -> None:
    """Views marts.<mart> and marts_public.<mart> over the published Parquet files.

    The paths are relative to the warehouse folder (connect() sets DuckDB's
    file_search_path to it), so a copied or moved warehouse reads its own files.

    A view is created again only when its query or the models change (kept as its comment): a
    glob view reads its files when a query runs, but creating it reads the footer of every
    file it matches (union_by_name), 8,400 files at a county, 0.8 s every load."""
    existing = dict(con.execute(
        "SELECT schema_name || '.' || view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall())
    for _, (schema, folder) in AUDIENCES.items():
        for mart in MART_MODELS:
            directory = warehouse_dir / folder / mart
            if any(directory.glob("fiscal_year=*/*.parquet")):
                pattern = sql_string(f"{folder}/{mart}/*/*.parquet")
                source = (
                    f"SELECT fiscal_year, * EXCLUDE (fiscal_year) FROM read_parquet({pattern}, "
                    "hive_partitioning = true, hive_types = {'fiscal_year': INTEGER}, union_by_name = true)"
                )
            else:
                source = f"SELECT * FROM {schema}.{mart} WHERE false"
            made_as = f"{schema_fingerprint()} {source}"  # the models' version too: their columns
            if existing.get(f"{folder}.{mart}") != made_as:
                con.execute(f"CREATE OR REPLACE VIEW {folder}.{mart} AS {source}")
                con.execute(f"COMMENT ON VIEW {folder}.{mart} IS {sql_string(made_as)}")


def write_quarantine_parquet(con: duckdb.DuckDBPyConnection, quarantine_dir: Path) -> Path:
    """quarantine/quarantine.parquet, rewritten only when its rows changed: file-watching
    BI tools and backups see a change only when there is one."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    final = quarantine_dir / "quarantine.parquet"
    ordered = "SELECT * FROM quarantine ORDER BY source_file, sheet, source_row, reason_code"
    if final.exists():
        published = f"read_parquet({sql_string(final.as_posix())})"
        try:
            differs = con.execute(
                f"""SELECT count(*) FROM (
                    (SELECT * FROM quarantine EXCEPT ALL SELECT * FROM {published})
                    UNION ALL
                    (SELECT * FROM {published} EXCEPT ALL SELECT * FROM quarantine))"""
            ).fetchone()[0]
        except duckdb.Error:  # another layout, or a damaged file: write it again
            differs = True
        if not differs:
            return final
    temporary = quarantine_dir.parent / ".work" / f"quarantine-{uuid.uuid4().hex[:8]}.parquet"
    temporary.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({ordered}) TO {sql_string(temporary.as_posix())} (FORMAT parquet, COMPRESSION zstd)")
    os.replace(temporary, final)
    return final
