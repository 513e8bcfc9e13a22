"""The PostgreSQL mirror on a real server: figures, roles, partial reloads, a database that
is down. One warehouse for the module: the demo plus a small unit 900001."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from decimal import Decimal

import duckdb
import psycopg
import pytest
import sqlalchemy as sa

from pipelines.bi.postgres import INTERNAL_ROLE, PUBLIC_ROLE
from pipelines.cli import main as cli_main
from pipelines.settings import DEMO_LANDING_DIR, PROJECT_DIR
from pipelines.warehouse.dictionary import dictionary
from pipelines.warehouse.transform import MART_MODELS
from tests.conftest import payment, run_load, voucher_file

DSN_ENV = "FISCAL_BI_POSTGRES_DSN"


def _load(landing, warehouse) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_load(landing, warehouse)
    return code, out.getvalue()


def _partition_versions(dsn: str) -> dict[tuple[str, str, str, int], str]:
    """Per table and unit-year, the transaction ids that wrote its rows: unchanged when not rewritten."""
    versions = {}
    with psycopg.connect(dsn) as pg:
        for schema in ("marts", "marts_public"):
            for mart in MART_MODELS:
                for unit, year, xmins in pg.execute(
                    f"SELECT unit_code, fiscal_year, string_agg(DISTINCT xmin::text, ',') FROM {schema}.{mart} GROUP BY 1, 2"
                ).fetchall():
                    versions[(schema, mart, unit, year)] = xmins
    return versions


@pytest.fixture(scope="module")
def mirrored(postgres, tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    landing, warehouse = root / "landing", root / "wh"
    shutil.copytree(DEMO_LANDING_DIR, landing)
    unit_file = voucher_file(landing / "900001" / "2021.csv", payment("2021-03-01", "记-1", "10"))
    saved = os.environ.get(DSN_ENV)
    os.environ[DSN_ENV] = postgres.dsn()
    try:
        assert cli_main(["bi-setup"]) == 0
        code, summary = _load(landing, warehouse)
        yield {"postgres": postgres, "landing": landing, "warehouse": warehouse, "unit_file": unit_file,
               "first": (code, summary)}
    finally:
        if saved is None:
            os.environ.pop(DSN_ENV, None)
        else:
            os.environ[DSN_ENV] = saved


def test_the_mirror_holds_the_parquet_figures(mirrored):
    code, summary = mirrored["first"]
    assert code == 0, summary
    assert "postgres mirror:  3 unit-year(s) mirrored" in summary
    warehouse = mirrored["warehouse"]
    con = duckdb.connect()
    with psycopg.connect(mirrored["postgres"].dsn()) as pg:
        for schema in ("marts", "marts_public"):
            for mart in MART_MODELS:
                columns = [r[0] for r in pg.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                    "ORDER BY ordinal_position", [schema, mart]).fetchall()]
                names = ", ".join(f'"{c}"' for c in columns)
                in_postgres = pg.execute(f"SELECT {names} FROM {schema}.{mart} ORDER BY {names}").fetchall()
                in_parquet = con.execute(
                    f"SELECT {names} FROM read_parquet('{warehouse}/{schema}/{mart}/*/*.parquet', hive_partitioning = false) "
                    f"ORDER BY {', '.join(f'{c} NULLS LAST' for c in columns)}").fetchall()
                assert in_postgres == in_parquet, (schema, mart)
                assert in_postgres or mart == "performance_indicators"
        assert pg.execute("SELECT total_yuan FROM marts.spending_by_year WHERE unit_code = '900001'"
                          ).fetchall() == [(Decimal("10.00"),)]
        assert pg.execute("SELECT obj_description('marts.spending_by_year'::regclass)").fetchone()[0]


def test_the_public_role_reads_only_the_public_marts(mirrored):
    server = mirrored["postgres"]
    with psycopg.connect(server.dsn(PUBLIC_ROLE)) as pg:
        assert pg.execute("SELECT count(*) FROM marts_public.spending_by_project").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for schema marts"):
            pg.execute("SELECT count(*) FROM marts.spending_by_project")
    with psycopg.connect(server.dsn(INTERNAL_ROLE)) as pg:
        internal = pg.execute("SELECT count(*) FROM marts.performance_indicators").fetchone()[0]
        public = pg.execute("SELECT count(*) FROM marts_public.performance_indicators").fetchone()[0]
        assert internal > public > 0  # the 涉密 projects' indicators are in the internal marts only
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pg.execute("DELETE FROM marts_public.spending_by_year")


def docs_questions() -> list[str]:
    """The ```sql blocks of docs/bi.md: its example questions."""
    text = (PROJECT_DIR / "docs" / "bi.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```sql\n(.*?)```", text, flags=re.S)]


def test_bi_clients_get_the_same_answers_from_bi_duckdb_and_postgres(mirrored):
    """Through SQLAlchemy, as Superset connects: duckdb-engine on bi.duckdb (read-only) and
    psycopg on the mirror, as the internal reader; every example question of docs/bi.md."""
    questions = docs_questions()
    assert len(questions) >= 5
    duck = sa.create_engine(f"duckdb:///{mirrored['warehouse'] / 'bi.duckdb'}?access_mode=read_only")
    postgres = sa.create_engine(mirrored["postgres"].url(INTERNAL_ROLE))
    try:
        with duck.connect() as d, postgres.connect() as p:
            for question in questions:
                answer = d.execute(sa.text(question)).fetchall()
                assert answer, question
                assert [tuple(row) for row in p.execute(sa.text(question)).fetchall()] == [tuple(r) for r in answer], \
                    question
            # The DuckDB-dialect examples of docs/marts.md run on bi.duckdb as they do on the warehouse.
            for mart in MART_MODELS:
                for item in dictionary()[mart]["questions"]:
                    d.execute(sa.text(item["sql"])).fetchall()
    finally:
        duck.dispose()
        postgres.dispose()


def test_a_reload_rewrites_only_the_changed_unit_years_and_a_database_down_catches_up(mirrored):
    server, landing, warehouse = mirrored["postgres"], mirrored["landing"], mirrored["warehouse"]
    before = _partition_versions(server.dsn())
    voucher_file(mirrored["unit_file"], payment("2021-03-01", "记-1", "10") + payment("2021-03-02", "记-2", "5"))
    code, summary = _load(landing, warehouse)
    assert code == 0, summary
    assert "postgres mirror:  1 unit-year(s) mirrored" in summary
    after = _partition_versions(server.dsn())
    changed = sorted({(unit, year) for key in after for (_, _, unit, year) in [key] if after[key] != before.get(key)})
    assert changed == [("900001", 2021)]

    # The database is down: Parquet is still published, the mirror is reported failed, exit 1.
    server.stop()
    try:
        voucher_file(mirrored["unit_file"], payment("2021-03-01", "记-1", "10") + payment("2021-03-02", "记-2", "7"))
        code, summary = _load(landing, warehouse)
    finally:
        server.start()
    assert code == 1, summary
    assert "postgres mirror:  FAILED" in summary and "1 unit-year(s) pending" in summary
    con = duckdb.connect(str(warehouse / "bi.duckdb"), read_only=True)
    assert con.execute("SELECT total_yuan FROM marts.spending_by_year WHERE unit_code = '900001'"
                       ).fetchall() == [(Decimal("17.00"),)]
    con.close()
    with psycopg.connect(server.dsn()) as pg:
        assert pg.execute("SELECT total_yuan FROM marts.spending_by_year WHERE unit_code = '900001'"
                          ).fetchall() == [(Decimal("15.00"),)]

    # The next load, with nothing else to do, catches up.
    code, summary = _load(landing, warehouse)
    assert code == 0, summary
    assert "postgres mirror:  1 unit-year(s) mirrored" in summary
    with psycopg.connect(server.dsn()) as pg:
        assert pg.execute("SELECT total_yuan FROM marts.spending_by_year WHERE unit_code = '900001'"
                          ).fetchall() == [(Decimal("17.00"),)]
    code, summary = _load(landing, warehouse)
    assert code == 0 and "nothing to do" in summary, summary
