"""The rendered bodies of a build: from the cache where it holds them, rendered where it
does not (:func:`render_body`, which the build engine runs, on every core when there are
many), with the permalinks their relative links resolve to."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from pathlib import Path
from typing import Any, NamedTuple

from . import feeds, markdown
from .cache import BuildCache, body_record, source_name
from .cache.keys import body_key
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


class _Links(Mapping[Path, str]):
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


class Bodies:
    """The rendered bodies of a build: from the cache where it holds them (:meth:`missing`
    gives the others), rendered by :func:`render_body` where it does not (:meth:`take`)."""

    def __init__(
        self,
        publication: Publication,
        cache: BuildCache,
        key: Callable[[Article], str] | None = None,
    ) -> None:
        self.publication = publication
        self.cache = cache
        #: The key of an article's body but for its links (see :func:`body_key`).
        self.body_key = key or self._body_key
        self.links = _Links(publication)
        self.site_url = publication.config.site.url
        self.rendered: dict[str, markdown.Rendered] = {}
        #: Feed entries the workers serialised with their bodies, by entry id, in each of
        #: the feed formats (see :meth:`render`).
        self.entries: dict[str, tuple[bytes, ...]] = {}
        self._keys: dict[str, str | None] = {}

    def cached_key(self, article: Article) -> str | None:
        """The key of *article*'s body when the cache holds it and it is still right."""
        if article.slug not in self._keys:
            self._keys[article.slug] = self._cached_key(article)
        return self._keys[article.slug]

    def _cached_key(self, article: Article) -> str | None:
        entry = self.cache.bodies.get(article.slug)
        if not isinstance(entry, dict):
            return None
        root = self.publication.config.root
        key = self.body_key(article)
        if entry.get("key") != key:
            return None
        links = entry.get("links")
        if not isinstance(links, dict):
            return None
        # Each file a link named, from the publication's folder (see store_body below).
        if links and any(
            self.links.map.get(os.path.normpath(os.path.join(root, path))) != url
            for path, url in links.items()
        ):
            return None
        return key

    def _body_key(self, article: Article) -> str:
        url = self.publication.urls[article.slug]
        return body_key(article, url, self.site_url, self.publication.config.root)

    def missing(self, articles: Iterable[Article], *, entries: Set[str] = frozenset()) -> list[Job]:
        """The bodies of *articles* still to render: those the cache holds are taken into
        :attr:`rendered` now.  The feed entries of the articles whose slugs are in
        *entries* are to be serialised with the body, on the core that renders it."""
        wanted = {a.slug: a for a in articles if a.slug not in self.rendered}
        todo: list[Article] = []
        for slug, article in wanted.items():
            key = self.cached_key(article)
            stored = None
            if key is not None:
                stored = self.cache.body(key, self.cache.bodies[slug].get("at"))
            if stored is None:
                todo.append(article)
                continue
            url = self.publication.urls[slug]
            html = markdown.resanitise(stored["html"], article, url, self.site_url, self.links)
            self.rendered[slug] = markdown.Rendered(html, stored["summary"])
        ids, urls = self.publication.ids, self.publication.urls
        return [Job(a, urls[a.slug], ids[a.slug] if a.slug in entries else None) for a in todo]

    def context(self) -> Context:
        """What rendering every body needs (see :func:`render_body`)."""
        # Plain data, the link map made here once: it and the config go to each worker
        # once, not with every chunk.
        return Context(self.links.map, self.publication.config, self.site_url)

    def take(self, jobs: Iterable[Job], results: Iterable[Body]) -> dict[str, markdown.Rendered]:
        """Keep the bodies rendered for *jobs*, in :attr:`rendered` and in the cache;
        give every body rendered so far."""
        root = self.publication.config.root
        for job, (body, seen, key, record, pieces) in zip(jobs, results, strict=True):
            slug = job.article.slug
            self.rendered[slug] = body
            if job.entry_id is not None and pieces is not None:
                self.entries[job.entry_id] = pieces
            links = {source_name(path, root): url for path, url in seen.items()}
            self.cache.store_body(slug, key, record, links)
            # Its links were resolved with this build's: the key holds.
            self._keys[slug] = key
            self.cache.rendered += 1
        return self.rendered

    def forget_unpublished(self) -> None:
        published = {a.slug for a in self.publication.published}
        gone = [slug for slug in self.cache.bodies if slug not in published]
        for slug in gone:
            del self.cache.bodies[slug]
        if gone:
            self.cache.changed("bodies")


class Context(NamedTuple):
    """What rendering every body of a build needs: sent to each worker once."""

    #: Each published article's permalink, by its source file (see :class:`_Links`).
    links: _ByPath
    config: Config
    site_url: str


class Job(NamedTuple):
    """A body to render: its article, permalink and, when its feed entry is serialised
    with it, the entry's id."""

    article: Article
    url: str
    entry_id: str | None


#: A body rendered: the body, the links it resolved, its key and its record for the
#: cache's pack, and its feed entry in each feed format when asked.
Body = tuple[markdown.Rendered, dict[str, str | None], str, bytes, tuple[bytes, ...] | None]


def render_body(context: Context, job: Job) -> Body:
    """An article's body, the links it resolved, its key and its record for the cache's
    pack, and given the id of its feed entry, the entry in each feed format: all written
    here, on a worker's core."""
    article, url, entry_id = job
    links, config, site_url = context
    recorded = _Recorded(links)
    body = markdown.render(read_body(article), article, url, site_url, recorded)
    pieces = None
    if entry_id is not None:
        html = body.html if config.feeds.full_content else None
        entry = feeds.Entry(article, entry_id, url, body.summary, html)
        pieces = feeds.entry_pieces(entry, config)
    key = body_key(article, url, site_url, config.root)
    return body, recorded.seen, key, body_record(key, body.html, body.summary), pieces
