"""The code location of a distributed load: pipelines.definitions' assets, checks and
resources, with its jobs on the distributed executor (same names, same selections).

Workers rebuild a run's job from a code location by name, so the distributed jobs must
live in one: this module (`dask worker … --preload pipelines.distributed.worker_setup`
with FISCAL_WORKER_PRELOAD=pipelines.distributed.definitions imports it before the worker
joins). The default code location keeps the in-process executor; schedules and sensors
stay there (a deployment whose daemon launches distributed runs points its workspace at
this module instead and adds them: docs/deploy.md).
"""

import dagster as dg

from pipelines.definitions import JOBS, defs as local_defs
from pipelines.distributed.executor import distributed_executor

MODULE = __name__


def on_dask(job):
    """The same asset job on the distributed executor."""
    return dg.define_asset_job(name=job.name, selection=job.selection, description=job.description,
                               tags=job.tags, executor_def=distributed_executor)


defs = dg.Definitions(
    assets=local_defs.assets,
    asset_checks=local_defs.asset_checks,
    jobs=[on_dask(job) for job in JOBS],
    resources=local_defs.resources,
    executor=distributed_executor,
)
