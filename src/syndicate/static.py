"""What of the publication's folders may reach the output: the static folder's files, and
symbolic links that stay inside their own folder.

Only files under the static folder are published as they are, and only their own bytes:
a symbolic link there (or under the content or templates folder) must lead to a file in
that same folder.  A link to elsewhere, even inside the publication (a git-ignored
subscriber list, ``.env``, ``.syndicate/``), is an error, so that no file outside the
static folder reaches the output through a link.  An article's ``image:`` is looked up by
the same rules, so the card and the email, which read the image, read only a file the
build publishes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from .config import Config
from .errors import Diagnostic


def leaving_links(folder: Path, shown: str) -> Iterator[Diagnostic]:
    """An error for each symbolic link below *folder* that leads out of it (*shown* names
    the folder in the message): an article, a static file or a template must not pull in
    ``/etc/passwd``, another repository or another part of the publication."""
    inside = folder.resolve()
    for parent, _, _ in os.walk(folder):
        with os.scandir(parent) as entries:  # the type of each entry comes with the listing
            links = sorted(entry.name for entry in entries if entry.is_symlink())
        for name in links:
            path = Path(parent, name)
            if not path.resolve().is_relative_to(inside):
                yield Diagnostic.error(
                    path, 0, f"a symbolic link to outside {shown}; copy the file in"
                )


def leads_inside(path: str, folder: Path) -> bool:
    """Whether *path*, its symbolic links followed, is in *folder* (its links followed)."""
    return Path(os.path.realpath(path)).is_relative_to(folder.resolve())


def static_files(config: Config) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """The files of the static folder, served at the site root, by their path in it.

    Names starting with "." are left out, and folders reached through a symbolic link are
    not entered.  A symbolic link to a file elsewhere in the static folder is published
    as that file; one that leads out of it, and anything but a regular file (a pipe, a
    device), is an error.
    """
    folder = config.site.static
    files: dict[str, bytes] = {}
    diagnostics: list[Diagnostic] = []
    if not folder.is_dir():
        return files, diagnostics
    root = config.root.resolve()
    if folder.resolve() in (root, *root.parents):
        problem = "site.static: the folder holds the whole publication; give it one of its own"
        return files, [Diagnostic.error(config.path, 0, problem)]
    diagnostics.extend(leaving_links(folder, "the static folder"))
    leaving = {d.path for d in diagnostics}
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(parent, name)
            if name.startswith(".") or path in leaving:
                continue
            try:
                status = os.stat(path)
            except OSError as error:
                diagnostics.append(Diagnostic.error(path, 0, f"cannot read: {error.strerror}"))
                continue
            if not stat.S_ISREG(status.st_mode):
                diagnostics.append(
                    Diagnostic.error(path, 0, "not a regular file; only files are published")
                )
                continue
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files, diagnostics


def static_source(static: Path, segments: Sequence[str]) -> tuple[str, int] | None:
    """The file at *segments* below the folder *static*, as :func:`static_files`
    publishes it, and its size; None when the build publishes no such file (a name that
    starts with ".", a folder reached through a symbolic link, anything but a regular
    file).  ValueError when a symbolic link on the way leads out of *static*."""
    if not segments or any(segment.startswith(".") for segment in segments):
        return None
    path = str(static)
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        # Each name on the way looked at, not the whole path resolved: a few system calls,
        # for each of thousands of articles.
        path = os.path.join(path, segment)
        try:
            status = os.lstat(path)
            if stat.S_ISLNK(status.st_mode):
                if not leads_inside(path, static):
                    raise ValueError("a symbolic link on its way leads out of the static folder")
                if index < last:
                    return None  # a folder reached through a link is not published
                status = os.stat(path)
        except OSError:
            return None
    if not stat.S_ISREG(status.st_mode):
        return None
    return path, status.st_size
