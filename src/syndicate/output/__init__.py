"""The only stage that touches the output folder: whole-folder atomic, write-only-what-changed.

A build never edits ``feeds/`` in place.  It prepares the next version of the
folder beside it (``.feeds.next``): every file that stays the same is a hard
link to the current one, so it keeps its bytes, its inode and its modification
time; only the files that changed are written.  Then one ``renameat2`` call
exchanges the two folders, and the old one is kept for the next build
(:mod:`.spare`).  A reader, or a run killed at any moment, sees the old complete
folder or the new complete one, never a mix of both and never a truncated file.
A build that changed nothing touches nothing, so a publish that changed nothing
commits nothing.

Where the kernel cannot exchange two folders, the swap takes two renames
(``feeds`` to ``.feeds.old``, then ``.feeds.next`` to ``feeds``), and the next
run puts ``.feeds.old`` back if it finds no ``feeds``.

This package's face is :func:`write_files` and :func:`recover`, with the helpers for a
single file (:mod:`.files`); the machinery behind the swap is :mod:`.staging` (the next
folder, written, flushed and exchanged) and :mod:`.spare`.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OutputError
from .files import atomic_write, inside, sibling, target
from .staging import Staging

__all__ = [
    "Pieces",
    "WriteResult",
    "atomic_write",
    "recover",
    "sibling",
    "target",
    "write_files",
]


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]
    #: The status of each file written, taken when it was (see :func:`.staging._write`): its size,
    #: modification time and inode are those it has in place, the swap moving its folder.
    statuses: Mapping[str, os.stat_result] = field(default_factory=dict)


class Pieces(Mapping[str, bytes]):
    """Files that can also be read in pieces, without joining them into one bytes object:
    :func:`write_files` compares and writes them piece by piece."""

    def pieces(self, name: str) -> Sequence[bytes]:
        """The file *name* as the pieces that make it, in order."""
        return (self[name],)


def _holds(path: Path | str, pieces: Sequence[bytes], size: int) -> bool:
    """Whether the file at *path*, of *size* bytes, holds *pieces*."""
    if size != sum(map(len, pieces)):
        return False
    try:
        with open(path, "rb") as file:
            return all(file.read(len(piece)) == piece for piece in pieces)
    except OSError:
        return False


def write_files(
    folder: Path,
    files: Mapping[str, bytes],
    stale: Iterable[str] = (),
    *,
    kept: Set[str] = frozenset(),
    dry_run: bool = False,
    ready: Callable[[], None] | None = None,
    swapping: Callable[[], None] | None = None,
) -> WriteResult:
    """Make *folder* hold *files* (paths relative to it), without the *stale* ones no longer
    made, in one atomic step; files not named in either, and the *kept* ones (known to be
    unchanged), are left as they are.

    Each file of *files* is read once, in the mapping's order, and let go as soon as it is
    compared (and written, when it changed): a mapping that makes its files when they are
    read never has them all in memory at once, and :class:`Pieces` never has a whole file.
    Should reading one fail, *folder* is left as it was.

    *ready* is called once every file was read, before anything replaces *folder*: it
    may raise to leave *folder* as it was.  *swapping* is called last before the swap,
    once the next folder is on disk, and only when there is a swap: what must be recorded
    before *folder* changes (a run killed right after the swap records nothing more).
    With *dry_run*, only say what would be written and removed.
    """
    folder = folder.absolute()
    staging: Staging | None = None
    try:
        try:
            if not dry_run:
                recover(folder)
            # A new folder (a first or a cold build): nothing to compare with or replace.
            new = not folder.exists()
            written: list[str] = []
            same = len(kept)
            for name in files:
                data = files.pieces(name) if isinstance(files, Pieces) else (files[name],)
                path = inside(str(folder), name)
                size = None if new else _size(path)
                if size is not None and _holds(path, data, size):
                    same += 1
                    continue
                written.append(name)
                if not dry_run:
                    staging = staging or Staging(folder)
                    staging.write(name, data, replacing=size is not None)
            if staging is not None:
                staging.flush_ahead()  # while ready() works
            if ready is not None:
                ready()
            removed = [
                name
                for name in sorted(set(stale) - files.keys() - kept)
                if target(folder, name).is_file()
            ]
            if removed and not dry_run:
                staging = staging or Staging(folder)
                for name in removed:
                    staging.remove(name)
            if staging is not None:
                staging.swap(swapping)
        finally:
            if staging is not None:
                staging.discard()
    except OSError as error:
        raise OutputError(_explain(error, folder)) from error
    statuses = staging.statuses if staging is not None and staging.swapped else {}
    return WriteResult(tuple(sorted(written)), same, tuple(removed), statuses)


def _explain(error: OSError, folder: Path) -> str:
    where = error.filename or folder
    advice = {
        errno.ENOSPC: "free some disk space and build again",
        errno.EDQUOT: "free some disk space (you are over your quota) and build again",
        errno.EACCES: f"check who may write to {folder.parent}",
        errno.EPERM: f"check who may write to {folder.parent}",
        errno.EROFS: f"{folder} is on a read-only file system; build elsewhere",
    }.get(error.errno or 0, "fix this and build again")
    return f"cannot write {where}: {error.strerror or error}; {folder} is unchanged; {advice}"


def recover(folder: Path) -> None:
    """Finish or undo what a killed run left: put the old folder back if the swap stopped
    half-way, and delete what is left of a folder being prepared or replaced."""
    old = sibling(folder, "old")
    if not folder.exists() and old.is_dir():
        os.rename(old, folder)
    for leftover in (sibling(folder, "next"), old):
        if leftover.exists():
            shutil.rmtree(leftover)


def _size(path: str) -> int | None:
    """The size of the file at *path*; None when there is none (or it cannot be read)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return None
