"""GX is imported without scipy.stats and altair, which only expectations we do not use
need (pipelines.quality.gx_import), and those still work when something uses them.

In a new Python each: this test process may have imported them already."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import duckdb

from pipelines.settings import DEMO_LANDING_DIR, PACKAGE_DIR


def _python(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # the warehouse's own, as the CLI's
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=PACKAGE_DIR.parent, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_gx_is_imported_without_scipy_stats_and_altair_and_they_load_when_used():
    out = _python("""
        import sys
        import pipelines.quality.gx_duckdb
        from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
        print("before", "scipy.stats._stats_py" in sys.modules, "altair.vegalite" in sys.modules)
        print("entropy", round(float(kl.stats.entropy([0.5, 0.5], base=2)), 6))
        print("chart", type(kl.alt.Chart()).__name__)
        from scipy.stats import norm
        import scipy.stats
        print("after", sys.modules["scipy.stats"] is scipy.stats, scipy.stats.norm is norm, type(scipy.stats).__name__)
    """)
    assert out.splitlines() == ["before False False", "entropy 1.0", "chart Chart", "after True True module"]


def test_a_module_imported_before_gx_is_left_as_it_is():
    out = _python("""
        import scipy.stats
        import pipelines.quality.gx_duckdb
        import sys
        print(sys.modules["scipy.stats"] is scipy.stats, type(sys.modules["scipy.stats"]).__name__)
    """)
    assert out == "True module"


def test_a_load_validates_the_suites_in_its_workers_and_never_imports_gx_itself(tmp_path):
    """The writer lends the file to the checks' workers, which imported GX in their fork
    server; the writer itself imports GX only to attribute a critical failure to unit-years."""
    out = _python(f"""
        import contextlib, io, sys
        from pipelines.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["load", "--landing", {str(DEMO_LANDING_DIR)!r}, "--warehouse", {str(tmp_path / "wh")!r},
                         "--quiet"])
        print(code, "great_expectations" in sys.modules, "pipelines.quality.gx_duckdb" in sys.modules)
    """)
    assert out == "0 False False"
    con = duckdb.connect(str(tmp_path / "wh" / "warehouse.duckdb"), read_only=True)
    try:  # every suite ran, and passed, on the demo
        assert con.execute("SELECT count(*), count(*) FILTER (WHERE passed) FROM quality.check_runs "
                           "WHERE kind = 'expectation'").fetchone() == (19, 19)
    finally:
        con.close()
