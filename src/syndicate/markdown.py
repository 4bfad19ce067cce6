"""Markdown to safe HTML: comrak (CommonMark + GFM tables and strikethrough), then nh3.

Article text is untrusted.  Raw HTML is allowed in Markdown (CommonMark says so)
and everything passes through the sanitiser, which keeps ordinary formatting,
tables, code and images and drops scripts, frames, styles, event handlers and
``javascript:`` URLs.  Relative links and images become absolute against the
article's permalink, so the HTML works in a feed reader or an email.

comrak is the Rust CommonMark and GFM parser behind crates.io and docs.rs: compiled code,
so much faster than a parser in pure Python (markdown-it-py; see benchmarks/RESULTS.md),
with the same HTML for ordinary articles.

Every step is linear in the body's size, hostile bodies included: the two that are not on
their own are bounded before they run (:mod:`syndicate.bounds`).
"""

from __future__ import annotations

import copy
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import nh3

from .bounds import MAX_ADDED_CELLS as MAX_ADDED_CELLS
from .bounds import MAX_DEPTH as MAX_DEPTH
from .bounds import bounded_depth, bounded_tables
from .content.model import Article
from .content.values import NOT_XML, drop_not_xml, make_summary

URL_SCHEMES = frozenset({"http", "https", "mailto"})
_LANGUAGE_CLASS = re.compile(r"^language-[A-Za-z0-9_+\-]{1,40}$")
#: Block elements that Markdown made carry ``data-sourcepos`` (raw HTML blocks do not); the
#: sanitiser drops the attribute.
_SOURCE = r' data-sourcepos="[^"]*"'
_SOURCE_POSITIONS = re.compile(_SOURCE)
#: A table cell's alignment, as comrak writes it (``align`` is obsolete in HTML5).
_ALIGN = re.compile(rf'<(t[hd]){_SOURCE} align="(left|center|right)">')
#: A leading level-one heading.
_FIRST_HEADING = re.compile(rf"<h1{_SOURCE}>([\s\S]*?)</h1>\n")
#: Where a paragraph of the Markdown starts (not one inside a raw HTML block).
_PARAGRAPH = re.compile(rf"<p{_SOURCE}>")
_PARAGRAPH_END = "</p>\n"


@dataclass(frozen=True, slots=True)
class Rendered:
    """An article's body as published."""

    html: str
    #: The front matter's summary, or the first paragraph as plain text.
    summary: str


@lru_cache(maxsize=1)
def _comrak() -> tuple[Any, dict[str, Any]]:
    import comrak  # loads when something is rendered, not on start-up

    extensions = comrak.ExtensionOptions()
    extensions.table = True
    extensions.strikethrough = True
    options = comrak.RenderOptions()
    options.unsafe_ = True  # raw HTML is kept here and sanitised below
    options.sourcepos = True  # tells Markdown's paragraphs from raw HTML
    return comrak.render_markdown, {"extension_options": extensions, "render_options": options}


@lru_cache(maxsize=1)
def engine() -> str:
    """The Markdown parser and its version: what a cached body was rendered with."""
    import comrak

    # The metadata folder installed beside the package names its version: a look at one
    # folder, where importlib.metadata would search every installed package.
    site = Path(comrak.__file__).parent.parent
    found = [
        entry.name[len("comrak-") : -len(".dist-info")]
        for entry in os.scandir(site)
        if entry.name.startswith("comrak-") and entry.name.endswith(".dist-info")
    ]
    if len(found) == 1:
        return f"comrak {found[0]}"
    from importlib import metadata

    return f"comrak {metadata.version('comrak')}"


def to_html(text: str) -> str:
    """CommonMark with GFM tables and strikethrough, raw HTML kept: not yet safe, but
    bounded (see :mod:`syndicate.bounds`)."""
    render, options = _comrak()
    html: str = bounded_depth(render(bounded_tables(text), **options))
    if " align=" not in html:  # no table cell aligned (most articles): no need to look
        return html
    return _ALIGN.sub(r'<\1 style="text-align:\2">', html)


@lru_cache(maxsize=1)
def _attributes() -> dict[str, set[str]]:
    attributes = copy.deepcopy(nh3.ALLOWED_ATTRIBUTES)
    attributes["a"] |= {"title"}
    attributes["img"] |= {"title"}
    attributes.setdefault("code", set()).add("class")
    attributes["th"] |= {"style"}
    attributes["td"] |= {"style"}
    return attributes


