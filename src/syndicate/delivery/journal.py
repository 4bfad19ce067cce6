"""The journal: who has already received an email, so that every send happens exactly once.

One file per email, ``.syndicate/journal/<digest-id>.jsonl``, one JSON line per
recipient the server accepted (or refused for good).  A recipient is named by a
keyed hash, never by the address, so the journal may be committed.  Each line is
on disk before the next message goes out: a run that is killed loses at most the
line it was writing, and that recipient's message is the only one that can ever
be sent twice.

A record must never fail to be written once the server has accepted its message:
that message would go out again on the next run.  So the room for the records is
taken on disk *before* anything is sent (:meth:`Journal.reserve`: blank lines,
written and synced), and each record is then written over that room, in place.
Overwriting bytes a file already has asks the file system for no new space, so a
disk that fills up during the send fails the reservation, before any message,
never a record after one.  What room is left over is cut off when the journal is
closed (or by the next run, after a kill).

Two publishes of one publication must not send at the same time (two journals
read before either writes would both send): :mod:`.lock` keeps them apart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType

from ..errors import DeliveryError, Diagnostic

SENT = "sent"
FAILED = "failed"
STATUSES = (SENT, FAILED)

#: The longest record line, newline included: the room :meth:`Journal.reserve` takes for
#: each record.  A key is 32 hex digits; *detail* is cut to fit.
RECORD_SIZE = 128
_DETAIL = 40
#: One line of room: blank, so that a reader of the file skips it.
_ROOM_LINE = b" " * (RECORD_SIZE - 1) + b"\n"
#: Lines of room written at a time.
_ROOM_PIECE = 1024


class JournalDamaged(ValueError):
    """A line of the journal is not a record."""


class Journal:
    """Append-only record of one email's recipients: ``.syndicate/journal/<digest-id>.jsonl``.

    Open it with :meth:`open`; the file and its folder are only created by the first
    :meth:`reserve` (or :meth:`record`), so a dry run that looks at a journal leaves
    nothing behind.
    """

    def __init__(
        self,
        path: Path,
        statuses: dict[str, str],
        *,
        end: int = 0,
        size: int = 0,
        repaired: bool = False,
    ) -> None:
        self.path = path
        self._statuses = statuses
        #: Keep the key of each record this journal writes (see :meth:`open`).
        self._remember = True
        self._sent = sum(status == SENT for status in statuses.values())
        self._failed = sum(status == FAILED for status in statuses.values())
        self._handle: int | None = None
        self._closed = False
        #: Where the next record goes: the end of the last one.
        self._end = end
        #: The file's size; what lies between the end and it is room (blank lines).
        self._size = size
        #: True when :meth:`open` dropped a half-written last record left by a crash.
        self.repaired = repaired

    @classmethod
    def open(cls, path: Path, *, remember: bool = True) -> Journal:
        """Read the journal at *path* (none yet is an empty journal).

        A half-written last record (a crash mid-write) is dropped and cut from the
        file; damage anywhere else raises :class:`DeliveryError` naming the line,
        since guessing there could mail someone twice.

        With *remember* false, a record written from now on is counted, but its key is
        not kept for :meth:`status`, which then answers for the records the file held when
        it was opened: a send that meets each reader once needs no more, and its memory
        then stays flat however many readers it records.
        """
        journal = cls._read(path)
        journal._remember = remember
        return journal

    @classmethod
    def _read(cls, path: Path) -> Journal:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls(path, {})
        except OSError as error:
            raise _fatal(path, 0, f"cannot read the journal: {error.strerror}") from None
        # Room left by a run that was killed is blank: the records end where it starts.
        content = len(data.rstrip())
        complete, tail = split_tail(data[:content])
        try:
            statuses = parse(complete)
        except JournalDamaged as damage:
            line, message = damage.args
            raise _fatal(path, line, f"journal damaged: {message}") from None
        if not tail:
            return cls(path, statuses, end=content, size=len(data))
        line = complete.count(b"\n") + 1
        try:
            statuses.update(parse(tail, first_line=line))
        except JournalDamaged:
            _repair(path, len(complete))
            return cls(path, statuses, end=len(complete), size=len(complete), repaired=True)
        if data[content : content + 1] != b"\n":
            # The record was whole and only its newline was lost: keep it (that message
            # was accepted) and finish the line, so that the next record starts on its own.
            _finish_line(path, content)
        return cls(path, statuses, end=content + 1, size=max(len(data), content + 1))

    def status(self, key: str) -> str | None:
        """``"sent"``, ``"failed"`` (refused for good) or None when *key* is not done."""
        return self._statuses.get(key)

    def reserve(self, count: int) -> None:
        """Make sure the file has room for *count* more records, written and synced.

        Call it before sending: this is where a full disk (or any write error) shows,
        as a :class:`DeliveryError` saying what to do, while nothing has been sent.
        """
        self._check_open()
        needed = count * RECORD_SIZE - (self._size - self._end)
        if needed <= 0:
            return
        lines = -(-needed // RECORD_SIZE)
        handle = self._open_for_writing()
        try:
            # A piece at a time: the room for a large list is never all in memory at once.
            for start in range(0, lines, _ROOM_PIECE):
                piece = min(_ROOM_PIECE, lines - start)
                _write_all(handle, _ROOM_LINE * piece, self._size + start * RECORD_SIZE)
            os.fsync(handle)
        except OSError as error:
            raise _stopped(
                self.path,
                0,
                f"cannot make room in the journal ({error.strerror or error}): nothing was "
                "sent; free some disk space and run publish again",
            ) from None
        self._size += lines * RECORD_SIZE

    def record(self, key: str, status: str, detail: str = "") -> None:
        """Write down that *key* is done, and return only once the line is on disk.

        The line goes into the room :meth:`reserve` took (taking some first if there is
        none).  *detail* (the server's reply code) must not contain an address; line
        breaks in it are flattened so that one record stays one line.
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        self._check_open()
        line = encode(key, status, detail)
        if self._size - self._end < len(line):
            self.reserve(1)
        handle = self._open_for_writing()
        try:
            _write_all(handle, line, self._end)
            # Synced before returning: the caller sends the next message right after, and a
            # record still in a buffer is a record a crash would lose (a message sent twice).
            _datasync(handle)
        except OSError as error:
            raise _stopped(
                self.path,
                0,
                f"cannot write the journal ({error.strerror or error}); the last message "
                "sent may go out again on the next run",
            ) from None
        self._end += len(line)
        before = self._statuses.get(key)
        if before is not None or self._remember:
            self._statuses[key] = status
        self._sent += (status == SENT) - (before == SENT)
        self._failed += (status == FAILED) - (before == FAILED)

    @property
    def sent(self) -> int:
        """How many recipients the server accepted."""
        return self._sent

    @property
    def failed(self) -> int:
        """How many recipients the server refused for good."""
        return self._failed

    def close(self) -> None:
        """Cut off the room left over, close the file; the journal can no longer record."""
        self._closed = True
        if self._handle is None:
            return
        try:
            if self._size > self._end:
                # Only blank lines go: a failure here leaves them, which the next open skips.
                os.ftruncate(self._handle, self._end)
                os.fsync(self._handle)
                self._size = self._end
        except OSError:
            pass
        finally:
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

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"the journal {self.path} is closed")

    def _open_for_writing(self) -> int:
        if self._handle is None:
            try:
                created = not self.path.exists()
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o666)
                if created:
                    # A new file is only durable once its folder entry is: without this a
                    # crash could leave the records synced but the file itself gone.
                    _fsync_folder(self.path.parent)
            except OSError as error:
                raise _stopped(
                    self.path,
                    0,
                    f"cannot create the journal ({error.strerror or error}): nothing was "
                    "sent; free some disk space and run publish again",
                ) from None
        return self._handle


