"""The demo's evaluation outputs say exactly what the reference rendering says.

The reference (tests/evaluation/reference/<unit>/<year>/) was extracted from the
outputs of a demo load: `content.json` holds the files written (the sub-folders'
项目支出绩效自评表 too), the text of every DOCX paragraph and table cell (python-docx)
and the number of pictures, and every XLSX cell value and merged range (openpyxl); the
Markdown files are kept as written. Charts are compared by name and as valid PNGs
(their pixels may change with the drawing code).

It guards the speed work on the report stage (issue 10): rendering faster, in worker
processes or in-process, must not change a word. When the report CONTENT changes on
purpose, regenerate the reference with one command and review the diff:

    .venv/bin/python tests/evaluation/test_report_equivalence.py

(it loads the bundled demo into a temporary warehouse and rewrites the reference
folder; the output is deterministic: same code, same files.)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import docx
import duckdb
import openpyxl
import PIL.Image
import pytest

from pipelines.evaluation.outputs import write_reports
from pipelines.evaluation.rules import load_rules
from pipelines.settings import Settings

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
CONTENT_FILE = "content.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ extraction


def docx_content(path: Path) -> dict:
    document = docx.Document(str(path))
    return {
        "paragraphs": [p.text for p in document.paragraphs],
        "tables": [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables],
        "pictures": len(document.inline_shapes),
    }


def xlsx_content(path: Path) -> dict:
    workbook = openpyxl.load_workbook(path)  # formulas as written (a cell "=…" would show here)
    sheets = {}
    for ws in workbook.worksheets:
        cells = {cell.coordinate: cell.value for row in ws.iter_rows() for cell in row if cell.value is not None}
        sheets[ws.title] = {"cells": cells, "merged": sorted(str(r) for r in ws.merged_cells.ranges)}
    return sheets


def unit_year_content(folder: Path) -> dict:
    """Everything compared for one unit-year's report folder (and its sub-folders), except
    the Markdown text; files by their path relative to the folder."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    content: dict = {"files": files, "docx": {}, "xlsx": {}}
    for name in files:
        if name.endswith(".docx"):
            content["docx"][name] = docx_content(folder / name)
        elif name.endswith(".xlsx"):
            content["xlsx"][name] = xlsx_content(folder / name)
    # Through JSON, so that what is compared is what the reference file can hold.
    return json.loads(json.dumps(content, ensure_ascii=False))


def report_folders(reports_dir: Path) -> dict[str, Path]:
    """`<unit>/<year>` -> folder, for every unit-year with reports (the quality folder is not one)."""
    return {f"{d.parent.name}/{d.name}": d for d in sorted(reports_dir.glob("*/*"))
            if d.is_dir() and d.parent.name != "quality"}


def write_reference(reports_dir: Path, reference_dir: Path = REFERENCE_DIR) -> list[str]:
    """Replace the reference with the outputs in `reports_dir`; returns the unit-years written."""
    if reference_dir.exists():
        shutil.rmtree(reference_dir)
    written = []
    for key, folder in report_folders(reports_dir).items():
        target = reference_dir / key
        target.mkdir(parents=True)
        content = unit_year_content(folder)
        (target / CONTENT_FILE).write_text(json.dumps(content, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                           encoding="utf-8")
        for md in sorted(folder.glob("*.md")):
            (target / md.name).write_bytes(md.read_bytes())
        written.append(key)
    return written


def regenerate() -> None:
    """Load the demo into a temporary warehouse and rewrite the reference from its reports."""
    import os

    from pipelines.cli import main

    with tempfile.TemporaryDirectory(prefix="report_reference_") as tmp:
        warehouse = Path(tmp) / "warehouse"
        os.environ.pop("FISCAL_LANDING_DIR", None)
        os.environ["DAGSTER_HOME"] = str(warehouse / ".dagster")
        if main(["load", "--warehouse", str(warehouse), "--quiet"]) != 0:
            sys.exit("the demo load failed; reference not written")
        for key in write_reference(warehouse / "reports"):
            print(f"reference written: {REFERENCE_DIR / key}")


# ------------------------------------------------------------------ tests


def assert_same_as_reference(reports_dir: Path) -> None:
    folders = report_folders(reports_dir)
    expected_keys = sorted(f"{d.parent.name}/{d.name}" for d in REFERENCE_DIR.glob("*/*") if d.is_dir())
    assert sorted(folders) == expected_keys
    for key, folder in folders.items():
        reference = REFERENCE_DIR / key
        expected = json.loads((reference / CONTENT_FILE).read_text(encoding="utf-8"))
        actual = unit_year_content(folder)
        assert actual["files"] == expected["files"], key
        for kind in ("xlsx", "docx"):
            for name in expected[kind]:
                assert actual[kind][name] == expected[kind][name], f"{key}/{name}"
        for md in sorted(reference.glob("*.md")):
            assert (folder / md.name).read_text(encoding="utf-8") == md.read_text(encoding="utf-8"), f"{key}/{md.name}"
        for name in expected["files"]:
            if name.endswith(".png"):
                data = (folder / name).read_bytes()
                assert data.startswith(PNG_SIGNATURE), f"{key}/{name} is not a PNG"
                with PIL.Image.open(folder / name) as image:
                    image.load()  # decodes every pixel: a truncated file fails here
                    assert image.width > 300 and image.height > 100, f"{key}/{name}: {image.size}"


def test_demo_load_reports_match_the_reference(demo_warehouse):
    assert_same_as_reference(demo_warehouse.reports_dir)


@pytest.mark.parametrize("workers", [1, 2])
def test_rendered_in_process_or_in_workers_the_same(demo_warehouse, tmp_path, workers):
    """write_reports renders in-process with one worker and in worker processes with more:
    the same files either way, and the paths it returns are the files written."""
    settings = Settings(demo_warehouse.landing_dir, tmp_path)
    con = duckdb.connect(str(demo_warehouse.db_path), read_only=True)
    try:
        scope = {("117001", 2021), ("117001", 2020)}
        written = write_reports(con, settings, scope, load_rules(), lambda _: None, workers=workers)
    finally:
        con.close()
    assert_same_as_reference(settings.reports_dir)
    on_disk = sorted(p.relative_to(tmp_path).as_posix() for p in settings.reports_dir.rglob("*") if p.is_file())
    assert sorted(written) == on_disk
    assert written[0].startswith("reports/117001/2020/")  # unit-year order


if __name__ == "__main__":
    regenerate()
