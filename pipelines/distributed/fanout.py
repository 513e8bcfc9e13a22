"""Fan-out inside one step: a step of a ranged run (many unit-years, one Dagster step) that
runs on a dask worker maps its per-unit-year work over every worker of the cluster as
plain dask tasks, not as Dagster steps.

    from pipelines.distributed.fanout import map_on_workers
    results = map_on_workers(render_unit_year, inputs)   # None when not on a dask worker
    if results is None:
        results = render_all(inputs, workers)            # the in-process executor's pool

Why: a Dagster step costs its events in the instance (STEP_START, the materializations,
STEP_SUCCESS …), about a second a step on this loaded machine against 0.3–0.46 s of CPU to
render a unit-year; a dask task costs milliseconds. So the rendering of a ranged run fans
out per unit-year here, while Dagster keeps one step per asset and run (and one
materialization per partition). The tasks carry no resource requirement: any worker,
the writer included when it is free, takes them; what they get (`items`) is plain data,
so no task opens warehouse.duckdb (but for the suites' shares below, whose processes read
it while the writer has let go of it). Work of tens of milliseconds an item goes in slices
(map_slices_on_workers): a task costs the scheduler, the worker and the waiting step a few
milliseconds each, which at a county's 600 unit-years was 5-10 % of the rendering.
Work that each worker does best in its own processes (the expectation suites: a pool of
processes, one per CPU, each keeping a read-only connection) goes as one share a worker
(map_shares_on_workers), the shares balanced by what each item is expected to cost.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any


def on_dask_worker() -> bool:
    """True inside a task (a step) that a dask worker runs. A process that has not imported
    dask.distributed is no worker: the in-process load's render step (pipelines.defs.reports)
    asks too, and needs not import it (about 0.2 s) to learn that."""
    if "distributed" not in sys.modules:
        return False
    from distributed import get_worker  # in sys.modules already: costs nothing

    try:
        get_worker()
    except ValueError:
        return False
    return True


def map_on_workers(function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any] | None:
    """`function` over `items` as tasks on every worker of this worker's cluster, results in
    the order of `items`; None when not running on a dask worker. The calling task leaves its
    worker's thread while it waits (worker_client), so its own worker takes tasks too."""
    if not on_dask_worker():
        return None
    from distributed import worker_client

    items = list(items)
    if not items:
        return []
    with worker_client() as client:
        return client.gather(client.map(function, items, pure=False))


def in_turn(items: list, count: int) -> list[list]:
    """`items` in `count` slices taken in turn (item i in slice i mod count): their sizes
    differ by one at most, and each spreads over the whole list."""
    return [items[number::count] for number in range(count)]


def slices_of(items: list, per_task: int) -> list[list]:
    """`items` in slices of about `per_task` (as many as that takes, in_turn)."""
    return in_turn(items, -(-len(items) // per_task))


def map_slices_on_workers(function: Callable[[list], list], items: Iterable[Any], per_task: int) -> list[Any] | None:
    """As map_on_workers, a task per slice of about `per_task` items (slices_of): `function`
    takes a slice and returns its items' results in order; the results come back in the
    order of `items`. None when not running on a dask worker."""
    if not on_dask_worker():
        return None
    items = list(items)
    slices = slices_of(items, per_task)
    results: list[Any] = [None] * len(items)
    for number, slice_results in enumerate(map_on_workers(function, slices)):
        results[number::len(slices)] = slice_results
    return results


def shares_of(items: list, costs: list[float], count: int) -> list[list]:
    """`items` in `count` shares of about equal cost (the costliest first, each into the
    share that costs least so far); each share costliest first, empty shares left out."""
    shares: list[list] = [[] for _ in range(count)]
    totals = [0.0] * count
    for position in sorted(range(len(items)), key=lambda position: -costs[position]):
        cheapest = totals.index(min(totals))
        shares[cheapest].append(items[position])
        totals[cheapest] += costs[position]
    return [share for share in shares if share]


def map_shares_on_workers(function: Callable[[list], list], items: Iterable[Any],
                          costs: Iterable[float]) -> list[Any] | None:
    """`function` over one share of `items` on each worker of this worker's cluster
    (shares_of, by `costs`), each share placed on a worker of its own: `function` takes a
    share and returns its items' results in order; the results come back in the order of
    `items`. None when not running on a dask worker."""
    if not on_dask_worker():
        return None
    from distributed import worker_client

    items, costs = list(items), list(costs)
    if not items:
        return []
    with worker_client() as client:
        workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
        shares = shares_of(list(range(len(items))), costs, len(workers))
        futures = [client.submit(function, [items[i] for i in share], workers=[worker], allow_other_workers=True,
                                 pure=False)
                   for share, worker in zip(shares, workers)]
        results: list[Any] = [None] * len(items)
        for share, share_results in zip(shares, client.gather(futures)):
            for position, result in zip(share, share_results):
                results[position] = result
    return results
