"""Published state as snapshots switched atomically, so that readers see one whole publish.

    <warehouse>/.snapshots/<id>/marts/<mart>/fiscal_year=<YYYY>/<unit>.parquet
    <warehouse>/.snapshots/<id>/marts_public/…
    <warehouse>/.snapshots/current -> <id>                (the one pointer readers follow)
    <warehouse>/marts        -> .snapshots/current/marts  (fixed: the contract's paths keep resolving)
    <warehouse>/marts_public -> .snapshots/current/marts_public

A publish that changes anything builds a new snapshot beside the live one (unchanged files
hard-linked, so it costs a directory entry per file, not a copy), writes its new files into
it, and replaces the `current` symlink with os.replace: one rename switches internal and
public marts together. The previous snapshot is kept until the next publish, so a reader
that resolved the pointer before the switch finishes its read. All symlinks are relative:
a copied or moved warehouse keeps working.

A reader that wants one whole state across many files resolves the pointer once
(`os.path.realpath('warehouse/marts')`) and reads below that path; a reader that globs
`marts/**` across a switch may see files of two publishes (each file whole).
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path

SNAPSHOTS = ".snapshots"
CURRENT = "current"
FOLDERS = ("marts", "marts_public")


class Snapshots:
    def __init__(self, warehouse_dir: Path):
        self.warehouse_dir = warehouse_dir
        self.root = warehouse_dir / SNAPSHOTS
        self.pointer = self.root / CURRENT

    def live(self) -> Path | None:
        """The snapshot readers see now (migrating a warehouse published before snapshots)."""
        self._migrate_plain_folders()
        if self.pointer.is_symlink():
            return self.root / os.readlink(self.pointer)
        return None

    def begin(self) -> Path:
        """A new snapshot holding hard links to every file of the live one. A file of it is
        changed by renaming a new file over it, never by writing into it: the link shares
        its content with the live snapshot, which readers are reading."""
        live = self.live()
        snapshot = self.root / (datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6])
        for folder in FOLDERS:
            (snapshot / folder).mkdir(parents=True, exist_ok=True)
            if live is not None and (live / folder).is_dir():
                _link_tree(live / folder, snapshot / folder)
        return snapshot

    def switch(self, snapshot: Path) -> None:
        """Make `snapshot` the live one in one rename; keep the one it replaces, drop older ones."""
        previous = self.live()
        temporary = self.root / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
        os.symlink(snapshot.name, temporary)
        os.replace(temporary, self.pointer)
        self._ensure_folder_links()
        keep = {snapshot.name, CURRENT} | ({previous.name} if previous is not None else set())
        for entry in self.root.iterdir():
            if entry.name not in keep and not entry.name.startswith(f".{CURRENT}-"):
                shutil.rmtree(entry, ignore_errors=True)

    def abandon(self, snapshot: Path) -> None:
        shutil.rmtree(snapshot, ignore_errors=True)

    def _ensure_folder_links(self) -> None:
        for folder in FOLDERS:
            link = self.warehouse_dir / folder
            if not link.is_symlink():
                temporary = self.warehouse_dir / f".{folder}-{uuid.uuid4().hex[:8]}"
                os.symlink(f"{SNAPSHOTS}/{CURRENT}/{folder}", temporary)
                os.replace(temporary, link)

    def _migrate_plain_folders(self) -> None:
        """marts/ and marts_public/ as plain folders (published before snapshots): moved
        into a first snapshot and replaced by the links. Readers may find the folder
        missing for the moment between the two renames, once."""
        plain = [f for f in FOLDERS if (self.warehouse_dir / f).is_dir() and not (self.warehouse_dir / f).is_symlink()]
        if not plain:
            return
        snapshot = self.root / (datetime.now().strftime("%Y%m%dT%H%M%S") + "-migrated")
        snapshot.mkdir(parents=True, exist_ok=True)
        for folder in FOLDERS:
            (snapshot / folder).mkdir(exist_ok=True)
        if not self.pointer.is_symlink():
            os.symlink(snapshot.name, self.pointer)
        for folder in plain:
            target = snapshot / folder
            target.rmdir()
            os.rename(self.warehouse_dir / folder, target)
        self._ensure_folder_links()


def _link_tree(source: Path, target: Path) -> None:
    for directory, _, files in os.walk(source):
        relative = Path(directory).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(Path(directory) / name, target / relative / name)
