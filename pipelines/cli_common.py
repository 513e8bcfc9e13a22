"""What every `fiscal-warehouse` command shares: the exit codes, the usage-error line and
the settings from --landing / --warehouse.

Apart from pipelines.cli so that commands defined elsewhere (pipelines.bi.commands) need
not import the CLI that registers them.

Exit codes (contract §1): 0 success; 1 a blocking check failed (or the run failed);
2 a usage or configuration error.
"""

from __future__ import annotations

import sys

from pipelines.settings import Settings, load_settings

EXIT_OK, EXIT_BLOCKING, EXIT_USAGE = 0, 1, 2


def usage_error(message: str) -> int:
    print(f"fiscal-warehouse: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def settings_from_args(args) -> Settings:
    return load_settings(getattr(args, "landing", None), getattr(args, "warehouse", None))
