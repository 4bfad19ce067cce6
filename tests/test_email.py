"""The email digest: MJML rendered to HTML that survives Gmail, Outlook and Apple Mail."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from conftest import NOW, SITE, MakePublication, article, example_copy
from syndicate.config import load_config
from syndicate.email.headers import message_id
from syndicate.email.message import build_message
from syndicate.email.render import (
    MAX_HTML_BYTES,
    UNSUBSCRIBE,
    RenderedDigest,
    letter,
    personalize,
    unsubscribe_mailto,
)
from syndicate.errors import RenderError
from syndicate.pipeline import build

EMAIL = (
    SITE
    + '\n[email]\nfrom = "Test Times <news@example.org>"\n'
    + 'address = "1 Example Street, Springfield"\n'
    + 'unsubscribe_url = "https://news.example.org/u?e={email}&t={token}"\n'
)


class Links(HTMLParser):
    """Every tag, and every URL in href and src attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.urls.append(value)


def parse(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


def email_of(root: Path) -> RenderedDigest:
    report = build(root, NOW)
    [email] = report.due
    return email


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RenderedDigest]:
    root = example_copy(tmp_path_factory.mktemp("example") / "example")
    return root, email_of(root)


# --- the example publication's digest ---------------------------------------------


def test_every_article_is_in_the_digest_with_its_permalink(
    example: tuple[Path, RenderedDigest],
) -> None:
    _, email = example
    assert len(email.digest.articles) == 7
    for piece in (email.html, email.web, email.text):
        for item in email.digest.articles:
            assert escape(item.title) in piece or item.title in piece
            assert f"https://syndicate-news.github.io/syndicate/posts/{item.slug}/" in piece


def test_the_digest_is_safe_and_every_url_is_absolute(
    example: tuple[Path, RenderedDigest],
) -> None:
    _, email = example
    for html in (email.html, email.web):
        links = parse(html)
        assert "script" not in {tag for tag, _ in links.tags}
        assert not [a for _, attrs in links.tags for a in attrs if a.startswith("on")]
        assert "javascript:" not in html.lower()
        assert links.urls
        assert [u for u in links.urls if not u.startswith(("https://", "mailto:"))] == []
        assert not [u for u in links.urls if u.lower().split("?")[0].endswith((".webp", ".svg"))]


def test_the_example_digest_images_are_converted_and_published(
    example: tuple[Path, RenderedDigest],
) -> None:
    root, email = example
    images = [u for u in parse(email.html).urls if "/email/" in u and "images" in u]
    assert images, "article images appear in the email"
    for url in images:
        path = root / "feeds" / url.removeprefix("https://syndicate-news.github.io/syndicate/")
        assert path.suffix in (".jpg", ".png") and path.is_file(), url


def test_the_digest_fits_under_gmails_clipping_size(example: tuple[Path, RenderedDigest]) -> None:
    _, email = example
    assert len(email.html.encode("utf-8")) < MAX_HTML_BYTES


def test_the_head_declares_dark_mode_and_the_preheader(
    example: tuple[Path, RenderedDigest],
) -> None:
    _, email = example
    assert '<meta name="color-scheme" content="light dark"' in email.html
    assert '<meta name="supported-color-schemes" content="light dark"' in email.html
    assert "prefers-color-scheme: dark" in email.html
    assert email.preheader and escape(email.preheader) in email.html
    assert "<!--[if mso" in email.html  # Outlook's conditional comments survive


def test_the_email_has_personal_links_and_the_web_version_none(
    example: tuple[Path, RenderedDigest],
) -> None:
    _, email = example
    assert UNSUBSCRIBE in email.html and UNSUBSCRIBE in email.text
    assert email.web_url in email.html and email.web_url in email.text
    assert UNSUBSCRIBE not in email.web and "Unsubscribe" not in email.web
    html, text = personalize(email, "https://x.example/u?e=a%40b.org&t=1")
    assert 'href="https://x.example/u?e=a%40b.org&amp;t=1"' in html
    assert "Unsubscribe: https://x.example/u?e=a%40b.org&t=1" in text
    assert UNSUBSCRIBE not in html + text


def test_the_footer_says_why_and_where(example: tuple[Path, RenderedDigest]) -> None:
    _, email = example
    assert "You receive this email because you subscribed to" in email.html
    assert "Jl. Jend. Sudirman 1, Jakarta 10220, Indonesia" in email.html
    assert "Jl. Jend. Sudirman 1, Jakarta 10220, Indonesia" in email.text


