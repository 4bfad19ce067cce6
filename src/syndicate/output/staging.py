"""The next output folder, staged beside the current one and swapped in.

:class:`Staging` prepares ``.feeds.next``: a hard link to every current file (or the
spare folder brought up to date, :mod:`.spare`), then the files that changed, written
in pieces and flushed to disk in the background while the build goes on; then one
``renameat2`` exchanges it with the current folder (two renames where the kernel cannot).
This is the part of :mod:`syndicate.output` that talks to the kernel: ``writev``,
``sync_file_range``, ``syncfs`` and ``renameat2`` through ctypes, each with a fallback.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import stat
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from .files import inside, prune, sibling, target
from .spare import Spare


class Staging:
    """The next *folder*, prepared beside it (:func:`sibling` ``"next"``): a hard link to
    every current file, then the changes, then swapped in.  It starts from the spare
    folder when there is a good one, else from a mirror of the current folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = sibling(folder, "next")
        self.swapped = False
        self._root = str(self.path)
        self._folders: set[str] = set()
        #: The folders of the next folder, and of the current one, relative to each (""
        #: for the folder itself); the files changed.  The spare is recorded with them.
        self.dirs: set[str] = {""}
        self.current_dirs: set[str] | None = None
        self.changed: set[str] = set()
        #: The status of each file written, by name (see :func:`_write`).
        self.statuses: dict[str, os.stat_result] = {}
        #: Bytes written since the last flush began, and the flush under way, if any.
        self._unflushed = 0
        self._flushing: threading.Thread | None = None
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            if folder.is_dir():
                dirs = Spare(folder).take(self.path)
                self.dirs = dirs if dirs is not None else _link_tree(folder, self.path)
                self.current_dirs = set(self.dirs)
            else:
                self.path.mkdir()
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise

    def write(self, name: str, data: Sequence[bytes], *, replacing: bool = True) -> None:
        """Write the file *name*; *replacing* says the current folder has one (so the next
        one has a hard link to it, never to be written through)."""
        path = inside(self._root, name)
        parent = os.path.dirname(path)
        self.changed.add(name)
        if parent not in self._folders:
            os.makedirs(parent, exist_ok=True)
            self._folders.add(parent)
            _add_folders(self.dirs, name)
        if replacing:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        try:
            status = _write(path, data)
        except FileExistsError:  # there after all (the current file could not be looked at)
            os.unlink(path)
            status = _write(path, data)
        self.statuses[name] = status
        self._unflushed += status.st_size
        if self._unflushed >= FLUSH_EVERY:
            self.flush_ahead()

    def flush_ahead(self) -> None:
        """Start flushing what is written so far, unless a flush is still under way: the
        disk works while the build makes the next files (or what it saves after the swap),
        and the flush before the swap has only the last ones left to wait for."""
        if not self._unflushed or (self._flushing is not None and self._flushing.is_alive()):
            return
        self._unflushed = 0
        self._flushing = threading.Thread(
            target=_sync_meanwhile, args=(self.path,), name="syndicate-flush", daemon=True
        )
        self._flushing.start()

    def _flushed(self) -> None:
        """Wait for the flush under way, if any."""
        if self._flushing is not None:
            self._flushing.join()
            self._flushing = None

    def remove(self, name: str) -> None:
        path = target(self.path, name)
        self.changed.add(name)
        path.unlink()
        for gone in prune(path.parent, self.path):
            self.dirs.discard(gone.relative_to(self.path).as_posix())

    def swap(self, swapping: Callable[[], None] | None = None) -> None:
        """Flush the next folder to disk, call *swapping*, and put the folder in place of
        the current one."""
        self._flushed()
        _sync(self.path)
        if swapping is not None:
            swapping()
        _swap(self.path, self.folder)
        self.swapped = True

    def discard(self) -> None:
        """After a swap, keep the old folder as the spare (or delete it); else delete the
        next folder."""
        self._flushed()
        if self.swapped and self.current_dirs is not None and self.path.exists():
            with contextlib.suppress(OSError):
                Spare(self.folder).keep(self.path, self.changed, self.dirs, self.current_dirs)
                return
        if self.path.exists():
            shutil.rmtree(self.path, ignore_errors=not self.swapped)


def _add_folders(dirs: set[str], name: str) -> None:
    """Add the folders that the file *name* is in to *dirs*."""
    parts = name.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        dirs.add("/".join(parts[:depth]))


