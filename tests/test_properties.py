"""What holds for any article a guest author can write (issue 7, "Fuzzing").

Each test states one guarantee of SECURITY.md and lets Hypothesis search for a counterexample.
The real stages do the work (the loader, the Markdown renderer and its sanitiser, the feed,
page and email renderers, the MIME builder, the post fitter), and real parsers check what they
made: lxml reads the HTML and the XML back, Python's email parser the message.  The only
exceptions allowed are syndicate's own (``SyndicateError``) and the ``ValueError`` that a rule
documents (a slug that would leave its folder, a URL and suffix too long for a post).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import formataddr
from html import unescape
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import lxml.etree
import lxml.html
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import NOW, SITE
from syndicate import feeds, markdown, pages
from syndicate.config import Config, load_config
from syndicate.content import (
    Article,
    category_slug,
    make_slug,
    parse_categories,
    read_article,
    read_body,
)
from syndicate.email.digest import Digest
from syndicate.email.headers import message_id, one_line
from syndicate.email.message import Letter, build_message
from syndicate.email.render import RenderedDigest, letter, render_digest, unsubscribe_mailto
from syndicate.errors import Diagnostic, SyndicateError
from syndicate.pipeline import Publication, permalink
from syndicate.social.counting import BLUESKY_MAX_BYTES, LIMITS, PLATFORMS, count, fits
from syndicate.social.meta import card_metadata, card_path
from syndicate.social.text import compose
from syndicate.state import State

# --- settings -----------------------------------------------------------------------------

#: Each property is cheap (no card images, no network); these keep the file near 40 s.
QUICK = settings(max_examples=300, deadline=None)
#: Hostile fields under a title in a right-to-left script (which gets ``dir``).
RIGHT_TO_LEFT_A = {
    "title": "\u05d0",
    "author": "<script>alert(1)</script>",
    "summary": "<script>alert(1)</script>",
    "categories": [],
    "body": "",
}
RIGHT_TO_LEFT_B = {**RIGHT_TO_LEFT_A, "title": "\ufe70"}
RENDERS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SUBJECT = (
    "{{ site.title }}: {{ articles[0].title }} by {{ articles[0].byline }}"
    " ({{ articles[0].summary }})"
)
CONFIG = (
    SITE
    + '\n[email]\nfrom = "Test Times <news@example.org>"\n'
    + 'reply_to = "Editors <editors@example.org>"\n'
    + 'unsubscribe_url = "https://news.example.org/u?e={email}&t={token}"\n'
    + f'subject = "{SUBJECT}"\n'
)
SITE_URL = "https://news.example.org/"
PERSONAL = "https://news.example.org/u?e=reader%40example.org&t=0123456789abcdef"


class Site:
    """One publication on disk, shared by every example of the module."""

    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        self.config = config

    def __repr__(self) -> str:
        return "site"

    @property
    def post(self) -> Path:
        return self.config.content.dir / "post.md"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("properties") / "pub"
    (root / "content").mkdir(parents=True)
    (root / "static").mkdir()
    (root / "static/pic.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "syndicate.toml").write_text(CONFIG, encoding="utf-8")
    return Site(root, load_config(root))


# --- what hostile text is made of -----------------------------------------------------------

#: Characters XML 1.0 cannot carry (C0 controls but tab and line ends, U+FFFE, U+FFFF).  The
#: loader refuses them (test_a_control_character_in_article_text_is_a_diagnostic_not_a_crash),
#: so the properties about what a loaded article becomes leave them out.
NOT_XML = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])) + "\ufffe\uffff"
NOT_XML_PATTERN = re.compile(f"[{re.escape(NOT_XML)}]")
CHARACTERS = st.characters(codec="utf-8", exclude_characters=NOT_XML)

ATTACKS = [
    "<script>alert(1)</script>",
    "</mj-text><mj-raw><script>alert(1)</script></mj-raw>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</title><script>alert(1)</script>",
    '" onmouseover="alert(1)',
    "javascript:alert(1)",
    "{{ 7*7 }}",
    "{% raw %}",
    "{% endraw %}",
    "{# comment",
    "{{ site.__class__ }}",
    "<mj-raw>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&lt;",
    "&#x3C;",
    "&",
    "<",
    ">",
    '"',
    "'",
    "`",
    "\r\nBcc: victim@example.org",
    "\nSubject: injected",
    "\r\n\r\nbody",
    "\r",
    "\n",
    "\t",
    "\u2028",
    "\u2029",
    "\x85",
    "\x7f",
    "\u200d",
    "\ufeff",
    "=?utf-8?q?=41?=",
    "Name <other@example.org>",
    "a@example.org, b@example.org",
    "Readers:;",
    "../../etc/passwd",
    "..",
    "/",
    "\\",
    "C:\\Windows",
    "CON",
    "nul",
    "COM1",
    "#tag",
    "@user@mastodon.social",
    "https://evil.example/",
    "Tiếng Việt",
    "中文标题",
    "👩‍👩‍👧",
    "é",
    " ",
]
FRAGMENTS = st.sampled_from(ATTACKS) | st.text(CHARACTERS, max_size=6)
#: Text a guest author might write to break something.
HOSTILE = st.lists(FRAGMENTS, max_size=6).map("".join)
#: Hostile text with something to show (an empty title or summary is a plain error).
SHOWN = HOSTILE.filter(lambda text: bool(text.split()))


def front_matter(**fields: object) -> str:
    """A front-matter block as an editor writes one; YAML escapes what needs escaping."""
    return "---\n" + yaml.safe_dump(fields, allow_unicode=True, width=10_000) + "---\n"


def load(site: Site, data: str | bytes) -> tuple[Article | None, list[Diagnostic]]:
    """Read *data* as ``content/post.md`` of *site*."""
    site.post.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return read_article(site.post, site.config)


def loaded(site: Site, **fields: object) -> tuple[Article, str]:
    """The article of these front-matter *fields* (and ``body``), which must load, and its
    body as a build reads it from the file (read now: the next article is written over
    the same file)."""
    body = str(fields.pop("body", ""))
    article, diagnostics = load(site, front_matter(date="2025-05-01", **fields) + body)
    assert article is not None, [str(d) for d in diagnostics]
    return article, read_body(article)


# --- what a publication makes of one article ------------------------------------------------


@dataclass(frozen=True)
class Made:
    article: Article
    body: markdown.Rendered
    files: dict[str, bytes]
    email: RenderedDigest


def publish(site: Site, article: Article, text: str) -> Made:
    """Everything a build writes for *article*, whose body is the Markdown *text*, but the
    card image: feeds (the site's and a category's), the digest and its archive page, the
    article page and its card metadata."""
    config = site.config
    url = permalink(config, article)
    body = markdown.render(text, article, url, config.site.url)
    entry_id = article.id or f"tag:news.example.org,2025:{article.slug}"
    publication = Publication(
        config=config,
        articles=(article,),
        published=(article,),
        urls={article.slug: url},
        ids={article.slug: entry_id},
        state=State(),
    )
    files: dict[str, bytes] = {}
    plans = feeds.plan_feeds(config, [article])
    for plan in plans:
        entry = feeds.Entry(article, entry_id, url, body.summary, body.html)
        feed = feeds.Feed(plan.folder, plan.title, plan.description, plan.category, (entry,))
        files.update(feeds.render_feed(feed, config))
    digest = Digest("2025-05-01-0123456789", article.date, (article,), sent=False)
    email = render_digest(config, digest, {article.slug: url}, {article.slug: body}, {})
    files.update(pages.render_pages(config, plans, publication, [email]))
    feeds_of = pages.category_feeds(config, [article])
    files[pages.page_path(config, url)] = pages.render_article_page(
        config, article, url, body, feeds_of, pages.Days(config)
    )
    files[pages.meta_snippet_path(article)] = pages.render_meta_snippet(
        config, article, url, body.summary
    )
    return Made(article, body, files, email)


_twins: dict[tuple[str, ...], Made] = {}


def plain_twin(site: Site, article: Article | None = None) -> Made:
    """What an article of plain words makes, filed under categories that share feeds and
    lack letters just as *article*'s do: the shape that *article*'s outputs must keep."""
    slugs: list[str] = []
    names: list[str] = []
    for index, name in enumerate(article.categories if article else ("Plain",)):
        slug = category_slug(name)
        if not slug:
            names.append("!" * (index + 1))  # no feed, like the original
            continue
        if slug not in slugs:
            slugs.append(slug)
        same = (
            sum(category_slug(other) == slug for other in article.categories[:index])
            if article
            else 0
        )
        names.append(f"Plain {slugs.index(slug)}" + "!" * same)
    key = tuple(names)
    if key not in _twins:
        fields = {"title": "Plain", "author": "Plain Author", "summary": "Plain"}
        _twins[key] = publish(site, *loaded(site, **fields, categories=names, body="Plain."))
    return _twins[key]


def document(html: str | bytes) -> Any:
    return lxml.html.document_fromstring(html)


def elements(tree: Any) -> list[Any]:
    return [element for element in tree.iter() if isinstance(element.tag, str)]


#: Attributes syndicate sets from what the text is, not from what it says: a title in a
#: right-to-left script gets ``dir``, a plain one does not.  Their values are checked.
FROM_THE_TEXT = {"dir": {"ltr", "rtl", "auto"}}


def shape(tree: Any) -> list[tuple[str, tuple[str, ...]]]:
    """Every element's tag and attribute names, in document order, but for the attributes
    that follow the text's direction (whose values must be syndicate's own)."""
    found = []
    for element in elements(tree):
        for name, allowed in FROM_THE_TEXT.items():
            assert element.get(name) in (None, *allowed), (element.tag, element.attrib)
        names = tuple(sorted(a for a in element.attrib if a not in FROM_THE_TEXT))
        found.append((element.tag, names))
    return found


RUNS_CODE = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "base"}
URL_ATTRIBUTES = {"href", "src", "cite", "action", "formaction", "background", "poster", "srcset"}


def scheme(url: str) -> str:
    """The scheme a browser sees: it ignores control characters and spaces inside it."""
    squeezed = re.sub(r"[\x00-\x20\x7f]", "", url).lower()
    return squeezed.split(":", 1)[0] if ":" in squeezed else ""


def assert_runs_nothing(tree: Any) -> None:
    """No element that runs code, no event handler, no URL with a scheme that runs code."""
    for element in elements(tree):
        assert element.tag not in RUNS_CODE and not element.tag.startswith("mj-"), element.tag
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name, value)
            if name in URL_ATTRIBUTES:
                assert scheme(value) not in ("javascript", "vbscript", "data"), value


# --- the loader -------------------------------------------------------------------------------

#: Bytes shaped like an article: a front-matter block of anything, then anything.
ARTICLE_BYTES = st.builds(
    lambda head, body, crlf: (b"---\n" + head + b"\n---\n" + body).replace(
        b"\n", b"\r\n" if crlf else b"\n"
    ),
    st.binary(max_size=120) | HOSTILE.map(str.encode),
    st.binary(max_size=120),
    st.booleans(),
)
ENCODED = st.builds(
    lambda text, codec: text.encode(codec, errors="replace"),
    st.text(max_size=200).map(lambda t: f"---\ntitle: {t}\ndate: 2025-05-01\n---\n{t}"),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "shift_jis"]),
)
ONE_LINE_DIAGNOSTIC = re.compile(r"content/post\.md(:[1-9][0-9]*)?: (error|warning): \S[^\r\n]*")
BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@QUICK
@given(st.binary(max_size=400) | ARTICLE_BYTES | ENCODED)
def test_loading_any_bytes_gives_an_article_or_a_diagnostic(site: Site, data: bytes) -> None:
    article, diagnostics = load(site, data)

    errors = [d for d in diagnostics if d.is_error]
    assert (article is None) == bool(errors)
    last_line = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
    for diagnostic in diagnostics:
        assert ONE_LINE_DIAGNOSTIC.fullmatch(diagnostic.format(relative_to=site.root))
        assert 0 <= diagnostic.line <= last_line
    if article is not None:
        assert article.title and SLUG.fullmatch(article.slug)
        for text in (article.title, *article.authors, *article.categories, article.summary or ""):
            assert not BREAKS.search(text), text


# --- slugs, categories and image paths ------------------------------------------------------

PATH_PIECES = st.sampled_from(
    ["..", ".", "/", "\\", "\x00", "%2e%2e", "~", "C:", "//evil.example", "file:", "CON", "a"]
)
PATHS = st.lists(PATH_PIECES | FRAGMENTS, max_size=8).map("".join) | st.text()


def assert_inside(folder: Path, name: str) -> None:
    """*name*, a path below *folder* that a build writes, stays there whatever it holds."""
    relative = PurePosixPath(name)
    assert not relative.is_absolute() and ".." not in relative.parts, name
    assert "\\" not in name and "\x00" not in name and ":" not in name, name
    assert (folder / name).resolve().is_relative_to(folder.resolve()), name


@QUICK
@given(PATHS)
def test_no_slug_leaves_the_output_folder(site: Site, raw: str) -> None:
    try:
        slug = make_slug(raw)
    except ValueError:
        return  # refused, with a message for the author
    assert SLUG.fullmatch(slug), slug
    article = replace(plain_twin(site).article, slug=slug)
    url = permalink(site.config, article)
    output = site.root / "feeds"
    for name in (
        pages.page_path(site.config, url),
        card_path(article),
        f"social/{slug}.json",
        f"social/{slug}.html",
    ):
        assert_inside(output, name)


#: Names Windows gives to devices, in any case and with any extension.
DEVICES = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?", re.IGNORECASE)


@QUICK
@example("CON")
@given(st.sampled_from(["CON", "Nul", "aux", "PRN", "COM1", "lpt9", "con.txt"]) | PATHS)
def test_no_slug_or_category_folder_is_a_windows_device_name(raw: str) -> None:
    names = [category_slug(raw)]
    with contextlib.suppress(ValueError):
        names.append(make_slug(raw))
    for name in names:
        assert not DEVICES.fullmatch(name), name


@QUICK
@given(st.lists(PATHS, max_size=6) | PATHS)
def test_no_category_leaves_the_output_folder(site: Site, raw: list[str] | str) -> None:
    try:
        categories = parse_categories(raw)
    except ValueError:
        return
    for name in categories:
        assert name and not BREAKS.search(name)
        slug = category_slug(name)
        if slug:  # a category without letters or digits gets no feed, and a warning
            assert SLUG.fullmatch(slug), slug
            for file in (feeds.RSS, feeds.ATOM, feeds.JSON_FEED):
                assert_inside(site.root / "feeds", f"{feeds.CATEGORIES}/{slug}/{file}")


@QUICK
@given(slug=PATHS, image=PATHS)
def test_no_front_matter_slug_or_image_leaves_the_publication(
    site: Site, slug: str, image: str
) -> None:
    article, diagnostics = load(
        site, front_matter(title="T", date="2025-05-01", slug=slug, image=image)
    )
    if article is None:
        errors = [d.message for d in diagnostics if d.is_error]
        assert errors and all(m.startswith(("slug: ", "image: ")) for m in errors), errors
        return
    assert SLUG.fullmatch(article.slug)
    picture = article.image
    if picture is None:
        return
    parts = urlsplit(picture.url)
    assert parts.scheme in ("http", "https") and parts.netloc, picture.url
    if picture.url.startswith(SITE_URL):
        assert ".." not in PurePosixPath(unquote(parts.path)).parts, picture.url
    if picture.source is not None:
        static = site.config.site.static.resolve()
        assert picture.source.resolve().is_relative_to(static), picture.source


# --- the sanitiser ----------------------------------------------------------------------------

TAGS = [
    "script", "img", "a", "svg", "math", "iframe", "frame", "style", "object", "embed", "form",
    "input", "button", "base", "meta", "link", "p", "div", "span", "table", "td", "th", "code",
    "pre", "blockquote", "details", "video", "audio", "source", "template", "noscript", "xmp",
    "textarea", "title", "select", "body", "html", "mj-raw", "applet", "marquee", "isindex",
]  # fmt: skip
ATTRIBUTES = [
    "onerror", "onclick", "onload", "ONMOUSEOVER", "onfocus", "href", "src", "cite", "style",
    "srcdoc", "formaction", "action", "xlink:href", "data", "class", "background", "poster",
    "srcset", "title", "alt", "align", "autofocus", "http-equiv", "content", "target", "rel",
]  # fmt: skip
URLS = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "java&#x09;script:alert(1)", "&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)",
    "javascript&colon;alert(1)", "jav&#x0A;ascript:alert(1)", "&#0000106avascript:alert(1)",
    "vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg onload=alert(1)>", "\x01javascript:alert(1)", "//evil.example/x",
    "https://ok.example/", "mailto:a@example.org", "relative/page", "/root", "other.md",
    "#anchor", "background:url(javascript:alert(1))", "text-align:center", "language-python",
    "alert(1)", "x",
]  # fmt: skip
QUOTES = st.sampled_from(['"', "'", ""])
ATTRIBUTE = st.builds(
    lambda name, quote, value: f" {name}={quote}{value}{quote}",
    st.sampled_from(ATTRIBUTES),
    QUOTES,
    st.sampled_from(URLS) | HOSTILE,
)
ELEMENT = st.builds(
    lambda tag, attributes, inner, close: (
        f"<{tag}{''.join(attributes)}>{inner}" + (f"</{tag}>" if close else "")
    ),
    st.sampled_from(TAGS),
    st.lists(ATTRIBUTE, max_size=3),
    HOSTILE,
    st.booleans(),
)
MARKDOWN = st.builds(
    lambda form, url, text: form.format(url=url, text=text),
    st.sampled_from(
        [
            "[{text}]({url})",
            "![{text}]({url})",
            "[{text}](<{url}>)",
            "<{url}>",
            "[{text}]\n\n[{text}]: {url}",
            "```{text}\n{url}\n```",
            "`{url}`",
            "> {text} {url}",
            "- {text}\n- {url}",
            "| {text} |\n|:---:|\n| {url} |",
            "~~{text}~~",
            "# {text}",
        ]
    ),
    st.sampled_from(URLS),
    HOSTILE,
)
BODIES = st.lists(ELEMENT | MARKDOWN | HOSTILE, max_size=8).flatmap(
    lambda blocks: st.lists(
        st.sampled_from(["", " ", "\n", "\n\n"]), min_size=len(blocks), max_size=len(blocks)
    ).map(lambda gaps: "".join(b + g for b, g in zip(blocks, gaps, strict=True)))
)
SANITISED_AWAY = RUNS_CODE | {"style", "svg", "math", "input", "button", "meta", "link"}
SAFE_URL = ("http://", "https://", "mailto:")


@QUICK
@given(BODIES)
def test_the_sanitiser_never_lets_script_through(site: Site, body: str) -> None:
    article = plain_twin(site).article
    url = permalink(site.config, article)

    html = markdown.render(body, article, url, site.config.site.url).html

    tree = document(f"<!doctype html><html><body><div>{html}</div></body></html>")
    for element in elements(tree)[3:]:  # below html, body and the div around the article
        assert element.tag not in SANITISED_AWAY and not element.tag.startswith("mj-"), html
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), html
            assert name not in ("srcdoc", "formaction", "action", "background"), html
            if name == "style":
                assert element.tag in ("th", "td"), html
                assert re.fullmatch(r"text-align: ?(left|right|center);?", value), html
            if name in URL_ATTRIBUTES:
                assert value.startswith(SAFE_URL), html


# --- every output of an article -------------------------------------------------------------

ARTICLES = st.fixed_dictionaries(
    {
        "title": SHOWN,
        "author": SHOWN,
        "summary": SHOWN,
        "categories": st.lists(HOSTILE, max_size=3),
        # Raw, or as a character reference (&#1;) that the sanitiser decodes: see NOT_XML.
        "body": BODIES.map(lambda body: NOT_XML_PATTERN.sub("", body).replace("&#", "&amp;#")),
    }
)
XML = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
DC = "{http://purl.org/dc/elements/1.1/}"
ATOM = "{http://www.w3.org/2005/Atom}"


def read_as_html_when_it_looks_so(text: str | None) -> str:
    """An RSS title as a reader that guesses (feedparser, SimplePie) shows it: as HTML when
    it holds a closing tag or a character reference, else as plain text."""
    text = text or ""
    return unescape(text) if re.search(r"</\w+>|&#?\w+;", text) else text


def texts(nodes: Iterable[Any]) -> list[str]:
    return [node.text or "" for node in nodes]


@RENDERS
@given(ARTICLES)
def test_article_text_reaches_every_feed_only_as_text(site: Site, fields: dict[str, Any]) -> None:
    article, text = loaded(site, **fields)
    made = publish(site, article, text)
    # Feeds name an author written "Ann <ann@example.org>" as "Ann".
    authors = [feeds.author_name(author) for author in article.authors]

    feed_files = {name: data for name, data in made.files.items() if name.endswith(".xml")}
    assert feed_files
    for name, data in feed_files.items():
        tree = lxml.etree.fromstring(data, XML)
        names = {lxml.etree.QName(e).localname for e in tree.iter() if isinstance(e.tag, str)}
        assert "script" not in names, name
        if name.endswith(feeds.RSS):
            (item,) = tree.findall("channel/item")
            assert read_as_html_when_it_looks_so(item.findtext("title")) == article.title
            assert texts(item.findall(f"{DC}creator")) == authors
            assert texts(item.findall("category")) == list(article.categories)
            # A reader decodes a description as HTML: the summary is HTML text, with no
            # "<" a reader could take for a tag, in the item and in the channel (whose
            # description names the category).
            for description in (item.findtext("description"), tree.findtext("channel/description")):
                assert description is not None and "<" not in description, name
            assert unescape(item.findtext("description") or "") == made.body.summary
            content = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
        else:
            (entry,) = tree.findall(f"{ATOM}entry")
            # Atom's text constructs are HTML (type="html"): the text escaped for it.
            title = entry.find(f"{ATOM}title")
            assert title is not None and title.get("type") == "html"
            assert unescape(title.text or "") == article.title
            assert texts(entry.findall(f"{ATOM}author/{ATOM}name")) == authors
            terms = [c.get("term") for c in entry.findall(f"{ATOM}category")]
            assert terms == list(article.categories)
            content = entry.findtext(f"{ATOM}content")
        assert content == made.body.html
    for name, data in made.files.items():
        if name.endswith(feeds.JSON_FEED):
            assert not set(b"<>&") & set(data), name  # safe inside an HTML page too
            (item,) = json.loads(data)["items"]
            assert item["title"] == article.title
            assert [a["name"] for a in item["authors"]] == authors
            assert item.get("tags", []) == list(article.categories)


@RENDERS
@given(ARTICLES)
@example(RIGHT_TO_LEFT_A)
def test_article_text_injects_no_markup_or_template_into_the_email(
    site: Site, fields: dict[str, Any]
) -> None:
    plain = plain_twin(site)
    article, text = loaded(site, **fields)
    email = publish(site, article, text).email

    for html, plain_html in ((email.html, plain.email.html), (email.web, plain.email.web)):
        tree = document(html)
        assert_runs_nothing(tree)
        assert shape(tree) == shape(document(plain_html))  # text changed no element
        (heading,) = tree.iter("h2")
        assert heading.text_content() == article.title  # shown literally, never evaluated
    # The text part wraps lines at 72 columns, between words or CJK characters: what a
    # wrap changes is only where the spaces and line breaks are.
    assert "".join(article.title.split()) in "".join(email.text.split())
    byline = ", ".join(article.authors)
    assert email.subject == f"Test Times: {article.title} by {byline} ({article.summary})"


@RENDERS
@given(ARTICLES)
@example(RIGHT_TO_LEFT_B)
def test_article_text_cannot_break_out_of_pages_or_card_metadata(
    site: Site, fields: dict[str, Any]
) -> None:
    article, text = loaded(site, **fields)
    plain = plain_twin(site, article)
    made = publish(site, article, text)
    url = permalink(site.config, article)
    meta = card_metadata(site.config, article, url, made.body.summary)
    expected = [
        (key, one)
        for key, value in [*meta.og.items(), *meta.twitter.items()]
        for one in ([value] if isinstance(value, str) else value)
    ]

    charset, *snippet = lxml.html.fragments_fromstring(
        made.files[f"social/{article.slug}.html"].decode()
    )
    assert charset.attrib == {"charset": "utf-8"}
    assert [(e.get("property") or e.get("name"), e.get("content")) for e in snippet] == expected
    assert {e.tag for e in snippet} == {"meta"}

    page = document(made.files[pages.page_path(site.config, url)])
    plain_url = permalink(site.config, plain.article)
    plain_page = document(plain.files[pages.page_path(site.config, plain_url)])
    assert_runs_nothing(page)
    assert shape(without_body(page)) == shape(without_body(plain_page))
    assert page.findtext("head/title") == f"{article.title} · Test Times"
    shown = [(e.get("property") or e.get("name"), e.get("content")) for e in page.iter("meta")]
    assert all(pair in shown for pair in expected)
    assert page.find("body/main/article/h1").text_content() == article.title

    for name in ("index.html", "digests/index.html"):
        tree = document(made.files[name])
        assert_runs_nothing(tree)
        assert shape(tree) == shape(document(plain.files[name])), name


def without_body(page: Any) -> Any:
    """*page* without the article's sanitised body (checked on its own above), keeping the
    title and the paragraphs of byline and categories."""
    article = page.find("body/main/article")
    title, *rest = list(article)
    assert title.tag == "h1"
    while rest and rest[0].tag == "p" and rest[0].get("class") == "meta":
        rest.pop(0)
    for child in rest:
        article.remove(child)
    return page


# --- the email message ------------------------------------------------------------------------

#: Any text at all, control characters included: a header must fold or refuse all of it.
ANYTHING = st.lists(FRAGMENTS | st.text(max_size=6), max_size=6).map("".join)


def parse_message(message: EmailMessage) -> EmailMessage:
    parsed = BytesParser(policy=default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def assert_headers_as_built(message: EmailMessage) -> EmailMessage:
    """*message*, written and read back, has exactly the headers it was built with, each
    one line once unfolded, and nothing that started a header of its own."""
    parsed = parse_message(message)
    assert [name.lower() for name in list(parsed)] == [name.lower() for name in list(message)]
    assert not parsed.defects
    for name, value in parsed.items():
        assert "\r" not in str(value) and "\n" not in str(value), (name, str(value))
    raw_head = message.as_bytes().split(b"\r\n\r\n", 1)[0]
    starts = [line.split(b":", 1)[0] for line in raw_head.split(b"\r\n") if line[:1] not in b" \t"]
    assert [s.decode().lower() for s in starts] == [name.lower() for name in list(message)]
    return parsed


@QUICK
@given(subject=ANYTHING, sender=ANYTHING, reply_to=ANYTHING, reader=ANYTHING, listed=ANYTHING)
def test_no_text_reaches_an_email_header_unfolded(
    subject: str, sender: str, reply_to: str, reader: str, listed: str
) -> None:
    letter = Letter(
        subject=subject,
        text="Hello\n",
        html="<p>Hello</p>\n",
        sender=formataddr((sender, "news@example.org")),
        reply_to=formataddr((reply_to, "editors@example.org")),
        list_id=f"{listed} <test-times.news.example.org>",
        domain="news.example.org",
    )
    try:
        message = build_message(
            letter,
            to=formataddr((reader, "reader@example.org")),
            unsubscribe_url=PERSONAL,
            unsubscribe_mailto="mailto:editors@example.org?subject=unsubscribe",
            message_id=message_id(
                "2025-05-01-0123456789", "reader@example.org", "news.example.org"
            ),
            date=NOW,
        )
    except SyndicateError:
        return  # refused: nothing is sent

    parsed = assert_headers_as_built(message)
    assert parsed["Subject"].lstrip(" ") == one_line(subject)
    for name, value, address in (
        ("From", sender, "news@example.org"),
        ("Reply-To", reply_to, "editors@example.org"),
        ("To", reader, "reader@example.org"),
    ):
        (mailbox,) = parsed[name].addresses
        assert mailbox.addr_spec == address
        if "=?" in value:  # an encoded-word in a name is header syntax (RFC 2047): decoded
            continue
        # The name as given, but for spaces and controls (folded, or kept inside an
        # encoded-word, where they can start no header).
        shown = "".join(one_line(mailbox.display_name).split())
        assert shown == "".join(one_line(value).split())


@RENDERS
@given(fields=ARTICLES, reader=ANYTHING)
def test_no_article_text_reaches_an_email_header_unfolded(
    site: Site, fields: dict[str, Any], reader: str
) -> None:
    article, text = loaded(site, **fields)
    email = publish(site, article, text).email
    config = site.config
    try:
        message = build_message(
            letter(config, email, PERSONAL),
            to=formataddr((reader, "reader@example.org")),
            unsubscribe_url=PERSONAL,
            unsubscribe_mailto=unsubscribe_mailto(config),
            message_id=message_id(email.digest.id, "reader@example.org", "news.example.org"),
            date=NOW,
        )
    except SyndicateError:
        return

    parsed = assert_headers_as_built(message)
    # Python's folder may break the line straight after "Subject:"; the parser then keeps
    # the space that starts the next line (the builder's own check allows for it too).
    assert parsed["Subject"].lstrip(" ") == one_line(email.subject)
    assert parsed["From"] == "Test Times <news@example.org>"
    assert "Bcc" not in parsed and "Cc" not in parsed


# --- the post fitter ------------------------------------------------------------------------

POST_URLS = st.sampled_from(
    [
        "https://x.co/a",
        "https://news.example.org/posts/post/",
        "https://example.com/" + "p" * 400,
        "http://例え.jp/パス",
        "https://example.com/a_(b)?q=1&r=2#frag",
    ]
)


@QUICK
@given(
    platform=st.sampled_from(PLATFORMS),
    limit=st.none() | st.integers(1, 4000),
    title=ANYTHING,
    summary=ANYTHING | st.text(max_size=3000),
    url=POST_URLS,
    categories=st.lists(ANYTHING, max_size=6),
    hashtags=st.integers(0, 8),
    suffix=st.sampled_from(["", "via @news@mastodon.social", "— The Daily 📰"]) | ANYTHING,
)
def test_a_fitted_post_always_fits_its_platform(
    platform: str,
    limit: int | None,
    title: str,
    summary: str,
    url: str,
    categories: list[str],
    hashtags: int,
    suffix: str,
) -> None:
    cap = LIMITS[platform] if limit is None else limit
    try:
        post = compose(
            platform,
            title=title,
            summary=summary,
            url=url,
            categories=categories,
            hashtags=hashtags,
            suffix=suffix,
            limit=limit,
        )
    except ValueError:
        # Only ever because the URL and the suffix alone do not fit.
        bare = "\n\n".join(part for part in (url, " ".join(suffix.split())) if part)
        assert not fits(platform, bare, cap)
        return

    assert post.limit == cap
    assert post.length == count(platform, post.text) <= cap
    assert fits(platform, post.text, cap)
    assert post.text.count(url) >= 1
    if platform == "bluesky":
        assert len(post.text.encode("utf-8")) <= BLUESKY_MAX_BYTES


# --- characters no feed can carry ------------------------------------------------------------


@settings(max_examples=30, deadline=None, report_multiple_bugs=False)
@example(field="title", character="\x01")
@example(field="html", character="\x01")
@given(
    field=st.sampled_from(["title", "author", "summary", "categories", "id", "body", "html"]),
    character=st.sampled_from(NOT_XML),
)
def test_a_control_character_in_article_text_is_a_diagnostic_not_a_crash(
    site: Site, field: str, character: str
) -> None:
    text = {
        "id": f"urn:x:{character}",
        "html": f"<p>&#{ord(character)};</p>",  # a reference the sanitiser turns into the character
    }.get(field, f"Hello {character} world")
    fields: dict[str, object] = {"title": "T", field: text}
    body = str(fields.pop("body", "")) + str(fields.pop("html", ""))
    article, diagnostics = load(site, front_matter(date="2025-05-01", **fields) + body)
    if article is None:
        assert [d for d in diagnostics if d.is_error]
        return
    publish(site, article, read_body(article))


def test_the_hostile_fragments_reach_the_loader_unrefused(site: Site) -> None:
    """The strategies are worth something only if hostile text loads: every fragment does."""
    for attack in ATTACKS:
        if attack.split():
            article, _ = loaded(site, title=attack, author=attack, summary=attack, body=attack)
            assert article.title == " ".join(attack.split())
