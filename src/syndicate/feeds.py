"""RSS 2.0, Atom 1.0 and JSON Feed 1.1 from the same entries.

feedgen writes RSS and Atom.  Its hidden defaults would break determinism
(``updated`` and ``lastBuildDate`` default to now, ``add_entry`` prepends, the
generator names itself), so this adapter sets every date, the order and the
generator explicitly.  JSON Feed has no feedgen writer and is written here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .config import Config
from .content import Article, category_slug
from .output import json_bytes

if TYPE_CHECKING:  # feedgen and lxml load when a feed is rendered, not on start-up
    from feedgen.entry import FeedEntry
    from feedgen.feed import FeedGenerator

RSS, ATOM, JSON_FEED = "rss.xml", "atom.xml", "feed.json"
CATEGORIES = "categories"
GENERATOR = "syndicate"
#: The date of a feed with no entries (no "now" may enter an output).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Entry:
    """An article as a feed shows it."""

    article: Article
    id: str
    url: str
    summary: str
    #: The sanitised article HTML; None when feeds carry summaries only.
    html: str | None


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed, in all three formats: the whole site's or one category's."""

    #: Folder below the output folder: "" or "categories/<slug>/".
    folder: str
    title: str
    description: str
    category: str | None
    entries: tuple[Entry, ...]

    @property
    def updated(self) -> datetime:
        return max((e.article.updated for e in self.entries), default=EPOCH)


@dataclass(frozen=True, slots=True)
class FeedPlan:
    """Which articles a feed shows, decided before anything is rendered."""

    folder: str
    title: str
    description: str
    category: str | None
    articles: tuple[Article, ...]


def plan_feeds(config: Config, published: list[Article]) -> list[FeedPlan]:
    """The site feed and one feed per category, newest first, ``feeds.limit`` entries each.

    *published* is already sorted newest first.  Categories whose names differ
    only in case or punctuation share one feed, named by their newest spelling.
    """
    limit = config.feeds.limit or None
    site = config.site
    plans = [FeedPlan("", site.title, site.description, None, tuple(published[:limit]))]
    groups: dict[str, tuple[str, list[Article]]] = {}
    for article in published:
        for name in article.categories:
            slug = category_slug(name)
            if slug:
                groups.setdefault(slug, (name, []))[1].append(article)
    for slug in sorted(groups):
        name, articles = groups[slug]
        plans.append(
            FeedPlan(
                folder=f"{CATEGORIES}/{slug}/",
                title=f"{site.title}: {name}",
                description=f"Articles filed under {name} in {site.title}",
                category=name,
                articles=tuple(articles[:limit]),
            )
        )
    return plans


def _local(moment: datetime, config: Config) -> datetime:
    return moment.astimezone(config.site.timezone)


def _feed_entry(entry: Entry, config: Config) -> FeedEntry:
    article = entry.article
    from feedgen.entry import FeedEntry
    from feedgen.ext.dc import DcEntryExtension
    from feedgen.ext.media import MediaEntryExtension

    fe = FeedEntry()
    fe.register_extension("media", MediaEntryExtension, atom=True, rss=True)
    # RSS <author> must be an e-mail address; names go in dc:creator instead.
    fe.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    fe.title(article.title)
    fe.id(entry.id)
    fe.guid(entry.id, permalink=False)
    fe.link(href=entry.url, rel="alternate", type="text/html")
    fe.published(_local(article.date, config))
    fe.updated(_local(article.updated, config))
    for name in article.authors:
        fe.author({"name": name})
    fe.dc.dc_creator(list(article.authors))
    for name in article.categories:
        fe.category(term=name)
    if entry.html is not None:
        fe.content(entry.html, type="html")
    if entry.summary:
        fe.summary(entry.summary)
    if article.image is not None:
        media: dict[str, str] = {"url": article.image.url, "medium": "image"}
        if article.image.type:
            media["type"] = article.image.type
        if article.image.length is not None:
            media["fileSize"] = str(article.image.length)
        fe.media.content(media, group=None)
    return fe


def _generator(feed: Feed, config: Config, self_url: str, self_type: str) -> FeedGenerator:
    from feedgen.ext.dc import DcEntryExtension, DcExtension
    from feedgen.ext.media import MediaEntryExtension, MediaExtension
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.register_extension("media", MediaExtension, MediaEntryExtension, atom=True, rss=True)
    fg.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    fg.id(self_url)
    fg.title(feed.title)
    fg.description(feed.description)
    # feedgen takes the last link as the RSS <link>: the site, not the feed itself.
    fg.link(href=self_url, rel="self", type=self_type)
    fg.link(href=config.site.url, rel="alternate", type="text/html")
    fg.language(config.site.language)
    updated = _local(feed.updated, config)
    fg.updated(updated)
    fg.lastBuildDate(updated)
    fg.generator(GENERATOR)
    return fg


def feed_url(config: Config, feed: Feed | FeedPlan, name: str) -> str:
    return f"{config.site.url}{feed.folder}{name}"


def render_feed(feed: Feed, config: Config) -> dict[str, bytes]:
    """The feed's three files, keyed by their path below the output folder."""
    entries = [_feed_entry(entry, config) for entry in feed.entries]
    rss = _generator(feed, config, feed_url(config, feed, RSS), "application/rss+xml")
    atom = _generator(feed, config, feed_url(config, feed, ATOM), "application/atom+xml")
    for fe in entries:
        rss.add_entry(fe, order="append")
        atom.add_entry(fe, order="append")
    return {
        feed.folder + RSS: rss.rss_str(pretty=True),
        feed.folder + ATOM: atom.atom_str(pretty=True),
        feed.folder + JSON_FEED: render_json_feed(feed, config),
    }


def render_json_feed(feed: Feed, config: Config) -> bytes:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    site = config.site
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": site.url,
        "feed_url": feed_url(config, feed, JSON_FEED),
        "description": feed.description,
        "language": site.language,
    }
    if site.author:
        document["authors"] = [{"name": site.author}]
    document["items"] = [_json_item(entry, config) for entry in feed.entries]
    return json_bytes(document)


def _json_item(entry: Entry, config: Config) -> dict[str, Any]:
    article = entry.article
    item: dict[str, Any] = {"id": entry.id, "url": entry.url, "title": article.title}
    if entry.html is not None:
        item["content_html"] = entry.html
    else:
        item["content_text"] = entry.summary
    if entry.summary:
        item["summary"] = entry.summary
    if article.image is not None:
        item["image"] = article.image.url
    item["date_published"] = _local(article.date, config).isoformat()
    item["date_modified"] = _local(article.updated, config).isoformat()
    item["authors"] = [{"name": name} for name in article.authors]
    if article.categories:
        item["tags"] = list(article.categories)
    return item


def feed_links(config: Config, plans: Iterable[FeedPlan]) -> list[Mapping[str, str]]:
    """Title and URLs of every feed, for pages that list them."""
    return [
        {
            "title": plan.title,
            "category": plan.category or "",
            "rss": feed_url(config, plan, RSS),
            "atom": feed_url(config, plan, ATOM),
            "json": feed_url(config, plan, JSON_FEED),
        }
        for plan in plans
    ]
