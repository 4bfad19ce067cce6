"""Prove that every check in tests/validators.py can fail.

For each format there is one minimal valid feed that must produce no problems, and a table of
mutations.  Each mutation replaces exactly one occurrence of a snippet of the valid feed, so
the broken copy differs from the valid one in exactly one way, and names the text a single
reported problem must contain (normally the bracketed rule tag, e.g. ``[MissingTitle]``).
"""

import json
from typing import NamedTuple

import pytest
from lxml import etree

from validators import (
    ATOM_RNC,
    JSON_FEED_SCHEMA,
    atom_problems,
    json_feed_problems,
    rss_problems,
)


class Mutation(NamedTuple):
    old: str
    new: str
    expected: tuple[str, ...]


def _mutate(valid: str, mutation: Mutation) -> bytes:
    assert valid.count(mutation.old) == 1, f"{mutation.old!r} must occur exactly once"
    return valid.replace(mutation.old, mutation.new).encode("utf-8")


def _assert_reported(problems: list[str], expected: tuple[str, ...]) -> None:
    assert any(all(part in problem for part in expected) for problem in problems), (
        f"no problem mentions {expected}; got {problems}"
    )


# --------------------------------------------------------------------------------------------
# RSS 2.0
# --------------------------------------------------------------------------------------------

VALID_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:media="http://search.yahoo.com/mrss/">
  <channel>
    <title>Example Newsletter</title>
    <link>https://example.com/</link>
    <description>Weekly notes</description>
    <language>en-us</language>
    <managingEditor>editor@example.com (Ed Itor)</managingEditor>
    <pubDate>Mon, 01 Jan 2024 08:00:00 +0000</pubDate>
    <lastBuildDate>Tue, 02 Jan 2024 10:30:00 GMT</lastBuildDate>
    <docs>https://www.rssboard.org/rss-specification</docs>
    <atom:link href="https://example.com/feed.xml" rel="self" type="application/rss+xml"/>
    <image>
      <url>https://example.com/logo.png</url>
      <title>Logo</title>
      <link>https://example.com/home</link>
    </image>
    <item>
      <title>First post</title>
      <link>https://example.com/posts/first/</link>
      <description>&lt;p&gt;See &lt;a href="https://example.com/about/"&gt;this&lt;/a&gt;.&lt;/p&gt;</description>
      <content:encoded><![CDATA[<img src="https://example.com/a.png" alt="">]]></content:encoded>
      <author>jane@example.com (Jane Doe)</author>
      <comments>https://example.com/posts/first/#comments</comments>
      <guid>https://example.com/posts/first/</guid>
      <pubDate>Mon, 01 Jan 2024 09:00:00 +0000</pubDate>
      <enclosure url="https://example.com/a.mp3" length="1234" type="audio/mpeg"/>
      <media:content url="https://example.com/b.png" medium="image" type="image/png"
                     width="640" height="480" fileSize="2048" duration="12.5"
                     expression="full" isDefault="true" lang="en" channels="2"/>
      <media:thumbnail url="https://example.com/t.png"/>
    </item>
    <item>
      <description>A short note.</description>
      <dc:creator>Jane Doe</dc:creator>
      <source url="https://example.org/feed.xml">Elsewhere</source>
      <guid isPermaLink="false">tag:example.com,2024:note-2</guid>
      <pubDate>Tue, 02 Jan 2024 10:30:00 -0500</pubDate>
    </item>
  </channel>
