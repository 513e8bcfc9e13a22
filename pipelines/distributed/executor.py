"""The distributed executor: dagster-dask's, on an existing dask.distributed scheduler, with
two changes that a warehouse with one writer needs.

1. Routing. A step runs on the writer (the worker started with the `writer` resource,
   one unit of it: one writer step at a time across all runs) unless its op tags say
   `fiscal/runs_on: any_worker` (pipelines.distributed.tags). dagster-dask routes only by
   the tag `dagster-dask/resource_requirements` and sends an untagged step anywhere; here
   an untagged step is serialized on the writer, never run beside another writer. An
   explicit `dagster-dask/resource_requirements` tag is still honoured (added to it).
   A step that may run anywhere runs on the workers that are not the writer when there are
   any (dask worker restrictions), so that it runs beside the writer's next step; and
   of the writer's ready steps, one that such a step waits for goes first (dask priority).
2. Task keys. dagster-dask names a step's dask task `<job>.<step>`, and dask treats two
   tasks with one key as one: two runs of the same job at once (two partitions) would
   share the first run's result. Here the key carries the run id.

And a step whose upstream step failed (or was itself not run) is not run: dagster-dask
runs it anyway when the dependency carries no data (an asset's `deps`).

Each step runs on a worker as dagster-dask runs it (the job reconstructed from its code
location, a one-step plan, events written to the instance the run's instance ref names),
so the instance must be one every worker can reach: PostgreSQL
(pipelines.distributed.instance).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Mapping, Sequence

import dagster as dg
import dask.distributed
from dagster._core.errors import raise_execution_interrupts
from dagster._core.execution.api import create_execution_plan, execute_plan
from dagster._utils import iterate_with_context
from dagster_dask.executor import DaskExecutor, get_dask_resource_requirements

from pipelines.distributed.tags import RUNS_ON_ANY_WORKER, RUNS_ON_TAG, WRITER_RESOURCE

SCHEDULER_ENV = "FISCAL_DASK_SCHEDULER"


def step_resources(tags: Mapping[str, str]) -> dict[str, float]:
    """The dask resources a step with these op tags needs: the writer unless it may run anywhere."""
    wanted = dict(get_dask_resource_requirements(tags))
    if may_run_anywhere(tags):
        return wanted
    wanted[WRITER_RESOURCE] = 1
    return wanted


def may_run_anywhere(tags: Mapping[str, str]) -> bool:
    return tags.get(RUNS_ON_TAG) == RUNS_ON_ANY_WORKER


def other_workers(client: dask.distributed.Client) -> list[str]:
    """The addresses of the workers that are not the writer."""
    return [address for address, worker in client.scheduler_info(n_workers=-1)["workers"].items()
            if WRITER_RESOURCE not in (worker.get("resources") or {})]


_WORKER_INSTANCES: dict[bytes, dg.DagsterInstance] = {}


def run_step_on_worker(upstream_events: Sequence[Sequence[dg.DagsterEvent]], recon_job, dagster_run, run_config,
                       step_keys: Sequence[str], instance_ref, known_state) -> list[dg.DagsterEvent]:
    """Runs on a dask worker: the step, unless an upstream step failed or did not run.

    As dagster-dask's `query_on_dask_worker`, except that the worker keeps one instance
    for all the steps it runs: opening the PostgreSQL instance cost 0.3 s a step here."""
    for events in upstream_events:
        if not events or any(event.is_step_failure for event in events):
            return []
    key = pickle.dumps(instance_ref)
    instance = _WORKER_INSTANCES.get(key)
    if instance is None:
        instance = _WORKER_INSTANCES[key] = dg.DagsterInstance.from_ref(instance_ref)
    subset_job = recon_job.get_subset(op_selection=dagster_run.resolved_op_selection)
    plan = create_execution_plan(subset_job, run_config=run_config, step_keys_to_execute=list(step_keys),
                                 known_state=known_state)
    return list(execute_plan(plan, subset_job, instance, dagster_run, run_config=run_config))


def feeds_any_worker_step(execution_plan) -> set[str]:
    """The steps that a step which may run anywhere waits for. Dask runs them first among
    the steps ready on the writer: the reports' gathering before the publishing, so that
    the other workers render while the writer publishes."""
    feeding = set()
    for step in execution_plan.get_all_steps_in_topo_order():
        if may_run_anywhere(step.tags):
            feeding.update(key for step_input in step.step_inputs for key in step_input.dependency_keys)
    return feeding


class WriterRoutedDaskExecutor(DaskExecutor):
    """dagster-dask's executor on an existing scheduler, with the routing and task keys above."""

    def __init__(self, scheduler_address: str):
        super().__init__("existing", {"address": scheduler_address})
        self.scheduler_address = scheduler_address

    def execute(self, plan_context, execution_plan) -> Iterable[dg.DagsterEvent]:
        if not plan_context.instance.is_persistent:
            raise dg.DagsterInvariantViolationError(
                "the distributed executor needs a persistent Dagster instance that every worker reaches "
                "(DAGSTER_HOME with PostgreSQL storage: pipelines.distributed.instance)"
            )
        run = plan_context.dagster_run
        instance_ref = plan_context.instance.get_ref()
        with dask.distributed.Client(self.scheduler_address, timeout=30) as client:
            # A step that may run anywhere goes to a worker that is not the writer when the run
            # starts with one: the writer runs one step at a time, and such a step placed there
            # holds up the writer's next one (the rendering before the publishing, 10 s at a
            # county). Strictly: with dask's loose restrictions the scheduler placed the
            # rendering on the writer whenever the other workers were busy for a moment. If all
            # the other workers are gone, such a step waits for one to join.
            others = other_workers(client)
            feeds_others = feeds_any_worker_step(execution_plan)
            futures, by_step = [], {}
            for level in execution_plan.get_steps_to_execute_by_level():
                for step in level:
                    upstream = [by_step[key] for step_input in step.step_inputs for key in step_input.dependency_keys]
                    placement = {"workers": others} if others and may_run_anywhere(step.tags) else {}
                    future = client.submit(
                        run_step_on_worker, upstream, plan_context.reconstructable_job, run, plan_context.run_config,
                        [step.key], instance_ref, execution_plan.known_state,
                        key=f"{step.key}-{run.run_id}", resources=step_resources(step.tags), pure=False,
                        priority=1 if step.key in feeds_others else 0, **placement,
                    )
                    futures.append(future)
                    by_step[step.key] = future
            completed = dask.distributed.as_completed(futures, with_results=True)
            for _future, events in iterate_with_context(raise_execution_interrupts, completed):
                yield from events


@dg.executor(
    name="fiscal_dask",
    config_schema={
        "scheduler": dg.Field(
            dg.StringSource, is_required=False,
            description=f"The dask scheduler's address (tcp://host:port); default: the environment variable {SCHEDULER_ENV}.",
        )
    },
    requirements=dg.multiple_process_executor_requirements(),
)
def distributed_executor(init_context) -> WriterRoutedDaskExecutor:
    """Steps on the workers of a dask.distributed scheduler; writer steps on the one writer."""
    address = init_context.executor_config.get("scheduler") or os.environ.get(SCHEDULER_ENV)
    if not address:
        raise dg.DagsterInvalidConfigError(
            f"the distributed executor needs the dask scheduler's address: set {SCHEDULER_ENV} or the executor's "
            "`scheduler` config", [], None,
        )
    return WriterRoutedDaskExecutor(address)


def executor_run_config(scheduler_address: str) -> dict:
    """The run config that points a job with `distributed_executor` at this scheduler."""
    return {"execution": {"config": {"scheduler": scheduler_address}}}
