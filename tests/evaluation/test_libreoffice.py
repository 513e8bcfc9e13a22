"""The generated XLSX (and DOCX) open in LibreOffice: a headless conversion to PDF succeeds.

LibreOffice is not a dependency of the project; without `libreoffice` on PATH the test is
skipped. (Debian: apt-get install -y libreoffice-calc libreoffice-writer.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.evaluation.outputs import REPORT_STEM, TABLE_FILE

pytestmark = pytest.mark.skipif(
    shutil.which("libreoffice") is None,
    reason="libreoffice is not on PATH (apt-get install -y libreoffice-calc libreoffice-writer to run this check)",
)


def convert(source, out_dir, profile) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["libreoffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(out_dir), str(source)],
        capture_output=True, text=True, timeout=240,
    )


def _has_component(library: str) -> bool:
    """Debian splits LibreOffice: libreoffice-calc and libreoffice-writer each bring their library."""
    program = Path(shutil.which("libreoffice") or "/").resolve().parent
    return any(program.glob(library)) or any(Path("/usr/lib/libreoffice/program").glob(library))


@pytest.mark.parametrize("name", [
    pytest.param(TABLE_FILE, id="xlsx", marks=pytest.mark.skipif(not _has_component("libsclo.so"),
                                                                 reason="libreoffice-calc is not installed")),
    pytest.param(f"{REPORT_STEM}.docx", id="docx", marks=pytest.mark.skipif(not _has_component("libswlo.so"),
                                                                           reason="libreoffice-writer is not installed")),
])
def test_libreoffice_converts_the_output(report_dir, tmp_path, name):
    result = convert(report_dir / name, tmp_path, tmp_path / "profile")
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / (name.rsplit(".", 1)[0] + ".pdf")
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
    if name == TABLE_FILE and shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"^Pages:\s+1$", info, re.M), info  # the demo table fits on one A4 landscape page


@pytest.mark.parametrize("book, folder", [
    ("项目支出绩效自评表.xlsx", "项目支出绩效自评表"),
    # assembled from the internal book's sheets without the 涉密 project (xlsx_sheets.py)
    ("项目支出绩效自评表（公开版）.xlsx", "项目支出绩效自评表（公开版）"),
], ids=["internal", "public"])
def test_every_project_table_is_one_a4_page(report_dir, tmp_path, book, folder):
    if not shutil.which("pdfinfo"):
        pytest.skip("pdfinfo is not on PATH")
    book = report_dir / book  # every project a sheet: one page each
    result = convert(book, tmp_path, tmp_path / "profile")
    assert result.returncode == 0, result.stderr
    info = subprocess.run(["pdfinfo", str(tmp_path / f"{book.stem}.pdf")], capture_output=True, text=True,
                          check=True).stdout
    projects = len(list((report_dir / folder).iterdir()))
    assert re.search(rf"^Pages:\s+{projects}$", info, re.M), info


def test_a_project_table_file_is_one_a4_page(report_dir, tmp_path):
    """One project's workbook, assembled from a sheet of the book (xlsx_sheets.py)."""
    if not shutil.which("pdfinfo"):
        pytest.skip("pdfinfo is not on PATH")
    table = sorted((report_dir / "项目支出绩效自评表（公开版）").iterdir())[-1]
    result = convert(table, tmp_path, tmp_path / "profile")
    assert result.returncode == 0, result.stderr
    info = subprocess.run(["pdfinfo", str(tmp_path / f"{table.stem}.pdf")], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
