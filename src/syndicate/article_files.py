"""Each published article's own files: its page at its permalink (``[site] pages``) and,
with ``[social] platforms``, ``social/<slug>.json`` (post texts and card metadata),
``social/<slug>.html`` (the card's ``<meta>`` snippet) and ``social/<slug>.png`` or
``.jpg`` (the card).

Every file has a key: a hash of everything it shows, that is the article's fields, its
body's key (:func:`syndicate.cache.keys.body_key`, with the links it resolved), its
permalink, the config values and the templates (with those they include) it is rendered
with, and syndicate's version, part of every hash.  A file whose key is the one the build
cache recorded for the file on disk, with the size, modification time and inode it was
written with, is kept: neither rendered nor read, like an unchanged feed.  Where only its
times and inode changed (a fresh clone, as in CI with the cache restored), it is read and
kept if it has the bytes it was written with (their SHA-256 is recorded too): hashing a
card costs a hundredth of drawing it.  Only the bodies of the files made are read or
rendered.

An article's files are made together, by one job, on every core when there are many: a
card takes milliseconds to draw, a page or the post texts a fraction of one.  The jobs
start when the build has decided what to make, and the files come back while the build
writes the others: :class:`Made` gives each as it arrives, so that writing ten thousand
pages and cards overlaps with drawing them, and they are never all in memory at once.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, NamedTuple

import jinja2

from . import __version__, pages, templating
from .cache import BuildCache, content_hash, digest, portable, signature, source_name
from .config import Config
from .content.model import Article
from .errors import Diagnostic, RenderError
from .markdown import Rendered
from .social.card import CardInput, CardKeys, prepare, render_card
from .social.meta import card_path
from .social.outputs import card_input, document_path, social_document
from .workers import Stream, shared

if TYPE_CHECKING:
    from pathlib import Path

    from .bodies import Bodies
    from .publication import Publication

#: Article fields a template may show; the body is in the body's key.
_SHOWN = tuple(f.name for f in fields(Article) if f.name != "body_span")


@dataclass(frozen=True, slots=True)
class ArticleFiles:
    """The articles' files a build makes, and those it keeps."""

    made: Made
    #: Files left as they are: made from the same inputs as the file on disk.
    kept: frozenset[str]
    #: The key of each file made or kept, for the cache to remember once it is written.
    keys: dict[str, str]
    #: Cards drawn (the others were kept).
    cards: int


