"""RSS 2.0, Atom 1.0 and JSON Feed 1.1 from the same entries.

Each entry is serialised once per format and the feeds are put together from those
pieces: an article in the site feed and three category feeds is written out once, not
four times.  The XML is written here rather than built as an lxml tree by feedgen (what
took most of a cold build's time): the bytes are exactly what feedgen writes for the
same feed, which ``tests/test_feed_writer.py`` holds the writer to, feedgen being the
reference.  Nothing depends on the clock: every date comes from the articles, the order
is given, and the generator is named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from .config import Config
from .content.model import Article
from .content.values import category_slug
from .jsontext import html_safe, json_indented
from .language import same_language

RSS, ATOM, JSON_FEED = "rss.xml", "atom.xml", "feed.json"
#: The files of every feed, in the order a build writes them.
FORMATS = (RSS, ATOM, JSON_FEED)
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


# --- XML, escaped as lxml escapes it ------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
XML_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
MEDIA_NS = "http://search.yahoo.com/mrss/"
RSS_DOCS = "http://www.rssboard.org/rss-specification"


def _text(value: str) -> str:
    """*value* as the text of an element: escaped as for HTML, and a carriage return."""
    value = html_text(value)
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


def html_text(value: str) -> str:
    """Plain *value* written as HTML text (chained replaces: each one a single pass in C,
    where ``str.translate`` looks every character up in a table in turn).

    An RSS reader decodes a ``<description>`` as HTML, so a summary (plain text, as
    JSON Feed's ``summary`` carries it) goes in escaped for HTML, then for XML: its "<b>"
    is shown, never a tag."""
    return _replaced(value, _HTML)


#: Each character and what it is written as, "&" first (the others write one).
_HTML = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_PLAIN = (("&", "&#x26;"), ("<", "&#x3C;"), (">", "&#x3E;"), ("\r", "&#13;"))


def _replaced(value: str, table: tuple[tuple[str, str], ...]) -> str:
    for character, written in table:
        if character in value:
            value = value.replace(character, written)
    return value


def plain_text(value: str) -> str:
    """Plain *value* as the text of an element, as the RSS Best Practices Profile has plain
    text written: "&", "<" and ">" as the hexadecimal references ``&#x26;``, ``&#x3C;`` and
    ``&#x3E;``.  Any XML parser reads the same text as from lxml's ``&amp;``; the W3C
    validator takes the hexadecimal form as the publisher's word that the text is plain, and
    so does not read an "&" in it as the start of HTML."""
    return _replaced(value, _PLAIN)


#: What makes a reader that guesses (feedparser, SimplePie) take an RSS title for HTML: a
#: closing tag or a character reference.  The W3C validator warns at the same two.
_LOOKS_LIKE_HTML = re.compile(r"</\w+>|&#?\w+;")


def rss_title(value: str) -> str:
    """A title (plain text) as the text of an RSS ``<title>``, which RSS leaves undefined
    as text or HTML.  Written as plain text (:func:`plain_text`), as the RSS Best Practices
    Profile advises, unless it holds what a reader that guesses takes for HTML ("</b>",
    "&amp;"): then as HTML that shows the text, escaped once more, so that every reader
    shows the same characters the article's title has."""
    if _LOOKS_LIKE_HTML.search(value):
        value = html_text(value)
    return plain_text(value)


#: An author written with an address, ``Ann Lee <ann@example.org>``: feeds show the name.
_NAME_WITH_ADDRESS = re.compile(r"^(?P<name>.*?)\s*<[^<>\s@]+@[^<>\s]+>$", re.DOTALL)


def author_name(author: str) -> str:
    """The name feeds give an author: *author* without an address written after it in angle
    brackets (feed readers and the W3C validator expect a name, not an address, and an
    address in a public feed collects spam).  An author that is only an address stays."""
    found = _NAME_WITH_ADDRESS.match(author)
    if found is None:
        return author
    name = found["name"].strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].strip()
    return name or author.strip("<>")


def _attribute(value: str) -> str:
    """*value* as an attribute's value, in double quotes."""
    value = _text(value).replace('"', "&quot;")
    return value.replace("\n", "&#10;").replace("\t", "&#9;")


def _element(indent: str, name: str, text: str | None, attributes: str = "") -> str:
    """One element on its own line; *text* None gives an empty element."""
    if text is None:
        return f"{indent}<{name}{attributes}/>\n"
    return _written(indent, name, _text(text), attributes)


@lru_cache(maxsize=1)
def _body_text(html: str) -> str:
    """An entry's HTML as the text of an element: the RSS item and the Atom entry of one
    entry are written one after the other, and share it."""
    return _text(html)


def _written(indent: str, name: str, content: str, attributes: str = "") -> str:
    """One element on its own line, its *content* already written as XML."""
    return f"{indent}<{name}{attributes}>{content}</{name}>\n"