</rss>
"""

RSS_MUTATIONS = {
    # feedparser bozo / XML well-formedness
    "bozo": Mutation("</channel>", "</chanel>", ("[bozo]",)),
    "SAXError": Mutation("</channel>", "</chanel>", ("[SAXError]",)),
    "InvalidRSSVersion": Mutation(
        '<rss version="2.0"', '<rss version="0.92"', ("[InvalidRSSVersion]",)
    ),
    "MissingElement-channel": Mutation(
        "</channel>\n</rss>",
        "</channel>\n<channel><title>t</title></channel>\n</rss>",
        ("[MissingElement]", "channel"),
    ),
    "MissingTitle": Mutation(
        "<title>Example Newsletter</title>\n", "", ("[MissingTitle]", "<title>")
    ),
    "MissingLink": Mutation("<link>https://example.com/</link>\n", "", ("[MissingLink]",)),
    "MissingDescription": Mutation(
        "<description>Weekly notes</description>\n", "", ("[MissingDescription]",)
    ),
    "ItemMustContainTitleOrDescription": Mutation(
        "<description>A short note.</description>\n",
        "",
        ("[ItemMustContainTitleOrDescription]",),
    ),
    "DuplicateElement": Mutation(
        "<title>First post</title>",
        "<title>First post</title><title>Again</title>",
        ("[DuplicateElement]", "<title>"),
    ),
    "UndefinedElement-unescaped-html": Mutation(
        "<description>A short note.</description>",
        "<description><p>A short note.</p></description>",
        ("[UndefinedElement]", "<p>"),
    ),
    "InvalidContact-author-name": Mutation(
        "<author>jane@example.com (Jane Doe)</author>",
        "<author>Jane Doe</author>",
        ("[InvalidContact]", "Jane Doe", "dc:creator"),
    ),
    "InvalidContact-managingEditor": Mutation(
        "editor@example.com (Ed Itor)", "Ed Itor", ("[InvalidContact]", "managingEditor")
    ),
    "InvalidHttpGUID": Mutation(
        "<guid>https://example.com/posts/first/</guid>",
        "<guid>posts/first</guid>",
        ("[InvalidHttpGUID]", "posts/first"),
    ),
    "InvalidPermalink": Mutation(
        '<guid isPermaLink="false">tag:', "<guid>tag:", ("[InvalidPermalink]",)
    ),
    "InvalidBooleanAttribute": Mutation(
        'isPermaLink="false"', 'isPermaLink="no"', ("[InvalidBooleanAttribute]",)
    ),
    "DuplicateValue-guid": Mutation(
        '<guid isPermaLink="false">tag:example.com,2024:note-2</guid>',
        "<guid>https://example.com/posts/first/</guid>",
        ("[DuplicateValue]",),
    ),
    "InvalidRFC2822Date-iso": Mutation(
        "<pubDate>Mon, 01 Jan 2024 09:00:00 +0000</pubDate>",
        "<pubDate>2024-01-01T09:00:00Z</pubDate>",
        ("[InvalidRFC2822Date]", "pubDate"),
    ),
    "InvalidRFC2822Date-two-digit-year": Mutation(
        "Mon, 01 Jan 2024 09:00:00 +0000",
        "Mon, 01 Jan 24 09:00:00 +0000",
        ("[InvalidRFC2822Date]", "4-digit year"),
    ),
    "InvalidRFC2822Date-no-timezone": Mutation(
        "Mon, 01 Jan 2024 09:00:00 +0000",
        "Mon, 01 Jan 2024 09:00:00",
        ("[InvalidRFC2822Date]", "timezone"),
    ),
    "InvalidRFC2822Date-lastBuildDate": Mutation(
        "Tue, 02 Jan 2024 10:30:00 GMT",
        "Tue, 02 Jan 2024 10:30 GMT+1",
        ("[InvalidRFC2822Date]", "lastBuildDate"),
    ),
    "InvalidRFC2822Date-impossible-day": Mutation(
        "Tue, 02 Jan 2024 10:30:00 -0500",
        "31 Feb 2024 10:30:00 -0500",
        ("[InvalidRFC2822Date]", "calendar"),
    ),
    "InvalidRFC2822Date-bad-offset": Mutation(
        "10:30:00 -0500", "10:30:00 -0575", ("[InvalidRFC2822Date]", "offset")
    ),
    "InvalidRFC2822Date-bad-time": Mutation(
        "Mon, 01 Jan 2024 09:00:00 +0000",
        "Mon, 01 Jan 2024 24:00:00 +0000",
        ("[InvalidRFC2822Date]", "time of day"),
    ),
    "IncorrectDOW": Mutation(
        "Mon, 01 Jan 2024 08:00:00 +0000", "Fri, 01 Jan 2024 08:00:00 +0000", ("[IncorrectDOW]",)
    ),
    "InvalidFullLink-channel-link": Mutation(
        "<link>https://example.com/</link>", "<link>/</link>", ("[InvalidFullLink]", "<link>")
    ),
    "InvalidFullLink-item-link": Mutation(
        "<link>https://example.com/posts/first/</link>",
        "<link>posts/first/</link>",
        ("[InvalidFullLink]", "posts/first/"),
    ),
    "InvalidFullLink-comments": Mutation(
        "<comments>https://example.com/posts/first/#comments</comments>",
        "<comments>#comments</comments>",
        ("[InvalidFullLink]", "<comments>"),
    ),
    "InvalidFullLink-image-url": Mutation(
        "<url>https://example.com/logo.png</url>",
        "<url>logo.png</url>",
        ("[InvalidFullLink]", "logo.png"),
    ),
    "InvalidFullLink-self": Mutation(
        'href="https://example.com/feed.xml"', 'href="/feed.xml"', ("[InvalidFullLink]", "feed.xml")
    ),
    "InvalidFullLink-docs": Mutation(
        "<docs>https://www.rssboard.org/rss-specification</docs>",
        "<docs>rss-specification</docs>",
        ("[InvalidFullLink]", "<docs>"),
    ),
    "InvalidFullLink-source-url": Mutation(
        'source url="https://example.org/feed.xml"',
        'source url="feed.xml"',
        ("[InvalidFullLink]", "<source>"),
    ),
    "MissingAtomSelfLink": Mutation(
        '<atom:link href="https://example.com/feed.xml" rel="self" type="application/rss+xml"/>',
        "",
        ("[MissingAtomSelfLink]",),
    ),
    "SelfNotAtom": Mutation(
        'type="application/rss+xml"', 'type="text/xml"', ("[SelfNotAtom]", "application/rss+xml")
    ),
    "MissingAttribute-enclosure": Mutation(
        ' length="1234" type="audio/mpeg"', ' type="audio/mpeg"', ("[MissingAttribute]", "length")
    ),
    "InvalidURLAttribute-enclosure": Mutation(
        'enclosure url="https://example.com/a.mp3"',
        'enclosure url="/a.mp3"',
        ("[InvalidURLAttribute]",),
    ),
    "InvalidNonNegativeInteger-enclosure": Mutation(
        'length="1234"', 'length="-1"', ("[InvalidNonNegativeInteger]",)
    ),
    "InvalidMIMEAttribute-enclosure": Mutation(
        'type="audio/mpeg"', 'type="mp3"', ("[InvalidMIMEAttribute]", "enclosure")
    ),
    "MediaRssNamespace": Mutation(
        'xmlns:media="http://search.yahoo.com/mrss/"',
        'xmlns:media="http://search.yahoo.com/mrss"',
        ("[MediaRssNamespace]",),
    ),
    "MissingAttribute-media-url": Mutation(
        'media:content url="https://example.com/b.png" ',
        "media:content ",
        ("[MissingAttribute]", "media:content"),
    ),
    "InvalidFullLink-media-url": Mutation(
        'media:content url="https://example.com/b.png"',
        'media:content url="b.png"',
        ("[InvalidFullLink]", "media:content"),
    ),
    "InvalidMediaMedium": Mutation('medium="image"', 'medium="picture"', ("[InvalidMediaMedium]",)),
    "InvalidMediaExpression": Mutation(
        'expression="full"', 'expression="partial"', ("[InvalidMediaExpression]",)
    ),
    "InvalidMIMEAttribute-media": Mutation(
        'type="image/png"', 'type="png"', ("[InvalidMIMEAttribute]", "media:content")
    ),
    "InvalidPositiveInteger-media": Mutation(
        'width="640"', 'width="0"', ("[InvalidPositiveInteger]", "width")
    ),
    "InvalidNonNegativeInteger-media": Mutation(
        'channels="2"', 'channels="stereo"', ("[InvalidNonNegativeInteger]", "channels")
    ),
    "InvalidFloat-media": Mutation('duration="12.5"', 'duration="12s"', ("[InvalidFloat]",)),
    "InvalidTrueFalse-media": Mutation(
        'isDefault="true"', 'isDefault="yes"', ("[InvalidTrueFalse]",)
    ),
    "InvalidLanguage-media": Mutation(
        'lang="en"', 'lang="english"', ("[InvalidLanguage]", "media:content")
    ),
    "MissingAttribute-thumbnail": Mutation(
        '<media:thumbnail url="https://example.com/t.png"/>',
        "<media:thumbnail/>",
        ("[MissingAttribute]", "media:thumbnail"),
    ),
    "InvalidFullLink-thumbnail": Mutation(
        'thumbnail url="https://example.com/t.png"',
        'thumbnail url="t.png"',
        ("[InvalidFullLink]", "media:thumbnail"),
    ),
    "InvalidLanguage-word": Mutation(
        "<language>en-us</language>", "<language>english</language>", ("[InvalidLanguage]",)
    ),
    "InvalidLanguage-unknown-code": Mutation(
        "<language>en-us</language>", "<language>qq-us</language>", ("[InvalidLanguage]",)
    ),
    "ContainsRelRef-description": Mutation(
        'href="https://example.com/about/"',
        'href="/about/"',
        ("[ContainsRelRef]", "/about/"),
    ),
    "ContainsRelRef-content-encoded": Mutation(
        'src="https://example.com/a.png"', 'src="a.png"', ("[ContainsRelRef]", "a.png")
    ),
}


def test_valid_rss_has_no_problems() -> None:
    assert rss_problems(VALID_RSS.encode("utf-8")) == []


@pytest.mark.parametrize("mutation", RSS_MUTATIONS.values(), ids=RSS_MUTATIONS.keys())
def test_rss_check_fails(mutation: Mutation) -> None:
    _assert_reported(rss_problems(_mutate(VALID_RSS, mutation)), mutation.expected)


def test_rss_author_formats_accepted() -> None:
    for author in ("jane@example.com", "mailto:jane@example.com", "Jane &lt;jane@example.com&gt;"):
        feed = VALID_RSS.replace("jane@example.com (Jane Doe)", author)
        assert rss_problems(feed.encode("utf-8")) == [], author


def test_rss_rejects_atom_document() -> None:
    _assert_reported(rss_problems(VALID_ATOM.encode("utf-8")), ("[InvalidRSSVersion]",))


# --------------------------------------------------------------------------------------------
# Atom 1.0
# --------------------------------------------------------------------------------------------

VALID_ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <!-- Comments are not elements; the checks must skip them. -->
  <title>Example Newsletter</title>
  <subtitle>Weekly notes</subtitle>
  <id>https://example.com/</id>
  <updated>2024-01-02T10:30:00Z</updated>
  <link href="https://example.com/feed.atom" rel="self" type="application/atom+xml"/>
  <link href="https://example.com/" rel="alternate" type="text/html"/>
  <author>
    <name>Jane Doe</name>
    <email>jane@example.com</email>
    <uri>https://example.com/jane/</uri>
  </author>
  <generator uri="https://example.com/syndicate/" version="0.1">syndicate</generator>
  <icon>https://example.com/icon.png</icon>
  <entry>
    <title>First post</title>
    <id>tag:example.com,2024:first</id>
    <published>2024-01-01T09:00:00+01:00</published>
    <updated>2024-01-02T10:30:00.25Z</updated>
    <link href="https://example.com/posts/first/" rel="alternate" type="text/html" hreflang="en"/>
    <link href="https://example.com/a.mp3" rel="enclosure" type="audio/mpeg" length="1234"/>
    <category term="notes" label="Notes"/>
    <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">See
      <a href="https://example.com/about/">this</a>.</div></summary>
    <content type="html">&lt;img src="https://example.com/a.png" alt=""&gt;</content>
  </entry>
  <entry>
    <title type="text">Second post</title>
    <id>urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6</id>
    <updated>2024-01-03T08:00:00-05:00</updated>
    <link href="https://example.com/posts/second/"/>
  </entry>
</feed>
"""

