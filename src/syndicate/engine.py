"""The build engine: it takes a :class:`~syndicate.plan.Plan`, keeps each file the cache
shows unchanged (its key is the one recorded for the file on disk), has the runner
(:mod:`syndicate.workers`) make the others, and gives every file of the output folder,
each made as it is written.

Nothing else in a build compares keys, starts workers or knows how the files are
streamed: the stages it runs (the bodies, the feeds, an article's own files, the front
pages) are plain functions of their inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import feeds, markdown
from .bodies import Context as BodyContext
from .bodies import Job as BodyJob
from .bodies import Links
from .cache import BuildCache
from .cache.articles import ArticleRecords, read_and_record
from .cache.bodies import BodyRecords, Recorded, render_and_record
from .cache.keys import body_key
from .config import Config
from .content import loader
from .errors import Diagnostic
from .output import Pieces
from .plan import Plan, check_names
from .render import Front, render_front
from .workers import Run, run_all

if TYPE_CHECKING:  # each loads when a build needs it, not on start-up
    from .article_files import Job, Made
    from .content.model import Article
    from .email.render import RenderedDigest
    from .plan import OwnFiles
    from .publication import Publication


class OutputFiles(Pieces):
    """Every file of a build's output folder, by its path there: the feeds made only when
    read, the articles' own files (pages, social files, cards) as the workers making them
    deliver them (see :class:`_Streamed`), the others already made.

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
        streamed: _Streamed,
        entries: Mapping[str, Sequence[bytes]],
    ) -> None:
        self.config = config
        #: Entries serialised already, with their bodies (see :meth:`Bodies.missing`), by id.
        self.entries = entries
        self.others = others
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
            if name in self.streamed:
                return (self.streamed[name],)
            return (self.others[name],)
        feed, kind = found
        if kind != self._format:
            self._writer.forget(self._format)
            self._format = kind
        return feeds.render_pieces(feed, kind, self.config, self._writer)

    def __contains__(self, name: object) -> bool:
        return name in self._feeds or name in self.streamed or name in self.others

    def __iter__(self) -> Iterator[str]:
        yield from self._feeds
        self._writer.forget(self._format)  # every feed read: let go of the last format's
        yield from self.streamed
        yield from self.others

    def __len__(self) -> int:
        return len(self._feeds) + len(self.streamed) + len(self.others)

    def problems(self) -> list[Diagnostic]:
        """What the files read so far found wrong (a card that could not draw a title)."""
        return list(self.streamed.diagnostics)

    def hashes(self) -> dict[str, str]:
        """The SHA-256 of each article's file read so far, for the cache to keep."""
        return dict(self.streamed.hashes)

    def close(self) -> None:
        """Stop the workers still making files (when not every file was read)."""
        self.streamed.close()


class _Streamed(Mapping[str, bytes]):
    """The articles' own files being made, each given once, as soon as the workers have
    made it: reading one waits for the job that makes it (and lets go of it).  What a
    card could not draw is in :attr:`diagnostics` once its job is done.  :meth:`close`
    stops the workers."""

    def __init__(self, jobs: Sequence[Job] = (), run: Run[Made] | None = None) -> None:
        self._jobs = jobs
        self._names = {name: None for job in jobs for name in sorted(job.names)}
        self._run = run
        self._results: Iterator[Made] = iter(run) if run is not None else iter(())
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
            article = self._jobs[self._done].article
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
        if self._run is not None:
            self._run.close()


@dataclass(frozen=True, slots=True)
class Outputs:
    """What a build makes, before anything is written."""

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


