"""What a build makes, decided before anything is rendered: the feeds (three files each),
each published article's own files (page, social files, card) and the emails, every file
with its key (:mod:`syndicate.cache.keys`), the hash of everything it is made of.

The plan is worked out from the publication alone: it neither looks at the output folder
nor asks the cache anything.  The build engine (:mod:`syndicate.engine`) compares its keys
with those the cache recorded and makes only what changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from . import feeds
from .cache.keys import ArticleKeys, FileKind, body_key, entry_key, feed_key
from .content.model import Article
from .email.digest import Digest
from .errors import RenderError
from .pages import Days
from .publication import Publication, newsletter

if TYPE_CHECKING:  # loads only for a build with pages or cards
    from .social.card import CardInput


@dataclass(frozen=True, slots=True)
class FeedFiles:
    """A feed's three files (RSS, Atom, JSON Feed), made of the same inputs."""

    plan: feeds.FeedPlan
    names: tuple[str, ...]
    key: str


@dataclass(frozen=True, slots=True)
class OwnFiles:
    """One published article's own files."""

    article: Article
    url: str
    #: Each file, with what it is ("page", "meta", "social" or "card").
    kinds: Mapping[str, FileKind]
    #: What its card shows (None without ``[social] platforms``).
    card: CardInput | None


@dataclass(frozen=True)
class Plan:
    """Every file a build makes but the newsletter's and landing pages (see
    :func:`~syndicate.render.render_front`), each with its key."""

    publication: Publication
    feeds: tuple[FeedFiles, ...]
    #: Each published article's own files, newest first.
    articles: tuple[OwnFiles, ...]
    #: The digests sent, and those due now.
    digests: tuple[Sequence[Digest], Sequence[Digest]]
    #: The key of each published article's body but for the links it resolves, by slug
    #: (see :meth:`body_key`).
    body_keys: dict[str, str]
    #: Dates written out, shared by the cards and the pages.
    days: Days

    @cached_property
    def _article_keys(self) -> ArticleKeys:
        return ArticleKeys(self.publication.config)

    def body_key(self, article: Article) -> str:
        """The key of *article*'s body but for the links it resolves, worked out when first
        asked (a build with feeds only needs those of the articles they show)."""
        return _body_key(self.publication, self.body_keys, article)

    def keys(self, own: OwnFiles) -> dict[str, str | None]:
        """The key of each of an article's own files (None: no key, it is always made),
        worked out only when asked: a build with nothing to compare them with starts
        making the files first."""
        body = self.body_key(own.article)
        return self._article_keys.files(own.article, own.url, body, own.card, own.kinds)


def plan_build(publication: Publication) -> Plan:
    """What a build of *publication* makes."""
    config = publication.config
    feed_plans = feeds.plan_feeds(config, list(publication.published))
    body_keys: dict[str, str] = {}
    shown = {a.slug: a for feed in feed_plans for a in feed.articles}
    entry_keys = {
        slug: entry_key(article, publication, _body_key(publication, body_keys, article))
        for slug, article in shown.items()
    }
    feed_files = tuple(
        FeedFiles(
            feed,
            tuple(feed.folder + name for name in feeds.FORMATS),
            feed_key(feed, config, entry_keys),
        )
        for feed in feed_plans
    )
    days = Days(config)
    own = _own_files(publication, days)
    return Plan(publication, feed_files, own, newsletter(publication), body_keys, days)


def _body_key(publication: Publication, known: dict[str, str], article: Article) -> str:
    key = known.get(article.slug)
    if key is None:
        url, config = publication.urls[article.slug], publication.config
        key = known[article.slug] = body_key(article, url, config.site.url, config.root)
    return key


def _own_files(publication: Publication, days: Days) -> tuple[OwnFiles, ...]:
    config = publication.config
    if not (config.site.pages or config.social.platforms):  # feeds only
        return ()
    from .article_files import article_files
    from .social.outputs import card_input

    planned = []
    for article in publication.published:
        url = publication.urls[article.slug]
        card = None
        if config.social.platforms:
            card = card_input(config, article, days(article.date, article.lang))
        planned.append(OwnFiles(article, url, article_files(config, article, url, card), card))
    return tuple(planned)


def check_names(plan: Plan, taken: Set[str]) -> None:
    """Raise when an article's page would have the name of one of the build's other files,
    *taken*: those of the feeds and of the newsletter's and landing pages."""
    for own in plan.articles:
        for name in own.kinds:
            if name in taken:
                raise RenderError(
                    f"{plan.publication.config.path}: site.permalink puts an article page at "
                    f"{name}, where syndicate writes another file; change the permalink or "
                    "the slug"
                )
