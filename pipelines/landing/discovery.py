"""Landing-folder discovery: which files are there to read, and what is there but will not be.

The load's ingest, the sensor and `status` all ask this; it reads no file's content."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

IGNORED_NAMES = {"readme.md", "readme.txt", "thumbs.db", "desktop.ini", ".ds_store"}


@dataclass(frozen=True)
class LandingFile:
    path: Path
    source_file: str  # relative to the landing folder, '/'-separated
    size: int
    mtime_ns: int
    problem: str | None = None  # why it is not read (see discover); None for a file to read


def discover(landing_dir: Path) -> list[LandingFile]:
    """Every candidate file below the landing folder, in a stable order, with a `problem`
    for what is there but will not be read: a folder that cannot be listed, a symbolic
    link that leads nowhere or outside the landing folder (not followed), a FIFO or
    device. Those are reported as unreadable files, never skipped silently; a link to a
    folder inside the landing folder is not followed either (its files are read where they are)."""
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing folder {landing_dir} does not exist")
    inside = landing_dir.resolve()
    found = []

    def cannot_list(error: OSError) -> None:
        folder = Path(error.filename)
        found.append(_problem_file(landing_dir, folder, f"无法读取文件夹 / cannot read the folder: {error.strerror}", "/"))

    for root, dirs, files in os.walk(landing_dir, onerror=cannot_list):
        # `_texts` holds the report's narrative texts, not exports.
        kept = []
        for name in sorted(d for d in dirs if not d.startswith((".", "_"))):
            path = Path(root) / name
            if not path.is_symlink():
                kept.append(name)
                continue
            problem = _link_problem(path, inside)
            if problem:
                found.append(_problem_file(landing_dir, path, problem, "/"))
        dirs[:] = kept
        for name in sorted(files):
            if name.startswith((".", "~$")) or name.lower() in IGNORED_NAMES:
                continue
            found.append(_landing_file(landing_dir, inside, Path(root) / name))
    return found


def _problem_file(landing_dir: Path, path: Path, problem: str, suffix: str = "") -> LandingFile:
    # size and mtime -1: the same problem found again is the record kept (not "changed")
    return LandingFile(path, path.relative_to(landing_dir).as_posix() + suffix, -1, -1, problem)


def _link_problem(path: Path, inside: Path) -> str | None:
    """Why a symbolic link is not followed, or None when it leads into the landing folder."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing target, or a loop of links
        return f"符号链接指向不存在的位置 / dangling symbolic link (to {os.readlink(path)})"
    if not target.is_relative_to(inside):
        return f"符号链接指向落地文件夹之外，未读取 / symbolic link to outside the landing folder, not followed (to {target})"
    return None


def _landing_file(landing_dir: Path, inside: Path, path: Path) -> LandingFile:
    try:
        if path.is_symlink() and (problem := _link_problem(path, inside)):
            return _problem_file(landing_dir, path, problem)
        stat = path.stat()
    except OSError as error:
        return _problem_file(landing_dir, path, f"无法读取文件信息 / cannot stat the file: {error.strerror}")
    if not S_ISREG(stat.st_mode):
        # a FIFO would block the reader for ever, a device never ends
        return _problem_file(landing_dir, path, "不是普通文件（管道、设备等） / not a regular file (a FIFO, a device …)")
    return LandingFile(path, path.relative_to(landing_dir).as_posix(), stat.st_size, stat.st_mtime_ns)
