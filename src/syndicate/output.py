"""The only stage that touches the output folder: whole-folder atomic, write-only-what-changed.

A build never edits ``feeds/`` in place.  It prepares the next version of the
folder beside it (``.feeds.next``): every file that stays the same is a hard
link to the current one, so it keeps its bytes, its inode and its modification
time; only the files that changed are written.  Then one ``renameat2`` call
exchanges the two folders, and the old one is deleted.  A reader, or a run
killed at any moment, sees the old complete folder or the new complete one,
never a mix of both and never a truncated file.  A build that changed nothing
touches nothing, so a publish that changed nothing commits nothing.

Where the kernel cannot exchange two folders, the swap takes two renames
(``feeds`` to ``.feeds.old``, then ``.feeds.next`` to ``feeds``), and the next
run puts ``.feeds.old`` back if it finds no ``feeds``.

Mirroring the current folder costs an operation for each of its files and folders: a
link made for each file and each folder made again, and as many removed with the old
folder after the swap, however little changed.  So the old folder is kept instead
(``.feeds.spare``, see :class:`_Spare`): it differs from the current one only by the
files the swap changed, and the next build brings it up to date with an operation for
each of those.  It is used only when neither folder was touched since: the change time
of each of their folders is recorded, and any file or folder added, removed or renamed
(or a folder's permissions changed) changes one of them.  A folder that changed just
before its time was recorded could change again within the same tick of the file
system's clock without its time moving: its entries are compared in both folders.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import OutputError
from .jsontext import json_text


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]
    #: The status of each file written, taken when it was (see :func:`_write`): its size,
    #: modification time and inode are those it has in place, the swap moving its folder.
    statuses: Mapping[str, os.stat_result] = field(default_factory=dict)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace *path* with *data* in one rename; the old file stays if anything fails.

    *durable* flushes the file to disk before the rename, so that it survives a power
    cut too (not only a killed process); a cache can do without.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def target(folder: Path, name: str) -> Path:
    """*folder*/*name*, refusing a name that would leave *folder*."""
    return Path(_inside(str(folder), name))


def _inside(folder: str, name: str) -> str:
    """:func:`target` as a string: no path objects for each of thousands of files."""
    if name.startswith("/") or "\\" in name or "\x00" in name or ".." in name.split("/"):
        raise OutputError(f"refusing to write outside {folder}: {name!r}")
    return os.path.join(folder, name)


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
    staging: _Staging | None = None
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
                path = _inside(str(folder), name)
                size = None if new else _size(path)
                if size is not None and _holds(path, data, size):
                    same += 1
                    continue
                written.append(name)
                if not dry_run:
                    staging = staging or _Staging(folder)
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
                staging = staging or _Staging(folder)
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


def sibling(folder: Path, role: str) -> Path:
    """Where the next (``role="next"``), the replaced (``"old"``) or the spare
    (``"spare"``) *folder* is kept."""
    return folder.with_name(f".{folder.name}.{role}")


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


class _Staging:
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
                dirs = _Spare(folder).take(self.path)
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
        path = _inside(self._root, name)
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
        for gone in _prune(path.parent, self.path):
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
                _Spare(self.folder).keep(self.path, self.changed, self.dirs, self.current_dirs)
                return
        if self.path.exists():
            shutil.rmtree(self.path, ignore_errors=not self.swapped)


def _add_folders(dirs: set[str], name: str) -> None:
    """Add the folders that the file *name* is in to *dirs*."""
    parts = name.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        dirs.add("/".join(parts[:depth]))


class _Spare:
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
#: file system's clock ticks: a few milliseconds, 2 s on FAT): see _Spare._racy_folders_agree.
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
    there = _inside(spare, name)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(there)
    here = _inside(current, name)
    if os.path.lexists(here):
        os.makedirs(os.path.dirname(there), exist_ok=True)
        os.link(here, there, follow_symlinks=False)
    else:
        _prune(Path(there).parent, Path(spare))


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
#: in a thread of their own, while it makes the next (see :meth:`_Staging.write`): left to
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


def _prune(folder: Path, top: Path) -> list[Path]:
    """Remove folders left empty, up to (not including) *top*; say which."""
    removed = []
    while folder != top and folder.is_relative_to(top):
        try:
            folder.rmdir()
        except OSError:
            break
        removed.append(folder)
        folder = folder.parent
    return removed
