"""Where a step may run: the op tag the asset definitions set, read by the distributed
executor. Constants only (no dask import), so that pipelines.defs can use them freely.

A step runs on the writer (the one worker that holds the `writer` resource) unless its op
tags say `fiscal/runs_on: any_worker`: a step that opens warehouse.duckdb and forgot to
say so is then merely serialized, never run beside another writer. The in-process
executor ignores these tags.
"""

RUNS_ON_TAG = "fiscal/runs_on"
RUNS_ON_WRITER = "writer"
RUNS_ON_ANY_WORKER = "any_worker"

# Op tags for a step that must run on the writer, and for one that any worker may run
# (it reads and writes only its own partition's files, never warehouse.duckdb).
WRITER_STEP_TAGS = {RUNS_ON_TAG: RUNS_ON_WRITER}
ANY_WORKER_STEP_TAGS = {RUNS_ON_TAG: RUNS_ON_ANY_WORKER}

# The dask worker resource that only the writer holds (one unit of it: one writer step at a time).
WRITER_RESOURCE = "writer"
