"""Rendering an article's body (:func:`render_body`, which the build engine runs, on
every core when there are many), with the permalinks its relative links resolve to
(:class:`Links`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from . import feeds, markdown
from .config import Config
from .content.model import Article
from .content.reading import read_body
from .publication import Publication


class _ByPath(dict[str, str]):
    """Permalinks by source file, keyed by the file's path as text (cheap to build and to
    send to a worker), looked up by path."""

    def get(self, key: object, default: Any = None) -> Any:
        return dict.get(self, str(key), default)

    def __getitem__(self, key: object) -> str:
        return dict.__getitem__(self, str(key))


class Links(Mapping[Path, str]):
    """Each published article's permalink, by its source file: what a relative link to
    ``other.md`` becomes.  Built on first use: a build that renders nothing needs none.
    Only for this process: the workers are given the :attr:`map` it builds."""

    def __init__(self, publication: Publication) -> None:
        self.publication = publication
        self._map: _ByPath | None = None

    @property
    def map(self) -> _ByPath:
        if self._map is None:
            urls = self.publication.urls
            content = self.publication.config.content.dir
            real = str(content.resolve()) + os.sep
            top = str(content) + os.sep
            self._map = _ByPath()
            sources = [str(article.source) for article in self.publication.published]
            linked = _symbolic_links({os.path.dirname(source) for source in sources})
            for article, source in zip(self.publication.published, sources, strict=True):
                # Only the content folder and a linked file can hold a symbolic link (the
                # walk does not enter linked folders): no resolve() per article.
                if source.startswith(top) and source not in linked:
                    path = real + source[len(top) :]
                else:
                    path = str(article.source.resolve())
                self._map[path] = urls[article.slug]
        return self._map

    def __getitem__(self, key: Path) -> str:
        return self.map[key]

    def get(self, key: Path, default: Any = None) -> Any:
        return self.map.get(key, default)

    def __iter__(self) -> Iterator[Path]:
        return (Path(key) for key in self.map)

    def __len__(self) -> int:
        return len(self.map)


def _symbolic_links(folders: Iterable[str]) -> set[str]:
    """The symbolic links in *folders*: a listing of each, rather than a look at each file."""
    found: set[str] = set()
    for folder in folders:
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            found.update(entry.path for entry in entries if entry.is_symlink())
    return found


class _Recorded(Mapping[Path, str]):
    """A link map that remembers every lookup: what a rendered body depends on."""

    def __init__(self, links: Mapping[Any, str]) -> None:
        self.links = links
        self.seen: dict[str, str | None] = {}

    def get(self, key: Path, default: Any = None) -> Any:
        value = self.links.get(key)
        self.seen[str(key)] = value
        return default if value is None else value

    def __getitem__(self, key: Path) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return str(value)

    def __iter__(self) -> Iterator[Path]:
        return iter(self.links)

    def __len__(self) -> int:
        return len(self.links)


class Context(NamedTuple):
    """What rendering every body of a build needs: sent to each worker once."""

    #: Each published article's permalink, by its source file (see :class:`Links`).
    links: _ByPath
    config: Config
    site_url: str


class Job(NamedTuple):
    """A body to render: its article, permalink and, when its feed entry is serialised
    with it, the entry's id."""

    article: Article
    url: str
    entry_id: str | None


#: A body rendered: the body, the links it resolved, and its feed entry in each feed
#: format when asked.
Body = tuple[markdown.Rendered, dict[str, str | None], tuple[bytes, ...] | None]


def render_body(context: Context, job: Job) -> Body:
    """An article's body, the links it resolved and, given the id of its feed entry, the
    entry in each feed format: all written here, on a worker's core."""
    article, url, entry_id = job
    links, config, site_url = context
    recorded = _Recorded(links)
    body = markdown.render(read_body(article), article, url, site_url, recorded)
    pieces = None
    if entry_id is not None:
        html = body.html if config.feeds.full_content else None
        entry = feeds.Entry(article, entry_id, url, body.summary, html)
        pieces = feeds.entry_pieces(entry, config)
    return body, recorded.seen, pieces
