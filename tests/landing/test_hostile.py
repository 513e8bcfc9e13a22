"""Hostile landing files: each one is reported unreadable with its reason, and the good
files next to them load, in one real `fiscal-warehouse load` (a process of its own).

Tests run as root in CI, where chmod 000 stops nothing: then the load runs as the
unprivileged user `nobody`, so that the unreadable file and folder are really unreadable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import VOUCHER_HEADER, payment, query, voucher_file, write_xlsx

FISCAL_WAREHOUSE = Path(sys.executable).with_name("fiscal-warehouse")
NOBODY = 65534
OFFICIAL_NAME = "常宁市住房和城乡建设局（人防办）"
BOMB_LIMIT = 64 * 1024 * 1024  # FISCAL_MAX_UNCOMPRESSED_BYTES for this load: a bomb that bursts it is quick to write

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="凭证" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_START = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
# A header cell, and one number in the last cell a sheet can have (XFD1048576).
_SPARSE_CELLS = (
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>\xe5\x87\xad\xe8\xaf\x81\xe6\x97\xa5\xe6\x9c\x9f</t></is></c></row>'
    b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'
)


def _workbook(path: Path, write_sheet) -> Path:
    """A minimal XLSX (one sheet, 凭证) whose sheet XML `write_sheet(stream)` writes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            write_sheet(stream)
    return path


def sparse_workbook(path: Path, dimension: bool) -> Path:
    """Used range A1:XFD1048576 (17 billion cells), with or without the <dimension> that says so.
    Without it the Excel reader learns the range only while it reads, and aborts the process."""
    head = _SHEET_START + (b'<dimension ref="A1:XFD1048576"/>' if dimension else b"")
    return _workbook(path, lambda stream: stream.write(head + _SPARSE_CELLS))