def test_the_plain_text_part_reads_on_its_own(example: tuple[Path, RenderedDigest]) -> None:
    _, email = example
    assert "<" not in email.text.replace("<escaped>", "")
    assert email.text.startswith("Syndicate Dispatch\n")
    assert "Read more: https://syndicate-news.github.io/syndicate/posts/" in email.text
    assert all(len(line) <= 100 for line in email.text.splitlines() if "https://" not in line)


def test_the_subject_comes_from_the_config_template(example: tuple[Path, RenderedDigest]) -> None:
    _, email = example
    assert email.subject == (
        "Syndicate Dispatch: Building a Newsletter From a Folder of Markdown and 6 more"
    )


def test_dates_are_written_for_the_site_language(publication: MakePublication) -> None:
    root = publication(
        {"content/a.md": article("A", "2025-08-18T18:39:54Z")},
        EMAIL.replace("[site]\n", '[site]\nlanguage = "id"\ntimezone = "Asia/Jakarta"\n'),
    )
    email = email_of(root)
    assert "19 Agustus 2025" in email.html  # 01:39 on the 19th in Jakarta, in Indonesian


def test_the_web_version_archive_and_landing_page(example: tuple[Path, RenderedDigest]) -> None:
    root, email = example
    web = root / "feeds/digests" / email.digest.id / "index.html"
    assert web.read_text() == email.web
    archive = (root / "feeds/digests/index.html").read_text()
    assert f'href="{email.web_url}"' in archive
    assert "next to go out" in archive
    landing = (root / "feeds/index.html").read_text()
    assert f'href="{email.web_url}"' in landing
    assert 'href="https://syndicate-news.github.io/syndicate/digests/"' in landing


# --- hostile article text ------------------------------------------------------


HOSTILE = '"</mj-text><mj-raw><script>alert(1)</script></mj-raw> {{ 7*7 }} {% raw %} & <b>"'


def test_article_text_shows_literally_and_injects_nothing(publication: MakePublication) -> None:
    root = publication(
        {
            "content/a.md": article(
                HOSTILE, author="'<img src=x onerror=alert(1)>'", summary=HOSTILE
            )
        },
        EMAIL,
    )
    email = email_of(root)
    for html in (email.html, email.web):
        tags = {tag for tag, _ in parse(html).tags}
        assert not {"script", "mj-raw", "mj-text", "b"} & tags
        assert "onerror" not in [a for _, attrs in parse(html).tags for a in attrs]
        assert "&lt;/mj-text&gt;&lt;mj-raw&gt;&lt;script&gt;" in html
        assert "{{ 7*7 }}" in html and "49" not in re.sub(r"#[0-9a-fA-F]{3,6}", "", html)
    assert HOSTILE.strip('"') in " ".join(email.text.split())  # lines wrapped at 72
    assert email.subject == f"Test Times: {HOSTILE.strip(chr(34))}"


#: Characters mjml-python rewrites in attributes (see tests/test_standards_email.py): emoji
#: sequences with zero-width joiners and a variation selector, a backslash, an Arabic vowel
#: mark, a zero-width non-joiner (Persian), a soft hyphen.
FRAGILE = "👨\u200d👩\u200d👧 🏳\ufe0f\u200d🌈 C:\\path مَكتبة می\u200cخواهم hy\u00adphen"


def test_every_character_reaches_the_emails_attributes_as_it_is(
    publication: MakePublication,
) -> None:
    """In the image's alt text, in the article's own markup, and in the title MJML copies
    into the email's ``aria-label``."""
    body = (
        f'<p><img src="https://cdn.example.org/a.jpg" alt="{FRAGILE}"> '
        f'<a href="https://example.org/" title="{FRAGILE}">a link</a></p>'
    )
    root = publication(
        {"content/a.md": article(f"'{FRAGILE}'", body=body, image="https://cdn.example.org/b.jpg")},
        EMAIL + 'mode = "article"\nsubject = "{{ articles[0].title }}"\n',
    )
    tags = parse(email_of(root).html).tags
    assert [attrs["alt"] for tag, attrs in tags if tag == "img"] == [FRAGILE, FRAGILE]
    assert [attrs["title"] for tag, attrs in tags if tag == "a" and "title" in attrs] == [FRAGILE]
    assert [attrs["aria-label"] for _, attrs in tags if "aria-label" in attrs] == [FRAGILE]


def test_line_breaks_in_the_subject_template_output_are_folded(
    publication: MakePublication,
) -> None:
    config = EMAIL + 'subject = "{{ articles[0].title }}\\r\\nBcc: victim@example.org"\n'
    root = publication({"content/a.md": article("Hello")}, config)
    assert email_of(root).subject == "Hello Bcc: victim@example.org"


