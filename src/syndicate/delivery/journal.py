"""The journal: who has already received an email, so that every send happens exactly once.

One file per email, ``.syndicate/journal/<digest-id>.jsonl``, one JSON line per
recipient the server accepted (or refused for good).  A recipient is named by a
keyed hash, never by the address, so the journal may be committed.  Each line is
on disk (``fsync``) before the next message goes out: a run that is killed loses
at most the line it was writing, and that recipient's message is the only one
that can ever be sent twice.

:func:`publication_lock` keeps two publishes of one publication from sending at
the same time (two journals read before either writes would both send).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from ..errors import DeliveryError, Diagnostic

SENT = "sent"
FAILED = "failed"
STATUSES = (SENT, FAILED)

LOCK_NAME = ".syndicate/publish.lock"


class JournalDamaged(ValueError):
    """A line of the journal is not a record."""


class Journal:
    """Append-only record of one email's recipients: ``.syndicate/journal/<digest-id>.jsonl``.

    Open it with :meth:`open`; the file and its folder are only created by the first
    :meth:`record`, so a dry run that looks at a journal leaves nothing behind.
    """

    def __init__(self, path: Path, statuses: dict[str, str], *, repaired: bool = False) -> None:
        self.path = path
        self._statuses = statuses
        self._handle: int | None = None
        self._closed = False
        #: True when :meth:`open` dropped a half-written last line left by a crash.
        self.repaired = repaired

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Read the journal at *path* (none yet is an empty journal).

        A half-written last line (a crash mid-write) is dropped and cut from the
        file; damage anywhere else raises :class:`DeliveryError` naming the line,
        since guessing there could mail someone twice.
        """
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls(path, {})
        except OSError as error:
            raise _fatal(path, 0, f"cannot read the journal: {error.strerror}") from None
        complete, tail = split_tail(data)
        try:
            statuses = parse(complete)
        except JournalDamaged as damage:
            line, message = damage.args
            raise _fatal(path, line, f"journal damaged: {message}") from None
        if not tail:
            return cls(path, statuses)
        line = complete.count(b"\n") + 1
        try:
            statuses.update(parse(tail, first_line=line))
        except JournalDamaged:
            _repair(path, len(complete))
            return cls(path, statuses, repaired=True)
        # The record was whole and only its newline was lost: keep it (that message was
        # accepted) and finish the line, so that the next record starts on its own.
        _append(path, b"\n")
        return cls(path, statuses)

    def status(self, key: str) -> str | None:
        """``"sent"``, ``"failed"`` (refused for good) or None when *key* is not done."""
        return self._statuses.get(key)

    def record(self, key: str, status: str, detail: str = "") -> None:
        """Write down that *key* is done, and return only once the line is on disk.

        *detail* (the server's reply to a refusal) must not contain an address; line
        breaks in it are flattened so that one record stays one line.
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        if self._closed:
            raise ValueError(f"the journal {self.path} is closed")
        line = encode(key, status, detail)
        handle = self._open_for_append()
        _write_all(handle, line)
        # fsync before returning: the caller sends the next message right after, and a
        # record still in a buffer is a record a crash would lose (and a message sent twice).
        os.fsync(handle)
        self._statuses[key] = status

    @property
    def sent(self) -> int:
        """How many recipients the server accepted."""
        return sum(status == SENT for status in self._statuses.values())

    @property
    def failed(self) -> int:
        """How many recipients the server refused for good."""
        return sum(status == FAILED for status in self._statuses.values())

    def close(self) -> None:
        """Close the file; the journal can no longer record."""
        self._closed = True
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _open_for_append(self) -> int:
        if self._handle is None:
            created = not self.path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            if created:
                # A new file is only durable once its folder entry is: without this a
                # crash could leave the records fsynced but the file itself gone.
                _fsync_folder(self.path.parent)
        return self._handle


def encode(key: str, status: str, detail: str = "") -> bytes:
    """One journal line: JSON with sorted keys and no timestamp, so runs are reproducible."""
    flat = " ".join(detail.splitlines())
    record = {"key": key, "status": status, "detail": flat}
    return (json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def split_tail(data: bytes) -> tuple[bytes, bytes]:
    """*data* cut after its last newline: (the complete lines, what follows them)."""
    end = data.rfind(b"\n") + 1
    return data[:end], data[end:]


def parse(data: bytes, first_line: int = 1) -> dict[str, str]:
    """The status of each key in the journal lines *data*; a later line wins.

    Raises :class:`JournalDamaged` with ``(line, message)`` for a line that is not a
    record.  Blank lines carry nothing and are allowed.
    """
    statuses: dict[str, str] = {}
    for number, raw in enumerate(data.splitlines(), start=first_line):
        if not raw.strip():
            continue
        key, status = _decode(raw, number)
        statuses[key] = status
    return statuses


def _decode(raw: bytes, line: int) -> tuple[str, str]:
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise JournalDamaged(line, "not a JSON line") from None
    if not isinstance(record, dict):
        raise JournalDamaged(line, "not a JSON object")
    key, status, detail = record.get("key"), record.get("status"), record.get("detail", "")
    if not isinstance(key, str) or not key:
        raise JournalDamaged(line, "no key")
    if status not in STATUSES:
        raise JournalDamaged(line, f"status must be {' or '.join(STATUSES)}")
    if not isinstance(detail, str):
        raise JournalDamaged(line, "detail must be text")
    return key, status


def _fatal(path: Path, line: int, message: str) -> DeliveryError:
    diagnostic = Diagnostic.error(path, line, message)
    return DeliveryError(str(diagnostic), [diagnostic])


def _repair(path: Path, length: int) -> None:
    """Cut *path* to its first *length* bytes, durably."""
    try:
        with path.open("r+b") as file:
            file.truncate(length)
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        raise _fatal(path, 0, f"cannot repair the journal: {error.strerror}") from None


def _append(path: Path, data: bytes) -> None:
    try:
        handle = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            _write_all(handle, data)
            os.fsync(handle)
        finally:
            os.close(handle)
    except OSError as error:
        raise _fatal(path, 0, f"cannot repair the journal: {error.strerror}") from None


def _write_all(handle: int, data: bytes) -> None:
    """Write all of *data*: os.write may write less than it was given."""
    view = memoryview(data)
    while view:
        written = os.write(handle, view)
        view = view[written:]


def _fsync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        # Some filesystems cannot fsync a folder; the records themselves are still synced.
        pass
    finally:
        os.close(handle)


@contextmanager
def publication_lock(root: Path) -> Iterator[None]:
    """Hold ``.syndicate/publish.lock`` in *root* for the duration of the block.

    Fails at once with :class:`DeliveryError` when another process holds it, rather
    than waiting: a publish stuck behind another is better told to try again.  The
    lock is the kernel's (``flock``), so it is let go when its holder exits, even
    when killed; the file stays empty so it never shows up as a change.
    """
    path = root / LOCK_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        raise _fatal(path, 0, f"cannot create the publish lock: {error.strerror}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeliveryError(
                "another syndicate publish is running on this publication; wait for it to finish"
            ) from None
        except OSError as error:
            raise _fatal(path, 0, f"cannot take the publish lock: {error.strerror}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)