class Bodies:
    """The rendered bodies of a build: from the cache where it holds them (:meth:`missing`
    gives the others), rendered by :func:`~syndicate.bodies.render_body` where it does
    not (:meth:`take`)."""

    def __init__(
        self,
        publication: Publication,
        cache: BuildCache,
        key: Callable[[Article], str] | None = None,
    ) -> None:
        self.publication = publication
        self.links = Links(publication)
        self.site_url = publication.config.site.url
        #: The bodies the cache holds; *key* gives the key of an article's body but for
        #: its links (see :func:`~syndicate.cache.keys.body_key`).
        self.records = BodyRecords(
            cache, publication.config.root, key or self._body_key, self.links
        )
        self.rendered: dict[str, markdown.Rendered] = {}
        #: Feed entries the workers serialised with their bodies, by entry id, in each of
        #: the feed formats (see :meth:`missing`).
        self.entries: dict[str, tuple[bytes, ...]] = {}

    def cached_key(self, article: Article) -> str | None:
        """The key of *article*'s body when the cache holds it and it is still right."""
        return self.records.cached_key(article)

    def _body_key(self, article: Article) -> str:
        url = self.publication.urls[article.slug]
        return body_key(article, url, self.site_url, self.publication.config.root)

    def missing(
        self, articles: Iterable[Article], *, entries: Set[str] = frozenset()
    ) -> list[BodyJob]:
        """The bodies of *articles* still to render: those the cache holds are taken into
        :attr:`rendered` now.  The feed entries of the articles whose slugs are in
        *entries* are to be serialised with the body, on the core that renders it."""
        wanted = {a.slug: a for a in articles if a.slug not in self.rendered}
        todo: list[Article] = []
        for slug, article in wanted.items():
            stored = self.records.stored(article)
            if stored is None:
                todo.append(article)
                continue
            url = self.publication.urls[slug]
            html, summary = stored
            html = markdown.resanitise(html, article, url, self.site_url, self.links)
            self.rendered[slug] = markdown.Rendered(html, summary)
        ids, urls = self.publication.ids, self.publication.urls
        return [BodyJob(a, urls[a.slug], ids[a.slug] if a.slug in entries else None) for a in todo]

    def context(self) -> BodyContext:
        """What rendering every body needs (see :func:`~syndicate.bodies.render_body`)."""
        # Plain data, the link map made here once: it and the config go to each worker
        # once, not with every chunk.
        return BodyContext(self.links.map, self.publication.config, self.site_url)

    def take(
        self, jobs: Iterable[BodyJob], results: Iterable[Recorded]
    ) -> dict[str, markdown.Rendered]:
        """Keep the bodies rendered for *jobs*, in :attr:`rendered` and in the cache;
        give every body rendered so far."""
        for job, recorded in zip(jobs, results, strict=True):
            (body, _, pieces), _, _ = recorded
            slug = job.article.slug
            self.rendered[slug] = body
            if job.entry_id is not None and pieces is not None:
                self.entries[job.entry_id] = pieces
            self.records.keep(slug, recorded)
        return self.rendered

    def forget_unpublished(self) -> None:
        self.records.forget_unpublished({a.slug for a in self.publication.published})


#: Feed entries serialised by the workers that render their bodies, at most: each is held
#: in three formats until the feeds are written, so a bound keeps that memory small.
WORKER_ENTRIES = 2_000


def read_articles(
    config: Config, cache: BuildCache | None, meanwhile: Callable[[], object] | None = None
) -> tuple[list[Article], list[Diagnostic]]:
    """Every article of the content folder, with every problem found: those the *cache*
    holds unchanged taken from it, the others read on every core when there are many;
    *meanwhile* is called once the workers have started."""
    listed = loader.listed_articles(config)
    records = ArticleRecords(BuildCache.disabled() if cache is None else cache, config)
    results = [records.cached(text, name) for text, name in listed]
    missing = [index for index, result in enumerate(results) if result is None]
    paths = [listed[index][0] for index in missing]
    with Run(read_and_record, (config, records.recording), paths) as run:
        # While the files are read: the links out of the content folder, and the path
        # objects of the files read.
        diagnostics = loader.outside_links(config)
        made = [Path(text) for text in paths]
        if meanwhile is not None:
            meanwhile()
        for position, (sent, record) in enumerate(run):  # each as soon as it is read
            index = missing[position]
            results[index] = loader.received(made[position], sent)
            if record is not None:
                records.keep(listed[index][1], record)
    records.forget_others({name for _, name in listed})
    return loader.collected(filter(None, results), diagnostics, config.root)


def render_bodies(
    publication: Publication, articles: Iterable[Article]
) -> dict[str, markdown.Rendered]:
    """Render the Markdown of *articles*, once each, on every core when there are many."""
    return _bodies(Bodies(publication, BuildCache.disabled()), articles)


def _bodies(
    bodies: Bodies, articles: Iterable[Article], *, entries: Set[str] = frozenset()
) -> dict[str, markdown.Rendered]:
    """Every body *bodies* holds, with those of *articles* (see :meth:`Bodies.missing`)."""
    jobs = bodies.missing(articles, entries=entries)
    if not jobs:
        return bodies.rendered
    return bodies.take(jobs, run_all(render_and_record, bodies.context(), jobs))


