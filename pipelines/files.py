"""Files written so that a reader, or a process killed half-way, finds the old file or the
new one, never part of one; and the folders such files leave empty."""

from __future__ import annotations

import os
from pathlib import Path


def temporary_beside(path: Path) -> Path:
    """The name a file is written under before it is renamed into place: the same folder, so
    the rename is atomic; this process's id, so that two writers never share it; a leading
    dot, so that `remove_leftovers` finds it and listings of the outputs do not."""
    return path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")


def replace_with(temporary: Path, final: Path) -> Path:
    os.replace(temporary, final)
    return final


def write_in_place(path: Path, data: bytes) -> Path:
    temporary = temporary_beside(path)
    try:
        temporary.write_bytes(data)
    except FileNotFoundError:  # a new folder: made only then, not asked for before each of many files
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
    return replace_with(temporary, path)


def remove_leftovers(folder: Path) -> None:
    """Files a killed writer left beside their final names (in sub-folders too)."""
    for leftover in folder.rglob(".*.tmp*"):
        leftover.unlink(missing_ok=True)


def remove_empty_folders(*folders: Path) -> None:
    """Each folder, in the order given (a child before its parent), if nothing is in it."""
    for folder in folders:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
