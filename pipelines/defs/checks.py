"""Asset checks: filled in by the quality module."""

ALL_CHECKS: list = []
