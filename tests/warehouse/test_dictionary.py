"""The data dictionary describes every mart column, is current, and its examples run."""

import duckdb
import pytest

from pipelines.warehouse.db import connect
from pipelines.warehouse.dictionary import column_descriptions, dictionary
from pipelines.warehouse.marts_doc import DOC_FILE, render
from pipelines.warehouse.transform import MART_MODELS


@pytest.fixture(scope="module")
def column_types(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse.db_path), read_only=True)
    try:
        return {m: [(r[0], r[1]) for r in con.execute(f"DESCRIBE build.{m}").fetchall()] for m in MART_MODELS}
    finally:
        con.close()


def test_every_column_is_described(column_types):
    for mart, columns in column_types.items():
        described = column_descriptions(mart)
        missing = [name for name, _ in columns if name not in described]
        assert not missing, (mart, missing)


def test_docs_are_current(column_types):
    assert DOC_FILE.read_text(encoding="utf-8") == render(column_types), (
        "docs/marts.md is stale: run `python -m pipelines.warehouse.marts_doc`")


@pytest.mark.parametrize("mart", MART_MODELS)
@pytest.mark.parametrize("where", ["bi.duckdb", "warehouse.duckdb"])
def test_example_questions_run(demo_warehouse, mart, where):
    # On bi.duckdb, the file BI tools open, and on the loader's views (relative paths, as connect() reads them).
    questions = dictionary()[mart]["questions"]
    assert len(questions) >= 3
    path = demo_warehouse.warehouse_dir / where
    con = duckdb.connect(str(path), read_only=True) if where == "bi.duckdb" else connect(path, read_only=True)
    try:
        for item in questions:
            con.execute(item["sql"]).fetchall()
        assert con.execute(questions[0]["sql"]).fetchall(), questions[0]["question"]
    finally:
        con.close()
