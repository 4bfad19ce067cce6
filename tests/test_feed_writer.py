"""syndicate writes its RSS and Atom by hand, each entry once for every feed that shows it,
and the bytes are exactly what feedgen (the reference) writes for the same feed: for any
titles, names, HTML, summaries, images, dates and time zones, and for the JSON Feed what
``json.dumps`` writes for the whole document.

Where the correct feed needs what feedgen does not do, the reference is feedgen's output
with one documented transformation, each applied in :func:`reference`:

* RSS readers decode a ``<description>`` as HTML, so the plain texts that go there (a
  summary, the channel's description) are given to feedgen escaped for HTML, as syndicate
  writes them; and in the channel's description, which the W3C validator reads as plain
  text, each "&" of that escaping is written ``&#x26;`` rather than lxml's ``&amp;`` (the
  same XML, which the validator then leaves alone).
* RSS titles and categories are plain text written as the RSS Best Practices Profile has
  it: "&", "<" and ">" as ``&#x26;``, ``&#x3C;`` and ``&#x3E;`` where lxml writes
  ``&amp;``, ``&lt;`` and ``&gt;``; and a title holding what a guessing reader takes for
  HTML (a closing tag, a character reference) is escaped for HTML first
  (:func:`_as_the_rss_profile_has_it`).
* Atom text constructs are HTML (``type="html"``): feedgen is given the title, subtitle and
  summary escaped for HTML, the summary with its ``type``, and the ``type`` attribute
  feedgen has no argument for is added to each ``<title>`` and ``<subtitle>``; a person's
  ``<name>`` is plain text written with hexadecimal references, as in RSS.
* Feeds name an author "Ann <ann@example.org>" as "Ann" (:func:`feeds.author_name`, held
  to its own specification in tests/test_feeds.py): feedgen is given the names."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# feedgen.util uses lxml.etree having only imported lxml: alone, this file would fail.
import lxml.etree  # noqa: F401
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syndicate import feeds
from syndicate.config import Config, load_config
from syndicate.content import Article, BodySpan, Image
from syndicate.jsontext import json_bytes, json_indented

# --- feedgen, configured as syndicate configured it before it wrote feeds itself ------------


def _local(moment: datetime, config: Config) -> datetime:
    return moment.astimezone(config.site.timezone)


def feedgen_entry(entry: feeds.Entry, config: Config, *, rss: bool = False) -> Any:
    from feedgen.entry import FeedEntry
    from feedgen.ext.dc import DcEntryExtension
    from feedgen.ext.media import MediaEntryExtension

    article = entry.article
    fe = FeedEntry()
    fe.register_extension("media", MediaEntryExtension, atom=True, rss=True)
    fe.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    fe.title(article.title if rss else html.escape(article.title, quote=False))
    fe.id(entry.id)
    fe.guid(entry.id, permalink=False)
    fe.link(href=entry.url, rel="alternate", type="text/html")
    fe.published(_local(article.date, config))
    fe.updated(_local(article.updated, config))
    names = [feeds.author_name(name) for name in article.authors]
    for name in names:
        fe.author({"name": name})
    fe.dc.dc_creator(names)
    for name in article.categories:
        fe.category(term=name)
    if entry.html is not None:
        fe.content(entry.html, type="html")
    if entry.summary:
        fe.summary(html.escape(entry.summary, quote=False), type=None if rss else "html")
    if article.image is not None:
        media: dict[str, str] = {"url": article.image.url, "medium": "image"}
        if article.image.type:
            media["type"] = article.image.type
        if article.image.length is not None:
            media["fileSize"] = str(article.image.length)
        fe.media.content(media, group=None)
    return fe


def feedgen_generator(
    feed: feeds.Feed, config: Config, self_url: str, self_type: str, *, rss: bool = False
) -> Any:
    from feedgen.ext.dc import DcEntryExtension, DcExtension
    from feedgen.ext.media import MediaEntryExtension, MediaExtension
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.register_extension("media", MediaExtension, MediaEntryExtension, atom=True, rss=True)
    fg.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    fg.id(self_url)
    fg.title(feed.title if rss else html.escape(feed.title, quote=False))
    fg.description(html.escape(feed.description, quote=False))
    fg.link(href=self_url, rel="self", type=self_type)
    fg.link(href=config.site.url, rel="alternate", type="text/html")
    fg.language(config.site.language)
    updated = _local(feed.updated, config)
    fg.updated(updated)
    fg.lastBuildDate(updated)
    fg.generator("syndicate")
    return fg


def json_item(entry: feeds.Entry, config: Config) -> dict[str, Any]:
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
    item["authors"] = [{"name": feeds.author_name(name)} for name in article.authors]
    if article.categories:
        item["tags"] = list(article.categories)
    return item


def reference(feed: feeds.Feed, config: Config) -> dict[str, bytes]:
    """The three files as feedgen and json.dumps write them."""
    rss = feedgen_generator(
        feed, config, feeds.feed_url(config, feed, feeds.RSS), "application/rss+xml", rss=True
    )
    atom = feedgen_generator(
        feed, config, feeds.feed_url(config, feed, feeds.ATOM), "application/atom+xml"
    )
    for entry in feed.entries:
        rss.add_entry(feedgen_entry(entry, config, rss=True), order="append")
        atom.add_entry(feedgen_entry(entry, config), order="append")
    site = config.site
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": site.url,
        "feed_url": feeds.feed_url(config, feed, feeds.JSON_FEED),
        "description": feed.description,
        "language": site.language,
    }
    if site.author:
        document["authors"] = [{"name": feeds.author_name(site.author)}]
    document["items"] = [json_item(entry, config) for entry in feed.entries]
    return {
        feed.folder + feeds.RSS: _as_the_rss_profile_has_it(rss.rss_str(pretty=True)),
        feed.folder + feeds.ATOM: _as_html_text_constructs(atom.atom_str(pretty=True)),
        feed.folder + feeds.JSON_FEED: json_bytes(document),
    }


def _hexadecimal_channel_ampersands(rss: bytes) -> bytes:
    """*rss* with each ``&amp;`` of the channel's description (its first) as ``&#x26;``."""
    found = re.search(rb"<description>(.*?)</description>", rss, re.DOTALL)
    assert found is not None
    hexadecimal = found.group(1).replace(b"&amp;", b"&#x26;")
    return rss[: found.start(1)] + hexadecimal + rss[found.end(1) :]


