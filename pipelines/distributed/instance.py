"""Dagster's instance on PostgreSQL: the dagster.yaml that every process of a distributed
load reads (the writer, the workers, the webserver and the daemon), so that they all see
one run history, one event log and one set of dynamic partitions."""

from __future__ import annotations

from pathlib import Path

DSN_ENV = "FISCAL_DAGSTER_PG_DSN"


def instance_yaml(dsn: str | None = None) -> str:
    """dagster.yaml for run, event-log and schedule storage on PostgreSQL (dagster-postgres).

    With a DSN the connection string is written into the file; without one, every
    process reads it from FISCAL_DAGSTER_PG_DSN when it opens the instance (the form to
    use when the password must not be in a file on a shared disk; it must then name the
    driver itself: postgresql+psycopg2://…, see psycopg2_url)."""
    if dsn is not None:
        dsn = psycopg2_url(dsn)
    url = f"postgres_url: {yaml_string(dsn)}" if dsn is not None else f"postgres_url:\n      env: {DSN_ENV}"
    lines = ["# Written by pipelines.distributed.instance: Dagster's instance on PostgreSQL.",
             "telemetry:", "  enabled: false"]
    for section, module, cls in (
        ("run_storage", "dagster_postgres.run_storage", "PostgresRunStorage"),
        # dagster-postgres's, writing a run's per-partition events in batches
        ("event_log_storage", "pipelines.distributed.event_log", "BatchingPostgresEventLogStorage"),
        ("schedule_storage", "dagster_postgres.schedule_storage", "PostgresScheduleStorage"),
    ):
        lines += [f"{section}:", f"  module: {module}", f"  class: {cls}", "  config:", f"    {url}"]
    return "\n".join(lines) + "\n"


def psycopg2_url(dsn: str) -> str:
    """The connection string with the psycopg2 driver named: dagster-postgres binds NOTIFY's
    payload as a parameter, which only psycopg2 accepts, and SQLAlchemy 2.1 reads a bare
    postgresql:// as psycopg 3 ("syntax error at or near $1")."""
    scheme, sep, rest = dsn.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL connection string: {dsn!r} (postgresql://user[:password]@host:port/db)")
    return f"postgresql+psycopg2://{rest}"


def write_instance_yaml(dagster_home: Path, dsn: str | None = None) -> Path:
    """Write DAGSTER_HOME/dagster.yaml for PostgreSQL storage (see instance_yaml); returns its path."""
    dagster_home = Path(dagster_home)
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    partial = path.with_name(path.name + ".partial")
    partial.write_text(instance_yaml(dsn), encoding="utf-8")
    partial.replace(path)
    return path


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (a DSN, a path: any character kept as it is)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
