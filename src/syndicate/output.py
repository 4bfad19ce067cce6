"""The only stage that touches the filesystem: atomic, write-only-what-changed output.

Every file is written to a temporary file in its own folder and renamed over
the old one, so a reader (or a killed run) sees the old file or the new one,
never half of one.  A file whose bytes did not change is left alone, keeping
its modification time, so a publish that changed nothing commits nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import OutputError


def json_bytes(document: object) -> bytes:
    """*document* as indented UTF-8 JSON with a final newline, "<", ">" and "&" written as
    \\u escapes: the same JSON, but safe to embed in an HTML page."""
    text = json.dumps(document, ensure_ascii=False, indent=2)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (text + "\n").encode("utf-8")


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes) -> None:
    """Replace *path* with *data* in one rename; the old file stays if anything fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def target(folder: Path, name: str) -> Path:
    """*folder*/*name*, refusing a name that would leave *folder*."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or "\\" in name or "\x00" in name:
        raise OutputError(f"refusing to write outside {folder}: {name!r}")
    return folder.joinpath(*relative.parts)


def unchanged(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def write_files(
    folder: Path, files: Mapping[str, bytes], stale: Iterable[str] = (), *, dry_run: bool = False
) -> WriteResult:
    """Write *files* (paths relative to *folder*) and remove the *stale* ones no longer made.

    With *dry_run*, only say what would be written and removed.
    """
    written: list[str] = []
    kept = 0
    try:
        for name in sorted(files):
            path = target(folder, name)
            if unchanged(path, files[name]):
                kept += 1
                continue
            if not dry_run:
                atomic_write(path, files[name])
            written.append(name)
        removed = []
        for name in sorted(set(stale) - set(files)):
            path = target(folder, name)
            if path.is_file():
                removed.append(name)
                if not dry_run:
                    path.unlink()
                    _prune(path.parent, folder)
    except OSError as error:
        where = error.filename or folder
        raise OutputError(f"cannot write {where}: {error.strerror or error}") from error
    return WriteResult(tuple(written), kept, tuple(removed))


def _prune(folder: Path, top: Path) -> None:
    """Remove folders left empty, up to (not including) *top*."""
    while folder != top and folder.is_relative_to(top):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
