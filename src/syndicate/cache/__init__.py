"""The build cache under ``.syndicate/cache/``: never needed for correctness, only for speed.

Three records, each a JSON file, each entry keyed by a hash of everything it was made
from plus syndicate's version:

- ``articles-00.json`` to ``articles-15.json``: each article's parsed front matter and
  diagnostics, by the hash of the file's bytes and of the settings that reading depends
  on, with the size of its local image (a changed or deleted image is a miss).  Each
  article's record is in the file a hash of its source's name picks, so that editing one
  article rewrites a sixteenth of them;
- ``bodies.json`` and ``bodies.pack``: each rendered body (sanitised HTML and summary),
  by the hash of its Markdown, title, summary, permalink and folder, with the permalinks
  its relative links resolved to (a link whose target moved is a miss).  The bodies are
  appended to one pack file, each a JSON document that names its own key and is found
  by its offset: one file written per build instead of one per body.  A body whose
  offset does not lead to its key (a damaged or rewritten pack) is a miss.  The pack
  is rewritten with only the bodies in use when it holds twice as much;
- ``outputs.json``: for each output file (feeds, article pages, social files and cards),
  the hash of what it was made from and the size, modification time and inode it was
  written with.  A file is kept without being rendered or read again only when both
  still match.  An article's own files also have the SHA-256 of their bytes: where the
  file's times and inode changed but not what it was made from (a fresh clone, in CI
  with the cache restored), a file that still has those bytes is kept too, its new
  times recorded, and 10,000 cards are read and hashed instead of drawn again.  The
  other files of the output folder (static files, digest pages) have an empty record:
  the cache lists every file the last build made, for a build whose output folder came
  back with the cache but whose state comes from elsewhere (see ``pipeline._previous``).

The keys are worked out in :mod:`.keys`; :mod:`.articles` and :mod:`.bodies` look the
article and body records up for a build and keep what it reads and renders, so that
the stages (reading an article, rendering a body) never ask whether a cache is there.

Paths in keys and records are from the publication's folder (:func:`source_name`,
:func:`portable`): a publication moved or cloned to another folder keeps its cache.  A
key of what a user's template renders also holds the folder itself, because the
template may show a path.

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
import shutil
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..jsontext import json_string, json_text
from ..output import atomic_write

CACHE_DIR = ".syndicate/cache"
PACK = "bodies.pack"
#: Bumped when the layout of the cache changes, or what it holds is made another way (3:
#: article text in NFC, a draft's record says what keeps it out); part of every key with
#: the version.
LAYOUT = 3


def digest(*parts: str | bytes) -> str:
    """A short hash of *parts* and syndicate's version."""
    hasher = _started(__version__).copy()
    for part in parts:
        _take(hasher, part)
    result: str = hasher.hexdigest()
    return result


def _take(hasher: Any, part: str | bytes) -> None:
    """Feed one part to *hasher*, its length first, so that parts cannot run together."""
    data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
    hasher.update(len(data).to_bytes(8, "little"))
    hasher.update(data)


_STARTED: dict[str, Any] = {}


def _started(version: str) -> Any:
    """A hasher that has already taken the version and the layout (copied for each hash)."""
    hasher = _STARTED.get(version)
    if hasher is None:
        hasher = hashlib.blake2b(digest_size=16)
        for part in (version, str(LAYOUT)):
            _take(hasher, part)
        _STARTED[version] = hasher
    return hasher


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


class Encoded(str):
    """An entry already written as JSON (by a worker process, in parallel): a cache file
    takes it as it is."""


def encoded(entry: Mapping[str, Any]) -> Encoded:
    """*entry* as JSON, as a cache file holds it."""
    # Keys in their order, not sorted: a front matter's unknown keys keep the order they
    # were written in, which a template looping over them shows.
    return Encoded(_encode(entry))