FEED_AUTHOR = """  <author>
    <name>Jane Doe</name>
    <email>jane@example.com</email>
    <uri>https://example.com/jane/</uri>
  </author>
"""

ATOM_MUTATIONS = {
    "bozo": Mutation("</feed>", "</fed>", ("[bozo]",)),
    "SAXError": Mutation("</feed>", "</fed>", ("[SAXError]",)),
    "RelaxNG": Mutation(
        '<category term="notes" label="Notes"/>', '<category label="Notes"/>', ("[RelaxNG]",)
    ),
    "RelaxNG-undefined-atom-element": Mutation(
        "<icon>", "<colour>red</colour><icon>", ("[RelaxNG]",)
    ),
    "MissingElement-feed-id": Mutation(
        "<id>https://example.com/</id>", "", ("[MissingElement]", "atom:feed", "atom:id")
    ),
    "MissingElement-feed-title": Mutation(
        "<title>Example Newsletter</title>", "", ("[MissingElement]", "atom:feed", "atom:title")
    ),
    "MissingElement-entry-title": Mutation(
        "<title>First post</title>", "", ("[MissingElement]", "atom:entry", "atom:title")
    ),
    "MissingElement-entry-updated": Mutation(
        "<updated>2024-01-03T08:00:00-05:00</updated>",
        "",
        ("[MissingElement]", "atom:entry", "atom:updated"),
    ),
    # Neither the feed nor the entries have an author once the feed's author is removed.
    "MissingElement-author": Mutation(FEED_AUTHOR, "", ("[MissingElement]", "atom:author")),
    "InvalidFullLink-id": Mutation(
        "<id>https://example.com/</id>", "<id>example.com</id>", ("[InvalidFullLink]", "atom:id")
    ),
    "InvalidTAG": Mutation(
        "tag:example.com,2024:first", "tag:example.com:first", ("[InvalidTAG]",)
    ),
    "InvalidUUID": Mutation("-0003939e0af6</id>", "-0003939e0af</id>", ("[InvalidUUID]",)),
    "InvalidURN": Mutation(
        "urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6", "urn:x", ("[InvalidURN]",)
    ),
    "InvalidRFC3339Date-space": Mutation(
        "<updated>2024-01-02T10:30:00Z</updated>",
        "<updated>2024-01-02 10:30:00Z</updated>",
        ("[InvalidRFC3339Date]", "atom:updated"),
    ),
    "InvalidRFC3339Date-no-timezone": Mutation(
        "2024-01-01T09:00:00+01:00", "2024-01-01T09:00:00", ("[InvalidRFC3339Date]", "timezone")
    ),
    "InvalidRFC3339Date-impossible": Mutation(
        "2024-01-03T08:00:00-05:00", "2024-02-30T08:00:00-05:00", ("[InvalidRFC3339Date]",)
    ),
    "InvalidRFC3339Date-rfc822": Mutation(
        "<updated>2024-01-02T10:30:00.25Z</updated>",
        "<updated>Tue, 02 Jan 2024 10:30:00 GMT</updated>",
        ("[InvalidRFC3339Date]",),
    ),
    "MissingHref": Mutation(
        '<link href="https://example.com/posts/second/"/>', "<link/>", ("[MissingHref]",)
    ),
    "InvalidMIMEType": Mutation(
        'rel="alternate" type="text/html"/>',
        'rel="alternate" type="html"/>',
        ("[InvalidMIMEType]",),
    ),
    "InvalidFullLink-alternate": Mutation(
        'href="https://example.com/posts/first/"',
        'href="/posts/first/"',
        ("[InvalidFullLink]", "/posts/first/"),
    ),
    "InvalidFullLink-icon": Mutation(
        "<icon>https://example.com/icon.png</icon>",
        "<icon>icon.png</icon>",
        ("[InvalidFullLink]", "atom:icon"),
    ),
    "InvalidFullLink-author-uri": Mutation(
        "<uri>https://example.com/jane/</uri>",
        "<uri>/jane/</uri>",
        ("[InvalidFullLink]", "atom:uri"),
    ),
    "InvalidFullLink-generator-uri": Mutation(
        'uri="https://example.com/syndicate/"',
        'uri="/syndicate/"',
        ("[InvalidFullLink]", "atom:generator uri"),
    ),
    "RelativeSelf": Mutation(
        'href="https://example.com/feed.atom"', 'href="feed.atom"', ("[RelativeSelf]",)
    ),
    "MissingSelf": Mutation(
        '<link href="https://example.com/feed.atom" rel="self" type="application/atom+xml"/>',
        "",
        ("[MissingSelf]",),
    ),
    "SelfNotAtom": Mutation(
        'type="application/atom+xml"', 'type="application/rss+xml"', ("[SelfNotAtom]",)
    ),
    "MissingAttribute-enclosure-type": Mutation(
        'rel="enclosure" type="audio/mpeg"', 'rel="enclosure"', ("[MissingAttribute]", "enclosure")
    ),
    "InvalidNonNegativeInteger-enclosure": Mutation(
        'length="1234"', 'length="-5"', ("[InvalidNonNegativeInteger]",)
    ),
    "MissingContentOrAlternate": Mutation(
        '<link href="https://example.com/posts/second/"/>',
        '<link href="https://example.com/posts/second/" rel="related"/>',
        ("[MissingContentOrAlternate]",),
    ),
    "DuplicateAtomLink": Mutation(
        '<link href="https://example.com/a.mp3"',
        '<link href="https://example.com/posts/1/" rel="alternate" type="text/html" hreflang="en"/>'
        '\n    <link href="https://example.com/a.mp3"',
        ("[DuplicateAtomLink]",),
    ),
    "UndefinedElement-unescaped-html": Mutation(
        '<content type="html">&lt;img src="https://example.com/a.png" alt=""&gt;',
        '<content type="html"><p>Hi</p>',
        ("[UndefinedElement]", "atom:content"),
    ),
    "MissingXhtmlDiv": Mutation(
        '<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">See\n'
        '      <a href="https://example.com/about/">this</a>.</div></summary>',
        '<summary type="xhtml">See this.</summary>',
        ("[MissingXhtmlDiv]",),
    ),
    "ContainsRelRef-html": Mutation(
        'src="https://example.com/a.png"', 'src="/a.png"', ("[ContainsRelRef]", "atom:content")
    ),
    "ContainsRelRef-self-closing-tag": Mutation(
        'alt=""&gt;</content>',
        'alt=""&gt;&lt;img src="b.png"/&gt;</content>',
        ("[ContainsRelRef]", "b.png"),
    ),
    "ContainsRelRef-xhtml": Mutation(
        '<a href="https://example.com/about/">', '<a href="#about">', ("[ContainsRelRef]", "#about")
    ),
    "InvalidLanguage-xml-lang": Mutation(
        'xml:lang="en"', 'xml:lang="english"', ("[InvalidLanguage]", "xml:lang")
    ),
    "InvalidLanguage-hreflang": Mutation(
        'hreflang="en"', 'hreflang="zz"', ("[InvalidLanguage]", "hreflang")
    ),
    "UnexpectedAttribute": Mutation(
        '<category term="notes"', '<category colour="red" term="notes"', ("[UnexpectedAttribute]",)
    ),
}


