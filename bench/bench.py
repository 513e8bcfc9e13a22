"""Benchmark: the warehouse on N synthetic voucher lines, against bare DuckDB in the same run.

    .venv/bin/python bench/bench.py                      # 5,000,000 lines, 50 units
    .venv/bin/python bench/bench.py --lines 1000000 --units 20

Prints, each as a ratio to a baseline measured in this same process (these machines are
noisy, absolute seconds are not comparable between runs):
  1. ingest (raw + staging) vs a bare `CREATE TABLE AS SELECT * FROM read_csv(...)` of the
     same files (target <= 2x at 5,000,000 lines; peak memory <= 2 GB);
  2. core + marts vs the ingest (target <= 1x);
  3. quality checks vs the load without them (target <= 25 %);
  4. a typical BI query on the Parquet marts (spending by economic class of one unit-year,
     target <= 50 ms);
  5. an incremental load of one unit's new month vs the full load (target <= 10 %).
The synthetic exports look like the real ones: title lines, `单位：<code> <name>`, a
period line, thousands separators, `code name` classification cells, both books.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
import gc
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.evaluation.rules import load_rules  # noqa: E402
from pipelines.settings import load_settings  # noqa: E402
from pipelines.warehouse import load as stages  # noqa: E402
from pipelines.warehouse.db import connect  # noqa: E402

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
            times["quality"], outcome = timed(run_quality, con, settings, scope, stages.new_load_id())
            withheld = outcome.withheld
        times["publish"], _ = timed(stages.stage_publish, con, settings, scope, withheld)
    finally:
        con.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--skip-quality", action="store_true", help="leave the quality checks out")
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
