"""The build cache under ``.syndicate/cache/``: never needed for correctness, only for speed.

Three records, each a JSON file, each entry keyed by a hash of everything it was made
from plus syndicate's version:

- ``articles.json``: each article's parsed front matter and diagnostics, by the hash of
  the file's bytes and of the settings that reading depends on, with the size of its
  local image (a changed or deleted image is a miss);
- ``bodies.json`` and ``bodies/<key>.json``: each rendered body (sanitised HTML and
  summary), by the hash of its Markdown, title, summary, permalink and folder, with the
  permalinks its relative links resolved to (a link whose target moved is a miss);
- ``outputs.json``: for each output file, the hash of what it was made from and the
  size, modification time and inode it was written with.  A file is kept without being
  rendered again only when both still match.

A cache file that cannot be read, or was written by another version, is ignored and
rebuilt.  HTML read from the cache goes through the sanitiser again, so even a cache
written by someone else cannot put script into an output.  Deleting the folder only
costs time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__

CACHE_DIR = ".syndicate/cache"
#: Bumped when the layout of the cache changes; part of every key with the version.
LAYOUT = 1


def digest(*parts: str | bytes) -> str:
    """A short hash of *parts* and syndicate's version."""
    hasher = hashlib.blake2b(digest_size=16)
    for part in (__version__, str(LAYOUT), *parts):
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


def _read(path: Path) -> dict[str, Any]:
    """The entries of one cache file; empty when it is missing, damaged or stale."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if (
        not isinstance(document, dict)
        or document.get("version") != __version__
        or document.get("layout") != LAYOUT
        or not isinstance(document.get("entries"), dict)
    ):
        return {}
    entries: dict[str, Any] = document["entries"]
    return entries


def _write(path: Path, entries: Mapping[str, Any]) -> None:
    from .output import atomic_write

    document = {"version": __version__, "layout": LAYOUT, "entries": entries}
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    with contextlib.suppress(OSError):  # only a cache: the next build is slower, not wrong
        atomic_write(path, data.encode("utf-8"), durable=False)


@dataclass
class BuildCache:
    """The cache of one publication, read at the start of a build and saved at its end."""

    folder: Path
    articles: dict[str, Any] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    #: What this build did, for the report and the tests.
    parsed: int = 0
    rendered: int = 0
    kept: int = 0
    _dirty: set[str] = field(default_factory=set)
    _new_bodies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, root: Path) -> BuildCache:
        folder = root / CACHE_DIR
        return cls(
            folder,
            articles=_read(folder / "articles.json"),
            bodies=_read(folder / "bodies.json"),
            outputs=_read(folder / "outputs.json"),
        )

    def changed(self, record: str) -> None:
        self._dirty.add(record)

    def body(self, key: str) -> dict[str, Any] | None:
        """The stored body *key*: its HTML and summary, or None."""
        try:
            document = json.loads((self.folder / "bodies" / f"{key}.json").read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(document, dict) or not all(
            isinstance(document.get(k), str) for k in ("html", "summary")
        ):
            return None
        return document

    def store_body(self, key: str, html: str, summary: str) -> None:
        """Keep a rendered body, to write with the rest of the cache at the end."""
        self._new_bodies[key] = json.dumps({"html": html, "summary": summary}, ensure_ascii=False)

    def save(self) -> None:
        """Write the records that changed; forget bodies nothing refers to any more."""
        from .output import atomic_write

        for key, data in self._new_bodies.items():
            with contextlib.suppress(OSError):
                path = self.folder / "bodies" / f"{key}.json"
                atomic_write(path, data.encode("utf-8"), durable=False)
        self._new_bodies.clear()
        for name in sorted(self._dirty):
            _write(self.folder / f"{name}.json", getattr(self, name))
        if "bodies" in self._dirty:
            self._prune_bodies()
        self._dirty.clear()

    def _prune_bodies(self) -> None:
        folder = self.folder / "bodies"
        try:
            names = os.listdir(folder)
        except OSError:
            return
        wanted = {f"{entry['key']}.json" for entry in self.bodies.values()}
        for name in names:
            if name not in wanted:
                (folder / name).unlink(missing_ok=True)


def file_signature(path: Path) -> list[int] | None:
    """Size, modification time and inode of *path*: what the build wrote there, if they
    still match; None when there is no file."""
    try:
        status = path.stat()
    except OSError:
        return None
    return [status.st_size, status.st_mtime_ns, status.st_ino]
