"""The demo data loaded for real, once per test module that asks for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.settings import DEMO_LANDING_DIR

UNIT, YEAR = "117001", 2021


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """`fiscal-warehouse load` of the bundled demo landing folder (the default) into a
    fresh warehouse folder; returns that folder. The load writes the reports too."""
    warehouse = tmp_path_factory.mktemp("evaluation_wh")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("FISCAL_LANDING_DIR", raising=False)
        mp.delenv("FISCAL_WAREHOUSE_DIR", raising=False)
        mp.setenv("DAGSTER_HOME", str(warehouse / ".dagster"))  # restored afterwards
        assert main(["load", "--warehouse", str(warehouse), "--quiet"]) == 0
    return warehouse


@pytest.fixture(scope="module")
def report_dir(loaded: Path) -> Path:
    out = loaded / "reports" / UNIT / str(YEAR)
    assert out.is_dir(), "the load did not write the evaluation outputs"
    return out


@pytest.fixture(scope="module")
def demo_texts_file() -> Path:
    return DEMO_LANDING_DIR / "_texts" / f"{UNIT}.md"