#: ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``, its encoder made once.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _write(path: Path, entries: Mapping[str, Any]) -> None:
    if any(isinstance(entry, Encoded) for entry in entries.values()):
        listed = ",".join(
            f"{json_string(name)}:" + (entry if isinstance(entry, Encoded) else encoded(entry))
            for name, entry in sorted(entries.items())
        )
        head = json.dumps({"layout": LAYOUT, "version": __version__})[1:-1]
        data = f'{{"entries":{{{listed}}},{head}}}'
    else:
        document = {"version": __version__, "layout": LAYOUT, "entries": entries}
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
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
    #: The article files (see :func:`shard`) with a record added, changed or removed.
    _dirty_shards: set[int] = field(default_factory=set)
    #: Bodies rendered by this build, by slug: their records (:func:`body_record`),
    #: appended to the pack when the cache is saved.
    _new_bodies: dict[str, bytes] = field(default_factory=dict)
    _pack: Any = None

    @classmethod
    def open(cls, root: Path, folder: Path | None = None) -> BuildCache:
        """The cache of the publication in *root*, kept in *folder* (by default its own
        ``.syndicate/cache/``; a preview keeps one of its own)."""
        folder = root / CACHE_DIR if folder is None else folder
        articles: dict[str, Any] = {}
        for number in range(SHARDS):
            articles.update(_read(folder / _shard_file(number)))
        return cls(
            folder,
            articles=articles,
            bodies=_read(folder / "bodies.json"),
            outputs=_read(folder / "outputs.json"),
        )

    #: Whether what a build records is kept (see :meth:`disabled`).
    keeps = True

    @classmethod
    def disabled(cls) -> BuildCache:
        """A cache that holds nothing and keeps nothing: every lookup misses and every
        store is forgotten, for a build that neither reads nor writes the cache."""
        return _Disabled(Path())

    def counts(self, articles: int) -> tuple[int, int]:
        """How many of the *articles* this build parsed, and how many bodies it rendered."""
        return self.parsed, self.rendered

    def changed(self, record: str) -> None:
        self._dirty.add(record)

    def changed_article(self, name: str) -> None:
        """Note that the record of the article *name* was added, changed or removed."""
        self._dirty_shards.add(shard(name))

    def body(self, key: str, place: object) -> dict[str, Any] | None:
        """The stored body *key* at *place* (offset and length in the pack): its HTML and
        summary, or None when the pack does not hold it there."""
        if not (
            isinstance(place, list)
            and len(place) == 2
            and all(isinstance(n, int) and n >= 0 for n in place)
        ):
            return None
        try:
            if self._pack is None:
                self._pack = (self.folder / PACK).open("rb")
            self._pack.seek(place[0])
            document = json.loads(self._pack.read(place[1]))
        except (OSError, ValueError):
            return None
        if (
            not isinstance(document, dict)
            or document.get("key") != key
            or not all(isinstance(document.get(k), str) for k in ("html", "summary"))
        ):
            return None
        return document

    def store_body(self, slug: str, key: str, record: bytes, links: object) -> None:
        """Keep a rendered body (its :func:`body_record`), to append to the pack with the
        rest of the cache at the end."""
        self._new_bodies[slug] = record
        self.bodies[slug] = {"key": key, "links": links}
        self.changed("bodies")

    def unchanged(self, name: str, key: str | None, folder: str) -> bool:
        """Whether the output file *name* in *folder* is as made from *key*: this cache
        recorded *key* for it with the size, modification time and inode it has, or, when
        only those changed (a fresh clone), with the bytes it has.  Those are read and
        hashed, and the file's new status is recorded in place of the old."""
        recorded = self.outputs.get(name)
        if key is None or not isinstance(recorded, list) or not recorded or recorded[0] != key:
            return False
        path = os.path.join(folder, name)
        try:
            status = os.stat(path)
        except OSError:
            return False
        if recorded[1:4] == signature(status):
            return True
        if len(recorded) != 5 or recorded[1] != status.st_size:
            return False
        try:
            with open(path, "rb") as file:
                status = os.fstat(file.fileno())  # from before reading: a later change changes it
                same: bool = content_hash(file.read()) == recorded[4]
        except OSError:
            return False
        if same:
            self.outputs[name] = [key, *signature(status), recorded[4]]
            self.changed("outputs")
        return same

    def close(self) -> None:
        if self._pack is not None:
            self._pack.close()
            self._pack = None

    def save(self) -> None:
        """Write the records that changed; forget bodies nothing refers to any more."""
        self.close()
        if self._new_bodies:
            self._append_bodies()
        if "bodies" in self._dirty:
            self._compact_bodies()
            with contextlib.suppress(OSError):  # the layout before the pack: one file a body
                shutil.rmtree(self.folder / "bodies")
        for name in sorted(self._dirty):
            _write(self.folder / f"{name}.json", getattr(self, name))
        self._dirty.clear()
        self.save_articles()

    def save_articles(self) -> None:
        """Write the files of article records that changed (see :func:`shard`): the part
        of :meth:`save` that does not depend on the outputs."""
        if self._dirty_shards:
            shards: dict[int, dict[str, Any]] = {n: {} for n in self._dirty_shards}
            for name, entry in self.articles.items():
                found = shards.get(shard(name))
                if found is not None:
                    found[name] = entry
            for number, entries in sorted(shards.items()):
                _write(self.folder / _shard_file(number), entries)
            self._dirty_shards.clear()
            with contextlib.suppress(OSError):  # the layout before the shards: one file
                (self.folder / "articles.json").unlink(missing_ok=True)

    def _append_bodies(self) -> None:
        """Append the new bodies to the pack, a few at a time, and note where each went."""
        slugs = [slug for slug in self._new_bodies if slug in self.bodies]
        new, self._new_bodies = self._new_bodies, {}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
            descriptor = os.open(self.folder / PACK, flags, 0o644)
        except OSError:  # only a cache: not kept, rendered again next time
            descriptor = -1
        placed = 0
        try:
            while descriptor >= 0 and placed < len(slugs):
                batch = slugs[placed : placed + _BATCH]
                chunks = [new[slug] for slug in batch]
                data = b"".join(chunks)
                if os.write(descriptor, data) != len(data):
                    break
                # Where this write landed, even if another build appended before it.
                offset = os.lseek(descriptor, 0, os.SEEK_CUR) - len(data)
                for slug, chunk in zip(batch, chunks, strict=True):
                    self.bodies[slug]["at"] = [offset, len(chunk)]
                    offset += len(chunk)
                placed += len(batch)
        except OSError:
            pass
        finally:
            if descriptor >= 0:
                os.close(descriptor)
        for slug in slugs[placed:]:
            self.bodies.pop(slug, None)

    def _compact_bodies(self) -> None:
        """Rewrite the pack with only the bodies in use once it holds twice as much."""
        path = self.folder / PACK
        live = sum(entry["at"][1] for entry in self.bodies.values() if _placed(entry))
        try:
            size = path.stat().st_size
        except OSError:
            return
        if size <= 2 * live + 65536:
            return
        kept: dict[str, Any] = {}
        parts: list[bytes] = []
        offset = 0
        try:
            with path.open("rb") as pack:
                for slug, entry in sorted(self.bodies.items()):
                    if not _placed(entry):
                        continue
                    pack.seek(entry["at"][0])
                    chunk = pack.read(entry["at"][1])
                    kept[slug] = {**entry, "at": [offset, len(chunk)]}
                    parts.append(chunk)
                    offset += len(chunk)
        except OSError:
            return
        with contextlib.suppress(OSError):
            atomic_write(path, b"".join(parts), durable=False)
            self.bodies = kept
            self.changed("bodies")