#: Atom's text constructs (titles, summaries, subtitles) are written as HTML: RFC 4287 lets
#: plain text be either, and with ``type="html"`` text holding "<b>" or "&amp;" is not read
#: as undeclared markup (by the W3C validator, or a reader that guesses).
ATOM_HTML = ' type="html"'


def _atom_text(indent: str, name: str, text: str) -> str:
    """An Atom text construct holding the plain *text*, as HTML."""
    return _written(indent, name, _text(html_text(text)), ATOM_HTML)


def rfc822(moment: datetime) -> str:
    """A date as RSS writes it: ``Mon, 10 Nov 2025 19:00:00 +0700`` (English names)."""
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment:%H:%M:%S %z}"
    )


def _media(article: Article, indent: str) -> str:
    image = article.image
    if image is None:
        return ""
    attributes = f' url="{_attribute(image.url)}"'
    if image.length is not None:
        attributes += f' fileSize="{image.length}"'
    if image.type:
        attributes += f' type="{_attribute(image.type)}"'
    return f'{indent}<media:content{attributes} medium="image"/>\n'


def _rss_item(entry: Entry, config: Config) -> str:
    article = entry.article
    i = "      "
    parts = [
        "    <item>\n",
        _written(i, "title", rss_title(article.title)),
        _element(i, "link", entry.url),
    ]
    # The summary is the description, and the HTML goes in content:encoded; with only
    # one of them, it is the description.
    if entry.summary and entry.html is not None:
        parts.append(_element(i, "description", html_text(entry.summary)))
        parts.append(_written(i, "content:encoded", _body_text(entry.html)))
    elif entry.summary:
        parts.append(_element(i, "description", html_text(entry.summary)))
    elif entry.html is not None:
        parts.append(_written(i, "description", _body_text(entry.html)))
    parts.append(_element(i, "guid", entry.id, ' isPermaLink="false"'))
    # A category is plain text to every reader (feedparser gives its term as it is).
    parts += [_written(i, "category", plain_text(name)) for name in article.categories]
    parts.append(_element(i, "pubDate", rfc822(_local(article.date, config))))
    parts.append(_media(article, i))
    parts += [_element(i, "dc:creator", author_name(name)) for name in article.authors]
    # RSS has one language, the channel's: an item in another says so in Dublin Core's.
    lang = own_language(article, config)
    if lang is not None:
        parts.append(_element(i, "dc:language", lang))
    parts.append("    </item>\n")
    return "".join(parts)


def _atom_entry(entry: Entry, config: Config) -> str:
    article = entry.article
    i = "    "
    lang = own_language(article, config)
    parts = [
        "  <entry>\n" if lang is None else f'  <entry xml:lang="{_attribute(lang)}">\n',
        _element(i, "id", entry.id),
        _atom_text(i, "title", article.title),
        _element(i, "updated", _local(article.updated, config).isoformat()),
    ]
    for name in article.authors:
        written = _written(i + "  ", "name", plain_text(author_name(name)))
        parts.append(f"{i}<author>\n{written}{i}</author>\n")
    if entry.html:
        parts.append(_written(i, "content", _body_text(entry.html), ATOM_HTML))
    elif entry.html is not None:
        parts.append(_element(i, "content", None, ATOM_HTML))
    parts.append(f'{i}<link href="{_attribute(entry.url)}"/>\n')
    if entry.summary:
        parts.append(_atom_text(i, "summary", entry.summary))
    parts += [f'{i}<category term="{_attribute(name)}"/>\n' for name in article.categories]
    parts.append(_element(i, "published", _local(article.date, config).isoformat()))
    parts.append(_media(article, i))
    parts.append("  </entry>\n")
    return "".join(parts)


class EntryWriter:
    """Serialises each entry once per format, for every feed of a build that shows it.
    *made* are entries already serialised (by :func:`entry_pieces`, in a worker), by id."""

    def __init__(self, config: Config, made: Mapping[str, Sequence[bytes]] | None = None) -> None:
        self.config = config
        made = made or {}
        self._done: dict[str, dict[str, bytes]] = {
            name: {id: pieces[index] for id, pieces in made.items()}
            for index, name in enumerate(FORMATS)
        }

    def piece(self, entry: Entry, name: str) -> bytes:
        """*entry* in the format of the file *name* (entry ids are unique within a build)."""
        done = self._done[name]
        piece = done.get(entry.id)
        if piece is None:
            if name == RSS:
                text = _rss_item(entry, self.config)
            elif name == ATOM:
                text = _atom_entry(entry, self.config)
            else:  # indented for its place in the feed's "items"
                text = html_safe(json_indented(_json_item(entry, self.config), 2))
            piece = done[entry.id] = text.encode("utf-8")
        return piece

    def forget(self, name: str) -> None:
        """Let go of the entries written in the format of *name*: no more feeds of that
        format will be rendered."""
        self._done[name].clear()


