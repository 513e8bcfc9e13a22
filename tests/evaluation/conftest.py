"""The demo data loaded for real, once per test module that asks for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.settings import DEMO_LANDING_DIR
from tests.conftest import copy_demo_warehouse

UNIT, YEAR = "117001", 2021


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, demo_load) -> Path:
    """`fiscal-warehouse load` of the bundled demo landing folder (the default) into a
    fresh warehouse folder; returns that folder. The load writes the reports too. (A copy
    of the test run's one demo load, tests/conftest.py's demo_load: the same files.)"""
    return copy_demo_warehouse(demo_load, tmp_path_factory.mktemp("evaluation_wh"))


@pytest.fixture(scope="module")
def report_dir(loaded: Path) -> Path:
    out = loaded / "reports" / UNIT / str(YEAR)
    assert out.is_dir(), "the load did not write the evaluation outputs"
    return out


@pytest.fixture(scope="module")
def demo_texts_file() -> Path:
    return DEMO_LANDING_DIR / "_texts" / f"{UNIT}.md"