def test_valid_atom_has_no_problems() -> None:
    assert atom_problems(VALID_ATOM.encode("utf-8")) == []


@pytest.mark.parametrize("mutation", ATOM_MUTATIONS.values(), ids=ATOM_MUTATIONS.keys())
def test_atom_check_fails(mutation: Mutation) -> None:
    _assert_reported(atom_problems(_mutate(VALID_ATOM, mutation)), mutation.expected)


def test_atom_author_on_every_entry_is_enough() -> None:
    author = "<author><name>Jane Doe</name></author>"
    feed = VALID_ATOM.replace(FEED_AUTHOR, "").replace("</entry>", f"  {author}\n  </entry>")
    assert atom_problems(feed.encode("utf-8")) == []


def test_atom_enclosure_length_is_optional() -> None:
    feed = VALID_ATOM.replace(' length="1234"', "")
    assert atom_problems(feed.encode("utf-8")) == []


def test_atom_entry_document_is_not_a_feed() -> None:
    entry = """<entry xmlns="http://www.w3.org/2005/Atom">
  <title>Lonely</title>
  <id>https://example.com/lonely</id>
  <updated>2024-01-02T10:30:00Z</updated>
  <author><name>Jane Doe</name></author>
  <content>Hello</content>
</entry>"""
    _assert_reported(atom_problems(entry.encode("utf-8")), ("[UndefinedElement]", "atom:feed"))


