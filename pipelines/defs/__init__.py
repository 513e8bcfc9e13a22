"""The Dagster code location's definitions, one module a concern."""
