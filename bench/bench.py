"""Benchmark: the warehouse end to end through its CLI, against bare DuckDB in the same run.

    .venv/bin/python bench/bench.py                          # big: 5,000,000 lines, 50 units
    .venv/bin/python bench/bench.py --shape county --scale 30  # a county of 30 units (default 300)
    .venv/bin/python bench/bench.py --shape files            # per-file cost of small CSV / XLSX exports
    .venv/bin/python bench/bench.py --stages                 # the stages one by one in this process
    .venv/bin/python bench/bench.py --shape county --distributed --pin --runs 3   # issue 11's scaling

`big` and `county` run `python -m pipelines.cli load` as a new process, as a user does,
and print (as ratios to a baseline measured in this same run: these machines are noisy):
  1. a bare DuckDB `read_csv` of the same CSV files, file by file, into DuckDB tables;
  2. the full load, end to end, as a multiple of that bare read, with its stage shares
     (from the CLI's progress lines, timestamped here as they arrive);
     `--compare-workers` runs it with FISCAL_WORKERS=1 and 2;
  3. a load with nothing changed;
  4. one changed unit-year, as a share of the full load (target <= 10 %).
`big`: the exports of bench.py's own generator (title lines, `单位：<code> <name>`, a period
line, thousands separators, `code name` classification cells, both books; one Jan-Nov file
a unit). `county`: bench/county.py (12 monthly voucher exports a unit-year and the four
other kinds, CSV and XLSX mixed). `--stages` is the older in-process measurement: ingest vs
bare read (target <= 2x), core + marts vs ingest, checks' share, BI query, incremental.
`--shape county --distributed`: the county loaded through the distributed executor with 1
and then 2 dask workers, the per-partition stages' ratio (target >= 1.7x) beside what the
machine gives two processes (bench/bench_distributed.py --load, which this runs).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from concurrent.futures import ProcessPoolExecutor
import gc
import resource
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pipelines.evaluation.rules import load_rules  # noqa: E402
from pipelines.settings import load_settings  # noqa: E402
from pipelines.warehouse import load as stages  # noqa: E402
from pipelines.warehouse.db import Writer, connect  # noqa: E402

HEADER = "凭证日期,凭证号,分录号,摘要,科目编码,科目名称,借方金额,贷方金额,功能分类,经济分类,项目,资金性质"
ECON = ["30101", "30102", "30201", "30211", "30217", "30231", "31002", "30227"]
FUNC = ["2120101 行政运行", "2120102 一般行政管理事务", "2120399 其他城乡社区公共设施支出", "2210108 老旧小区改造"]


def write_unit_file(con: duckdb.DuckDBPyConnection, path: Path, unit: str, lines: int, months: tuple[int, int],
                    seed: int) -> None:
    """`lines` voucher lines (multiple of 4: a direct payment in both books) over the months."""
    first, last = months
    vouchers = lines // 4
    body = path.with_suffix(".body")
    con.execute(
        f"""COPY (
        WITH v AS (
            SELECT i,
                   make_date(2021, {first} + (i % {last - first + 1}), 1 + (i // 7) % 28) AS d,
                   '记-' || lpad(((i // {last - first + 1}) % 9999 + 1)::VARCHAR, 4, '0') || '-' || (i // 9999)::VARCHAR AS no,
                   ((hash(i + {seed}) % 9999900) + 100)::DECIMAL(18, 2) / 100 AS amount,
                   (hash(i * 7 + {seed}) % {len(ECON)})::BIGINT AS e, (hash(i * 13 + {seed}) % {len(FUNC)})::BIGINT AS f,
                   CASE WHEN i % 3 = 0 THEN 'XM' || lpad((i % 40)::VARCHAR, 3, '0') ELSE '' END AS project
            FROM range({vouchers}) t(i)
        ), l AS (
            SELECT v.*, k FROM v, range(4) r(k)
        )
        SELECT strftime(d, '%Y-%m-%d'), no, (k + 1)::VARCHAR, '支付款项',
               ['7101', '6001', '5001', '4001'][k + 1], ['行政支出', '财政拨款预算收入', '业务活动费用', '财政拨款收入'][k + 1],
               CASE WHEN k IN (0, 2) THEN format('{{:,.2f}}', amount) ELSE '' END,
               CASE WHEN k IN (1, 3) THEN format('{{:,.2f}}', amount) ELSE '' END,
               CASE WHEN k IN (0, 2) THEN {FUNC}[f + 1] ELSE '' END,
               CASE WHEN k IN (0, 2) THEN {ECON}[e + 1] ELSE '' END,
               CASE WHEN k IN (0, 2) THEN project ELSE '' END,
               '一般公共预算'
        FROM l ORDER BY i, k
        ) TO '{body.as_posix()}' (HEADER false, DELIMITER ',', QUOTE '"')"""
    )
    last_day = {2: 28, 4: 30, 6: 30, 9: 30, 11: 30}.get(last, 31)
    with open(path, "wb") as out:
        out.write(
            (f"序时账\n单位：{unit} 第{unit}号预算单位\n2021年{first}月1日至2021年{last}月{last_day}日\n单位：元\n{HEADER}\n").encode()
        )
        with open(body, "rb") as src:
            shutil.copyfileobj(src, out, 16 * 1024 * 1024)
    body.unlink()


def generate(landing: Path, lines: int, units: int) -> list[Path]:
    if landing.exists():
        shutil.rmtree(landing)
    con = duckdb.connect()
    per_unit = (lines // units) // 4 * 4
    files = []
    for n in range(units):
        unit = f"8{n:05d}"
        path = landing / unit / f"{unit}_2021年1-11月序时账.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_unit_file(con, path, unit, per_unit, (1, 11), seed=n)
        files.append(path)
    con.close()
    return files


def timed(fn, *args, **kwargs):
    gc.collect()
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - started, value


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare_read(files: list[Path], db: Path) -> int:
    """Each file read by DuckDB's own CSV reader (types sniffed) into one table of a DuckDB file.

    File by file: with duckdb 2.0.1 one read_csv over the list of files is several times
    slower than the files one by one (measured here), which would flatter our ratio."""
    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar = false")
    con.execute("SET memory_limit = '1GB'")  # the warehouse's own budget (pipelines.warehouse.db)
    for number, path in enumerate(files):
        source = f"read_csv('{path.as_posix()}', skip = 4, header = true)"
        if number == 0:
            con.execute(f"CREATE OR REPLACE TABLE bare AS SELECT * FROM {source}")
        else:
            con.execute(f"INSERT INTO bare SELECT * FROM {source}")
    rows = con.execute("SELECT count(*) FROM bare").fetchone()[0]
    con.close()
    return rows


def bi_query_ms(marts_dir: Path, unit: str) -> float:
    con = duckdb.connect()
    sql = (f"SELECT econ_l1_code, econ_code, econ_name, sum(amount_yuan) FROM read_parquet('{marts_dir.as_posix()}/"
           "spending_by_category/*/*.parquet', hive_partitioning = true) WHERE fiscal_year = 2021 AND unit_code = ? "
           "GROUP BY ALL ORDER BY 1, 2")
    con.execute(sql, [unit]).fetchall()
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        con.execute(sql, [unit]).fetchall()
        samples.append((time.perf_counter() - started) * 1000)
    con.close()
    return statistics.median(samples)


def full_pipeline(settings, with_quality: bool = True) -> dict[str, float]:
    """Every stage of a load, timed, in this process (no Dagster: its fixed cost is separate)."""
    from pipelines.quality.run import run_quality

    times = {}
    con = connect(settings.db_path)
    try:
        times["ingest"], _ = timed(stages.stage_ingest, con, settings)
        scope = stages.dirty_scope(con)
        times["core"], _ = timed(stages.stage_core, con, scope)
        times["marts"], _ = timed(stages.stage_marts, con, scope, load_rules())
        withheld = set()
        if with_quality:
            writer = Writer(settings.db_path, con)
            times["quality"], outcome = timed(run_quality, writer, settings, scope, stages.new_load_id())
            con = writer.con
            withheld = outcome.withheld
        times["publish"], _ = timed(stages.stage_publish, con, settings, scope, withheld)
    finally:
        con.close()
    return times


def stages_main(args) -> None:
    """The stages one by one in this process (no Dagster, no CLI, no reports): `--stages`."""

    landing, warehouse = args.out / "landing", args.out / "warehouse"
    print(f"generating {args.lines:,} voucher lines for {args.units} units ...", flush=True)
    bare_db = args.out / "bare.duckdb"
    bare_db.unlink(missing_ok=True)
    # Generating (DuckDB sorts a whole file in memory) and the bare read run in a child
    # process, so that this process's peak memory is the warehouse's alone.
    with ProcessPoolExecutor(max_workers=1) as pool:
        seconds, files = pool.submit(timed, generate, landing, args.lines, args.units).result()
        size = sum(f.stat().st_size for f in files) / 1e6
        print(f"  {len(files)} files, {size:,.0f} MB in {seconds:.1f} s")
        t_bare, rows = pool.submit(timed, bare_read, files, bare_db).result()
    bare_db.unlink(missing_ok=True)
    print(f"\n1. bare DuckDB read_csv of the same files: {t_bare:.2f} s ({rows:,} rows)")

    if warehouse.exists():
        shutil.rmtree(warehouse)
    settings = load_settings(landing, warehouse)
    times = full_pipeline(settings, with_quality=not args.skip_quality)
    times.setdefault("quality", 0.0)
    load_total = sum(times.values())
    print(f"   ingest (raw + staging):                   {times['ingest']:.2f} s  = {times['ingest'] / t_bare:.2f} x bare "
          "(target <= 2)")
    print(f"   peak memory of this process so far:       {peak_rss_mb():,.0f} MB (target <= 2048)")
    build = times["core"] + times["marts"]
    print(f"\n2. core + marts:                            {build:.2f} s  = {build / times['ingest']:.2f} x ingest "
          "(target <= 1)")
    print(f"   publish Parquet (internal + public):      {times['publish']:.2f} s")
    without_quality = load_total - times["quality"]
    print(f"\n3. quality checks:                         {times['quality']:.2f} s  = "
          f"{times['quality'] / without_quality:.1%} of the load without them (target <= 25 %)")
    print(f"\n4. BI query, spending by econ class of one unit-year on Parquet: {bi_query_ms(settings.marts_dir, '800000'):.1f} ms "
          "median of 20 (target <= 50)")

    december = landing / "800000" / "800000_2021年12月序时账.csv"
    con = duckdb.connect()
    write_unit_file(con, december, "800000", (args.lines // args.units // 11) // 4 * 4, (12, 12), seed=999)
    con.close()
    incremental = full_pipeline(settings, with_quality=not args.skip_quality)
    t_inc = sum(incremental.values())
    print(f"\n5. one unit's new month (incremental load): {t_inc:.2f} s  = {t_inc / load_total:.1%} of the full load "
          f"({load_total:.2f} s) (target <= 10 %)")
    print("   stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in incremental.items()))
    print(f"\npeak memory of this process: {peak_rss_mb():,.0f} MB")


# ------------------------------------------------------------------ end to end, through the CLI

# The progress lines that open each stage of `fiscal-warehouse load`, in run order: a
# stage lasts from its first line to the next stage's first line (the last one to the
# end of the process). The bench timestamps each line as it arrives on the pipe.
STAGE_MARKS = [
    ("Dagster start", re.compile(r"starting Dagster run")),
    ("reading", re.compile(r"\[\d+/\d+\] ")),
    ("staging", re.compile(r"^staged |core: ")),  # from the last file read on; see cli_stages
    ("core", re.compile(r"^core: ")),
    ("marts", re.compile(r"^marts: ")),
    ("checks", re.compile(r"^quality: ")),
    ("publishing", re.compile(r"^publishing ")),
    ("reports", re.compile(r"^reports: ")),
]
READING_LINE = re.compile(r"^(\[\d+/\d+\] |  read |  UNREADABLE |  DuckDB cannot)")


@dataclass
class CliRun:
    seconds: float
    exit_code: int
    stages: dict[str, float]
    summary: str


def cli_load(landing: Path, warehouse: Path, workers: int | None = None) -> CliRun:
    """`python -m pipelines.cli load` as a new process, as a user runs it; its progress lines
    (stderr) timestamped here on arrival."""
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "FISCAL_LANDING_DIR", "FISCAL_WAREHOUSE_DIR")}
    if workers is not None:
        env["FISCAL_WORKERS"] = str(workers)
    command = [sys.executable, "-m", "pipelines.cli", "load", "--landing", str(landing), "--warehouse", str(warehouse)]
    started = time.perf_counter()
    lines: list[tuple[float, str]] = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          bufsize=1) as process:
        for line in process.stderr:
            # drop the HH:MM:SS the CLI puts in front of a line when not on a terminal
            lines.append((time.perf_counter() - started, re.sub(r"^\d\d:\d\d:\d\d ", "", line.rstrip("\n"))))
        summary = process.stdout.read()
        code = process.wait()
    seconds = time.perf_counter() - started
    if code not in (0, 1):
        print("".join(f"{text}\n" for _, text in lines[-20:]) + summary, file=sys.stderr)
    return CliRun(seconds, code, cli_stages(lines, seconds), summary)


def cli_stages(lines: list[tuple[float, str]], end: float) -> dict[str, float]:
    """Seconds per stage from the timestamped progress lines; `python start` is the imports
    and configuration before Dagster starts; `staging` runs from the last file read to core."""
    starts: dict[str, float] = {"python start": 0.0}
    for name, pattern in STAGE_MARKS:
        if name == "staging":
            reading = [at for at, text in lines if READING_LINE.match(text)]
            if reading:
                starts[name] = reading[-1]
            continue
        found = next((at for at, text in lines if pattern.search(text)), None)
        if found is not None:
            starts[name] = found
    ordered = sorted(starts.items(), key=lambda item: item[1])
    return {name: (ordered[i + 1][1] if i + 1 < len(ordered) else end) - at for i, (name, at) in enumerate(ordered)}


def print_stages(run: CliRun) -> None:
    shares = ", ".join(f"{name} {seconds:.1f} s ({seconds / run.seconds:.0%})" for name, seconds in run.stages.items())
    print(f"   stages: {shares}")


def bare_read_by_layout(files: list[Path], db: Path) -> int:
    """The county's CSV files each read by DuckDB's own CSV reader into one table per header
    layout (skipping their title lines), file by file as in bare_read."""
    from county import csv_title_lines

    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar = false")
    con.execute("SET memory_limit = '1GB'")
    tables: dict[str, str] = {}  # header line -> table
    for path in files:
        skip = csv_title_lines(path)
        with open(path, encoding="utf-8-sig") as handle:
            header = [next(handle) for _ in range(skip + 1)][-1]
        source = f"read_csv({sql_literal(path.as_posix())}, skip = {skip}, header = true, all_varchar = true)"
        if header in tables:
            con.execute(f"INSERT INTO {tables[header]} SELECT * FROM {source}")
        else:
            tables[header] = f"bare_{len(tables)}"
            con.execute(f"CREATE TABLE {tables[header]} AS SELECT * FROM {source}")
    rows = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables.values())
    con.close()
    return rows


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def landing_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file() and not p.relative_to(landing).parts[0].startswith("_"))


def end_to_end(args, landing: Path, csv_files: list[Path], bare_rows: int, t_bare: float, change) -> None:
    """The full load, a load with nothing changed, one changed unit-year, and (when asked)
    the full load with 1 and 2 workers, all through the CLI."""
    files = landing_files(landing)
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"   {len(files):,} landing files ({len(csv_files):,} CSV), {size:,.0f} MB")
    print(f"\n1. bare DuckDB read_csv of the {len(csv_files):,} CSV files, file by file: {t_bare:.2f} s "
          f"({bare_rows:,} rows)")
    for workers in [1, 2] if args.compare_workers else [None]:
        warehouse = args.out / "warehouse"
        if warehouse.exists():
            shutil.rmtree(warehouse)
        full = cli_load(landing, warehouse, workers)
        label = f"FISCAL_WORKERS={workers}" if workers else "default workers"
        print(f"\n2. full load through the CLI ({label}): {full.seconds:.1f} s = {full.seconds / t_bare:.1f} x the bare "
              f"read (exit {full.exit_code})")
        print_stages(full)
    same = cli_load(landing, args.out / "warehouse")
    print(f"\n3. load with nothing changed: {same.seconds:.2f} s (exit {same.exit_code}; target <= 3 s on the demo)")
    what = change(landing)
    incremental = cli_load(landing, args.out / "warehouse")
    print(f"\n4. {what}: {incremental.seconds:.1f} s = {incremental.seconds / full.seconds:.1%} of the full load "
          f"({full.seconds:.1f} s) (target <= 10 %)")
    print_stages(incremental)


def county_main(args) -> None:
    from county import generate_county

    units = args.scale or 300
    landing = args.out / f"county-{units}" / "landing"
    if not (args.reuse and landing.is_dir()):
        print(f"generating a county: {units} units x 2 years, 16 files a unit-year ...", flush=True)
        seconds, count = timed(generate_county, landing, units)
        print(f"   {count:,} files in {seconds:.1f} s")
    csv_files = [p for p in landing_files(landing) if p.suffix == ".csv"]
    bare_db = args.out / "bare.duckdb"
    bare_db.unlink(missing_ok=True)
    with ProcessPoolExecutor(max_workers=1) as pool:
        t_bare, rows = pool.submit(timed, bare_read_by_layout, csv_files, bare_db).result()
    bare_db.unlink(missing_ok=True)

    def change(landing: Path) -> str:
        # the unit's June export sent again with more lines: one unit-year to rebuild
        from county import voucher_file
        import random

        folder = landing / "700000" / "2021" / "凭证"
        for old in folder.glob("2021年06月序时账.*"):
            old.unlink()
        voucher_file(folder, "700000", 2021, 6, 400, random.Random(time.time_ns()), as_xlsx=False)
        return "one unit-year changed (a monthly export sent again)"

    end_to_end(args, landing, csv_files, rows, t_bare, change)


def big_main(args) -> None:
    landing = args.out / "big" / "landing"
    if not (args.reuse and landing.is_dir()):
        print(f"generating {args.lines:,} voucher lines for {args.units} units ...", flush=True)
    bare_db = args.out / "bare.duckdb"
    bare_db.unlink(missing_ok=True)
    december = landing / "800000" / "800000_2021年12月序时账.csv"
    # the new month of an earlier run (--reuse): without this it is loaded by the full load,
    # and the "new month" below is the same bytes again, a load that changes nothing
    december.unlink(missing_ok=True)
    with ProcessPoolExecutor(max_workers=1) as pool:
        if not (args.reuse and landing.is_dir()):
            seconds, _ = pool.submit(timed, generate, landing, args.lines, args.units).result()
            print(f"   generated in {seconds:.1f} s")
        files = landing_files(landing)
        t_bare, rows = pool.submit(timed, bare_read, files, bare_db).result()
    bare_db.unlink(missing_ok=True)

    def change(landing: Path) -> str:
        con = duckdb.connect()
        write_unit_file(con, december, "800000", (args.lines // args.units // 11) // 4 * 4, (12, 12), seed=999)
        con.close()
        return "one unit's new month (incremental load)"

    end_to_end(args, landing, files, rows, t_bare, change)
    print(f"\n5. BI query, spending by econ class of one unit-year on Parquet: "
          f"{bi_query_ms(args.out / 'warehouse' / 'marts', '800000'):.1f} ms median of 20 (target <= 50)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("big", "county", "files"), default="big",
                        help="big: few large voucher exports; county: 300 units x 2 years of monthly exports and every "
                             "other kind; files: the per-file cost of small CSV and XLSX exports")
    parser.add_argument("--scale", type=int, help="county: number of units (default 300); files: number of files")
    parser.add_argument("--lines", type=int, default=5_000_000, help="big: voucher lines in all")
    parser.add_argument("--units", type=int, default=50, help="big: units (one export each)")
    parser.add_argument("--compare-workers", action="store_true", help="run the full load with 1 and with 2 workers")
    parser.add_argument("--reuse", action="store_true", help="keep the landing folder of an earlier run of this shape")
    parser.add_argument("--stages", action="store_true", help="big: the stages in this process, without the CLI")
    parser.add_argument("--profile", action="store_true", help="files: cProfile the ingest, print the top functions")
    parser.add_argument("--runs", type=int, default=1, help="files, --distributed: measure each this many times")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--skip-quality", action="store_true", help="--stages: leave the quality checks out")
    parser.add_argument("--distributed", action="store_true",
                        help="county: the per-partition stages through the distributed executor, 1 vs 2 workers "
                             "(bench_distributed.py --load; --runs pairs)")
    parser.add_argument("--pin", action="store_true",
                        help="--distributed: as machines of one core (the writer with the services on one CPU, "
                             "each other worker on one of its own)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.distributed:
        if args.shape != "county":
            parser.error("--distributed measures the county shape: add --shape county")
        command = [sys.executable, str(ROOT / "bench" / "bench_distributed.py"), "--load", "--scale",
                   str(args.scale or 300), "--runs", str(args.runs), "--out", str(args.out)]
        command += ["--reuse"] * args.reuse + ["--pin"] * args.pin
        sys.exit(subprocess.run(command, cwd=ROOT, check=False).returncode)
    if args.shape == "county":
        county_main(args)
    elif args.shape == "files":
        from small_files import files_main

        files_main(args)
    elif args.stages:
        stages_main(args)
    else:
        big_main(args)


if __name__ == "__main__":
    main()