def test_a_broken_mjml_template_is_reported_by_name(publication: MakePublication) -> None:
    root = publication(
        {
            "content/a.md": article(),
            "templates/email/digest.mjml.j2": "<mjml><mj-body><mj-section>{{ items|length }}",
        },
        EMAIL,
    )
    with pytest.raises(RenderError, match=r"^email/digest\.mjml\.j2: MJML error"):
        build(root, NOW)


def test_a_subject_template_error_names_the_setting(publication: MakePublication) -> None:
    root = publication({"content/a.md": article()}, EMAIL + 'subject = "{{ nothing.here }}"\n')
    with pytest.raises(RenderError, match=r"syndicate\.toml: email\.subject: .*nothing"):
        build(root, NOW)


# --- size, images ---------------------------------------------------------------------


def test_an_oversized_digest_gets_shorter_summaries_and_a_warning(
    publication: MakePublication,
) -> None:
    long = "word " * 2000
    files = {
        f"content/a{n}.md": article(f"Article {n}", f"2025-01-{n + 1:02}", summary=f"'{long}'")
        for n in range(10)
    }
    root = publication(files, EMAIL)
    report = build(root, NOW)
    [email] = report.due
    assert len(email.html.encode("utf-8")) <= MAX_HTML_BYTES
    assert any("summaries shortened" in d.message for d in report.diagnostics)


def test_a_missing_or_broken_image_is_left_out_with_a_warning(
    publication: MakePublication,
) -> None:
    root = publication(
        {
            "content/a.md": article("A", image="/gone.png"),
            "content/b.md": article("B", image="/broken.png"),
            "static/broken.png": "not an image",
        },
        EMAIL,
    )
    report = build(root, NOW)
    [email] = report.due
    assert "gone.png" not in email.html and "broken.png" not in email.html
    messages = [d.format(relative_to=root) for d in report.diagnostics]
    assert any(
        m.startswith("content/b.md:4: warning: image: left out of the email") for m in messages
    )
    assert any(m.startswith("content/a.md:4: warning: image:") for m in messages)


def test_a_remote_image_is_used_as_it_is(publication: MakePublication) -> None:
    url = "https://cdn.example.org/pictures/a.jpg"
    root = publication({"content/a.md": article("A", image=url)}, EMAIL)
    assert f'src="{url}"' in email_of(root).html


def test_article_mode_sends_each_article_whole(publication: MakePublication) -> None:
    body = "First paragraph.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint('x')\n```\n"
    root = publication(
        {
            "content/a.md": article("One", "2025-01-01", body),
            "content/b.md": article("Two", "2025-01-02", "Second [link](../one/)."),
        },
        EMAIL + 'mode = "article"\n',
    )
    report = build(root, NOW)
    one, two = sorted(report.due, key=lambda e: e.digest.date)
    assert "<table>" in one.html and '<code class="language-python">' in one.html
    # The plain-text part is the article as text: the table in columns, the code as it is,
    # the link absolute.
    assert "a  b\n-  -\n1  2" in one.text and "    print('x')" in one.text
    assert "|---|" not in one.text and "```" not in one.text
    assert "Second link (https://news.example.org/posts/one/)." in two.text
    assert 'href="https://news.example.org/posts/one/"' in two.html
    assert one.digest.id != two.digest.id
    assert (root / "feeds/digests" / one.digest.id / "index.html").is_file()


def test_the_digest_becomes_a_mime_message_that_parses_back(
    example: tuple[Path, RenderedDigest],
) -> None:
    root, email = example
    config = load_config(root)
    personal = "https://syndicate-news.github.io/syndicate/unsubscribe/?email=a%40b.org&token=t"
    message = build_message(
        letter(config, email, personal),
        to="Reader <reader@example.org>",
        unsubscribe_url=personal,
        unsubscribe_mailto=unsubscribe_mailto(config),
        message_id=message_id(email.digest.id, "reader@example.org", "syndicate-news.github.io"),
        date=NOW,
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == email.subject
    assert parsed["From"] == "Syndicate Dispatch <dispatch@syndicate-news.example>"
    assert parsed["Reply-To"] == "Syndicate Dispatch Editors <editors@syndicate-news.example>"
    assert parsed["To"] == "Reader <reader@example.org>"
    assert parsed["Date"] == "Thu, 01 Jan 2026 12:00:00 +0000"
    assert parsed["Message-ID"].endswith("@syndicate-news.github.io>")
    assert parsed["List-Id"] == "Syndicate Dispatch <syndicate-dispatch.syndicate-news.github.io>"
    assert parsed["List-Unsubscribe"] == (
        f"<{personal}>, <mailto:editors@syndicate-news.example?subject=unsubscribe>"
    )
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert personal in text.get_content()
    assert personal.replace("&", "&amp;") in html.get_content()
    assert "unsubscribe.invalid" not in text.get_content() + html.get_content()
