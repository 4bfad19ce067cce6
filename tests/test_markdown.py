"""Article bodies as published: CommonMark with GFM tables and strikethrough, sanitised,
with every link and image made absolute, the title heading dropped and a plain summary."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

import html5lib
import lxml.etree
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import NOW, REPO, SITE, MakePublication, article
from syndicate import markdown
from syndicate.config import load_config
from syndicate.content import load_articles, read_body
from syndicate.markdown import Rendered, render
from syndicate.pipeline import build, permalink

#: A site that lives below a path, so that site-root links have something to get wrong.
BLOG = SITE.replace('url = "https://news.example.org/"', 'url = "https://example.org/blog/"')
SITE_URL = "https://example.org/blog/"
#: Where ``content/post.md`` (slug "post") is published on BLOG.
POST = "https://example.org/blog/posts/post/"
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def rendered(
    publication: MakePublication,
    body: str,
    *,
    title: str = "Post",
    path: str = "content/post.md",
    others: Mapping[str, str] | None = None,
    **fields: str,
) -> Rendered:
    """*body* rendered as the article at *path*, among the *others* of its publication."""
    root = publication({path: article(title, body=body, **fields), **(others or {})}, BLOG)
    config = load_config(root)
    articles, diagnostics = load_articles(config)
    assert not [d for d in diagnostics if d.is_error], diagnostics
    links = {a.source.resolve(): permalink(config, a) for a in articles}
    post = next(a for a in articles if a.source.resolve() == (root / path).resolve())
    return render(read_body(post), post, permalink(config, post), config.site.url, links)


def body_html(publication: MakePublication, body: str, **options: str) -> str:
    return rendered(publication, body, **options).html


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def elements(markup: str) -> list[tuple[str, dict[str, str]]]:
    """Every start tag of *markup* with its attributes (entities decoded), in order."""
    parser = _Elements()
    parser.feed(markup)
    parser.close()
    return parser.found


def urls(markup: str) -> list[str]:
    """Every href, src and cite in *markup*, in order."""
    return [
        value
        for _, attributes in elements(markup)
        for name, value in attributes.items()
        if name in ("href", "src", "cite")
    ]


def assert_harmless(markup: str) -> None:
    """No element, attribute or URL in *markup* that could run code or load a frame."""
    for tag, attributes in elements(markup):
        assert tag not in {
            "script",
            "iframe",
            "frame",
            "style",
            "svg",
            "math",
            "object",
            "embed",
            "form",
            "input",
            "base",
            "meta",
            "link",
        }, markup
        for name, value in attributes.items():
            assert not name.startswith("on"), markup
            assert name not in ("style", "srcdoc", "formaction", "action"), markup
            assert "script" not in re.sub(r"\s", "", value).lower(), markup
    for url in urls(markup):
        assert url.startswith(SAFE_SCHEMES), markup


# --- the sanitiser: what never survives ------------------------------------------------

ATTACKS = {
    "script element": "<script>alert(1)</script>\n\nText.",
    "inline script": "Hello <script>alert(1)</script> world.",
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "srcdoc iframe": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "style element": "<style>body { display: none }</style>",
    "style attribute": '<p style="background:url(javascript:alert(1))">x</p>',
    "img onerror": "<img src=x onerror=alert(1)>",
    "img onerror, quoted": '<img src="x" onerror="alert(1)">',
    "svg onload": '<svg onload="alert(1)"><circle r="1"/></svg>',
    "script in svg": "<svg><script>alert(1)</script></svg>",
    "mathml link": '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "onclick": '<p onclick="alert(1)">click</p>',
    "onmouseover on a link": '<a href="https://example.com/" onmouseover="alert(1)">x</a>',
    "javascript: href": '<a href="javascript:alert(1)">x</a>',
    "mixed-case scheme": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "entity-encoded scheme": '<a href="&#106;avascript:alert(1)">x</a>',
    "hex entities": '<a href="&#x6A;&#x61;vascript:alert(1)">x</a>',
    "padded decimal entity": '<a href="&#0000106avascript:alert(1)">x</a>',
    "named colon entity": '<a href="javascript&colon;alert(1)">x</a>',
    "tab inside the scheme": '<a href="java&#x09;script:alert(1)">x</a>',
    "newline inside the scheme": '<img src="jav&#x0A;ascript:alert(1)">',
    "leading space": '<a href=" javascript:alert(1)">x</a>',
    "vbscript: href": '<a href="vbscript:msgbox(1)">x</a>',
    "data: href": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "data: image": "![pixel](data:image/png;base64,iVBORw0KGgo=)",
    "javascript: blockquote cite": '<blockquote cite="javascript:alert(1)">q</blockquote>',
    "markdown link": "[x](javascript:alert(1))",
    "markdown link, mixed case": "[x](JaVaScRiPt:alert(1))",
    "markdown link, angle brackets": "[x](<javascript:alert(1)>)",
    "markdown reference link": "[x]\n\n[x]: javascript:alert(1)",
    "markdown image": "![x](javascript:alert(1))",
    "markdown autolink": "<javascript:alert(1)>",
    "object and embed": '<object data="x.swf"></object><embed src="x.swf">',
    "form": '<form action="https://evil.example/"><input name="p"></form>',
    "base": '<base href="https://evil.example/">',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "stylesheet link": '<link rel="stylesheet" href="https://evil.example/x.css">',
}


@pytest.mark.parametrize("body", ATTACKS.values(), ids=ATTACKS.keys())
def test_nothing_that_runs_code_survives(publication: MakePublication, body: str) -> None:
    assert_harmless(body_html(publication, body))


def test_script_and_style_lose_their_content_too(publication: MakePublication) -> None:
    markup = body_html(publication, "Hello <script>alert(1)</script><style>p{}</style> world.")
    assert "alert" not in markup
    assert "p{}" not in markup
    assert "Hello" in markup
    assert "world." in markup


def test_a_dangerous_attribute_goes_and_its_element_stays(publication: MakePublication) -> None:
    assert body_html(publication, '<p onclick="alert(1)">click</p>') == "<p>click</p>\n"
    # The image had no alt text: it gets alt="" (see the repairs below).
    assert body_html(publication, "<img src=x onerror=alert(1)>") == f'<img alt="" src="{POST}x">\n'


def test_a_link_with_a_dangerous_url_keeps_its_text(publication: MakePublication) -> None:
    markup = body_html(publication, 'See <a href="JaVaScRiPt:alert(1)">this</a>.')
    # Its URL goes, and the <a> left without href (no link) goes with it: the text stays.
    assert markup == "<p>See this.</p>\n"


def test_a_link_that_is_no_url_goes_quietly(
    publication: MakePublication, capfd: pytest.CaptureFixture[str]
) -> None:
    # urlsplit() raises on "//[" (an IPv6 address never closed): the attribute goes, and
    # nothing is printed (a callback of the sanitiser that raised would print a traceback).
    markup = body_html(publication, 'A <a href="//[oops">link</a> and <img src="//[::1" alt="i">')
    assert elements(markup) == [("p", {}), ("img", {"alt": "i"})]
    assert "A link and" in markup
    assert capfd.readouterr().err == ""


def test_a_markdown_link_to_javascript_is_not_a_link(publication: MakePublication) -> None:
    markup = body_html(publication, "[x](javascript:alert(1))")
    # Like the raw <a> above: the text stays, the URL goes (an <a> without href is no link).
    assert markup == "<p>x</p>\n"


def test_a_site_root_link_whose_path_reads_as_a_scheme_stays_on_the_site(
    publication: MakePublication,
) -> None:
    # "/javascript:alert(1)" is a path on the site; without its "/" it would read as a URL
    # of the scheme "javascript".
    markup = body_html(publication, "[x](/javascript:alert(1)) [y](/data:text/html,x)")
    assert urls(markup) == [f"{SITE_URL}javascript:alert(1)", f"{SITE_URL}data:text/html,x"]


def test_only_a_language_class_on_code_survives(publication: MakePublication) -> None:
    markup = body_html(
        publication,
        '<code class="language-python">a</code> <code class="evil">b</code> '
        '<code class="language-python evil">c</code> <p class="language-python">d</p> '
        '<span class="x">e</span>',
    )
    assert [(tag, a) for tag, a in elements(markup) if a] == [
        ("code", {"class": "language-python"})
    ]


def test_table_cells_keep_only_their_alignment(publication: MakePublication) -> None:
    markup = body_html(
        publication, '<table><tr><td style="color:red; text-align: right">1</td></tr></table>'
    )
    assert markup == '<table><tbody><tr><td style="text-align:right">1</td></tr></tbody></table>\n'


# --- what the sanitiser leaves broken is mended, for every output ------------------------

REPAIRED = (
    'An <a name="top">old anchor</a>, a <a href="javascript:go()">script link</a>, '
    '<img src="https://img.example.org/a.png"> and '
    '<img src="https://img.example.org/b.png" title="A stall">.'
)


def test_a_link_left_without_href_is_its_text_and_an_image_gets_alt_text(
    publication: MakePublication,
) -> None:
    root = publication({"content/post.md": article("Post", body=REPAIRED)}, BLOG)
    config = load_config(root)
    [post], _ = load_articles(config)
    url = permalink(config, post)
    markup = render(read_body(post), post, url, config.site.url).html
    assert markup == (
        '<p>An old anchor, a script link, <img alt="" src="https://img.example.org/a.png"> '
        'and <img alt="A stall" src="https://img.example.org/b.png" title="A stall">.</p>\n'
    )
    # Mended once: the sanitiser and the repairs give it back as it is (the build cache
    # sanitises what it reads back again).
    assert markdown.repaired(markup) == markup
    assert markdown.resanitise(markup, post, url, config.site.url) == markup


def test_feeds_and_emails_get_the_mended_html_too(publication: MakePublication) -> None:
    config = SITE + '[email]\nfrom = "News <news@example.org>"\nmode = "article"\n'
    root = publication({"content/a.md": article("A", body=REPAIRED)}, config)
    report = build(root, NOW)
    [email] = report.due
    out = root / "feeds"
    shown = {
        "rss": lxml.etree.fromstring((out / "rss.xml").read_bytes()).findtext(
            "channel/item/{http://purl.org/rss/1.0/modules/content/}encoded"
        ),
        "atom": lxml.etree.fromstring((out / "atom.xml").read_bytes()).findtext(
            "{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content"
        ),
        "json": json.loads((out / "feed.json").read_bytes())["items"][0]["content_html"],
        "email": email.html,
    }
    for where, markup in shown.items():
        found = elements(markup or "")
        links = [attributes for tag, attributes in found if tag == "a"]
        assert all("href" in attributes for attributes in links), where
        alts = [attributes.get("alt") for tag, attributes in found if tag == "img"]
        assert alts[-2:] == ["", "A stall"], where


# --- what ordinary writing keeps ----------------------------------------------------------

KEPT = {
    "emphasis": (
        "**bold** _italic_ `code` and a  \nbreak",
        "<p><strong>bold</strong> <em>italic</em> <code>code</code> and a<br>\nbreak</p>\n",
    ),
    "headings": ("## Two\n\n### Three", "<h2>Two</h2>\n<h3>Three</h3>\n"),
    "lists": (
        "- a\n- b\n\n3. c\n4. d",
        '<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>\n',
    ),
    "blockquote": (
        "> Quoted *text*.",
        "<blockquote>\n<p>Quoted <em>text</em>.</p>\n</blockquote>\n",
    ),
    "rule": ("a\n\n---\n\nb", "<p>a</p>\n<hr>\n<p>b</p>\n"),
    "fenced code with a language": (
        '```python\nprint("<hi>")\n```',
        '<pre><code class="language-python">print("&lt;hi&gt;")\n</code></pre>\n',
    ),
    "fenced code with more on the info line": (
        "```python {.numbers}\nx = 1\n```",
        '<pre><code class="language-python">x = 1\n</code></pre>\n',
    ),
    "fenced code without a language": ("```\nplain\n```", "<pre><code>plain\n</code></pre>\n"),
    "indented code": ("    indented", "<pre><code>indented\n</code></pre>\n"),
    "image with alt text and title": (
        '![A red bicycle](https://img.example/bike.jpg "Bike")',
        '<p><img src="https://img.example/bike.jpg" alt="A red bicycle" title="Bike"></p>\n',
    ),
    "link with a title": (
        '[docs](https://docs.example/ "The docs")',
        '<p><a href="https://docs.example/" title="The docs" rel="noopener noreferrer">docs</a>'
        "</p>\n",
    ),
    "inline html formatting": (
        "H<sub>2</sub>O and <kbd>Ctrl</kbd>",
        "<p>H<sub>2</sub>O and <kbd>Ctrl</kbd></p>\n",
    ),
    "escaped text": ("1 < 2 & 3 > 2", "<p>1 &lt; 2 &amp; 3 &gt; 2</p>\n"),
}


@pytest.mark.parametrize(("body", "expected"), KEPT.values(), ids=KEPT.keys())
def test_ordinary_formatting_survives(
    publication: MakePublication, body: str, expected: str
) -> None:
    assert body_html(publication, body) == expected


def test_gfm_tables_keep_their_alignment(publication: MakePublication) -> None:
    body = "| Left | Centre | Right | None |\n|:-----|:------:|------:|------|\n| a | b | c | d |"
    assert body_html(publication, body) == (
        "<table>\n<thead>\n<tr>\n"
        '<th style="text-align:left">Left</th>\n'
        '<th style="text-align:center">Centre</th>\n'
        '<th style="text-align:right">Right</th>\n'
        "<th>None</th>\n"
        "</tr>\n</thead>\n<tbody>\n<tr>\n"
        '<td style="text-align:left">a</td>\n'
        '<td style="text-align:center">b</td>\n'
        '<td style="text-align:right">c</td>\n'
        "<td>d</td>\n"
        "</tr>\n</tbody>\n</table>\n"
    )


def test_gfm_strikethrough(publication: MakePublication) -> None:
    # GFM: one tilde or two, as on GitHub; three is a code fence's marker, not a strike.
    markup = body_html(publication, "~~gone~~ and ~single~ but ~~~three~~~")
    assert markup == "<p><del>gone</del> and <del>single</del> but ~~~three~~~</p>\n"


# --- links and images become absolute -----------------------------------------------------

LINKS = {
    "sibling page": ("[x](../other/)", f"{SITE_URL}posts/other/"),
    "file of a sibling page": ("![x](../other/img.png)", f"{SITE_URL}posts/other/img.png"),
    "two folders up": ("[x](../../about/)", f"{SITE_URL}about/"),
    "file next to the article": ("![x](img.png)", f"{POST}img.png"),
    "file in a sub-folder": ("![x](media/img.png)", f"{POST}media/img.png"),
    "fragment": ("[x](#section)", f"{POST}#section"),
    "query": ("[x](?page=2)", f"{POST}?page=2"),
    "site root, under the site's path": ("![x](/assets/x.png)", f"{SITE_URL}assets/x.png"),
    "site root with a fragment": ("[x](/about/#team)", f"{SITE_URL}about/#team"),
    "protocol-relative": ("![x](//cdn.example/x.png)", "https://cdn.example/x.png"),
    "https": ("[x](https://example.com/a?b=c#d)", "https://example.com/a?b=c#d"),
    "http": ("[x](http://example.com/)", "http://example.com/"),
    "mailto": ("[x](mailto:editor@example.org)", "mailto:editor@example.org"),
    "upper-case scheme": ("[x](HTTPS://example.com/)", "HTTPS://example.com/"),
    "autolink": ("<https://example.com/>", "https://example.com/"),
    "raw html": ('<a href="../other/">x</a>', f"{SITE_URL}posts/other/"),
    "raw html image": ('<img src="img.png" alt="x">', f"{POST}img.png"),
    "blockquote cite": ('<blockquote cite="/sources/">q</blockquote>', f"{SITE_URL}sources/"),
}


@pytest.mark.parametrize(("body", "expected"), LINKS.values(), ids=LINKS.keys())
def test_links_and_images_are_absolute(
    publication: MakePublication, body: str, expected: str
) -> None:
    assert urls(body_html(publication, body)) == [expected]


def test_site_root_links_on_a_site_at_the_host_root(publication: MakePublication) -> None:
    root = publication({"content/post.md": article("Post", body="![x](/assets/x.png)")})
    config = load_config(root)
    [post], _ = load_articles(config)
    markup = render(read_body(post), post, permalink(config, post), config.site.url, {}).html
    assert urls(markup) == ["https://news.example.org/assets/x.png"]


OTHERS = {
    "content/other.md": article("Other", slug="elsewhere"),
    "content/notes/note.md": article("A note"),
    "content/notes/other.md": article("Other note"),
    "content/notes/my post.md": article("Spaced", slug="spaced"),
}

SOURCE_LINKS = {
    "same folder": ("content/post.md", "[x](other.md)", f"{SITE_URL}posts/elsewhere/"),
    "same folder, ./": ("content/post.md", "[x](./other.md)", f"{SITE_URL}posts/elsewhere/"),
    "sub-folder": ("content/post.md", "[x](notes/note.md)", f"{SITE_URL}posts/note/"),
    "keeps the fragment": (
        "content/post.md",
        "[x](other.md#part-2)",
        f"{SITE_URL}posts/elsewhere/#part-2",
    ),
    "parent folder": (
        "content/essays/post.md",
        "[x](../notes/other.md)",
        f"{SITE_URL}posts/other/",
    ),
    "parent folder with a fragment": (
        "content/essays/post.md",
        "[x](../notes/other.md#top)",
        f"{SITE_URL}posts/other/#top",
    ),
    "percent-encoded name": (
        "content/post.md",
        "[x](notes/my%20post.md)",
        f"{SITE_URL}posts/spaced/",
    ),
    "raw html": ("content/post.md", '<a href="other.md">x</a>', f"{SITE_URL}posts/elsewhere/"),
}


@pytest.mark.parametrize(
    ("path", "body", "expected"), SOURCE_LINKS.values(), ids=SOURCE_LINKS.keys()
)
def test_a_link_to_an_article_file_becomes_its_permalink(
    publication: MakePublication, path: str, body: str, expected: str
) -> None:
    markup = body_html(publication, body, path=path, others=OTHERS)
    assert urls(markup) == [expected]


def test_a_link_to_a_markdown_file_that_is_no_article_stays_relative(
    publication: MakePublication,
) -> None:
    markup = body_html(publication, "[x](missing.md)", others=OTHERS)
    assert urls(markup) == [f"{POST}missing.md"]


# --- the title heading ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "heading"),
    [
        ("Post", "# Post"),
        ("Post", "Post\n===="),
        ("Post", "#   post!"),
        ("Q & A", "# Q &amp; A"),
        ("Rust in production", "# Rust in *production*"),
    ],
)
def test_a_leading_h1_that_repeats_the_title_is_dropped(
    publication: MakePublication, title: str, heading: str
) -> None:
    assert body_html(publication, f"{heading}\n\nText.", title=title) == "<p>Text.</p>\n"


def test_a_leading_h1_that_differs_from_the_title_is_kept(publication: MakePublication) -> None:
    markup = body_html(publication, "# Something else\n\nText.", title="Post")
    assert markup == "<h1>Something else</h1>\n<p>Text.</p>\n"


def test_only_a_leading_h1_is_dropped(publication: MakePublication) -> None:
    markup = body_html(publication, "Text.\n\n# Post", title="Post")
    assert markup == "<p>Text.</p>\n<h1>Post</h1>\n"


def test_a_leading_h2_with_the_title_is_kept(publication: MakePublication) -> None:
    markup = body_html(publication, "## Post\n\nText.", title="Post")
    assert markup == "<h2>Post</h2>\n<p>Text.</p>\n"


# --- the summary ----------------------------------------------------------------------------


def summary(publication: MakePublication, body: str, **options: str) -> str:
    return rendered(publication, body, **options).summary


def test_the_summary_is_the_first_paragraph(publication: MakePublication) -> None:
    assert summary(publication, "First paragraph.\n\nSecond paragraph.") == "First paragraph."


def test_the_summary_is_plain_text(publication: MakePublication) -> None:
    body = (
        "Some **bold**, _italic_, `code`, a [link](https://example.com/), "
        "<b>raw</b> html\nand a soft break."
    )
    assert summary(publication, body) == (
        "Some bold, italic, code, a link, raw html and a soft break."
    )


def test_the_summary_decodes_entities(publication: MakePublication) -> None:
    body = "Fish &amp; chips &lt;b&gt; &copy; &#8212; caf&eacute; 1 < 2"
    text = summary(publication, body)
    assert text == "Fish & chips <b> © — café 1 < 2"
    assert text == html.unescape(text)


def test_the_summary_skips_the_title_heading(publication: MakePublication) -> None:
    assert summary(publication, "# Post\n\nThe start.\n\nMore.", title="Post") == "The start."


def test_the_summary_skips_what_has_no_text(publication: MakePublication) -> None:
    body = "![a picture](a.png)\n\n<div><p>Raw block.</p></div>\n\nThe real start."
    assert summary(publication, body) == "The real start."


def test_the_summary_of_a_body_without_paragraphs_is_empty(publication: MakePublication) -> None:
    assert summary(publication, "```\ncode only\n```") == ""


def test_the_front_matter_summary_wins(publication: MakePublication) -> None:
    text = summary(publication, "First paragraph.", summary="Written by hand.")
    assert text == "Written by hand."


def test_the_summary_has_no_script_or_style_text(publication: MakePublication) -> None:
    body = "Hello <script>alert(1)</script><style>p{}</style> world."
    assert summary(publication, body) == "Hello world."


def test_the_summary_of_an_article_in_a_folder_is_plain_too(publication: MakePublication) -> None:
    text = summary(publication, "See [the note](../notes/note.md).", path="content/a/post.md")
    assert text == "See the note."


def test_rendering_needs_no_links(publication: MakePublication) -> None:
    root = publication({"content/post.md": article("Post", body="[x](other.md)")}, BLOG)
    config = load_config(root)
    [post], _ = load_articles(config)
    assert urls(render(read_body(post), post, POST, SITE_URL).html) == [f"{POST}other.md"]


# --- bounds on what a hostile body makes (linear in its size) -------------------------------

#: Tags and text of every kind that nests, closes, or is closed without an end tag, with
#: quoted ">" and "<" in attributes, comments and names HTML lowercases only in ASCII.
SOUP = st.sampled_from(
    [
        *("<div>", "</div>", "<p>", "</p>", "<li>", "</li>", "<ul>", "</ul>", "<dd>", "<dt>"),
        *("<b>", "</b>", "<i>", "</i>", "<a href=x>", "</a>", "<em>", "</em >", "<B>", "<U>"),
        *("<table>", "</table>", "<tr>", "<td>", "</td>", "</tr>", "<caption>", "<tbody>"),
        *("<blockquote>", "</blockquote>", "<select>", "<option>", "<template>", "<svg>"),
        *("<span title='>'>", '<em title="<div>">', "<!-- <div> -->", "<br>", "<img src=x>"),
        *("<div/>", "<p/>", "<\u212a>", "</k>", "<textarea>", "<script>", "text", "\n"),
        *("<object>", "<button>", "<nobr>", "<font color=x>", "<b id=1>", "<b id=2>", "<h1>"),
        *("<ruby>", "<rt>", "<pre>", "<form>", "<iframe>", "<image>", "<math>", "<mi>"),
        *("<foreignObject>", "<desc>", "<annotation-xml encoding='text/html'>", "</svg>"),
    ]
)


def depth(node: Any) -> int:
    """How deep elements are nested in an html5lib tree."""
    deepest, todo = 0, [(node, 0)]
    while todo:
        element, level = todo.pop()
        deepest = max(deepest, level)
        todo.extend((child, level + 1) for child in element)
    return deepest


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(SOUP, st.integers(1, 60)), max_size=30))
def test_no_element_the_sanitiser_parses_is_nested_far_past_the_bound(
    pieces: list[tuple[str, int]],
) -> None:
    # html5lib builds the tree as html5ever, the sanitiser's parser, does (HTML's own
    # algorithm): what it is given is never much deeper than the bound.
    soup = "".join(piece * times for piece, times in pieces)
    bounded = markdown.bounded_depth(soup, limit=16)
    assert depth(html5lib.parse(bounded, namespaceHTMLElements=False)) <= 2 * 16 + 8


def test_hostile_nesting_is_cut_to_the_bound_and_keeps_its_text() -> None:
    for body in ("> " * 10_000 + "deep", "<div>" * 10_000 + "deep", "*" * 9_999 + "deep"):
        html = markdown.bounded_depth(markdown.to_html(body))
        assert depth(html5lib.parse(html, namespaceHTMLElements=False)) <= markdown.MAX_DEPTH + 4
        assert "deep" in html


def test_the_example_articles_are_not_touched_by_the_bounds() -> None:
    for path in sorted((REPO / "content").glob("*.md")):
        body = path.read_text().split("---", 2)[2]
        render_raw, options = markdown._comrak()
        assert markdown.to_html(body) == markdown._ALIGN.sub(
            r'<\1 style="text-align:\2">', render_raw(body, **options)
        )


@settings(max_examples=60, deadline=None)
@example(columns=313, rows=642, written=1, tables=1)  # more rows than columns, each "|x|"
@given(
    columns=st.integers(1, 3000),
    rows=st.integers(0, 3000),
    written=st.integers(0, 4),
    tables=st.integers(1, 4),
)
def test_tables_never_add_more_empty_cells_than_the_bound(
    columns: int, rows: int, written: int, tables: int
) -> None:
    # comrak fills each row up to the delimiter row's columns: a long delimiter row over
    # short rows would make the output the square of the input.
    table = "|a" * columns + "|\n" + "|-" * columns + "|\n" + ("|x" * written + "|\n") * rows
    html = markdown.to_html("\n".join([table] * tables))
    cells = html.count("<td")
    assert cells <= markdown.MAX_ADDED_CELLS + written * rows * tables


def test_an_ordinary_table_is_still_a_table() -> None:
    html = markdown.to_html("| a | b |\n|---|:-:|\n| 1 | 2 |\n| 3 |\n")
    assert html.count("<td") == 4 and "<table" in html