class Made(Mapping[str, bytes]):
    """The files being made, each given once, as soon as the workers have made it: reading
    one waits for the job that makes it (and lets go of it).  What a card could not draw
    is in :attr:`diagnostics` once its job is done.  :meth:`close` stops the workers."""

    def __init__(
        self, jobs: list[tuple[Article, frozenset[str]]], results: Stream[_Made] | None
    ) -> None:
        self._jobs = jobs
        self._names = {name: None for _, names in jobs for name in sorted(names)}
        self._stream = results
        self._results: Iterator[_Made] = iter(results) if results is not None else iter(())
        self._done = 0
        self._ready: dict[str, bytes] = {}
        self.diagnostics: list[Diagnostic] = []
        #: The SHA-256 of each file made so far (see :func:`~syndicate.cache.content_hash`).
        self.hashes: dict[str, str] = {}

    def __getitem__(self, name: str) -> bytes:
        if name not in self._names:
            raise KeyError(name)
        while name not in self._ready:
            if self._done == len(self._jobs):
                raise KeyError(f"{name}: already read")
            article, _ = self._jobs[self._done]
            result = next(self._results)
            self._done += 1
            self._ready.update(result.files)
            self.hashes.update(result.hashes)
            self.diagnostics += [
                Diagnostic.warning(article.source, article.line("title"), f"card: {problem}")
                for problem in result.problems
            ]
        return self._ready.pop(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


def article_key(article: Article, root: Path) -> str:
    """What of *article* but its body a page or a social file may show: every field, its
    files by their place in the publication in *root*."""
    values = [getattr(article, name) for name in _SHOWN]
    # A mapping's order is the file's, from the cache too: a template may show it.
    shown = [list(v.items()) if isinstance(v, Mapping) else v for v in values]
    # Its two paths by name, rather than cache.portable() over every field: this runs for
    # every article of every build.
    shown[_SOURCE] = source_name(article.source, root)
    image = article.image
    if image is not None and image.source is not None:
        shown[_IMAGE] = (image.url, image.type, image.length, source_name(image.source, root))
    return digest("article", repr(shown))


_SOURCE, _IMAGE = _SHOWN.index("source"), _SHOWN.index("image")


class _Keys:
    """The key of each file of an article, from what the files of a build share."""

    def __init__(self, config: Config) -> None:
        site = portable(config.site, config.root)
        handle = config.social.platform("x").handle or "\x00none"
        self.config = config
        # A template, which may be the publication's own, could show a path: the files
        # rendered from one are made again in another folder.
        root = str(config.root)
        page, meta = templating.template_key(config, _PAGE), templating.template_key(config, _META)
        # The sign-up form posts to the list service: a page shows its address.
        service = config.subscribers.url if config.subscribers is not None else ""
        self.page = _shared_key("page", site, handle, root, page, service)
        self.snippet = _shared_key("meta", site, handle, root, meta)
        self.document = digest("social", site, portable(config.social, config.root))
        self.cards = CardKeys(config.social.card, __version__) if config.social.platforms else None
        #: The shared part of the key of each kind of file but the card.
        self._shared = {"page": self.page, "meta": self.snippet, "social": self.document}

    def names(self, article: Article, url: str, card: CardInput | None) -> dict[str, str]:
        """The article's files, each with what it is: "page", "meta", "social" or "card"."""
        config = self.config
        found = {}
        if config.site.pages:
            found[pages.page_path(config, url)] = "page"
        if card is not None and self.cards is not None:
            found[pages.meta_snippet_path(article)] = "meta"
            found[document_path(article)] = "social"
            found[card_path(article)] = "card"
        return found

    def files(
        self, article: Article, url: str, body: str | None, card: CardInput | None
    ) -> dict[str, str | None]:
        """The article's files, each with its key (None: it must be made); *body* is the key
        of the article's body (None when it must be rendered first)."""
        shown = None
        if body is not None:
            shown = digest(article_key(article, self.config.root), body, url)
        found: dict[str, str | None] = {}
        for name, kind in self.names(article, url, card).items():
            if kind == "card":
                assert card is not None and self.cards is not None
                found[name] = digest("card", self.cards(card))
            else:
                found[name] = _key(self._shared[kind], shown)
        return found


_PAGE, _META = "site/article.html.j2", "social/meta.html.j2"


def _shared_key(kind: str, *parts: str | None) -> str | None:
    return None if None in parts else digest(kind, *(part or "" for part in parts))


def _key(shared: str | None, shown: str | None) -> str | None:
    return None if shared is None or shown is None else digest(shared, shown)


class _Context(NamedTuple):
    """What every job of a build needs: sent to each worker once."""

    config: Config
    #: Each category's feed, by its name.
    feeds: dict[str, str]
    days: pages.Days


class _Job(NamedTuple):
    """The files of one article to make (its body when a page or a text needs it)."""

    article: Article
    url: str
    names: frozenset[str]
    body: Rendered | None
    #: What the card shows, when the job draws it.
    card: CardInput | None


class _Made(NamedTuple):
    files: dict[str, bytes]
    #: What the card could not draw.
    problems: tuple[str, ...]
    #: Each file's SHA-256, for the cache (worked out here, on a worker's core).
    hashes: dict[str, str]


def _make(job: _Job) -> _Made:
    """The files *job* asks for.  Runs in a worker: the context comes from
    :func:`~syndicate.workers.shared`."""
    context: _Context = shared()
    config, article, url, body = context.config, job.article, job.url, job.body
    files: dict[str, bytes] = {}
    problems: tuple[str, ...] = ()
    for name in sorted(job.names):
        if name == card_path(article):
            assert job.card is not None
            files[name], layout = render_card(job.card, config.social.card)
            problems = layout.problems
            continue
        assert body is not None
        if name == pages.meta_snippet_path(article):
            files[name] = pages.render_meta_snippet(config, article, url, body.summary)
        elif name == document_path(article):
            files[name] = social_document(config, article, url, body.summary)
        else:
            files[name] = pages.render_article_page(
                config, article, url, body, context.feeds, context.days
            )
    return _Made(files, problems, {name: content_hash(data) for name, data in files.items()})


def article_files(
    publication: Publication,
    bodies: Bodies,
    cache: BuildCache | None,
    taken: Set[str] = frozenset(),
) -> ArticleFiles:
    """The page and social files of every published article; with a *cache*, those made
    of the same inputs as the files on disk are kept.  *taken* are the names of the
    build's other files, which no page may have."""
    config = publication.config
    if not (config.site.pages or config.social.platforms):
        return ArticleFiles(Made([], None), frozenset(), {}, 0)
    keys = _Keys(config)
    feeds = pages.category_feeds(config, publication.published)
    context = _Context(config, feeds, pages.Days(config))
    folder = str(config.output_dir)
    kept: dict[str, str] = {}
    todo: list[tuple[Article, str, frozenset[str], CardInput | None]] = []
    # With no output recorded (a cold build, or one without the cache), no file can be
    # kept: the keys are worked out once the workers are making the files, not before.
    recorded = cache is not None and bool(cache.outputs)
    for article in publication.published:
        url = publication.urls[article.slug]
        card = None
        if config.social.platforms:
            card = card_input(config, article, context.days(article.date, article.lang))
        files: Mapping[str, str | None]
        if recorded:
            files = keys.files(article, url, bodies.cached_key(article), card)
        else:
            files = dict.fromkeys(keys.names(article, url, card))
        stale = []
        for name, key in files.items():
            if name in taken:
                raise RenderError(
                    f"{config.path}: site.permalink puts an article page at {name}, "
                    "where syndicate writes another file; change the permalink or the slug"
                )
            if key is not None and cache is not None and _unchanged(cache, key, folder, name):
                kept[name] = key
            else:
                stale.append(name)
        if stale:
            todo.append((article, url, frozenset(stale), card))
    if not todo:
        return ArticleFiles(Made([], None), frozenset(kept), kept, 0)

    rendered = bodies.render(a for a, _, names, _ in todo if names - {card_path(a)})
    jobs = [
        _Job(
            article,
            url,
            names,
            rendered.get(article.slug),
            card if card_path(article) in names else None,  # the card to draw, if any
        )
        for article, url, names, card in todo
    ]
    _prepare(config, jobs)
    made = Made([(a, names) for a, _, names, _ in todo], Stream(_make, jobs, shared=context))
    # While the workers start on the files: their keys, for the cache to remember.
    try:
        made_keys = dict(kept)
        cards = 0
        for article, url, names, card in todo:
            cards += card_path(article) in names
            if cache is not None:  # the bodies are in the cache now: every key is known
                now = keys.files(article, url, bodies.cached_key(article), card)
                made_keys.update((name, key) for name, key in now.items() if key is not None)
    except BaseException:
        made.close()
        raise
    return ArticleFiles(made, frozenset(kept), made_keys, cards)


def _unchanged(cache: BuildCache, key: str, folder: str, name: str) -> bool:
    """Whether the cache recorded *key* for the file *name* as it is on disk: with the
    size, modification time and inode it was written with, or, when only those changed
    (a fresh clone), with the bytes it was written with.  Those are read and hashed, and
    the file's new status is recorded in place of the old."""
    recorded = cache.outputs.get(name)
    if not isinstance(recorded, list) or not recorded or recorded[0] != key:
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
        cache.outputs[name] = [key, *signature(status), recorded[4]]
        cache.changed("outputs")
    return same


def _prepare(config: Config, jobs: list[_Job]) -> None:
    """Load the templates, the post texts' counting rules, fonts and card backdrop now:
    worker processes started afterwards with "fork" inherit them instead of each loading
    them again."""
    environment = templating.environment(config)
    for name in (_PAGE, _META):
        with contextlib.suppress(jinja2.TemplateError):  # rendering will say what is wrong
            environment.get_template(name)
    if any(document_path(job.article) in job.names for job in jobs):
        importlib.import_module(".social.text", __package__)
    if any(job.card is not None for job in jobs):
        prepare(config.social.card, config.site.title)