def encode(key: str, status: str, detail: str = "") -> bytes:
    """One journal line: JSON with sorted keys and no timestamp, so runs are reproducible.

    At most :data:`RECORD_SIZE` bytes: a longer *detail* is cut short.
    """
    flat = " ".join(detail.splitlines())[:_DETAIL]
    record = {"key": key, "status": status, "detail": flat}
    line = (json.dumps(record, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")
    if len(line) > RECORD_SIZE:
        raise ValueError(f"a journal key must be at most {RECORD_SIZE - 60} characters")
    return line


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


def _stopped(path: Path, line: int, message: str) -> DeliveryError:
    """The send cannot go on: one line, ``path: error: ...``, saying what to do."""
    return DeliveryError(str(Diagnostic.error(path, line, message)))


def _repair(path: Path, length: int) -> None:
    """Cut *path* to its first *length* bytes, durably."""
    try:
        with path.open("r+b") as file:
            file.truncate(length)
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        raise _fatal(path, 0, f"cannot repair the journal: {error.strerror}") from None


def _finish_line(path: Path, offset: int) -> None:
    """Write a newline at *offset* in *path* (over room, or at the end), durably."""
    try:
        handle = os.open(path, os.O_WRONLY)
        try:
            _write_all(handle, b"\n", offset)
            os.fsync(handle)
        finally:
            os.close(handle)
    except OSError as error:
        raise _fatal(path, 0, f"cannot repair the journal: {error.strerror}") from None


def _write_all(handle: int, data: bytes, offset: int) -> None:
    """Write all of *data* at *offset*: a write may take less than it was given."""
    view = memoryview(data)
    while view:
        written = os.pwrite(handle, view, offset)
        offset += written
        view = view[written:]


def _datasync(handle: int) -> None:
    """fdatasync where there is one: a record overwrites room, so the file's size and all
    its other metadata stay as they were, and only the data needs to reach the disk."""
    getattr(os, "fdatasync", os.fsync)(handle)


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
