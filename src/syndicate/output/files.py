"""Single files of the output: where one goes (:func:`target`, never outside its folder),
where a folder's neighbours live (:func:`sibling`: the next, old and spare folders), how one
file is replaced whole (:func:`atomic_write`), and empty folders pruned.  Every writer of
syndicate's files (the output folder, the state, the cache, the outbox) shares these; the
whole-folder swap is in :mod:`.staging`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import OutputError


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
    return Path(inside(str(folder), name))


def inside(folder: str, name: str) -> str:
    """:func:`target` as a string: no path objects for each of thousands of files."""
    if name.startswith("/") or "\\" in name or "\x00" in name or ".." in name.split("/"):
        raise OutputError(f"refusing to write outside {folder}: {name!r}")
    return os.path.join(folder, name)


def sibling(folder: Path, role: str) -> Path:
    """Where the next (``role="next"``), the replaced (``"old"``) or the spare
    (``"spare"``) *folder* is kept."""
    return folder.with_name(f".{folder.name}.{role}")


def prune(folder: Path, top: Path) -> list[Path]:
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