def test_atom_rnc_loads_with_lxml() -> None:
    schema = etree.RelaxNG.from_rnc_string(ATOM_RNC.read_text(encoding="utf-8"))
    assert schema.validate(etree.fromstring(VALID_ATOM.encode("utf-8")))


# --------------------------------------------------------------------------------------------
# JSON Feed 1.1
# --------------------------------------------------------------------------------------------

VALID_JSON_FEED = """{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Example Newsletter",
  "home_page_url": "https://example.com/",
  "feed_url": "https://example.com/feed.json",
  "next_url": "https://example.com/feed-2.json",
  "description": "Weekly notes",
  "user_comment": "Read me with a feed reader.",
  "icon": "https://example.com/icon.png",
  "favicon": "https://example.com/favicon.png",
  "authors": [
    {"name": "Jane Doe", "url": "mailto:jane@example.com", "avatar": "https://example.com/j.png"}
  ],
  "language": "en-US",
  "expired": false,
  "hubs": [{"type": "WebSub", "url": "https://hub.example.com/"}],
  "_syndicate": {"about": "https://example.com/extension", "issue": 3},
  "items": [
    {
      "id": "https://example.com/posts/first/",
      "url": "https://example.com/posts/first/",
      "external_url": "https://elsewhere.example.org/",
      "title": "First post",
      "content_html": "<p>See <a href=\\"https://example.com/about/\\">this</a>.</p>",
      "content_text": "See this.",
      "summary": "A first post.",
      "image": "https://example.com/a.png",
      "banner_image": "https://example.com/banner.png",
      "date_published": "2024-01-01T09:00:00+01:00",
      "date_modified": "2024-01-02T10:30:00Z",
      "authors": [{"name": "Jane Doe"}],
      "tags": ["notes", "weekly"],
      "language": "en",
      "attachments": [
        {
          "url": "https://example.com/a.mp3",
          "mime_type": "audio/mpeg",
          "title": "Audio",
          "size_in_bytes": 1234,
          "duration_in_seconds": 61.5
        }
      ]
    },
    {"id": "2", "content_text": "A short note.", "author": {"name": "Old style"}}
  ]
}
"""

