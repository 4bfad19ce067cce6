"""Article pages at their permalinks, with card metadata platforms read."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from conftest import NOW, SITE, MakePublication, article
from syndicate.errors import RenderError
from syndicate.pipeline import build


class Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: list[tuple[str, str]] = []
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and (found.get("property") or found.get("name")):
            key = found.get("property") or found.get("name") or ""
            self.meta.append((key, found.get("content") or ""))
        if tag == "link":
            self.links.append(found)


def head(html: str) -> Head:
    parsed = Head()
    parsed.feed(html)
    return parsed


def test_each_article_gets_a_page_at_its_permalink(publication: MakePublication) -> None:
    root = publication(
        {
            "content/a.md": article(
                "First post",
                "2025-03-01",
                "Some **bold** text.",
                categories="Science, Art",
                author="Ana",
                updated="2025-03-05",
            )
        }
    )
    build(root, NOW)
    page = (root / "feeds/posts/a/index.html").read_text()
    assert "<h1>First post</h1>" in page
    assert "<strong>bold</strong>" in page
    byline = '<bdi>Ana</bdi> · <time datetime="2025-03-01T00:00:00+00:00">March 1, 2025</time>'
    assert byline in page
    assert "updated" in page
    parsed = head(page)
    meta = dict(parsed.meta)
    assert meta["og:url"] == "https://news.example.org/posts/a/"
    assert meta["og:image"] == "https://news.example.org/social/a.png"
    assert meta["og:image:width"] == "1200" and meta["og:image:height"] == "630"
    assert meta["twitter:card"] == "summary_large_image"
    assert [v for k, v in parsed.meta if k == "article:tag"] == ["Science", "Art"]
    feeds = [link["href"] for link in parsed.links if link.get("rel") == "alternate"]
    assert "https://news.example.org/rss.xml" in feeds
    assert "https://news.example.org/categories/science/rss.xml" in feeds
    art = 'href="https://news.example.org/categories/art/rss.xml" rel="tag" dir="auto">Art</a>'
    assert art in page


def test_article_text_cannot_break_out_of_the_meta_tags(publication: MakePublication) -> None:
    title = "'\"><script>alert(1)</script>'"
    root = publication({"content/a.md": article(title, summary=title)})
    build(root, NOW)
    for name in ("posts/a/index.html", "social/a.html"):
        html = (root / "feeds" / name).read_text()
        assert "<script>" not in html
        assert dict(head(html).meta)["og:title"] == '"><script>alert(1)</script>'


def test_a_permalink_that_is_a_file_gets_the_page_there(publication: MakePublication) -> None:
    root = publication(
        {"content/a.md": article(date="2025-07-04")},
        SITE + 'permalink = "/{year}/{month}/{slug}.html"\n',
    )
    build(root, NOW)
    assert (root / "feeds/2025/07/a.html").is_file()


def test_pages_false_leaves_permalinks_to_another_site(publication: MakePublication) -> None:
    root = publication({"content/a.md": article()}, SITE + "pages = false\n")
    build(root, NOW)
    assert not (root / "feeds/posts").exists()


def test_a_page_that_would_replace_a_generated_file_is_an_error(
    publication: MakePublication,
) -> None:
    root = publication({"content/rss.md": article("RSS")}, SITE + 'permalink = "/{slug}.xml"\n')
    with pytest.raises(RenderError, match=r"puts an article page at rss\.xml"):
        build(root, NOW)
