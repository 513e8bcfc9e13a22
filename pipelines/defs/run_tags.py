"""The run tags that tie a load's runs together, and the load id they carry.

Apart from the assets so that the asset checks, the jobs and the distributed load read
them without importing the assets (the marts asset reads the checks' results)."""

# The scope of a run is its partition keys, never a tag.
TAG_FULL_REFRESH = "fiscal/full_refresh"  # the ingest re-reads every landing file
TAG_LOAD_ID = "fiscal/load_id"  # the runs of one load (the CLI's, or the ingest run's) share its summary
TAG_TRIGGER = "fiscal/trigger"


def load_id_of(context) -> str:
    """The load's id: the CLI's, else the Dagster run's (asset and asset-check contexts alike)."""
    return context.run.tags.get(TAG_LOAD_ID) or context.run.run_id
