"""The warehouse's work on several processes or machines: Dagster's dask executor
(dagster-dask) on a dask.distributed scheduler and workers, Dagster's instance on
PostgreSQL (dagster-postgres). docs/deploy.md says how to run it; this says how to wire it.

Why dask and not celery: pip alone installs all of it (scheduler and workers are Python
processes, `python -m dask scheduler` / `python -m dask worker`), where dagster-celery
needs a broker server (Redis from the system's packages) beside PostgreSQL. Routing is
the same in both: dask worker resources here, celery queues there.

The rule the executor keeps: warehouse.duckdb is opened by one process, the writer. The
writer is the dask worker started with `--resources writer=1`; a step runs there unless
its op tags say it may run anywhere, and a worker that is not the writer refuses to open
the file (pipelines.distributed.worker_setup).

Entry points
------------
Tags for the asset definitions (pipelines.distributed.tags; constants, no dask import):

    op_tags=WRITER_STEP_TAGS        # {"fiscal/runs_on": "writer"}: opens warehouse.duckdb
    op_tags=ANY_WORKER_STEP_TAGS    # {"fiscal/runs_on": "any_worker"}: only its own files
                                    # (the reports' render step); untagged = writer

The executor (pipelines.distributed.executor):

    distributed_executor            # dg.ExecutorDefinition "fiscal_dask"; config
                                    # {"scheduler": "tcp://host:8786"} or env FISCAL_DASK_SCHEDULER
    executor_run_config(address)    # {"execution": {"config": {"scheduler": address}}}

    A job that runs on it is a job of the code location with executor_def=distributed_executor
    (e.g. `dg.define_asset_job("rebuild_unit_years_distributed", selection=…,
    executor_def=distributed_executor)`), because the workers rebuild the job by name from
    the code location (pipelines.definitions).

Running (pipelines.distributed.runs):

    reconstructable_job(name)       # the job as workers rebuild it, from pipelines.definitions
    run_job(job, instance, address, tags)               # one run; returns its result
    run_partitions(job, keys, instance, address, tags, concurrency)
                                    # a run per partition key ("2021|900001"), `concurrency`
                                    # runs at a time, each orchestrated in its own process
    run_many(job, tag_sets, instance, address, concurrency)
                                    # the same for any runs' tags (e.g. partition ranges:
                                    # range_tags("2020|900001", "2021|900009"))
    local_stack(workers, landing_dir, warehouse_dir)   # context manager: PostgreSQL,
                                    # DAGSTER_HOME, scheduler and workers on this machine

The load (pipelines.distributed.load, on the jobs of pipelines.distributed.definitions:
the default code location's assets, checks, resources and jobs, on this executor):

    distributed_load(instance, address, full_refresh=False, concurrency=1)
                                    # the ingest run, then one ranged rebuild run per
                                    # rectangle (as defs.jobs.execute_load); what to rebuild
                                    # is read in a task on the writer

    A CLI option (`fiscal-warehouse load --executor dask --scheduler ADDRESS`) is that call
    on DagsterInstance.get() (DAGSTER_HOME on PostgreSQL: a SQLite instance is not reachable
    from other machines, and dagster-dask refuses a non-persistent one), with the workers
    started with FISCAL_WORKER_PRELOAD=pipelines.distributed.definitions.

Fan-out inside a step (pipelines.distributed.fanout):

    map_on_workers(render_unit_year, inputs)   # per-unit-year dask tasks on every worker
                                    # from a step of a ranged run; None when not on dask
                                    # (then the in-process pool, outputs.render_all)

The pieces (each usable alone, e.g. on a machine that is only a worker):

    postgres.start_postgres(folder) / stop_postgres(server)   # a private PostgreSQL 15
    instance.write_instance_yaml(dagster_home, dsn)           # dagster.yaml on PostgreSQL
    cluster.start_cluster(folder, workers, env) / stop_cluster(cluster)
    cluster.worker_environment(dagster_home, landing_dir, warehouse_dir)

Nothing here is imported by the default, in-process load: `import pipelines.distributed`
imports no dask.
"""
