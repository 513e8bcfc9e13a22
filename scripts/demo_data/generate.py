"""Generate the bundled demo landing folder (``pipelines/demo/landing``).

The demo data set is one budget unit, 117001 常宁市住房和城乡建设局 (the seed's bureau,
which also runs 人防办), for fiscal years 2020 and 2021.  FY2021 reproduces the seed
report (the bureau's published 2021 self-evaluation) to the fen; FY2020 is a plausible
prior year about 9 % lower, so that year-over-year figures exist.

The files are written the way the department's systems export them, with the quirks
of contract section 2 (title lines, 万元 files, footers, odd amounts and dates, several
spellings of a classification, stray spaces).  See ``pipelines/demo/README.md``.

Deterministic: a fixed random seed per section, no dependence on the current date or
time, fixed XLSX document properties, so every run writes byte-identical files.
Money is Decimal throughout; it is never a float except for the moment an exactly
representable value is handed to an XLSX number cell (checked).

The generator is not part of the runtime package (nothing in ``pipelines`` imports it):
the figures are data in ``figures``, rows are built by ``vouchers`` and ``budget``, files
written by ``writers``.

Usage, from the repository root::

    .venv/bin/python -m scripts.demo_data            # rewrites pipelines/demo/landing/
    .venv/bin/python -m scripts.demo_data --out DIR  # writes elsewhere (DIR is emptied first)
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from scripts.demo_data.budget import budget_2020, budget_2021
from scripts.demo_data.figures import (
    CONTRACTS_2020, CONTRACTS_2021, INDICATORS_2020, INDICATORS_2021, LEDGER_2020, LEDGER_2021, UNIT_CODE,
)
from scripts.demo_data.vouchers import build_2020, build_2021
from scripts.demo_data.writers import (
    budget_csv, budget_xlsx_wan, ledger_xlsx, procurement_csv_gbk, procurement_xlsx, staffing_csv, write_voucher_csv,
    write_voucher_xlsx,
)

REPOSITORY = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPOSITORY / "pipelines" / "demo" / "landing"


def generate(out: Path = DEFAULT_OUT) -> list[Path]:
    """Rewrite the demo exports in ``out``; return the files written.

    The unit's narrative texts (``_texts/``, the department's own words copied from the
    seed, not generated) are kept."""
    out = Path(out)
    if out.exists():
        for child in out.iterdir():
            if child.name != "_texts":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    base = out / UNIT_CODE

    v21 = build_2021()
    v20 = build_2020()

    y = base / "2021"
    write_voucher_csv(y / "凭证" / "2021年1-3月序时账.csv", v21, "Q1", seed=2101)
    write_voucher_csv(y / "凭证" / "2021年4-6月序时账.csv", v21, "Q2", seed=2102)
    write_voucher_csv(y / "凭证" / "2021年7-9月序时账.csv", v21, "Q3", seed=2103)
    write_voucher_xlsx(y / "凭证" / "2021年10-12月序时账.xlsx", v21, (10, 11, 12), seed=2104, in_wan=False)
    budget_csv(y / "预算" / "2021年预算指标明细.csv", budget_2021(v21), 2021)
    ledger_xlsx(y / "项目" / "2021年项目台账.xlsx", 2021, LEDGER_2021, INDICATORS_2021, unit_as_column=True)
    staffing_csv(y / "人员" / "2021年人员情况.csv", 2021)
    procurement_xlsx(y / "采购" / "2021年政府采购台账.xlsx", 2021, CONTRACTS_2021)

    y = base / "2020"
    write_voucher_xlsx(y / "凭证" / "2020年序时账（万元）.xlsx", v20, tuple(range(1, 13)), seed=2001, in_wan=True)
    budget_xlsx_wan(y / "预算" / "2020年预算指标（万元）.xlsx", budget_2020(v20), 2020)
    ledger_xlsx(y / "项目" / "2020年项目台账.xlsx", 2020, LEDGER_2020, INDICATORS_2020, unit_as_column=False)
    staffing_csv(y / "人员" / "2020年人员情况.csv", 2020)
    procurement_csv_gbk(y / "采购" / "2020年政府采购台账.csv", 2020, CONTRACTS_2020)

    return sorted(p for p in out.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (deleted and recreated)")
    args = parser.parse_args(argv)
    for p in generate(args.out):
        print(p.relative_to(args.out), p.stat().st_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