def entry_pieces(entry: Entry, config: Config) -> tuple[bytes, ...]:
    """*entry* in each of the :data:`FORMATS`, as :class:`EntryWriter` writes it."""
    writer = EntryWriter(config)
    return tuple(writer.piece(entry, name) for name in FORMATS)


def feed_url(config: Config, feed: Feed | FeedPlan, name: str) -> str:
    return f"{config.site.url}{feed.folder}{name}"


def render_feed(feed: Feed, config: Config, writer: EntryWriter | None = None) -> dict[str, bytes]:
    """The feed's three files, keyed by their path below the output folder.  A *writer*
    shared by the feeds of a build serialises each entry only once."""
    writer = writer or EntryWriter(config)
    return {feed.folder + name: render_file(feed, name, config, writer) for name in FORMATS}


def render_file(feed: Feed, name: str, config: Config, writer: EntryWriter) -> bytes:
    """The feed's file *name* (:data:`RSS`, :data:`ATOM` or :data:`JSON_FEED`)."""
    return b"".join(render_pieces(feed, name, config, writer))


def render_pieces(feed: Feed, name: str, config: Config, writer: EntryWriter) -> list[bytes]:
    """The feed's file *name* as the pieces that make it: its head, each entry (written
    once by *writer* for every feed), and its end."""
    pieces = [writer.piece(entry, name) for entry in feed.entries]
    if name == RSS:
        return _rss(feed, config, pieces)
    if name == ATOM:
        return _atom(feed, config, pieces)
    return _json_feed(feed, config, pieces)


def _rss(feed: Feed, config: Config, items: list[bytes]) -> list[bytes]:
    site = config.site
    i = "    "
    head = (
        XML_DECLARATION
        + f'<rss xmlns:media="{MEDIA_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">\n'
        "  <channel>\n"
        + _written(i, "title", rss_title(feed.title))
        + _element(i, "link", site.url)
        + f"{i}<description>{channel_description(feed.description)}</description>\n"
        + f'{i}<atom:link href="{_attribute(feed_url(config, feed, RSS))}" rel="self" '
        'type="application/rss+xml"/>\n'
        + _element(i, "docs", RSS_DOCS)
        + _element(i, "generator", GENERATOR)
        + _element(i, "language", site.language)
        + _element(i, "lastBuildDate", rfc822(_local(feed.updated, config)))
    )
    return [head.encode("utf-8"), *items, b"  </channel>\n</rss>\n"]


def channel_description(text: str) -> str:
    """The RSS channel's description *text* (which holds category names) as the element's
    content: escaped for HTML, then for XML, as an item's summary is, with each "&" of the
    HTML written ``&#x26;``.  The W3C validator reads a channel's description as plain
    text, as the RSS Best Practices Profile has it, and warns at a character reference in
    it unless it sees one written in hexadecimal; any XML parser reads the same text."""
    return _text(html_text(text)).replace("&amp;", "&#x26;")


def _atom(feed: Feed, config: Config, entries: list[bytes]) -> list[bytes]:
    site = config.site
    i = "  "
    self_url = feed_url(config, feed, ATOM)
    head = (
        XML_DECLARATION + f'<feed xmlns:media="{MEDIA_NS}" xmlns="http://www.w3.org/2005/Atom" '
        f'xml:lang="{_attribute(site.language)}">\n'
        + _element(i, "id", self_url)
        + _atom_text(i, "title", feed.title)
        + _element(i, "updated", _local(feed.updated, config).isoformat())
        + f'{i}<link href="{_attribute(self_url)}" rel="self" type="application/atom+xml"/>\n'
        + f'{i}<link href="{_attribute(site.url)}" rel="alternate" type="text/html"/>\n'
        + _element(i, "generator", GENERATOR)
        + _atom_text(i, "subtitle", feed.description)
    )
    return [head.encode("utf-8"), *entries, b"</feed>\n"]


def _json_feed(feed: Feed, config: Config, items: list[bytes]) -> list[bytes]:
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
        document["authors"] = [{"name": author_name(site.author)}]
    # The document with "items" last, each item already written (indented for its place).
    head = html_safe(json_indented(document))[:-2].encode("utf-8")
    if not items:
        return [head, b',\n  "items": []\n}\n']
    pieces = [head, b',\n  "items": [\n    ']
    for item in items:
        pieces += (item, b",\n    ")
    pieces[-1] = b"\n  ]\n}\n"  # no comma after the last item
    return pieces


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
    item["authors"] = [{"name": author_name(name)} for name in article.authors]
    if article.categories:
        item["tags"] = list(article.categories)
    lang = own_language(article, config)
    if lang is not None:
        item["language"] = lang
    return item


def own_language(article: Article, config: Config) -> str | None:
    """*article*'s language when it is not the site's, which is every feed's: the entries
    in it say so (Atom's ``xml:lang``, RSS's ``dc:language``, JSON Feed's ``language``);
    the others are in the feed's language, and repeat nothing."""
    lang = article.lang
    return None if lang is None or same_language(lang, config.site.language) else lang


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