def make_outputs(plan: Plan, cache: BuildCache) -> Outputs:
    """Every output of *plan*: a file whose key the *cache* recorded for the file on disk
    (and whose body, if it shows one, the cache holds with its links unchanged) is kept,
    neither rendered nor read; only the bodies something renders are read or rendered."""
    publication = plan.publication
    config = publication.config
    folder = str(config.output_dir)
    bodies = Bodies(publication, cache, plan.body_key)
    kept: set[str] = set()
    output_keys: dict[str, str] = {}
    stale = []
    for feed in plan.feeds:
        output_keys.update(dict.fromkeys(feed.names, feed.key))
        if all(bodies.cached_key(a) is not None for a in feed.plan.articles) and all(
            cache.unchanged(name, feed.key, folder) for name in feed.names
        ):
            kept.update(feed.names)
        else:
            stale.append(feed.plan)
    sent, pending = plan.digests
    in_emails = [a for digest in (*sent, *pending) for a in digest.articles]
    # Pages and social files render the bodies they need themselves (see _make_own_files).
    shown = [a for p in stale for a in p.articles]
    # With a limit, the feeds show few entries: each is serialised where its body is
    # rendered, in the three formats at once (up to WORKER_ENTRIES of them, in the order
    # the feeds list them).  The others, and every entry when the feeds show all, are
    # serialised as the files are written, a format at a time: no more than one format of
    # them is held at once (in workers, every entry would cost memory for no time).
    distinct = dict.fromkeys(a.slug for a in shown) if config.feeds.limit else {}
    serialised = set(list(distinct)[:WORKER_ENTRIES])
    rendered = _bodies(bodies, [*shown, *in_emails], entries=serialised)
    made = [
        feeds.Feed(
            p.folder,
            p.title,
            p.description,
            p.category,
            tuple(
                feeds.Entry(
                    article=article,
                    id=publication.ids[article.slug],
                    url=publication.urls[article.slug],
                    summary=rendered[article.slug].summary,
                    html=rendered[article.slug].html if config.feeds.full_content else None,
                )
                for article in p.articles
            ),
        )
        for p in stale
    ]
    bodies.forget_unpublished()
    plans = [feed.plan for feed in plan.feeds]
    front = render_front(publication, plans, plan.digests, rendered)
    check_names(plan, front.files.keys() | output_keys.keys())
    streamed, cards = _make_own_files(plan, bodies, cache, kept, output_keys)
    return Outputs(
        OutputFiles(config, made, dict(front.files), streamed, bodies.entries),
        front.emails,
        front.diagnostics,
        cards,
        kept=frozenset(kept),
        output_keys=output_keys,
        front=front,
        plans=tuple(plans),
        bodies=rendered,
    )


def _make_own_files(
    plan: Plan, bodies: Bodies, cache: BuildCache, kept: set[str], output_keys: dict[str, str]
) -> tuple[_Streamed, int]:
    """The articles' own files to make, being made; those kept go into *kept*, and every
    file's key into *output_keys*.  Also how many cards are drawn."""
    if not plan.articles:
        return _Streamed(), 0
    from . import pages
    from .article_files import Context, Job, make, prepare_jobs
    from .social.meta import card_path

    config = plan.publication.config
    folder = str(config.output_dir)
    todo: list[tuple[OwnFiles, frozenset[str]]] = []
    known: dict[str, dict[str, str | None]] = {}  # keys worked out already, by slug
    # With no output recorded (a cold build, or one without the cache), no file can be
    # kept: the keys are worked out once the workers are making the files, not before.
    if cache.outputs:
        for own in plan.articles:
            keys = known[own.article.slug] = plan.keys(own)
            fresh = bodies.cached_key(own.article) is not None
            stale = []
            for name, key in keys.items():
                # A page or a social file shows the body: kept only if the body's links
                # still lead where they did.
                current = fresh or own.kinds[name] == "card"
                if key is not None and current and cache.unchanged(name, key, folder):
                    kept.add(name)
                    output_keys[name] = key
                else:
                    stale.append(name)
            if stale:
                todo.append((own, frozenset(stale)))
    else:
        todo = [(own, frozenset(own.kinds)) for own in plan.articles]
    if not todo:
        return _Streamed(), 0
    rendered = _bodies(
        bodies, [own.article for own, names in todo if names - {card_path(own.article)}]
    )
    jobs = [
        Job(
            own.article,
            own.url,
            names,
            rendered.get(own.article.slug),
            own.card if card_path(own.article) in names else None,  # the card to draw, if any
        )
        for own, names in todo
    ]
    prepare_jobs(config, jobs)
    context = Context(config, pages.category_feeds(config, plan.publication.published), plan.days)
    streamed = _Streamed(jobs, Run(make, context, jobs))
    # While the workers start on the files: their keys, for the cache to remember.
    try:
        cards = 0
        for own, names in todo:
            cards += card_path(own.article) in names
            keys = known.get(own.article.slug) or plan.keys(own)
            output_keys.update((n, k) for n, k in keys.items() if k is not None)
    except BaseException:
        streamed.close()
        raise
    return streamed, cards
