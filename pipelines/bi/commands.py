"""`fiscal-warehouse bi-setup` and `fiscal-warehouse export`: the BI commands of the CLI
(registered by pipelines.cli.build_parser)."""

from __future__ import annotations

import os
import sys

from pipelines.bi.postgres import INTERNAL_ROLE, PUBLIC_ROLE, setup
from pipelines.bi.publishing import POSTGRES_DSN_ENV
from pipelines.bi.xlsx import ExportError, export_marts
from pipelines.cli_common import EXIT_BLOCKING, EXIT_OK, settings_from_args, usage_error

PUBLIC_PASSWORD_ENV, INTERNAL_PASSWORD_ENV = "FISCAL_BI_PUBLIC_PASSWORD", "FISCAL_BI_INTERNAL_PASSWORD"


def add_bi_commands(sub, common) -> None:
    setup = sub.add_parser("bi-setup", help="create the PostgreSQL mirror's schemas and its two reader roles")
    setup.add_argument("--dsn", help="the loader's PostgreSQL connection (default: $FISCAL_BI_POSTGRES_DSN)")
    setup.add_argument("--public-role", default=PUBLIC_ROLE, help=f"reads marts_public only (default {PUBLIC_ROLE})")
    setup.add_argument("--internal-role", default=INTERNAL_ROLE,
                       help=f"reads marts and marts_public (default {INTERNAL_ROLE})")
    setup.set_defaults(handler=cmd_bi_setup)

    export = sub.add_parser("export", help="public marts as XLSX with Chinese headers, for Excel and WPS")
    common(export)
    export.add_argument("--unit", action="append", help="only this unit (repeatable; default all)")
    export.add_argument("--year", action="append", type=int, help="only this fiscal year (repeatable; default all)")
    export.add_argument("--mart", action="append", help="only this mart (repeatable; default all)")
    export.add_argument("--internal", action="store_true", help="the internal marts (with 涉密 projects) instead")
    export.add_argument("--output", help="the XLSX file to write (default: exports/<selection>.xlsx in the warehouse)")
    export.set_defaults(handler=cmd_export)


def cmd_bi_setup(args) -> int:
    dsn = args.dsn or os.environ.get(POSTGRES_DSN_ENV)
    if not dsn:
        return usage_error(f"no PostgreSQL connection: pass --dsn or set {POSTGRES_DSN_ENV}")
    passwords = {role: os.environ[env] for role, env in ((args.public_role, PUBLIC_PASSWORD_ENV),
                                                        (args.internal_role, INTERNAL_PASSWORD_ENV)) if os.environ.get(env)}
    try:
        setup(dsn, args.public_role, args.internal_role, passwords)
    except Exception as error:  # noqa: BLE001 - reported with the reason, exit 1
        print(f"fiscal-warehouse bi-setup: failed: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_BLOCKING
    print(f"schemas marts, marts_public; role {args.public_role} reads marts_public, "
          f"role {args.internal_role} reads both" + (f"; passwords set for {', '.join(passwords)}" if passwords else ""))
    return EXIT_OK


def cmd_export(args) -> int:
    settings = settings_from_args(args)
    if not (settings.warehouse_dir / "marts").exists():
        return usage_error(f"no published marts in {settings.warehouse_dir}: run `fiscal-warehouse load` first")
    try:
        path, rows = export_marts(settings.warehouse_dir, units=args.unit, years=args.year, marts=args.mart,
                                  internal=args.internal, output=args.output)
    except ExportError as error:
        return usage_error(str(error))
    print(f"{path} ({rows:,} rows)")
    return EXIT_OK