JSON_MUTATIONS = {
    "JSONSyntax": Mutation(
        '"title": "Example Newsletter",', '"title": "Example Newsletter"', ("[JSONSyntax]",)
    ),
    "JSONSyntax-NaN": Mutation(
        '"size_in_bytes": 1234', '"size_in_bytes": NaN', ("[JSONSyntax]", "NaN")
    ),
    "DuplicateElement-key": Mutation(
        '"description": "Weekly notes",',
        '"description": "Weekly notes", "description": "Again",',
        ("[DuplicateElement]", "description"),
    ),
    "version": Mutation(
        '"https://jsonfeed.org/version/1.1"',
        '"https://jsonfeed.org/version/1"',
        ("[JSONSchema]", "$.version"),
    ),
    "title-missing": Mutation(
        '"title": "Example Newsletter",', "", ("[JSONSchema]", "'title' is a required property")
    ),
    "title-type": Mutation(
        '"title": "Example Newsletter"', '"title": 7', ("[JSONSchema]", "$.title")
    ),
    "home_page_url-relative": Mutation(
        '"home_page_url": "https://example.com/"',
        '"home_page_url": "/"',
        ("[JSONSchema]", "$.home_page_url"),
    ),
    "feed_url-not-http": Mutation(
        '"feed_url": "https://example.com/feed.json"',
        '"feed_url": "ftp://example.com/feed.json"',
        ("[JSONSchema]", "$.feed_url"),
    ),
    "icon-relative": Mutation(
        '"icon": "https://example.com/icon.png"', '"icon": "icon.png"', ("[JSONSchema]", "$.icon")
    ),
    "favicon-relative": Mutation(
        '"favicon": "https://example.com/favicon.png"',
        '"favicon": "//example.com/favicon.png"',
        ("[JSONSchema]", "$.favicon"),
    ),
    "next_url-relative": Mutation(
        '"next_url": "https://example.com/feed-2.json"',
        '"next_url": "feed-2.json"',
        ("[JSONSchema]", "$.next_url"),
    ),
    "author-empty": Mutation(
        '"authors": [{"name": "Jane Doe"}]', '"authors": [{}]', ("[JSONSchema]", "'name'")
    ),
    "authors-empty-list": Mutation(
        '"authors": [{"name": "Jane Doe"}]', '"authors": []', ("[JSONSchema]", "authors")
    ),
    "author-url-relative": Mutation(
        '"url": "mailto:jane@example.com"',
        '"url": "jane.html"',
        ("[JSONSchema]", "$.authors[0].url"),
    ),
    "author-unknown-key": Mutation(
        '{"name": "Old style"}',
        '{"name": "Old style", "email": "o@example.com"}',
        ("[JSONSchema]", "email"),
    ),
    "language-shape": Mutation(
        '"language": "en-US"', '"language": "english"', ("[JSONSchema]", "$.language")
    ),
    "expired-type": Mutation('"expired": false', '"expired": "no"', ("[JSONSchema]", "$.expired")),
    "hub-missing-type": Mutation('{"type": "WebSub", "url"', '{"url"', ("[JSONSchema]", "'type'")),
    "unknown-top-level-key": Mutation(
        '"expired": false,',
        '"expired": false, "status": "ok",',
        ("[JSONSchema]", "'status'", "extensions"),
    ),
    "extension-name-not-letter": Mutation(
        '"_syndicate"', '"_1syndicate"', ("[JSONSchema]", "_1syndicate")
    ),
    "extension-member-dot": Mutation('"issue": 3', '"issue.no": 3', ("[JSONSchema]", "issue.no")),
    "item-id-missing": Mutation(
        '"id": "2", ', "", ("[JSONSchema]", "$.items[1]", "'id' is a required property")
    ),
    "item-id-number": Mutation('"id": "2"', '"id": 2', ("[JSONSchema]", "$.items[1].id")),
    "item-content-missing": Mutation(
        '"content_text": "A short note.", ',
        "",
        ("[JSONSchema]", "$.items[1]", "content_html", "content_text"),
    ),
    "item-url-relative": Mutation(
        '"url": "https://example.com/posts/first/"',
        '"url": "/posts/first/"',
        ("[JSONSchema]", "$.items[0].url"),
    ),
    "item-image-relative": Mutation(
        '"image": "https://example.com/a.png"',
        '"image": "a.png"',
        ("[JSONSchema]", "$.items[0].image"),
    ),
    "date-no-timezone": Mutation(
        '"2024-01-01T09:00:00+01:00"', '"2024-01-01T09:00:00"', ("[JSONSchema]", "date_published")
    ),
    "date-impossible-month": Mutation(
        '"2024-01-02T10:30:00Z"', '"2024-13-02T10:30:00Z"', ("[JSONSchema]", "date_modified")
    ),
    "InvalidRFC3339Date-impossible-day": Mutation(
        '"2024-01-02T10:30:00Z"',
        '"2024-02-30T10:30:00z"',
        ("[InvalidRFC3339Date]", "date_modified"),
    ),
    "date-not-rfc3339": Mutation(
        '"2024-01-02T10:30:00Z"',
        '"Tue, 02 Jan 2024 10:30:00 GMT"',
        ("[JSONSchema]", "date_modified"),
    ),
    "tags-not-strings": Mutation(
        '"tags": ["notes", "weekly"]',
        '"tags": ["notes", 7]',
        ("[JSONSchema]", "$.items[0].tags[1]"),
    ),
    "attachment-missing-mime": Mutation(
        '"mime_type": "audio/mpeg",', "", ("[JSONSchema]", "'mime_type' is a required property")
    ),
    "attachment-url-relative": Mutation(
        '"url": "https://example.com/a.mp3"',
        '"url": "a.mp3"',
        ("[JSONSchema]", "attachments[0].url"),
    ),
    "attachment-size-type": Mutation(
        '"size_in_bytes": 1234', '"size_in_bytes": "1234"', ("[JSONSchema]", "size_in_bytes")
    ),
    "DuplicateValue-item-id": Mutation(
        '"id": "2"', '"id": "https://example.com/posts/first/"', ("[DuplicateValue]",)
    ),
    "NextUrlIsFeedUrl": Mutation(
        '"next_url": "https://example.com/feed-2.json"',
        '"next_url": "https://example.com/feed.json"',
        ("[NextUrlIsFeedUrl]",),
    ),
    "InvalidLanguage": Mutation(
        '"language": "en",', '"language": "qq",', ("[InvalidLanguage]", "$.items[0].language")
    ),
    "ContainsRelRef": Mutation(
        'href=\\"https://example.com/about/\\"',
        'href=\\"/about/\\"',
        ("[ContainsRelRef]", "/about/"),
    ),
}