def _text(fragment: str) -> str:
    """An HTML fragment as plain text: tags dropped (a ``<script>``'s text with them),
    character references decoded."""
    return unescape(_cleaners().text.clean(fragment))


def _same_title(heading: str, title: str) -> bool:
    def fold(text: str) -> str:
        return " ".join(text.split()).casefold().rstrip(".!?:")

    return fold(heading) == fold(title)


def _drop_title_heading(html: str, title: str) -> str:
    """Without a leading ``# H1`` that only repeats the title."""
    heading = _FIRST_HEADING.match(html)
    if heading is not None and _same_title(_text(heading.group(1)), title):
        return html[heading.end() :]
    return html


def _first_paragraph(html: str) -> str:
    """The first paragraph with text, as plain text.

    It goes through the sanitiser with no tags allowed, so inline HTML is
    dropped the way the HTML body drops it (a ``<script>``'s text included).
    """
    position = 0
    while (paragraph := _PARAGRAPH.search(html, position)) is not None:
        # Its end found once, by a plain search: a regular expression that looked for the
        # end from each start would go over the rest of the HTML each time.
        end = html.find(_PARAGRAPH_END, paragraph.end())
        if end < 0:
            return ""
        text = _text(html[paragraph.end() : end])
        if text.strip():
            return text
        position = end + len(_PARAGRAPH_END)
    return ""


#: A relative path that :func:`urllib.parse.urljoin` only appends to the folder of the
#: page: names of letters, digits and ``_~%-`` with single dots inside, and no empty,
#: "." or ".." segment, query or fragment.
_PLAIN_PATH = re.compile(
    r"(?:[A-Za-z0-9_~%-]+(?:\.[A-Za-z0-9_~%-]+)*/)*[A-Za-z0-9_~%-]+(?:\.[A-Za-z0-9_~%-]+)*"
)


class _Links:
    """Turns a relative link or image into an absolute URL.

    Each distinct value is resolved once, and each folder a link to a ``.md`` file goes
    through is looked up on disk once: a body may hold a hundred thousand links.  What
    only a relative link needs is worked out at the first one: most bodies have none."""

    def __init__(self, article: Article, url: str, site_url: str, links: Mapping[Path, str]):
        self.article = article
        self.url = url
        self.site_url = site_url
        self.links = links
        self.done: dict[str, str | None] = {}
        self.real_folders: dict[str, str] = {}

    @cached_property
    def folder(self) -> str:
        return str(self.article.source.parent)

    @cached_property
    def beside(self) -> str:
        """What urljoin puts before a plain relative path (see :data:`_PLAIN_PATH`)."""
        return urljoin(self.url, "x")[:-1]

    @cached_property
    def above(self) -> str:
        """What urljoin puts before a plain relative path after ``../`` (a sibling page)."""
        return urljoin(self.url, "../x")[:-1]

    def __call__(self, tag: str, attribute: str, value: str) -> str | None:
        if attribute == "class":
            return value if tag == "code" and _LANGUAGE_CLASS.match(value) else None
        if attribute not in ("href", "src", "cite"):
            return value
        if value.startswith(("https://", "http://")):  # most links: nothing to change
            return value
        try:
            return self.done[value]
        except KeyError:
            pass
        try:
            resolved = self._resolved(value)
        except ValueError:  # not a URL ("//[", an unclosed IPv6 address): dropped
            resolved = None
        self.done[value] = resolved
        return resolved

    def _resolved(self, value: str) -> str | None:
        plain = _PLAIN_PATH.fullmatch(value) is not None
        if plain and not value.endswith(".md"):
            return self.beside + value
        # A link to a sibling page, the usual relative link between articles.
        sibling = value.startswith("../") and not value.endswith(".md")
        if sibling and _PLAIN_PATH.fullmatch(value, 3, len(value) - value.endswith("/")):
            return self.above + value[3:]
        parts = urlsplit(value)
        if parts.scheme:
            return value if parts.scheme.lower() in URL_SCHEMES else None
        if parts.netloc:  # protocol-relative: //host/path
            return "https:" + value
        if parts.path.endswith(".md"):
            target = self.links.get(self._real(unquote(parts.path)))
            if target is not None:
                return target + (f"#{parts.fragment}" if parts.fragment else "")
        if parts.path.startswith("/"):
            # "./" first: "/javascript:x" without its "/" would be a URL of that scheme.
            return urljoin(self.site_url, "./" + value.lstrip("/"))
        return self.beside + value if plain else urljoin(self.url, value)

    def _real(self, path: str) -> Path:
        """``(folder / path).resolve()``, with each folder on the way resolved once."""
        folder, name = os.path.split(os.path.join(self.folder, path))
        real = self.real_folders.get(folder)
        if real is None:
            real = self.real_folders[folder] = os.path.realpath(folder)
        found = os.path.join(real, name)
        return Path(os.path.realpath(found) if os.path.islink(found) else found)


