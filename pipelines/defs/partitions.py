"""Partitions by fiscal year × unit, discovered from the landing files: the unit of work
after the ingest. A run's scope is its partition keys (`unit_years_of`); a set of
unit-years to rebuild becomes a few runs, each over a rectangle of keys (`rectangles`),
because a run of a multi-partitioned job covers a key range, and a range of a
multi-partitions definition is the product of a range of years and a range of units.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

FISCAL_YEARS = dg.DynamicPartitionsDefinition(name="fiscal_year")
UNITS = dg.DynamicPartitionsDefinition(name="unit")
unit_year_partitions = dg.MultiPartitionsDefinition({"fiscal_year": FISCAL_YEARS, "unit": UNITS})

UnitYear = tuple[str, int]


def register_partitions(instance: dg.DagsterInstance, unit_years: Iterable[UnitYear]) -> int:
    """Add the years and units of these (unit, year) pairs as dynamic partitions; returns how many were new."""
    unit_years = list(unit_years)
    added = 0
    for definition, values in ((FISCAL_YEARS, {str(y) for _, y in unit_years}), (UNITS, {u for u, _ in unit_years})):
        new = sorted(values - set(instance.get_dynamic_partitions(definition.name)))
        if new:
            instance.add_dynamic_partitions(definition.name, new)
            added += len(new)
    return added


def partition_key(unit: str, year: int) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"fiscal_year": str(year), "unit": unit})


def unit_year_of(key: str | dg.MultiPartitionKey) -> UnitYear:
    """'2021|900001' (years before units: the dimensions sort by name) -> ('900001', 2021)."""
    if isinstance(key, dg.MultiPartitionKey):
        keys = key.keys_by_dimension
        return keys["unit"], int(keys["fiscal_year"])
    year, unit = key.split("|", 1)
    return unit, int(year)


def unit_years_of(context) -> set[UnitYear]:
    """A run's scope: the unit-years of its partition keys (one key, or a range)."""
    return {unit_year_of(key) for key in context.partition_keys}


@dataclass(frozen=True)
class Rectangle:
    """Consecutive years × consecutive units (in the instance's order of the dynamic partitions)."""

    years: tuple[int, ...]
    units: tuple[str, ...]

    @property
    def start(self) -> str:
        return str(partition_key(self.units[0], self.years[0]))

    @property
    def end(self) -> str:
        return str(partition_key(self.units[-1], self.years[-1]))

    @property
    def unit_years(self) -> set[UnitYear]:
        return {(u, y) for u in self.units for y in self.years}

    def tags(self) -> dict[str, str]:
        """The run tags of a ranged run over this rectangle (as a single-run backfill sets them)."""
        from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

        return {ASSET_PARTITION_RANGE_START_TAG: self.start, ASSET_PARTITION_RANGE_END_TAG: self.end}


def rectangles(unit_years: Iterable[UnitYear], unit_order: list[str], year_order: list[str],
               empty: Iterable[UnitYear] = ()) -> list[Rectangle]:
    """Cover exactly these unit-years with few rectangles (one run each).

    If the smallest rectangle around them holds nothing else but `empty` unit-years (keys
    of the grid with no data at all: a unit that started reporting in a later year), that
    one rectangle: rebuilding an empty unit-year writes nothing. Else each unit's years are
    cut into runs of consecutive years, and neighbouring units (in `unit_order`, the
    instance's order) with the same runs of years share rectangles. A full load is one
    rectangle, one changed unit-year (and the later years that read it) one; a unit in
    between that is not rebuilt splits a rectangle, as it must."""
    unit_years = set(unit_years)
    if not unit_years:
        return []
    wanted: dict[str, set[int]] = {}
    for unit, year in unit_years:
        wanted.setdefault(unit, set()).add(int(year))
    year_position = {int(y): i for i, y in enumerate(year_order)}
    missing = {y for years in wanted.values() for y in years} - set(year_position)
    unknown = set(wanted) - set(unit_order)
    if missing or unknown:
        raise ValueError(f"not registered as partitions: years {sorted(missing)}, units {sorted(unknown)}")

    unit_position = {u: i for i, u in enumerate(unit_order)}
    span_units = unit_order[min(map(unit_position.__getitem__, wanted)):max(map(unit_position.__getitem__, wanted)) + 1]
    positions = [year_position[y] for years in wanted.values() for y in years]
    span_years = [int(y) for y in year_order[min(positions):max(positions) + 1]]
    if {(u, y) for u in span_units for y in span_years} <= unit_years | set(empty):
        return [Rectangle(tuple(span_years), tuple(span_units))]

    def year_runs(years: set[int]) -> tuple[tuple[int, ...], ...]:
        runs: list[list[int]] = []
        for year in sorted(years, key=year_position.__getitem__):
            if runs and year_position[year] == year_position[runs[-1][-1]] + 1:
                runs[-1].append(year)
            else:
                runs.append([year])
        return tuple(tuple(r) for r in runs)

    out: list[Rectangle] = []
    group: list[str] = []
    group_runs: tuple = ()
    for unit in [*unit_order, None]:  # None closes the last group
        runs = year_runs(wanted[unit]) if unit in wanted else ()
        if group and runs != group_runs:
            out.extend(Rectangle(years, tuple(group)) for years in group_runs)
            group = []
        if runs:
            group.append(unit)
            group_runs = runs
    return out


def rectangles_on(instance: dg.DagsterInstance, unit_years: Iterable[UnitYear],
                  known: Iterable[UnitYear] | None = None) -> list[Rectangle]:
    """`rectangles` in the order the instance keeps the partitions (registering any that are
    new); `known`: the unit-years that hold data (the others of the grid are empty)."""
    unit_years = set(unit_years)
    register_partitions(instance, unit_years)
    units, years = list(instance.get_dynamic_partitions(UNITS.name)), list(instance.get_dynamic_partitions(FISCAL_YEARS.name))
    empty = set() if known is None else {(u, int(y)) for u in units for y in years} - set(known)
    return rectangles(unit_years, units, years, empty)
