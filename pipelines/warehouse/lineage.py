"""Which warehouse tables each SQL model reads, from the model's own text.

The assets' dependencies and the order in which the core models are built are derived
from here, never written by hand: a model that starts reading another table gets the
dependency by saying so in its SQL.
"""

from __future__ import annotations

import re
from functools import cache
from graphlib import TopologicalSorter

from pipelines.sqltext import sql_text

# The schemas a model reads that are themselves built by the warehouse (meta and ref are
# bookkeeping and reference data, not assets).
_TABLE_REFERENCE = re.compile(r"\b(staging|core|build)\.([a-z_][a-z0-9_]*)\b")
_COMMENT = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^']|'')*'")


@cache
def model_reads(relative: str) -> frozenset[tuple[str, str]]:
    """(schema, table) pairs that `sql/<relative>` reads, comments and string literals left out."""
    code = _STRING.sub("''", _COMMENT.sub("", sql_text(relative)))
    return frozenset(_TABLE_REFERENCE.findall(code))


def build_order(models: dict[str, str], schema: str) -> tuple[str, ...]:
    """The names of `models` (name -> SQL file) ordered so that a model comes after the models
    of the same `schema` it reads; ties keep the given order."""
    graph = {name: {table for read_schema, table in model_reads(path) if read_schema == schema and table != name
                    and table in models} for name, path in models.items()}
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    ordered: list[str] = []
    rank = {name: i for i, name in enumerate(models)}
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=rank.__getitem__)
        ordered.extend(ready)
        sorter.done(*ready)
    return tuple(ordered)