def _write(path: str, pieces: Sequence[bytes]) -> os.stat_result:
    """A new file at *path* (the umask sets its permissions): never one already there,
    which could be a hard link to a file of the current folder.  Gives its status once
    written, from its descriptor: what the build cache records of it, without looking it
    up again by its path afterwards."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        size = write_all(descriptor, pieces)
        if size >= _EARLY_WRITEBACK:
            _start_writeback(descriptor)
        return os.fstat(descriptor)
    finally:
        os.close(descriptor)


#: The most pieces one writev() takes (the kernel's IOV_MAX; 1024 on Linux).
_IOV_MAX = min(os.sysconf("SC_IOV_MAX"), 1024) if hasattr(os, "sysconf") else 1024


def write_all(descriptor: int, pieces: Sequence[bytes]) -> int:
    """Write *pieces*, one after the other, to the file open at *descriptor*, and say how
    many bytes that was: with ``writev`` a thousand at a time (a feed with every entry is
    tens of thousands of pieces: copied once, by the kernel, rather than through a buffer
    of 8 KB)."""
    total = 0
    if not hasattr(os, "writev"):  # not on Windows
        for piece in pieces:
            _write_fully(descriptor, memoryview(piece))
            total += len(piece)
        return total
    for start in range(0, len(pieces), _IOV_MAX):
        batch = pieces[start : start + _IOV_MAX]
        size = sum(map(len, batch))
        written = os.writev(descriptor, batch)
        if written != size:  # stopped short (a signal): the rest in turn
            _write_fully(descriptor, memoryview(b"".join(batch))[written:])
        total += size
    return total


def _write_fully(descriptor: int, data: memoryview) -> None:
    while data:
        data = data[os.write(descriptor, data) :]


#: Files from this size up start on their way to the disk as soon as they are written.
#: For the thousands of small files of a full site (pages, cards), one request to the disk
#: each cost more system time than it saved (see benchmarks/RESULTS.md): the flushes every
#: :data:`FLUSH_EVERY` bytes and before the swap write them together.
_EARLY_WRITEBACK = 1 << 20


def _start_writeback(descriptor: int) -> None:
    """Have the kernel start writing the file to disk now, without waiting: the flush
    before the swap (:func:`_sync`) then waits for less, the disk having worked while the
    build made the next files.  Only a hint; nothing where the call is missing."""
    if _sync_file_range is not None:
        _sync_file_range(descriptor, 0, 0, _SYNC_FILE_RANGE_WRITE)


def _link_tree(source: Path, destination: Path) -> set[str]:
    """Mirror *source* at *destination*: the same folders, and a hard link (a copy where
    links are not possible) to every file.  Say which folders, relative to it ("" for
    *destination* itself)."""
    # Paths as text: a full site is tens of thousands of files.
    top, mirror = str(source), str(destination)
    os.mkdir(mirror, stat.S_IMODE(os.stat(top).st_mode))
    link = True
    folders = {""}
    for parent, dirs, names in os.walk(top):
        there = mirror + parent[len(top) :]  # os.walk gives every folder as top + "/..."
        below = parent[len(top) + 1 :]
        folders.update(f"{below}/{name}" if below else name for name in dirs)
        for name in dirs:
            mode = stat.S_IMODE(os.stat(os.path.join(parent, name)).st_mode)
            os.mkdir(os.path.join(there, name), mode)
        for name in names:
            path, copy = os.path.join(parent, name), os.path.join(there, name)
            if link:
                try:
                    os.link(path, copy, follow_symlinks=False)
                    continue
                except OSError as error:
                    if error.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP):
                        raise
                    link = False
            shutil.copy2(path, copy, follow_symlinks=False)
    return folders


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_SYNC_FILE_RANGE_WRITE = 2
_sync_file_range = getattr(_libc, "sync_file_range", None)
if _sync_file_range is not None:  # int sync_file_range(int, off64_t, off64_t, unsigned)
    _sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]


def _swap(new: Path, current: Path) -> None:
    """Put *new* at *current*, and what was at *current* (if anything) at *new*."""
    if not current.exists():
        os.rename(new, current)
        return
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is not None:
        done = renameat2(
            _AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(current), _RENAME_EXCHANGE
        )
        if done == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(code, os.strerror(code), str(current))
    # Two renames; recover() undoes the first if the run is killed between them.
    old = sibling(current, "old")
    os.rename(current, old)
    os.rename(new, current)
    os.rename(old, new)


#: The bytes a build writes before the files written so far start on their way to disk,
#: in a thread of their own, while it makes the next (see :meth:`Staging.write`): left to
#: itself, the kernel had written next to nothing of a cold full build by the time the
#: build flushed it to swap the folders, and the build waited for the disk with both cores
#: idle (the figures are in benchmarks/RESULTS.md).
FLUSH_EVERY = 64 << 20


def _sync_meanwhile(folder: Path) -> None:
    """:func:`_sync`, only to give the disk a head start: should it fail (the folder gone
    with a build that failed), the flush before the swap says so, or there is none."""
    with contextlib.suppress(OSError):
        _sync(folder)


def _sync(folder: Path) -> None:
    """Flush everything written under *folder* to disk before it is swapped in: one
    ``syncfs`` rather than an ``fsync`` per file."""
    syncfs = getattr(_libc, "syncfs", None)
    if syncfs is None:
        os.sync()
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(handle) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(folder))
    finally:
        os.close(handle)
