"""GX is imported without scipy.stats and altair, which only expectations we do not use
need (pipelines.quality.gx_import), and those still work when something uses them.

In a new Python each: this test process may have imported them already."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from pipelines.settings import PACKAGE_DIR


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=PACKAGE_DIR.parent, timeout=300)
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
