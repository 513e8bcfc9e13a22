"""Shared by scripts/demo and scripts/test: make ./.venv with the project installed, once.

Needs nothing but Python 3.11+. Re-installs only when pyproject.toml changed.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".fiscal-warehouse-installed"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"fiscal-warehouse needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not venv_python().exists():
        print(f"creating the virtual environment {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + INSTALL_RECIPE.encode()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("installing fiscal-warehouse and its dependencies (first run: a few minutes) ...", flush=True)
        install_project()
        STAMP.write_text(wanted)
    return venv_python()


UV = "uv==0.13.9"
# Part of the install stamp: a venv installed another way is installed again.
INSTALL_RECIPE = f"{UV} --compile-bytecode"


def install_project() -> None:
    """pip install -e .[dev] into the venv, through uv when it can be had: uv downloads and
    unpacks the ~170 packages in parallel and keeps them in its cache (~/.cache/uv), pip one
    after the other. pip is the fallback, and installs the same pins.

    The packages' bytecode is compiled at install, as pip does and uv does not by default:
    where PYTHONDONTWRITEBYTECODE is set (as on our CI machines) nothing is ever cached
    otherwise, and every process that imports Dagster and Great Expectations compiles them
    again (16 s instead of 7 s here, paid by every CLI run, test worker and dask worker)."""
    python = str(venv_python())
    try:
        subprocess.run([python, "-m", "pip", "install", "--quiet", UV], check=True)
        subprocess.run([python, "-m", "uv", "pip", "install", "--quiet", "--compile-bytecode", "--python", python,
                        "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)
        return
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"uv could not install the project ({error}); pip installs it instead", flush=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)


def ensure_postgres() -> None:
    """PostgreSQL for the distributed test (tests/distributed): its programs on PATH or in
    Debian's /usr/lib/postgresql/<version>/bin, else apt-get installs them when we are root;
    otherwise the test fails and says what is missing."""
    if shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing PostgreSQL for the distributed test (apt-get install postgresql) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"], check=True, env=env)
    else:
        print("PostgreSQL is not installed (initdb, pg_ctl, postgres): the distributed test will fail; "
              "on Debian: sudo apt-get install postgresql", file=sys.stderr)


def run(args: list[str]) -> int:
    python = ensure_venv()
    if args[:2] == ["-m", "pytest"]:
        ensure_postgres()
    return subprocess.call([str(python), *args], cwd=ROOT)