#: What lxml writes for a character of text, and what the RSS Profile has written instead.
_LXML = {b"&amp;": b"&", b"&lt;": b"<", b"&gt;": b">", b"&#13;": b"\r"}
_PROFILE = {"&": "&#x26;", "<": "&#x3C;", ">": "&#x3E;", "\r": "&#13;"}


def _profile(content: bytes, *, title: bool) -> bytes:
    text = re.sub(rb"&amp;|&lt;|&gt;|&#13;", lambda m: _LXML[m.group()], content).decode()
    if title and re.search(r"</\w+>|&#?\w+;", text):
        text = html.escape(text, quote=False)
    return "".join(_PROFILE.get(c, c) for c in text).encode()


def _rewritten(xml: bytes, tag: bytes, rewrite: Callable[[bytes], bytes]) -> bytes:
    pattern = rb"(<" + tag + rb">)(.*?)(</" + tag + rb">)"
    return re.sub(pattern, lambda m: m[1] + rewrite(m[2]) + m[3], xml, flags=re.DOTALL)


def _as_the_rss_profile_has_it(rss: bytes) -> bytes:
    """*rss* with its titles and categories written as the RSS Profile has plain text."""
    rss = _hexadecimal_channel_ampersands(rss)
    rss = _rewritten(rss, b"title", lambda content: _profile(content, title=True))
    return _rewritten(rss, b"category", lambda content: _profile(content, title=False))


def _as_html_text_constructs(atom: bytes) -> bytes:
    """*atom* with ``type="html"`` on its titles and subtitle, and its names written with
    hexadecimal references."""
    atom = re.sub(rb"<(title|subtitle)>", rb'<\1 type="html">', atom)
    return _rewritten(atom, b"name", lambda content: _profile(content, title=False))


# --- what a feed can hold ------------------------------------------------------------------

#: Any character XML 1.0 can carry (a feed cannot hold the others; the loader refuses them).
xml_text = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(c) for c in range(32) if c not in (9, 10, 13)]
        + ["\ufffe", "\uffff"],
    ),
    max_size=40,
)
words = xml_text.filter(lambda text: text.strip() != "")
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=7)), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kathmandu")]
)
moments = st.datetimes(
    min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 30), timezones=zones
)
images = st.none() | st.builds(
    Image,
    url=words.map(lambda text: "https://img.example.org/" + text),
    type=st.none() | st.sampled_from(["", "image/png", 'a"b<c>&']),
    length=st.none() | st.integers(min_value=0, max_value=10**9),
)


@st.composite
def entries(draw: st.DrawFn, index: int = 0) -> feeds.Entry:
    published = draw(moments)
    article = Article(
        source=Path(f"/content/{index}.md"),
        slug=f"post-{index}",
        title=draw(words),
        date=published,
        updated=max(published, draw(moments)),
        authors=tuple(draw(st.lists(words, max_size=3))),
        categories=tuple(draw(st.lists(words, max_size=3))),
        summary=None,
        image=draw(images),
        draft=False,
        id=None,
        body_span=BodySpan(0, 0, ""),
        body_line=5,
        lines={},
        extra={},
    )
    return feeds.Entry(
        article=article,
        id=f"tag:example.org,2025:{index}-" + draw(words),
        url=f"https://news.example.org/posts/{index}/" + draw(xml_text),
        summary=draw(xml_text),
        html=draw(st.none() | xml_text),
    )