def zip_bomb(path: Path, inflated: int) -> Path:
    """A workbook of a few hundred kB whose sheet inflates to `inflated` bytes."""
    row = b'<row><c t="inlineStr"><is><t>' + b"A" * 100 + b"</t></is></c></row>"
    chunk = row * 8000

    def write(stream):
        stream.write(_SHEET_START + b'<dimension ref="A1:A1"/><sheetData>')
        for _ in range(inflated // len(chunk) + 1):
            stream.write(chunk)
        stream.write(b"</sheetData></worksheet>")

    return _workbook(path, write)


def hostile_landing(base: Path) -> tuple[Path, dict[str, str]]:
    """A landing folder of good files and hostile ones; returns it and, per hostile file
    (its source_file), a part of the reason it must be reported with."""
    landing, outside = base / "landing", base / "outside"
    good_lines = payment("2021-01-05", "记-1", "10") + payment("2021-02-05", "记-2", "20")
    # the unit's code full-width, its official name with full-width brackets: kept as written
    voucher_file(landing / "good" / "q1.csv", good_lines, unit=f"９００００１\u3000{OFFICIAL_NAME}")
    write_xlsx(landing / "good" / "q2.xlsx", {"序时账": [["单位：900002 第二单位"], ["单位：元"],
                                                       VOUCHER_HEADER] + payment("2021-04-05", "记-1", "30")})
    voucher_file(landing / "locked" / "inside.csv", payment("2021-05-05", "记-9", "1000"))
    voucher_file(outside / "elsewhere.csv", payment("2021-06-05", "记-1", "500"))
    (outside / "folder").mkdir()
    hostile = landing / "hostile"
    hostile.mkdir()
    (hostile / "dangling.csv").symlink_to(landing / "no-such-file.csv")
    (hostile / "passwd.csv").symlink_to("/etc/passwd")
    (hostile / "elsewhere.csv").symlink_to(outside / "elsewhere.csv")
    (hostile / "folder_elsewhere").symlink_to(outside / "folder")
    os.mkfifo(hostile / "pipe.csv")
    voucher_file(hostile / "secret.csv", payment("2021-07-05", "记-1", "700"))
    big = voucher_file(hostile / "big_cell.csv", payment("2021-08-05", "记-1", "800"))
    with open(big, "ab") as handle:  # one more line whose 摘要 is 10 MB
        handle.write(b'2021-08-06,\xbc\xc7-2,1,"' + b"x" * 10 * 1024 * 1024 + b'",7101,,1,,2120101,30201,,\r\n')
    sparse_workbook(hostile / "sparse_dimension.xlsx", dimension=True)
    sparse_workbook(hostile / "sparse_crash.xlsx", dimension=False)
    zip_bomb(hostile / "bomb.xlsx", BOMB_LIMIT + 16 * 1024 * 1024)
    (hostile / "forged\n[9-9] FORGED.csv").write_bytes(b"\x00\x01 not an export")
    expected = {
        "hostile/dangling.csv": "dangling symbolic link",
        "hostile/passwd.csv": "outside the landing folder, not followed",
        "hostile/elsewhere.csv": "outside the landing folder, not followed",
        "hostile/folder_elsewhere/": "outside the landing folder, not followed",
        "hostile/pipe.csv": "not a regular file",
        "hostile/secret.csv": "cannot open the file: Permission denied",
        "locked/": "cannot read the folder: Permission denied",
        "hostile/big_cell.csv": "longer than 1,048,576 characters (FISCAL_MAX_CELL_BYTES)",
        "hostile/sparse_dimension.xlsx": "the used range A1:XFD1048576 of sheet 凭证 has 17,179,869,184 cells",
        "hostile/sparse_crash.xlsx": "the Excel reader crashed",
        "hostile/bomb.xlsx": "over the limit of 67,108,864 (FISCAL_MAX_UNCOMPRESSED_BYTES)",
        "hostile/forged\n[9-9] FORGED.csv": "no recognisable header row",
    }
    return landing, expected


@pytest.fixture
def base():
    """A folder the unprivileged user can reach (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="hostile-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    for folder in path.rglob("*"):
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(0o755)
    shutil.rmtree(path)


def run_cli(landing: Path, warehouse: Path, base: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLCONFIGDIR=str(base / "mpl"), HOME=str(base),
               FISCAL_MAX_UNCOMPRESSED_BYTES=str(BOMB_LIMIT))
    env.pop("DAGSTER_HOME", None)
    as_nobody = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if os.geteuid() == 0 else {}
    return subprocess.run([str(FISCAL_WAREHOUSE), "load", "--landing", str(landing), "--warehouse", str(warehouse)],
                          env=env, capture_output=True, text=True, timeout=600, cwd=base, **as_nobody)


def test_every_hostile_file_is_reported_and_the_good_files_load(base):
    landing, expected = hostile_landing(base)
    warehouse = base / "warehouse"
    warehouse.mkdir()
    (base / "mpl").mkdir()
    (landing / "hostile" / "secret.csv").chmod(0o000)
    (landing / "locked").chmod(0o000)
    if os.geteuid() == 0:
        for path in (warehouse, base / "mpl"):
            os.chown(path, NOBODY, NOBODY)

    done = run_cli(landing, warehouse, base)

    assert done.returncode == 0, done.stderr[-3000:]
    files = dict(query(warehouse, "SELECT source_file, reason FROM meta.files WHERE status = 'unreadable'"))
    assert sorted(files) == sorted(expected)
    for name, reason in expected.items():
        assert reason in files[name], (name, files[name])
    quarantined = query(warehouse, "SELECT source_file FROM quarantine WHERE reason_code = 'unreadable_file'")
    assert sorted(name for (name,) in quarantined) == sorted(expected)
    # the good files: every line read and loaded, nothing of the hostile ones
    assert query(warehouse, "SELECT source_file, count(*) FROM raw.voucher_lines GROUP BY 1 ORDER BY 1") == [
        ("good/q1.csv", 8), ("good/q2.xlsx", 4)]
    assert query(warehouse, "SELECT count(*) FROM quarantine WHERE reason_code <> 'unreadable_file'") == [(0,)]
    assert query(warehouse, "SELECT count(*) FROM staging.voucher_lines WHERE reject_code IS NULL") == [(12,)]
    # the official name as written, inside and in public (its code folded)
    for schema in ("build", "build_public"):
        assert query(warehouse, f"SELECT DISTINCT unit_code, unit_name FROM {schema}.spending_by_year ORDER BY 1") == [
            ("900001", OFFICIAL_NAME), ("900002", "第二单位")]
    # the summary counts them; no file name forged a line of the output
    assert f"{len(expected)} unreadable" in done.stdout
    assert not any(line.startswith("[9-9] FORGED") for line in (done.stdout + done.stderr).splitlines())
    assert "forged\\n[9-9] FORGED.csv" in done.stdout
