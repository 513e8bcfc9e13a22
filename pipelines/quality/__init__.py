"""Data quality: Great Expectations suites and the rule catalogue, run after every load."""

import importlib
import threading


def import_gx_in_background() -> threading.Thread:
    """Start importing Great Expectations (through our wrapper) on a second thread.

    The import is about 2 s of pure Python, once per process, and the checks need it only
    after the marts. Begun when a load starts, it runs while DuckDB reads the exports (on
    one thread: pipelines.warehouse.ingest.RawBatch) instead of adding to the load. The
    checks' own import then waits on Python's module lock for this one to finish."""
    thread = threading.Thread(target=importlib.import_module, args=("pipelines.quality.gx_duckdb",),
                              name="import-great-expectations", daemon=True)
    thread.start()
    return thread