class _Disabled(BuildCache):
    """:meth:`BuildCache.disabled`: its records stay empty, and nothing is written."""

    #: Nothing is kept: the work of making records for it is skipped.
    keeps = False

    def counts(self, articles: int) -> tuple[int, int]:
        return articles, -1  # every article parsed; the bodies were not counted

    def changed(self, record: str) -> None:
        pass

    def changed_article(self, name: str) -> None:
        pass

    def body(self, key: str, place: object) -> dict[str, Any] | None:
        return None

    def store_body(self, slug: str, key: str, record: bytes, links: object) -> None:
        pass

    def save(self) -> None:
        pass

    def save_articles(self) -> None:
        pass


#: Bodies appended to the pack in one write: a few megabytes, not all of them at once.
_BATCH = 256


def body_record(key: str, html: str, summary: str) -> bytes:
    """A rendered body as the pack holds it: a JSON document that names its own key."""
    document = {"key": key, "html": html, "summary": summary}
    return json_text(document).encode("utf-8")


#: The files the article records are spread over.
SHARDS = 16


def shard(name: str) -> int:
    """The file that holds the record of the article *name* (a source file's name)."""
    return zlib.crc32(name.encode("utf-8")) % SHARDS


def _shard_file(number: int) -> str:
    return f"articles-{number:02d}.json"


def _placed(entry: object) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("at"), list) and len(entry["at"]) == 2


def content_hash(data: bytes) -> str:
    """The SHA-256 of a file's bytes, recorded with an article's own files."""
    return hashlib.sha256(data).hexdigest()


def file_signature(path: Path) -> list[int] | None:
    """Size, modification time and inode of *path*: what the build wrote there, if they
    still match; None when there is no file."""
    try:
        status = path.stat()
    except OSError:
        return None
    return signature(status)


def signature(status: os.stat_result) -> list[int]:
    """What an output's record holds of its file's status (see :func:`file_signature`)."""
    return [status.st_size, status.st_mtime_ns, status.st_ino]


def source_name(path: Path | str, root: Path) -> str:
    """*path* relative to *root*, with "/" between folders: what the state and the cache
    call a source file, and what keys and records hold instead of a whole path, so that a
    publication moved or cloned to another folder keeps its cache.  A prefix cut in the
    usual case, without ``relpath``'s cost."""
    text, top = str(path), str(root) + os.sep
    if text.startswith(top):
        return text[len(top) :].replace(os.sep, "/")
    return Path(os.path.relpath(path, root)).as_posix()


def portable(settings: object, root: Path) -> str:
    """The repr of *settings* (a configuration's dataclass) with every path in it a
    :func:`source_name` below *root*: what keys hold of a configuration."""
    return repr(_relative(settings, root))


def _relative(value: object, root: Path) -> object:
    if isinstance(value, Path):
        return source_name(value, root)
    if is_dataclass(value) and not isinstance(value, type):
        changed = {f.name: _relative(getattr(value, f.name), root) for f in fields(value)}
        return replace(value, **changed)
    if isinstance(value, list):
        return [_relative(item, root) for item in value]
    if type(value) is tuple:
        return tuple(_relative(item, root) for item in value)
    return value
