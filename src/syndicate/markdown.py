"""Markdown to safe HTML: markdown-it-py (CommonMark + GFM tables and strikethrough), then nh3.

Article text is untrusted.  Raw HTML is allowed in Markdown (CommonMark says so)
and everything passes through the sanitiser, which keeps ordinary formatting,
tables, code and images and drops scripts, frames, styles, event handlers and
``javascript:`` URLs.  Relative links and images become absolute against the
article's permalink, so the HTML works in a feed reader or an email.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

import nh3

from .content import NOT_XML, Article, make_summary

if TYPE_CHECKING:  # markdown-it loads when something is rendered, not on start-up
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

URL_SCHEMES = frozenset({"http", "https", "mailto"})
_LANGUAGE_CLASS = re.compile(r"^language-[A-Za-z0-9_+\-]{1,40}$")


@dataclass(frozen=True, slots=True)
class Rendered:
    """An article's body as published."""

    html: str
    #: The front matter's summary, or the first paragraph as plain text.
    summary: str


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


@lru_cache(maxsize=1)
def _attributes() -> dict[str, set[str]]:
    attributes = copy.deepcopy(nh3.ALLOWED_ATTRIBUTES)
    attributes["a"] |= {"title"}
    attributes["img"] |= {"title"}
    attributes.setdefault("code", set()).add("class")
    attributes["th"] |= {"style"}
    attributes["td"] |= {"style"}
    return attributes


def _plain(inline: Token) -> str:
    parts: list[str] = []
    for child in inline.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _same_title(heading: str, title: str) -> bool:
    def fold(text: str) -> str:
        return " ".join(text.split()).casefold().rstrip(".!?:")

    return fold(heading) == fold(title)


def _drop_title_heading(tokens: list[Token], title: str) -> list[Token]:
    """Without a leading ``# H1`` that only repeats the title."""
    if (
        len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[0].tag == "h1"
        and _same_title(_plain(tokens[1]), title)
    ):
        return tokens[3:]
    return tokens


def _first_paragraph(tokens: list[Token], parser: MarkdownIt, env: dict[str, object]) -> str:
    """The first paragraph with text, as plain text.

    It goes through the sanitiser with no tags allowed, so inline HTML is
    dropped the way the HTML body drops it (a ``<script>``'s text included).
    """
    for index, token in enumerate(tokens):
        if token.type == "paragraph_open" and index + 2 < len(tokens):
            html = parser.renderer.render(tokens[index : index + 3], parser.options, env)
            text = unescape(nh3.clean(html, tags=set()))
            if text.strip():
                return text
    return ""


class _Links:
    """Turns a relative link or image into an absolute URL."""

    def __init__(self, article: Article, url: str, site_url: str, links: Mapping[Path, str]):
        self.folder = article.source.parent
        self.url = url
        self.site_url = site_url
        self.links = links

    def __call__(self, tag: str, attribute: str, value: str) -> str | None:
        if attribute == "class":
            return value if tag == "code" and _LANGUAGE_CLASS.match(value) else None
        if attribute not in ("href", "src", "cite"):
            return value
        parts = urlsplit(value)
        if parts.scheme:
            return value if parts.scheme.lower() in URL_SCHEMES else None
        if parts.netloc:  # protocol-relative: //host/path
            return "https:" + value
        if parts.path.endswith(".md"):
            target = self.links.get((self.folder / unquote(parts.path)).resolve())
            if target is not None:
                return target + (f"#{parts.fragment}" if parts.fragment else "")
        if parts.path.startswith("/"):
            return urljoin(self.site_url, value.lstrip("/"))
        return urljoin(self.url, value)


def render(
    article: Article, url: str, site_url: str, links: Mapping[Path, str] | None = None
) -> Rendered:
    """The sanitised HTML body and the summary of *article*, published at *url*.

    *links* maps article source files to their permalinks, so that a link to
    ``other-post.md`` points at that post's page.
    """
    parser = _parser()
    env: dict[str, object] = {}
    tokens = _drop_title_heading(parser.parse(article.body, env), article.title)
    summary = article.summary
    if summary is None:
        summary = make_summary(NOT_XML.sub("", _first_paragraph(tokens, parser, env)))
    html = parser.renderer.render(tokens, parser.options, env)
    return Rendered(html=_sanitise(html, article, url, site_url, links), summary=summary)


def resanitise(
    html: str, article: Article, url: str, site_url: str, links: Mapping[Path, str] | None = None
) -> str:
    """*html* through the sanitiser again: what the build cache gives back is not trusted.
    For HTML the sanitiser made, this changes nothing."""
    return _sanitise(html, article, url, site_url, links)


def _sanitise(
    html: str, article: Article, url: str, site_url: str, links: Mapping[Path, str] | None
) -> str:
    # A character reference such as &#1; comes out of the sanitiser as the character,
    # which no feed can carry: it goes.
    return NOT_XML.sub("", _clean(html, article, url, site_url, links))


def _clean(
    html: str, article: Article, url: str, site_url: str, links: Mapping[Path, str] | None
) -> str:
    return nh3.clean(
        html,
        attributes=_attributes(),
        attribute_filter=_Links(article, url, site_url, {} if links is None else links),
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
    )
