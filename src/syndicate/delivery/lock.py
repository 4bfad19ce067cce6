"""The publish lock: one ``syndicate publish`` (or send-test) at a time per publication.

Two publishes that each read the journal before either writes to it would both send,
so every run that may send holds ``.syndicate/publish.lock`` for as long as it runs.
The lock is the kernel's (``flock``), which goes with its holder, even a killed one;
what this module adds is the case where it does not: a process the killed holder
started still has the file open.  The holder writes down who it is (process id, start
time, boot id, process namespace), and a later run that finds that process gone takes
the lock over, with a note, instead of refusing for ever.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ..errors import DeliveryError, Diagnostic

LOCK_NAME = ".syndicate/publish.lock"


@contextmanager
def publication_lock(root: Path) -> Iterator[list[Diagnostic]]:
    """Hold ``.syndicate/publish.lock`` in *root* for the duration of the block, which is
    given the notes to show (a stale lock taken over).

    Fails at once with :class:`DeliveryError` when another process holds it, rather
    than waiting: a publish stuck behind another is better told to try again.  The
    lock is the kernel's (``flock``), so it is let go when its holder exits, even when
    killed, unless a process it started still has the file open: a process forked while
    the lock is held closes its copy (:func:`_forget_locks`), and syndicate's helpers
    die with the build, but another program's could live on.  So the holder writes
    down who it is, and a lock whose holder is gone is taken over, with a note.  The
    file is emptied when the lock is let go, so it never shows up as a change.
    """
    path = root / LOCK_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _fatal(path, 0, f"cannot create the publish lock: {error.strerror}") from None
    notes: list[Diagnostic] = []
    handle = _take_lock(path, notes)
    _HELD.add(handle)
    try:
        yield notes
    finally:
        if handle in _HELD:  # else this is a process forked meanwhile: its copy is closed
            _HELD.discard(handle)
            with suppress(OSError):
                os.ftruncate(handle, 0)
            try:
                fcntl.flock(handle, fcntl.LOCK_UN)
            finally:
                os.close(handle)


LOCKED = "another syndicate publish is running on this publication; wait for it to finish"

#: The descriptors of the publish locks this process holds (see :func:`_forget_locks`).
_HELD: set[int] = set()


def _forget_locks() -> None:
    """In a process just forked: close the publish locks its parent holds.  A ``flock``
    belongs to the open file, which a forked process shares: were its parent killed, the
    lock would stay held for as long as the child lived."""
    for handle in _HELD:
        with suppress(OSError):
            os.close(handle)
    _HELD.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_locks)


def _take_lock(path: Path, notes: list[Diagnostic]) -> int:
    """The descriptor of the lock at *path*, held; a stale lock is taken over, and noted."""
    for _ in range(3):  # a takeover can replace the file between opening and locking it
        handle = _open_lock(path)
        try:
            holder = _lock_or_holder(handle)
        except OSError as error:
            raise _fatal(path, 0, f"cannot take the publish lock: {error.strerror}") from None
        if holder is not None:
            if not _gone(holder):
                raise DeliveryError(LOCKED)
            return _take_over(path, holder, notes)
        if _is_at(handle, path):
            _write_holder(handle)
            return handle
        os.close(handle)
    raise DeliveryError(LOCKED)


def _take_over(path: Path, holder: str, notes: list[Diagnostic]) -> int:
    """Replace the lock at *path*, held by what the gone *holder* left behind, with a new
    one, held.  The publication's ``.syndicate`` folder is locked meanwhile, so that two
    runs cannot both take it over."""
    guard = os.open(path.parent, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeliveryError(LOCKED) from None
        handle = _open_lock(path)
        still = _lock_or_holder(handle)
        if still is None:  # let go meanwhile: an ordinary lock after all
            _write_holder(handle)
            return handle
        if still != holder:  # another run took it over first
            raise DeliveryError(LOCKED)
        fresh = path.with_name(f".{path.name}.{os.getpid()}")
        handle = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _write_holder(handle)
            os.replace(fresh, path)
        except BaseException:
            os.close(handle)
            fresh.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise _fatal(path, 0, f"cannot take over the publish lock: {error.strerror}") from None
    finally:
        os.close(guard)
    pid = holder.split()[0]
    notes.append(
        Diagnostic.warning(
            path,
            0,
            f"took the publish lock over: process {pid}, which held it, is gone (killed?) "
            "and left a process that still had it open",
        )
    )
    return handle


def _lock_or_holder(handle: int) -> str | None:
    """Lock the lock file open at *handle*: None when it is done, else who holds the lock
    (and *handle* is closed)."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(handle)
        os.close(handle)
        return holder
    except BaseException:
        os.close(handle)
        raise
    return None


def _open_lock(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as error:
        raise _fatal(path, 0, f"cannot create the publish lock: {error.strerror}") from None


def _is_at(handle: int, path: Path) -> bool:
    """Whether the file open at *handle* is still the one at *path* (not replaced by a
    takeover between opening and locking it)."""
    try:
        here, there = os.fstat(handle), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _holder() -> str:
    """Who holds the lock: this process's id, when it started, since which boot of the
    machine and in which process namespace, so that another run can tell that it is gone
    rather than a new process that got the same id."""
    pid = os.getpid()
    return f"{pid} {_started(pid)} {_proc('sys/kernel/random/boot_id')} {_pid_namespace()}"


def _write_holder(handle: int) -> None:
    with suppress(OSError):  # only lets a later run take over a stale lock
        os.ftruncate(handle, 0)
        os.pwrite(handle, (_holder() + "\n").encode("ascii"), 0)


def _read_holder(handle: int) -> str:
    try:
        return os.pread(handle, 4096, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""


def _gone(holder: str) -> bool:
    """Whether the process *holder* names is known to be gone: on this machine since its
    last boot, in this process namespace, and no process of its id started when it did.
    An empty or foreign record (a run that is just starting, another machine, another
    container) is never taken for gone."""
    parts = holder.split()
    if len(parts) != 4 or not parts[0].isdigit() or "?" in parts:
        return False
    pid, started, boot, namespace = parts
    mine = _holder().split()
    if (boot, namespace) != (mine[2], mine[3]) or "?" in mine:
        return False
    now = _started(int(pid))
    return now != "?" and now != started


def _started(pid: int) -> str:
    """When the process *pid* started (in clock ticks since boot): "?" when not known, ""
    when there is no such process, or only what is left of one that exited (a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except FileNotFoundError:
        return ""
    except (OSError, IndexError):
        return "?"
    if len(fields) <= 19:
        return "?"
    return "" if fields[0] in (b"Z", b"X") else fields[19].decode("ascii")


def _proc(name: str) -> str:
    try:
        with open(f"/proc/{name}", encoding="ascii") as file:
            return file.read().strip() or "?"
    except (OSError, ValueError):
        return "?"


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return "?"


def _fatal(path: Path, line: int, message: str) -> DeliveryError:
    diagnostic = Diagnostic.error(path, line, message)
    return DeliveryError(str(diagnostic), [diagnostic])