def render(
    text: str,
    article: Article,
    url: str,
    site_url: str,
    links: Mapping[Path, str] | None = None,
) -> Rendered:
    """The sanitised HTML body and the summary of *article*, whose body is the Markdown
    *text* (see :func:`~syndicate.content.reading.read_body`), published at *url*.

    *links* maps article source files to their permalinks, so that a link to
    ``other-post.md`` points at that post's page.
    """
    html = _drop_title_heading(to_html(text), article.title)
    summary = article.summary
    if summary is None:
        summary = make_summary(NOT_XML.sub("", _first_paragraph(html)))
    html = _SOURCE_POSITIONS.sub("", html)  # the sanitiser would drop them, more slowly
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
    return repaired(drop_not_xml(_clean(html, article, url, site_url, links)))


#: An ``<a>`` the sanitiser left without ``href`` (a ``javascript:`` link, an old
#: ``<a name>``), with its text.  The sanitiser writes every value in double quotes (``"`` in
#: one as ``&quot;``) and no ``<a>`` inside another, so these patterns match its output whole.
_LINK_WITHOUT_HREF = re.compile(r'<a((?:\s+(?!href=)[^\s=>]+="[^"]*")*)\s*>(.*?)</a>', re.S)
_IMAGE = re.compile(r'<img((?:\s+[^\s=>]+="[^"]*")*)\s*/?>')
_ALT = re.compile(r'\salt="')
_TITLE = re.compile(r'\stitle="([^"]*)"')


def repaired(html: str) -> str:
    """The sanitiser's *html* with what it leaves broken mended, for every output that
    shows it (feeds, emails, pages): a link without ``href`` becomes its text (it leads
    nowhere, and HTML forbids the ``rel`` the sanitiser gave it), and an image without
    ``alt`` gets its own ``title`` as alt text, or ``alt=""``.  An author who gave no alt
    text said nothing about the image; ``alt=""`` marks it as decoration, which a screen
    reader skips instead of reading out its address.  Mended HTML is mended already: the
    sanitiser and this give it back unchanged."""
    if "<a" in html:
        html = _LINK_WITHOUT_HREF.sub(r"\2", html)
    if "<img" in html:
        html = _IMAGE.sub(_with_alt, html)
    return html


def _with_alt(image: re.Match[str]) -> str:
    attributes = image.group(1)
    if _ALT.search(attributes):
        return image.group()
    title = _TITLE.search(attributes)
    return f'<img alt="{title.group(1) if title else ""}"{attributes}>'


def _clean(
    html: str, article: Article, url: str, site_url: str, links: Mapping[Path, str] | None
) -> str:
    cleaners = _cleaners()
    cleaners.links = _Links(article, url, site_url, {} if links is None else links)
    try:
        return cleaners.html.clean(html)
    finally:
        cleaners.links = None


class _Cleaners(threading.local):
    """The sanitisers, each configured once (for a thread) rather than for every call,
    which takes a third of a call's time: the HTML one, whose attribute filter resolves
    the links of the article being cleaned (:attr:`links`), and the one for plain text."""

    def __init__(self) -> None:
        self.links: _Links | None = None
        self.html = nh3.Cleaner(
            attributes=_attributes(),
            attribute_filter=self._filter,
            url_schemes=set(URL_SCHEMES),
            link_rel="noopener noreferrer",
            filter_style_properties={"text-align"},
        )
        self.text = nh3.Cleaner(tags=set())

    def _filter(self, tag: str, attribute: str, value: str) -> str | None:
        assert self.links is not None
        return self.links(tag, attribute, value)


@lru_cache(maxsize=1)
def _cleaners() -> _Cleaners:
    return _Cleaners()