def test_valid_json_feed_has_no_problems() -> None:
    json.loads(VALID_JSON_FEED)  # the fixture itself is plain JSON
    assert json_feed_problems(VALID_JSON_FEED.encode("utf-8")) == []


@pytest.mark.parametrize("mutation", JSON_MUTATIONS.values(), ids=JSON_MUTATIONS.keys())
def test_json_feed_check_fails(mutation: Mutation) -> None:
    _assert_reported(json_feed_problems(_mutate(VALID_JSON_FEED, mutation)), mutation.expected)


def test_json_feed_minimal() -> None:
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []}
    assert json_feed_problems(json.dumps(feed).encode()) == []


def test_json_feed_items_required_and_array() -> None:
    feed = json.loads(VALID_JSON_FEED)
    del feed["items"]
    _assert_reported(
        json_feed_problems(json.dumps(feed).encode()),
        ("[JSONSchema]", "'items' is a required property"),
    )
    feed["items"] = {"id": "1", "content_text": "x"}
    _assert_reported(json_feed_problems(json.dumps(feed).encode()), ("[JSONSchema]", "$.items"))


def test_json_feed_must_be_utf8() -> None:
    _assert_reported(json_feed_problems(VALID_JSON_FEED.encode("utf-16")), ("[JSONSyntax]",))


def test_json_feed_schema_is_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads(JSON_FEED_SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