@st.composite
def feed_and_config(draw: st.DrawFn) -> tuple[feeds.Feed, dict[str, str]]:
    count = draw(st.integers(min_value=0, max_value=4))
    shown = tuple(draw(entries(index)) for index in range(count))
    feed = feeds.Feed(
        folder=draw(st.sampled_from(["", "categories/a-b/"])),
        title=draw(words),
        description=draw(words),
        category=None,
        entries=shown,
    )
    site = {
        "timezone": draw(st.sampled_from(["UTC", "Asia/Jakarta", "America/New_York"])),
        "language": draw(st.sampled_from(["en", "id", "pt-BR"])),
        "author": draw(st.sampled_from(["", "Site Author", 'A & "B" <c>'])),
    }
    return feed, site


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], Config]:
    """Every site setting the strategy draws, loaded once."""
    found = {}
    for zone in ("UTC", "Asia/Jakarta", "America/New_York"):
        for language in ("en", "id", "pt-BR"):
            for author in ("", "Site Author", 'A & "B" <c>'):
                root = tmp_path_factory.mktemp("site")
                line = f"author = '{author}'\n" if author else ""
                (root / "syndicate.toml").write_text(
                    '[site]\ntitle = "T"\nurl = "https://news.example.org/"\n'
                    f'timezone = "{zone}"\nlanguage = "{language}"\n{line}',
                    encoding="utf-8",
                )
                found[zone, language, author] = load_config(root)
    return found


def _entry(html: str | None, summary: str = "") -> feeds.Entry:
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    article = Article(
        source=Path("/content/a.md"),
        slug="a",
        title="A & B",
        date=moment,
        updated=moment,
        authors=("Ann",),
        categories=("X",),
        summary=None,
        image=None,
        draft=False,
        id=None,
        body_span=BodySpan(0, 0, ""),
        body_line=1,
        lines={},
        extra={},
    )
    return feeds.Entry(article, "urn:x:a", "https://news.example.org/a/", summary, html)


SIMPLE = {"timezone": "UTC", "language": "en", "author": ""}


# --- the property --------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feed_and_config())
@example((feeds.Feed("", "T", "D", None, (_entry(""),)), SIMPLE))  # an empty body
@example((feeds.Feed("", "T", "D", None, (_entry(None),)), SIMPLE))  # summaries only, none
def test_every_feed_is_byte_for_byte_what_feedgen_writes(
    configs: dict[tuple[str, str, str], Config], case: tuple[feeds.Feed, dict[str, str]]
) -> None:
    feed, site = case
    config = configs[site["timezone"], site["language"], site["author"]]
    assert feeds.render_feed(feed, config) == reference(feed, config)


def test_an_entry_is_written_once_for_every_feed_that_shows_it(
    configs: dict[tuple[str, str, str], Config],
) -> None:
    config = configs["UTC", "en", ""]
    entry = _entry("<p>Hi & bye</p>", summary="Hi & bye")
    writer = feeds.EntryWriter(config)
    site = feeds.Feed("", "Site", "All", None, (entry,))
    category = feeds.Feed("categories/x/", "Site: X", "Only X", "X", (entry,))
    first = feeds.render_feed(site, config, writer)
    pieces = [writer.piece(entry, name) for name in feeds.FORMATS]
    second = feeds.render_feed(category, config, writer)
    again = [writer.piece(entry, name) for name in feeds.FORMATS]
    assert all(a is b for a, b in zip(again, pieces, strict=True))  # not serialised again
    assert first == reference(site, config) and second == reference(category, config)


def test_a_format_forgotten_is_written_again_the_same(
    configs: dict[tuple[str, str, str], Config],
) -> None:
    config = configs["UTC", "en", ""]
    entry = _entry("<p>Hi & bye</p>", summary="Hi & bye")
    writer = feeds.EntryWriter(config)
    rss = writer.piece(entry, feeds.RSS)
    writer.forget(feeds.RSS)
    again = writer.piece(entry, feeds.RSS)
    assert again == rss and again is not rss


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feed_and_config())
def test_entries_serialised_in_a_worker_make_the_same_feed(
    configs: dict[tuple[str, str, str], Config], case: tuple[feeds.Feed, dict[str, str]]
) -> None:
    # With a feed limit, the workers that render the bodies serialise the entries too
    # (entry_pieces), and the feeds are put together from what they sent.
    feed, site = case
    config = configs[site["timezone"], site["language"], site["author"]]
    made = {entry.id: feeds.entry_pieces(entry, config) for entry in feed.entries}
    writer = feeds.EntryWriter(config, made)
    assert feeds.render_feed(feed, config, writer) == reference(feed, config)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | xml_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(xml_text, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_indented_json_is_what_json_dumps_writes(value: object) -> None:
    # The state file and the JSON outputs are written by json_indented, not json.dumps.
    assert json_indented(value) == json.dumps(value, ensure_ascii=False, indent=2)
