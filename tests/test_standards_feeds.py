"""Issue 26, target 1: every feed is correct by the W3C Feed Validation Service's own verdict
(0 errors, 0 warnings on each RSS and Atom file), and every JSON Feed keeps to the 1.1
specification field by field; on the example publication and on the stress publication.
The newsletter's mode changes no feed: article mode's are the same files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import feedparser
import pytest
from lxml import html

from checkers import Finding
from checkers.jsonfeed import problems
from checkers.sites import Site
from syndicate.config import load_config
from syndicate.content import load_articles


@pytest.mark.parametrize("name", ["example", "stress"])
def test_every_rss_and_atom_file_has_no_error_and_no_warning_by_the_w3c_validator(
    name: str, feed_verdicts: list[Finding], sites: Callable[[str], Site]
) -> None:
    site = sites(name)
    checked = {site.label(p) for p in site.feeds("rss.xml") + site.feeds("atom.xml")}
    assert len(checked) >= 3, "the site's feeds and at least one category's"
    found = [str(f) for f in feed_verdicts if f.file in checked]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("name", ["example", "stress"])
def test_every_json_feed_keeps_to_the_1_1_specification_field_by_field(
    name: str, sites: Callable[[str], Site]
) -> None:
    site = sites(name)
    feeds = site.feeds("feed.json")
    assert len(feeds) >= 3
    found = [
        f"{site.label(path)}: {problem}"
        for path in feeds
        for problem in problems(json.loads(path.read_bytes()))
    ]
    assert found == [], "\n".join(found)


def shown(detail: Any) -> str:
    """The text a reader shows for a text construct as feedparser gives it: plain text as it
    is, HTML as the text it renders to."""
    if detail.type == "text/plain":
        return str(detail.value)
    return str(html.fragment_fromstring(detail.value, create_parent="div").text_content())


@pytest.mark.parametrize("name", ["example", "stress"])
@pytest.mark.parametrize("suffix", ["rss.xml", "atom.xml"])
def test_feedparser_reads_back_every_title_category_and_author_exactly(
    name: str, suffix: str, sites: Callable[[str], Site]
) -> None:
    # The JSON Feed beside each feed carries the same texts as plain strings (checked
    # field by field above); its titles are the articles' own.
    site = sites(name)
    articles, _ = load_articles(load_config(site.root))
    titles = {article.title for article in articles}
    wrong = []
    for path in site.feeds(suffix):
        parsed = feedparser.parse(path.read_bytes())
        plain = json.loads((path.parent / "feed.json").read_bytes())
        assert parsed.bozo == 0 and len(parsed.entries) == len(plain["items"]) > 0
        seen = {"feed title": (shown(parsed.feed.title_detail), plain["title"])}
        for entry, item in zip(parsed.entries, plain["items"], strict=True):
            assert item["title"] in titles
            seen[f"{item['id']} title"] = (shown(entry.title_detail), item["title"])
            seen[f"{item['id']} categories"] = (
                [tag.term for tag in entry.get("tags", [])],
                item.get("tags", []),
            )
            authors = [author.get("name") for author in entry.get("authors", [])]
            if suffix == "rss.xml":  # dc:creator: feedparser keeps the last one
                authors = [entry.author]
                item["authors"] = item["authors"][-1:]
            seen[f"{item['id']} authors"] = (authors, [a["name"] for a in item["authors"]])
        wrong += [
            f"{site.label(path)}: {what}: feedparser {ours!r}, article {theirs!r}"
            for what, (ours, theirs) in seen.items()
            if ours != theirs
        ]
    assert wrong == [], "\n".join(wrong)


def test_the_json_feed_check_finds_each_kind_of_fault() -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Fish &amp; chips",
        "home_page_url": "/relative",
        "authors": [{"name": "ana@example.org"}],
        "icon_url": "https://example.org/icon.png",
        "items": [
            {"id": "1", "content_html": "<p>x</p>", "date_published": "2025-01-01 10:00"},
            {"id": "1", "title": "No content", "tags": ["ok", ""], "language": "english"},
        ],
    }
    assert problems(feed) == [
        "$.icon_url: not a field of JSON Feed 1.1 (extensions start with '_')",
        "$.version: must be 'https://jsonfeed.org/version/1.1'",
        "$.title: plain text holds the character reference '&amp;'",
        "$.home_page_url: '/relative' is not a full http(s) URL",
        "$.authors[0].name: a name, not an email address",
        "$.items[0].date_published: '2025-01-01 10:00' is not an RFC 3339 date-time",
        "$.items[1].id: '1' is not unique in the feed",
        "$.items[1]: content_html or content_text must be present",
        "$.items[1].tags: must be an array of strings",
        "$.items[1].language: 'english' is not an RFC 5646 language tag",
    ]
