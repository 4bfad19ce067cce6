"""The pipeline: load, select, render, write.

``load_publication`` reads and checks everything (config, articles, state) and
returns every problem at once; ``render_outputs`` is pure and returns the
bytes of every output; ``write_outputs`` is the one step that touches
``feeds/`` and the state file.  ``build`` runs them in order and writes
nothing when any check fails.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import feeds, markdown
from .cache import (
    BuildCache,
    body_record,
    digest,
    file_signature,
    portable,
    signature,
    source_name,
)
from .config import CONFIG_NAME, Config, read_config, unsubscribe_advice
from .content import Article, LeftOut, left_out, load_articles, select
from .delivery.journal import publication_lock
from .email.digest import Digest, FirstSend, due, first_send, sent_digests
from .errors import (
    ConfigError,
    ContentError,
    Diagnostic,
    OutputError,
    RenderError,
    SyndicateError,
    has_errors,
    sort_key,
)
from .output import Pieces, WriteResult, write_files
from .scaffold import placeholders
from .state import State, StateFile, around_swap, assign_ids, read_state
from .static import static_files
from .workers import parallel_map, shared

if TYPE_CHECKING:  # each loads when a build needs it, not on start-up
    from .article_files import Made
    from .delivery.send import Delivery, Progress
    from .email.render import Pictures, RenderedDigest


@dataclass(frozen=True, slots=True)
class Publication:
    """Everything read from the publication, checked, before anything is rendered."""

    config: Config
    articles: tuple[Article, ...]
    #: Published articles, newest first.
    published: tuple[Article, ...]
    #: Permalink and entry id of each published article, by slug.
    urls: Mapping[str, str] = field(compare=False)
    ids: Mapping[str, str] = field(compare=False)
    state: State
    #: The state as read from the state file (None when there is none).
    saved_state: State | None = None


@dataclass(frozen=True, slots=True)
class PreviewTarget:
    """What a build for ``syndicate preview`` does instead: it writes into *folder*, not
    ``feeds/``, with *url* (the preview server's) for ``[site] url``, shows drafts and
    articles dated in the future when asked, and remembers nothing: no state file is
    written, and its build cache is its own (below *folder*)."""

    folder: Path
    url: str
    drafts: bool = False
    future: bool = False

    @property
    def output(self) -> Path:
        return self.folder / "site"

    def configure(self, config: Config) -> Config:
        return replace(config, site=replace(config.site, url=self.url), output=self.output)

    def select(self, articles: Sequence[Article], now: datetime) -> list[Article]:
        shown = [replace(a, draft=None) if self.drafts else a for a in articles]
        return select(shown, datetime.max.replace(tzinfo=now.tzinfo) if self.future else now)

    def previous(self) -> list[str]:
        """Every file of the last preview: all of them are the preview's own."""
        top = self.output
        return [p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file()]


@dataclass(frozen=True, slots=True)
class Report:
    """What a check or a build found and did."""

    diagnostics: tuple[Diagnostic, ...]
    articles: int = 0
    published: int = 0
    feeds: int = 0
    written: tuple[str, ...] = ()
    unchanged: int = 0
    removed: tuple[str, ...] = ()
    seconds: float = 0.0
    #: Every email of the newsletter, rendered: those sent, then those due now.
    emails: tuple[RenderedDigest, ...] = ()
    #: Whether the publication has a newsletter at all.
    newsletter: bool = False
    #: Card images rendered; unchanged ones are kept as they were.
    cards: int = 0
    #: Entry id of every published article, by slug.
    article_ids: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: Articles parsed (not taken from the cache) and bodies rendered (-1: no cache).
    parsed: int = 0
    rendered: int = 0
    #: Output files kept without being rendered: the cache showed them unchanged.
    kept: int = 0
    #: What the very first send will carry, while nothing was sent and no baseline taken.
    first_send: FirstSend | None = None
    #: The articles not published, and why (drafts, articles dated in the future).
    left_out: tuple[LeftOut, ...] = ()

    @property
    def due(self) -> tuple[RenderedDigest, ...]:
        """The emails due now (none when nothing is new since the last one)."""
        return tuple(e for e in self.emails if not e.digest.sent)

    @property
    def errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return len(self.diagnostics) - self.errors


def permalink(config: Config, article: Article) -> str:
    """The absolute URL of *article*'s page, from ``[site] permalink``."""
    template = config.site.permalink
    if not _dated(template):
        # The usual "/posts/{slug}/": no date to turn into the site's zone.
        return config.site.url + template.format(slug=article.slug).lstrip("/")
    local = article.date.astimezone(config.site.timezone)
    path = template.format(
        slug=article.slug,
        year=f"{local.year:04d}",
        month=f"{local.month:02d}",
        day=f"{local.day:02d}",
    )
    return config.site.url + path.lstrip("/")


@lru_cache(maxsize=8)
def _dated(template: str) -> bool:
    """Whether a permalink template shows the article's date."""
    return any(field in template for field in ("{year", "{month", "{day"))


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Build many objects without the cycle collector scanning them again and again (it
    would take a fifth of a warm build of 10,000 articles): they form no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # and never scan them later: they live until the build ends
        if enabled:
            gc.enable()


def load_publication(
    root: Path,
    now: datetime,
    cache: BuildCache | None = None,
    *,
    meanwhile: Callable[[Config], object] | None = None,
    preview: PreviewTarget | None = None,
    configured: tuple[Config, list[Diagnostic]] | None = None,
) -> tuple[Publication | None, list[Diagnostic]]:
    """Read and check the whole publication; None with the diagnostics when it has errors.
    *meanwhile* is given the configuration to prepare what comes next while the helpers
    read the articles (see :func:`~syndicate.content.load_articles`).  *configured* is
    the configuration with what reading it found, when it was read already."""
    with _no_cycle_collection():
        return _load_publication(root, now, cache, meanwhile, preview, configured)


def _load_publication(
    root: Path,
    now: datetime,
    cache: BuildCache | None,
    meanwhile: Callable[[Config], object] | None,
    preview: PreviewTarget | None = None,
    configured: tuple[Config, list[Diagnostic]] | None = None,
) -> tuple[Publication | None, list[Diagnostic]]:
    if configured is None:
        config, diagnostics = read_config(root)
    else:
        config, diagnostics = configured[0], list(configured[1])
    if config is None:
        return None, diagnostics
    if preview is not None:
        config = preview.configure(config)
    prepare = None if meanwhile is None else partial(meanwhile, config)
    articles, found = load_articles(config, cache, meanwhile=prepare)
    diagnostics += found
    saved, found = read_state(config.state_path)
    diagnostics += found
    published = select(articles, now) if preview is None else preview.select(articles, now)
    urls = {a.slug: permalink(config, a) for a in published}
    ids, state, found = assign_ids(config, published, urls, saved)
    diagnostics += found
    diagnostics.sort(key=sort_key)
    if has_errors(diagnostics):
        return None, diagnostics
    publication = Publication(
        config=config,
        articles=tuple(articles),
        published=tuple(published),
        urls=urls,
        ids=ids,
        state=state,
        saved_state=saved if config.state_path.is_file() else None,
    )
    return publication, diagnostics


def check(root: Path, now: datetime) -> Report:
    """Validate the config and every article; write nothing.  Values that are still the
    examples ``syndicate init`` wrote are warnings (:func:`.scaffold.placeholders`), and
    so is an unsubscribe link that carries the reader's address
    (:func:`.config.unsubscribe_advice`)."""
    publication, diagnostics = load_publication(root, now)
    if publication is None:
        return Report(tuple(diagnostics))
    config = publication.config
    diagnostics = [*placeholders(config), *unsubscribe_advice(config), *diagnostics]
    return Report(
        tuple(diagnostics),
        articles=len(publication.articles),
        published=len(publication.published),
        first_send=_first_send(publication),
        left_out=_left_out(publication, now),
    )


def _left_out(publication: Publication, now: datetime) -> tuple[LeftOut, ...]:
    """The articles of *publication* it does not publish at *now*, and why."""
    shown = {article.slug for article in publication.published}
    return tuple(left_out((a for a in publication.articles if a.slug not in shown), now))


def _first_send(publication: Publication) -> FirstSend | None:
    email = publication.config.email
    if email is None:
        return None
    return first_send(email, publication.published, publication.ids, publication.state)


class _ByPath(dict[str, str]):
    """Permalinks by source file, keyed by the file's path as text (cheap to build and to
    send to a worker), looked up by path."""

    def get(self, key: object, default: Any = None) -> Any:
        return dict.get(self, str(key), default)

    def __getitem__(self, key: object) -> str:
        return dict.__getitem__(self, str(key))


class _Links(Mapping[Path, str]):
    """Each published article's permalink, by its source file: what a relative link to
    ``other.md`` becomes.  Built on first use: a build that renders nothing needs none."""

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

    def __reduce__(self) -> tuple[type[_ByPath], tuple[dict[str, str]]]:
        # Sent to a process that does not share this one's memory: as the map, made here.
        return _ByPath, (dict(self.map),)

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


def body_key(article: Article, url: str, site_url: str, root: Path) -> str:
    """What an article's rendered body is made of, but for the links it resolves; its
    folder in the publication in *root* (where its relative links lead from)."""
    summary = "\x00none" if article.summary is None else article.summary
    folder = source_name(article.source.parent, root)
    engine = markdown.engine()
    return digest(
        "body", engine, article.fingerprint, article.title, summary, folder, url, site_url
    )


class Bodies:
    """The rendered bodies of a build: from the cache where it holds them, rendered (on
    every core when there are many) where it does not."""

    def __init__(self, publication: Publication, cache: BuildCache | None) -> None:
        self.publication = publication
        self.cache = cache
        self.links = _Links(publication)
        self.site_url = publication.config.site.url
        self.rendered: dict[str, markdown.Rendered] = {}
        #: Feed entries the workers serialised with their bodies, by entry id, in each of
        #: the feed formats (see :meth:`render`).
        self.entries: dict[str, tuple[bytes, ...]] = {}
        self._keys: dict[str, str | None] = {}
        self._entry_keys: dict[str, tuple[str, str]] = {}

    def cached_key(self, article: Article) -> str | None:
        """The key of *article*'s body when the cache holds it and it is still right."""
        if article.slug not in self._keys:
            self._keys[article.slug] = self._cached_key(article)
        return self._keys[article.slug]

    def _cached_key(self, article: Article) -> str | None:
        if self.cache is None:
            return None
        entry = self.cache.bodies.get(article.slug)
        if not isinstance(entry, dict):
            return None
        root = self.publication.config.root
        key = body_key(article, self.publication.urls[article.slug], self.site_url, root)
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

    def entry_key(self, article: Article) -> str | None:
        """The key of *article*'s feed entry (once per build: the feeds share entries);
        None when its body must be rendered first."""
        body = self.cached_key(article)
        if body is None:
            return None
        known = self._entry_keys.get(article.slug)
        if known is None or known[0] != body:
            known = (body, entry_key(article, self.publication, body))
            self._entry_keys[article.slug] = known
        return known[1]

    def render(
        self, articles: Iterable[Article], *, entries: Set[str] = frozenset()
    ) -> dict[str, markdown.Rendered]:
        """The bodies of *articles*, by slug.  The feed entries of the articles whose slugs
        are in *entries* are serialised by the worker that renders the body, on its core,
        into :attr:`entries`."""
        wanted = {a.slug: a for a in articles if a.slug not in self.rendered}
        todo: list[Article] = []
        for slug, article in wanted.items():
            key = self.cached_key(article)
            stored = None
            if key is not None and self.cache is not None:
                stored = self.cache.body(key, self.cache.bodies[slug].get("at"))
            if stored is None:
                todo.append(article)
                continue
            url = self.publication.urls[slug]
            html = markdown.resanitise(stored["html"], article, url, self.site_url, self.links)
            self.rendered[slug] = markdown.Rendered(html, stored["summary"])
        if todo:
            ids = self.publication.ids
            jobs = [
                (a, self.publication.urls[a.slug], ids[a.slug] if a.slug in entries else None)
                for a in todo
            ]
            # The link map and the config go to each worker once, not with every chunk; a
            # forked worker makes the map only if a body links to an article's file.
            recording = self.cache is not None
            render = partial(_render, site_url=self.site_url, recording=recording)
            shared = (self.links, self.publication.config)
            results = parallel_map(render, jobs, shared=shared)
            for (article, _, entry_id), (body, seen, key, record, pieces) in zip(
                jobs, results, strict=True
            ):
                self.rendered[article.slug] = body
                if entry_id is not None and pieces is not None:
                    self.entries[entry_id] = pieces
                if self.cache is not None:
                    root = self.publication.config.root
                    links = {source_name(path, root): url for path, url in seen.items()}
                    self.cache.store_body(article.slug, key, record, links)
                    # Its links were resolved with this build's: the key holds.
                    self._keys[article.slug] = key
                    self.cache.rendered += 1
        return self.rendered

    def forget_unpublished(self) -> None:
        if self.cache is None:
            return
        published = {a.slug for a in self.publication.published}
        gone = [slug for slug in self.cache.bodies if slug not in published]
        for slug in gone:
            del self.cache.bodies[slug]
        if gone:
            self.cache.changed("bodies")


def render_bodies(
    publication: Publication, articles: Iterable[Article]
) -> dict[str, markdown.Rendered]:
    """Render the Markdown of *articles*, once each, on every core when there are many."""
    return Bodies(publication, None).render(articles)


def _render(
    job: tuple[Article, str, str | None], site_url: str, recording: bool = False
) -> tuple[markdown.Rendered, dict[str, str | None], str, bytes, tuple[bytes, ...] | None]:
    """An article's body, the links it resolved, with *recording* its key and its record
    for the cache's pack, and given the id of its feed entry, the entry in each feed
    format: all written here, on a worker's core."""
    article, url, entry_id = job
    links, config = shared()
    recorded = _Recorded(links)
    body = markdown.render(article, url, site_url, recorded)
    pieces = None
    if entry_id is not None:
        html = body.html if config.feeds.full_content else None
        entry = feeds.Entry(article, entry_id, url, body.summary, html)
        pieces = feeds.entry_pieces(entry, config)
    if not recording:
        return body, recorded.seen, "", b"", pieces
    key = body_key(article, url, site_url, config.root)
    return body, recorded.seen, key, body_record(key, body.html, body.summary), pieces


def feed_key(plan: feeds.FeedPlan, publication: Publication, bodies: Bodies) -> str | None:
    """What a feed's three files are made of; None when a body it shows must be rendered."""
    config = publication.config
    site = portable(config.site, config.root)
    parts = [site, repr(config.feeds), plan.folder, plan.title, plan.description]
    parts.append(plan.category or "\x00none")
    for article in plan.articles:
        key = bodies.entry_key(article)
        if key is None:
            return None
        parts.append(key)
    return digest("feed", *parts)


def entry_key(article: Article, publication: Publication, body: str) -> str:
    """What an article's entry in a feed is made of, *body* being its body's key."""
    image = article.image
    return digest(
        publication.ids[article.slug],
        publication.urls[article.slug],
        article.title,
        article.date.isoformat(),
        article.updated.isoformat(),
        "\x00".join(article.authors),
        "\x00".join(article.categories),
        "\x00none" if image is None else f"{image.url}\x00{image.type}\x00{image.length}",
        body,
        article.lang or "\x00none",
    )


class OutputFiles(Pieces):
    """Every file of a build's output folder, by its path there: the feeds' made only when
    read, the articles' own files (pages, social files, cards) as the workers making them
    deliver them (see :class:`~syndicate.article_files.Made`), the others already made.

    With every entry in every feed, the feeds come to several times the size of the
    articles, and a build compares and writes one file at a time: each is rendered when
    :func:`~syndicate.output.write_files` reads it, and let go once written.  Iterating
    gives the feeds format by format (every RSS file, then every Atom file, then every
    JSON Feed), so each entry is serialised once per format and only one format's entries
    are held at a time; then the articles' files, then the other files.
    """

    def __init__(
        self,
        config: Config,
        feeds_made: Sequence[feeds.Feed],
        others: Mapping[str, bytes],
        streamed: Made | None = None,
        entries: Mapping[str, Sequence[bytes]] | None = None,
    ) -> None:
        self.config = config
        #: Entries serialised already (see :meth:`Bodies.render`), by id.
        self.entries = entries or {}
        self.others = others
        #: None for a build without pages and cards (article_files need not even load).
        self.streamed = streamed
        self.made = tuple(feeds_made)
        self._feeds = {
            feed.folder + name: (feed, name) for name in feeds.FORMATS for feed in feeds_made
        }
        self._writer = feeds.EntryWriter(config, self.entries)
        self._format = feeds.FORMATS[0]

    def adding(self, more: Mapping[str, bytes]) -> OutputFiles:
        """These files and *more*."""
        others = {**self.others, **more}
        return OutputFiles(self.config, self.made, others, self.streamed, self.entries)

    def __getitem__(self, name: str) -> bytes:
        return b"".join(self.pieces(name))

    def pieces(self, name: str) -> Sequence[bytes]:
        found = self._feeds.get(name)
        if found is None:
            if self.streamed is not None and name in self.streamed:
                return (self.streamed[name],)
            return (self.others[name],)
        feed, kind = found
        if kind != self._format:
            self._writer.forget(self._format)
            self._format = kind
        return feeds.render_pieces(feed, kind, self.config, self._writer)

    def __contains__(self, name: object) -> bool:
        return (
            name in self._feeds
            or (self.streamed is not None and name in self.streamed)
            or name in self.others
        )

    def __iter__(self) -> Iterator[str]:
        yield from self._feeds
        self._writer.forget(self._format)  # every feed read: let go of the last format's
        if self.streamed is not None:
            yield from self.streamed
        yield from self.others

    def __len__(self) -> int:
        streamed = len(self.streamed) if self.streamed is not None else 0
        return len(self._feeds) + streamed + len(self.others)

    def problems(self) -> list[Diagnostic]:
        """What the files read so far found wrong (a card that could not draw a title)."""
        return list(self.streamed.diagnostics) if self.streamed is not None else []

    def hashes(self) -> dict[str, str]:
        """The SHA-256 of each article's file read so far, for the cache to keep."""
        return dict(self.streamed.hashes) if self.streamed is not None else {}

    def close(self) -> None:
        """Stop the workers still making files (when not every file was read)."""
        if self.streamed is not None:
            self.streamed.close()


@dataclass(frozen=True, slots=True)
class Outputs:
    """What a build renders, before anything is written."""

    #: Every file of the output folder, keyed by its path there.
    files: OutputFiles
    #: Every email: those sent (re-rendered for their pages), then those due now.
    emails: tuple[RenderedDigest, ...]
    diagnostics: tuple[Diagnostic, ...]
    #: Card images rendered (the others were unchanged since the last build).
    cards: int = 0
    #: Output files left as they are: made from the same inputs as the file on disk.
    kept: frozenset[str] = frozenset()
    #: What each file rendered or kept is made of, to remember once written.
    output_keys: dict[str, str] = field(default_factory=dict)
    #: The files that show the newsletter's state, and what they were made from.
    front: Front | None = None
    plans: tuple[feeds.FeedPlan, ...] = ()
    bodies: Mapping[str, markdown.Rendered] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Front:
    """The files that show the newsletter's state: each email's web version, the pictures
    the emails carry, the landing page and, with a newsletter, its archive."""

    files: dict[str, bytes]
    #: Every email: those sent, then those due now.
    emails: tuple[RenderedDigest, ...]
    diagnostics: tuple[Diagnostic, ...]
    #: The emails' pictures, and the slugs of the articles they were made for.
    pictures: Pictures | None = None
    pictured: frozenset[str] = frozenset()


def render_front(
    publication: Publication,
    plans: Sequence[feeds.FeedPlan],
    digests: tuple[Sequence[Digest], Sequence[Digest]],
    bodies: Mapping[str, markdown.Rendered],
    known: Front | None = None,
) -> Front:
    """The files that show the newsletter's state, for the *digests* sent and due; *bodies*
    has the rendered body of every article they carry.  The pictures of a *known* front
    made for the same articles are used again."""
    config = publication.config
    files: dict[str, bytes] = {}
    diagnostics: list[Diagnostic] = []
    emails: list[RenderedDigest] = []
    pictures, pictured = None, frozenset[str]()
    every = (*digests[0], *digests[1])
    if every:  # the email package loads only for a build with a newsletter
        from .email.render import email_pictures, render_digest

        in_emails = [a for digest in every for a in digest.articles]
        pictured = frozenset(a.slug for a in in_emails)
        if known is not None and known.pictures is not None and known.pictured == pictured:
            pictures = known.pictures
        else:
            pictures = email_pictures(config, in_emails)
        files.update(pictures.files)
        diagnostics.extend(pictures.diagnostics)
        emails = [
            render_digest(config, d, publication.urls, bodies, pictures.images) for d in every
        ]
    for email in emails:
        files[f"digests/{email.digest.id}/index.html"] = email.web.encode("utf-8")
        diagnostics.extend(email.diagnostics)
    from . import pages

    files.update(pages.render_pages(config, list(plans), publication, emails))
    return Front(files, tuple(emails), tuple(diagnostics), pictures, pictured)


def newsletter(publication: Publication) -> tuple[list[Digest], list[Digest]]:
    """The digests already sent and those due now (both empty without an [email] table)."""
    email = publication.config.email
    if email is None:
        return [], []
    published, ids, state = publication.published, publication.ids, publication.state
    return sent_digests(published, ids, state), due(email, published, ids, state)


#: Feed entries serialised by the workers that render their bodies, at most: each is held
#: in three formats until the feeds are written (about 17 kB for an article of 600 words).
WORKER_ENTRIES = 2_000


def render_outputs(publication: Publication, cache: BuildCache | None = None) -> Outputs:
    """Render every output.  Pure but for the cache: reads templates and images, writes
    nothing but the cache.

    With a *cache*, a feed made of the same inputs as the files on disk is kept, not
    rendered, and only the bodies something renders are read or rendered.
    """
    config = publication.config
    plans = feeds.plan_feeds(config, list(publication.published))
    sent, pending = newsletter(publication)
    in_emails = [a for digest in (*sent, *pending) for a in digest.articles]
    bodies = Bodies(publication, cache)
    kept: set[str] = set()
    output_keys: dict[str, str] = {}
    stale_plans = []
    for plan in plans:
        names = [plan.folder + name for name in (feeds.RSS, feeds.ATOM, feeds.JSON_FEED)]
        key = feed_key(plan, publication, bodies) if cache is not None else None
        if key is not None and cache is not None:
            folder = config.output_dir
            if all(
                cache.outputs.get(n) == [key, *(file_signature(folder / n) or [])] for n in names
            ):
                kept.update(names)
                output_keys.update(dict.fromkeys(names, key))
                continue
        stale_plans.append(plan)
    # Pages and social files render the bodies they need themselves (see article_files).
    shown = [a for p in stale_plans for a in p.articles]
    # With a limit, the feeds show few entries: each is serialised where its body is
    # rendered, in the three formats at once (up to WORKER_ENTRIES of them, in the order
    # the feeds list them).  The others, and every entry when the feeds show all, are serialised
    # as the files are written, a format at a time: no more than one format of them is
    # held at once (in workers, every entry of 10,000 would cost 23 MB more for no time).
    distinct = dict.fromkeys(a.slug for a in shown) if config.feeds.limit else {}
    serialised = set(list(distinct)[:WORKER_ENTRIES])
    bodies.render([*shown, *in_emails], entries=serialised)
    rendered = bodies.rendered
    made: list[feeds.Feed] = []
    for plan in stale_plans:
        entries = [
            feeds.Entry(
                article=article,
                id=publication.ids[article.slug],
                url=publication.urls[article.slug],
                summary=rendered[article.slug].summary,
                html=rendered[article.slug].html if config.feeds.full_content else None,
            )
            for article in plan.articles
        ]
        made.append(
            feeds.Feed(plan.folder, plan.title, plan.description, plan.category, tuple(entries))
        )
        if cache is not None:
            key = feed_key(plan, publication, bodies)
            if key is not None:
                output_keys.update((plan.folder + name, key) for name in feeds.FORMATS)
    bodies.forget_unpublished()
    front = render_front(publication, plans, (sent, pending), rendered)
    files = dict(front.files)
    streamed: Made | None = None
    cards = 0
    if config.site.pages or config.social.platforms:  # else feeds only: no page, no card
        from .article_files import article_files

        feed_names = {plan.folder + name for plan in plans for name in feeds.FORMATS}
        own = article_files(publication, bodies, cache, taken=files.keys() | feed_names)
        streamed, cards = own.made, own.cards
        kept |= own.kept
        output_keys |= own.keys
    return Outputs(
        OutputFiles(config, made, files, streamed, bodies.entries),
        front.emails,
        front.diagnostics,
        cards,
        kept=frozenset(kept),
        output_keys=output_keys,
        front=front,
        plans=tuple(plans),
        bodies=rendered,
    )


def _prepare_rendering(config: Config) -> None:
    """What rendering needs first, made while the helpers read the articles: the template
    engine, emptied (templates are read afresh by every build), with the landing page's
    template compiled, and the Markdown engine.  A template that does not compile is
    reported when its page is rendered."""
    from . import pages, templating

    templating.environment.cache_clear()
    with contextlib.suppress(RenderError):
        templating.compile_template(config, pages.LANDING)
    markdown.engine()


def build(
    root: Path,
    now: datetime,
    *,
    strict: bool = False,
    dry_run: bool = False,
    use_cache: bool = True,
    preview: PreviewTarget | None = None,
) -> Report:
    """Check the publication and, when it has no errors, write its outputs.

    With *strict*, warnings count as errors.  Nothing is written when the
    check fails: the previous output stays exactly as it was.  With *dry_run*,
    nothing is written at all and the report says what would have been.  The build
    cache (``.syndicate/cache/``) makes it faster; without *use_cache* it is neither
    read nor written, and the output is the same.  With *preview*, the build is the
    preview's (see :class:`PreviewTarget`).
    """
    report, _ = _build(
        root, now, strict=strict, dry_run=dry_run, use_cache=use_cache, preview=preview
    )
    return report


@dataclass(frozen=True, slots=True)
class _Built:
    """What a publish keeps of its build, to show what delivery changed afterwards."""

    publication: Publication
    outputs: Outputs
    #: Every file of the output folder the build made or kept.
    made: frozenset[str]


def _build(
    root: Path, now: datetime, *, strict: bool, dry_run: bool, use_cache: bool = True,
    preview: PreviewTarget | None = None, configured: tuple[Config, list[Diagnostic]] | None = None,
) -> tuple[Report, _Built]:  # fmt: skip
    """:func:`build`, with the configuration as read already when *configured*, and what
    a publish needs of it."""
    started = time.perf_counter()
    with _no_cycle_collection():
        folder = None if preview is None else preview.folder / "cache"
        cache = BuildCache.open(root, folder) if use_cache else None
    publication, diagnostics = load_publication(
        root, now, cache, meanwhile=_prepare_rendering, preview=preview, configured=configured
    )
    if publication is None or has_errors(diagnostics, strict=strict):
        raise ContentError("the publication has errors", diagnostics)
    config = publication.config
    outputs = render_outputs(publication, cache)
    if cache is not None:
        cache.close()  # every stored body is read by now, dry run or not
    diagnostics += outputs.diagnostics
    static, found = static_files(config)
    diagnostics += found
    for name in sorted(static.keys() & (outputs.files.keys() | outputs.kept)):
        diagnostics.append(
            Diagnostic.error(
                config.site.static / name, 0, "has the name of a generated file; rename it"
            )
        )
    if has_errors(diagnostics, strict=strict):
        raise ContentError("the publication has errors", diagnostics)
    files = outputs.files.adding(static)

    previous = preview.previous() if preview is not None else _previous(publication, cache)
    # What the state file records just before the swap and once it is done.
    state_file = StateFile(config.state_path, publication.saved_state)
    made = files.keys() | outputs.kept
    before, after = around_swap(publication.state, publication.saved_state, made, previous)

    def ready() -> None:
        """Once every file is made, and before any replaces the output: the problems found
        while making them (card warnings) stop a strict build too.  Then, while the disk
        flushes the new files, the cache's article records (which do not depend on the
        outputs) are saved."""
        late = files.problems()
        if late and has_errors([*diagnostics, *late], strict=strict):
            raise ContentError("the publication has errors", [*diagnostics, *late])
        if cache is not None and not dry_run:
            cache.save_articles()

    try:
        result: WriteResult = write_files(
            config.output_dir,
            files,
            previous,
            kept=outputs.kept,
            dry_run=dry_run,
            ready=ready,
            swapping=partial(state_file.record, *before) if preview is None else None,
        )
    finally:
        files.close()
    diagnostics += files.problems()
    if not dry_run and preview is None:
        try:
            state_file.record(*after)
        except OSError as error:
            raise OutputError(f"cannot write {config.state_path}: {error.strerror}") from error
    if cache is not None and not dry_run:
        remember_outputs(
            cache,
            config.output_dir,
            outputs.output_keys,
            outputs.kept,
            files.hashes(),
            result.statuses,
            others=files.keys(),
        )
        cache.save()
    report = Report(
        tuple(diagnostics),
        articles=len(publication.articles),
        published=len(publication.published),
        feeds=sum(name.endswith(feeds.RSS) for name in made),
        written=result.written,
        unchanged=result.unchanged,
        removed=result.removed,
        seconds=time.perf_counter() - started,
        emails=outputs.emails,
        cards=outputs.cards,
        newsletter=config.email is not None,
        article_ids=publication.ids,
        parsed=cache.parsed if cache is not None else len(publication.articles),
        rendered=cache.rendered if cache is not None else -1,
        kept=len(outputs.kept),
        first_send=_first_send(publication),
        left_out=_left_out(publication, now),
    )
    return report, _Built(publication, outputs, frozenset(made))


def _previous(publication: Publication, cache: BuildCache | None) -> Sequence[str]:
    """The files the last build made, as the state remembers them and, where the build
    cache has it, as the cache does.  The two differ where the output folder came back
    with the cache and the state from elsewhere: the publish workflow restores
    ``feeds/`` with the cache from the last job that succeeded, and the state from git,
    which every job commits, one that failed after its build too."""
    last = publication.state.outputs
    more = cache.outputs.keys() - set(last) if cache is not None else ()
    return tuple(sorted({*last, *more})) if more else last


def remember_outputs(
    cache: BuildCache,
    folder: Path,
    keys: Mapping[str, str],
    kept: Set[str] = frozenset(),
    hashes: Mapping[str, str] | None = None,
    statuses: Mapping[str, os.stat_result] | None = None,
    *,
    others: Iterable[str] = (),
) -> None:
    """Record what each output file on disk was made of, with its size, modification time
    and inode as written, and the SHA-256 of its bytes where *hashes* has it, so that the
    next build can keep it without rendering it.  A *kept* file keeps its record: it was
    not written (and the next build looks at it again before keeping it).  *statuses*
    are those of the files just written (:attr:`WriteResult.statuses`): the others are
    looked at on disk.  The *others* the build made, without a key, get an empty
    record: with them, the cache lists every file of the output folder it goes with
    (see :func:`_previous`)."""
    hashes = hashes or {}
    statuses = statuses or {}
    remembered = {}
    for name, key in keys.items():
        known = cache.outputs.get(name) if name in kept else None
        if isinstance(known, list) and known[:1] == [key]:
            remembered[name] = known
            continue
        status = statuses.get(name)
        found = file_signature(folder / name) if status is None else signature(status)
        if found is not None:
            remembered[name] = [key, *found, *([hashes[name]] if name in hashes else [])]
    for name in others:
        remembered.setdefault(name, [])
    if remembered != cache.outputs:
        cache.outputs = remembered
        cache.changed("outputs")


def publish(
    root: Path,
    now: datetime,
    *,
    environ: Mapping[str, str],
    strict: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Report, Delivery]:
    """Build, then deliver the emails that are due, holding the publication's lock so
    that two publishes at once can never both send (a stale lock taken over is noted
    first among the report's diagnostics).

    *environ* holds the secrets (SYNDICATE_SECRET, SYNDICATE_SMTP_PASSWORD...) and
    may name the subscriber list (SYNDICATE_SUBSCRIBERS, SYNDICATE_DATABASE_URL or
    SYNDICATE_LIST_URL: see :func:`~syndicate.delivery.recipients.open_list`).
    """
    with publication_lock(root.resolve()) as notes:
        config, found = read_config(root)
        if config is None:
            raise ConfigError(f"{CONFIG_NAME} has errors", found)
        # Before anything is built or sent: init's example values never reach a reader.
        # They stop a send over SMTP and a --strict run; the outbox rehearsal and a
        # server on this machine (a test's, or a mail catcher's) only warn.
        early = placeholders(config, error=_sends_for_real(config))
        if has_errors(early, strict=strict):
            raise ConfigError("syndicate.toml still has init's example values", early)
        configured = (config, found)
        report, built = _build(root, now, strict=strict, dry_run=dry_run, configured=configured)
        report = replace(report, diagnostics=(*early, *report.diagnostics))
        from .delivery.send import deliver

        delivery = deliver(
            config,
            report.due,
            report.article_ids,
            now=now,
            environ=environ,
            dry_run=dry_run,
            progress=progress,
            sleep=sleep,
        )
        if (
            not dry_run
            and any(o.complete for o in delivery.outcomes)
            and config.email
            and (config.email.smtp is not None)
        ):
            report = _show_delivered(report, built)
    return replace(report, diagnostics=(*notes, *report.diagnostics)), delivery


def _show_delivered(report: Report, built: _Built) -> Report:
    """After delivery: the files that show the newsletter's state (the archive page, the
    landing page, the emails' web versions) and the state file, as delivery left it,
    written through the same swap as a build's.  Nothing else of the build is made again.
    The report then tells of both writes."""
    publication, outputs = built.publication, built.outputs
    config = publication.config
    state, problems = read_state(config.state_path)
    if problems:
        raise ContentError("the publication has errors", problems)
    shown = replace(publication, state=state, saved_state=state)
    front = render_front(shown, outputs.plans, newsletter(shown), outputs.bodies, outputs.front)
    before = outputs.front.files.keys() if outputs.front is not None else set()
    made = (built.made - before) | front.files.keys()
    state_file = StateFile(config.state_path, state)
    around, after = around_swap(state, state, made, sorted(built.made))
    result = write_files(
        config.output_dir,
        front.files,
        sorted(before - front.files.keys()),
        swapping=partial(state_file.record, *around),
    )
    try:
        state_file.record(*after)
    except OSError as error:
        raise OutputError(f"cannot write {config.state_path}: {error.strerror}") from error
    again = [name for name in result.written if name in built.made and name not in report.written]
    found = [d for d in front.diagnostics if d not in report.diagnostics]
    return replace(
        report,
        diagnostics=(*report.diagnostics, *found),
        written=tuple(sorted({*report.written, *result.written})),
        unchanged=report.unchanged - len(again),
        removed=tuple(sorted({*report.removed, *result.removed})),
    )


@dataclass(frozen=True, slots=True)
class Baselined:
    """What ``publish --baseline`` recorded (in a dry run, what it would record)."""

    #: Articles it recorded as already mailed (0: they all counted as mailed already).
    added: int
    #: Articles published, every one of them now counted as mailed.
    published: int
    #: The newest of them: the next email carries only articles dated after it.
    newest: datetime | None
    dry_run: bool = False


def baseline(
    root: Path, now: datetime, *, strict: bool = False, dry_run: bool = False
) -> tuple[Report, Baselined]:
    """Record every article published so far as already mailed, sending nothing, then
    build: a publication that moves to syndicate with years of articles mails only what
    it publishes after this.

    The record goes into the state file through delivery's own writer
    (:func:`~syndicate.delivery.send.record_baseline`), so the committed state carries it
    to every later run.  Taken twice, the second records nothing.  Refused, with nothing
    written, while a digest is still going out (its readers get it first, with the
    articles it started with) or another publish holds the lock.  With *dry_run*, only
    says what it would record: nothing is written, and nothing is built.
    """
    with publication_lock(root.resolve()) as notes:
        publication, diagnostics = load_publication(root, now)
        if publication is not None:
            diagnostics = [*placeholders(publication.config), *diagnostics]
        if publication is None or has_errors(diagnostics, strict=strict):
            raise ContentError("the publication has errors", diagnostics)
        config, state = publication.config, publication.state
        refusal = _no_baseline(config, state)
        if refusal is not None:
            raise SyndicateError("no baseline was recorded", [refusal])
        ids = [publication.ids[a.slug] for a in publication.published]
        newest = publication.published[0].date if publication.published else None
        taken = Baselined(len(set(ids) - state.mailed), len(ids), newest, dry_run)
        if dry_run:
            report = Report(
                tuple(diagnostics),
                articles=len(publication.articles),
                published=len(publication.published),
            )
        else:
            from .delivery.send import record_baseline

            record_baseline(config, ids, now)
            report = build(root, now, strict=strict)
    return replace(report, diagnostics=(*notes, *report.diagnostics)), taken


def _no_baseline(config: Config, state: State) -> Diagnostic | None:
    """Why no baseline can be taken now, or None."""
    if config.email is None:
        return Diagnostic.error(
            config.path, 0, "no [email] table: there is no newsletter to record a baseline for"
        )
    going = [record.id for record in state.digests if record.open]
    if going:
        return Diagnostic.error(
            config.state_path,
            0,
            f"digest {going[0]} is still going out to some readers: run syndicate publish "
            "to finish it first",
        )
    return None


def _sends_for_real(config: Config) -> bool:
    """Whether a publish would hand mail to a server that can reach readers."""
    from .delivery.backends import _loopback

    smtp = config.email.smtp if config.email is not None else None
    return smtp is not None and not _loopback(smtp.host)
