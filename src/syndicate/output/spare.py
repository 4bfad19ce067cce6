"""The spare output folder: the folder the last swap replaced, kept to be the next one.

Mirroring the current folder for each build costs an operation for each of its files,
however little changed; the old folder differs from the current one only by what the
swap changed, so :class:`Spare` keeps it (``.feeds.spare``) with a record of those files
and of the change times of both folders' folders, and the next build brings it up to
date instead, when nothing has touched either folder since.  A folder that changed just
before its time was recorded could change again within the same tick of the file
system's clock without its time moving: its entries are compared in both folders.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Set
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..jsontext import json_text
from .files import atomic_write, inside, prune, sibling


class Spare:
    """The folder a swap replaced, kept beside the output folder (:func:`sibling`
    ``"spare"``) to be the next one: ``tree/`` (the old folder), ``record.json`` (what
    it differs by, and the change times of both folders' folders) and a ``.gitignore``
    that keeps it out of git.

    The old folder has hard links to the files of the current one but for those the swap
    changed.  Bringing it up to date costs an operation for each of those, instead of a
    mirror of the whole current folder.  It is taken only when every folder of both still
    has the change time recorded: nothing was added, removed or renamed in them, and no
    folder's permissions changed.  (A file edited in place is the same file in both.)"""

    VERSION = 1

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = sibling(folder, "spare")
        self.tree = self.path / "tree"
        self.record = self.path / "record.json"

    def take(self, destination: Path) -> set[str] | None:
        """Move the spare to *destination* and bring it up to date: the current folder's
        folders then; None (and no spare) when there is none or it cannot be trusted."""
        if not self.path.is_dir():
            return None
        try:
            record = json.loads(self.record.read_bytes())
            current, old = record["current"], record["tree"]
            changed = [str(name) for name in record["changed"]]
            usable = (
                record["version"] == self.VERSION
                and record["folder"] == _identity(self.folder)
                and _change_times(self.folder, current) == current
                and _change_times(self.tree, old) == old
                and self._racy_folders_agree(record, changed)
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            usable = False
        if not usable:
            shutil.rmtree(self.path, ignore_errors=True)
            return None
        try:
            os.rename(self.tree, destination)
        except OSError:
            shutil.rmtree(self.path, ignore_errors=True)
            return None
        shutil.rmtree(self.path, ignore_errors=True)
        try:
            for name in changed:
                _bring_up_to_date(str(self.folder), str(destination), name)
        except (OSError, OutputError):  # a name that leaves the folder: not written by us
            shutil.rmtree(destination)
            return None
        return set(current)

    def _racy_folders_agree(self, record: dict[str, Any], changed: list[str]) -> bool:
        """Whether each folder whose change time was recorded within :data:`_RACY_NS` of
        its change has the same entries and permissions in both folders, but for the
        files (and their folders) the last swap changed.  Those folders could have
        changed again within the same tick of the file system's clock (a few
        milliseconds; 2 s on FAT) with nothing to show for it in their change times."""
        at = int(record["at"])
        racy = {
            d for part in ("current", "tree") for d, c in record[part].items() if at - c < _RACY_NS
        }
        if not racy:
            return True
        allowed: dict[str, set[str]] = {}
        for name in changed:
            parts = name.split("/")
            for depth in range(len(parts)):
                allowed.setdefault("/".join(parts[:depth]), set()).add(parts[depth])
        return all(_same_entries(self.folder, self.tree, d, allowed.get(d, set())) for d in racy)

    def keep(self, old: Path, changed: Set[str], dirs: Set[str], old_dirs: Set[str]) -> None:
        """Keep *old*, the folder the swap replaced, as the spare: it differs from the
        current folder (whose folders are *dirs*) by the *changed* files."""
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir()
        try:
            (self.path / ".gitignore").write_text("# syndicate's spare output folder\n*\n")
            os.rename(old, self.tree)
            record = {
                "version": self.VERSION,
                "folder": _identity(self.folder),
                "changed": sorted(changed),
                "current": _change_times(self.folder, dirs),
                "tree": _change_times(self.tree, old_dirs),
            }
            record["at"] = time.time_ns()  # after the change times it was taken with
            atomic_write(self.record, json_text(record).encode("utf-8"), durable=False)
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise


#: How long after a folder changed its change time may not move for a second change (the
#: file system's clock ticks: a few milliseconds, 2 s on FAT): see Spare._racy_folders_agree.
_RACY_NS = 2_000_000_000


def _same_entries(current: Path, tree: Path, folder: str, allowed: Set[str]) -> bool:
    """Whether *folder* ("" for the top) has the same entries in *current* and *tree* (the
    same names, each file the same inode, as hard links are), but for the names *allowed*
    to differ, and the same permissions; a folder missing from one of them has no entries
    there."""
    paths = [os.path.join(str(top), folder) if folder else str(top) for top in (current, tree)]
    entries: list[dict[str, int | None] | None] = []
    for path in paths:
        try:
            with os.scandir(path) as listing:
                entries.append(
                    {
                        e.name: None if e.is_dir(follow_symlinks=False) else e.inode()
                        for e in listing
                    }
                )
        except FileNotFoundError:
            entries.append(None)
    mine, theirs = (found or {} for found in entries)
    if (mine.keys() ^ theirs.keys()) - allowed:
        return False
    if any(mine[name] != theirs[name] for name in (mine.keys() & theirs.keys()) - allowed):
        return False
    if entries[0] is not None and entries[1] is not None:
        return os.stat(paths[0]).st_mode == os.stat(paths[1]).st_mode
    return True


def _identity(folder: Path) -> list[int]:
    status = os.stat(folder)
    return [status.st_dev, status.st_ino]


def _change_times(top: Path, dirs: Iterable[str]) -> dict[str, int]:
    """The change time of each of the folders *dirs* below *top* ("" is *top*)."""
    root = str(top)
    return {d: os.stat(os.path.join(root, d) if d else root).st_ctime_ns for d in dirs}


def _bring_up_to_date(current: str, spare: str, name: str) -> None:
    """Make the file *name* in *spare* the current folder's: a hard link to it, or none."""
    there = inside(spare, name)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(there)
    here = inside(current, name)
    if os.path.lexists(here):
        os.makedirs(os.path.dirname(there), exist_ok=True)
        os.link(here, there, follow_symlinks=False)
    else:
        prune(Path(there).parent, Path(spare))
