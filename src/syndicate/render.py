"""Every output of a build, before anything is written: the feeds (rendered as they are
written), the articles' own files (made by the runner), the newsletter's pages and the
landing page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import feeds, markdown
from .bodies import Bodies
from .cache import BuildCache, file_signature
from .cache.keys import feed_key
from .config import Config
from .email.digest import Digest
from .errors import Diagnostic, RenderError
from .output import Pieces
from .publication import Publication, newsletter

if TYPE_CHECKING:  # each loads when a build needs it, not on start-up
    from .article_files import Made
    from .email.render import Pictures, RenderedDigest


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


def prepare_rendering(config: Config) -> None:
    """What rendering needs first, made while the helpers read the articles: the template
    engine, emptied (templates are read afresh by every build), with the landing page's
    template compiled, and the Markdown engine.  A template that does not compile is
    reported when its page is rendered."""
    from . import pages, templating

    templating.environment.cache_clear()
    with contextlib.suppress(RenderError):
        templating.compile_template(config, pages.LANDING)
    markdown.engine()

