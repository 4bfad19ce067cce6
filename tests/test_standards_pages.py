"""Issue 26, targets 4, 5 and 7: the pages syndicate writes, by the Nu HTML Checker and
axe-core, and the card metadata platforms read.  With the list service (issue 25): the
sign-up form on the landing and article pages, and the service's own pages.

Pages: every article page, the landing page, the digest archive, every digest's web version
and the ``preview`` page, on the example and the stress publication (in article mode, the
newsletter's pages again).  vnu (npm's ``vnu-jar``) reports no error on any of them, and
axe-core, run in Chromium in light and dark mode, no violation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree, html

from checkers import Finding
from checkers.sites import LIST, NAMES, SERVICE_PAGES, Site, by_file
from service_support import SERVICE_URL


def errors(findings: list[Finding], site: Site) -> dict[str, list[str]]:
    pages = {site.label(path) for path in site.pages()}
    assert len(pages) >= 4, "article pages, the landing page, the archive, a digest"
    return {
        page: [str(f) for f in found if f.level == "error"]
        for page, found in by_file(findings).items()
        if page in pages and any(f.level == "error" for f in found)
    }


# --- target 4: valid and accessible ---------------------------------------------------------


@pytest.mark.parametrize("name", [*NAMES, LIST])
def test_every_page_has_no_error_by_the_nu_html_checker(
    name: str, page_verdicts: list[Finding], sites: Callable[[str], Site]
) -> None:
    found = errors(page_verdicts, sites(name))
    assert found == {}, "\n".join(line for lines in found.values() for line in lines)


@pytest.mark.parametrize("name", [*NAMES, LIST])
def test_every_page_has_no_axe_violation_in_light_or_dark_mode(
    name: str, accessibility_verdicts: list[Finding], sites: Callable[[str], Site]
) -> None:
    found = errors(accessibility_verdicts, sites(name))
    assert found == {}, "\n".join(line for lines in found.values() for line in lines)


def test_the_landing_and_every_article_page_carry_the_sign_up_form_of_the_list_service(
    sites: Callable[[str], Site],
) -> None:
    """With ``[subscribers] url``: a plain HTML form (no script) posting to the service,
    each field labelled, the page's own address as its source, and the hidden honeypot;
    the service's pages (checked above with the site's) are among the pages checked."""
    site = sites(LIST)
    pages = [site.output / "index.html", *sorted(site.output.glob("posts/*/index.html"))]
    assert len(pages) >= 4
    for page in pages:
        tree = html.fromstring(page.read_bytes())
        (form,) = tree.iter("form")
        assert (form.get("method"), form.get("action")) == ("post", f"{SERVICE_URL}subscribe")
        fields = {field.get("name"): field for field in form.iter("input")}
        assert set(fields) == {"email", "name", "source", "website"}
        labelled = {label.get("for") for label in form.iter("label")}
        assert {fields[n].get("id") for n in ("email", "name", "website")} <= labelled
        assert fields["email"].get("type") == "email" and "required" in fields["email"].attrib
        assert fields["source"].get("value") == site.public_url(page).removesuffix("index.html")
        assert fields["website"].getparent().get("hidden") is not None
        assert list(tree.iter("script")) == []
    assert {path.stem for path in site.pages() if "service" in path.parts} == set(SERVICE_PAGES)
    plain = sites("example").output / "index.html"
    assert list(html.fromstring(plain.read_bytes()).iter("form")) == []  # no service, no form


def digest_pages(site: Site) -> list[Path]:
    return sorted(p for p in (site.output / "digests").glob("*/index.html"))


@pytest.mark.parametrize("name", NAMES)
def test_a_digest_web_version_is_a_web_page_and_the_email_keeps_what_outlook_needs(
    name: str, sites: Callable[[str], Site]
) -> None:
    site = sites(name)
    pages = digest_pages(site)
    assert pages
    for page in pages:
        tree = html.fromstring(page.read_bytes())
        assert len(tree.findall(".//main")) == 1
        assert len(tree.findall(".//h1")) == 1
        text = page.read_text(encoding="utf-8")
        assert "<!--[if mso" not in text and "xmlns:v" not in text, page
    for path in site.messages():
        part = site.message(path).get_body(("html",))
        assert part is not None
        email = str(part.get_content())
        assert "<!--[if mso" in email and "<!--[if !mso" in email
        assert 'xmlns:v="urn:schemas-microsoft-com:vml"' in email


def test_raw_images_without_alt_get_their_title_or_an_empty_alt(
    sites: Callable[[str], Site],
) -> None:
    """An ``<img>`` an author wrote without ``alt`` says nothing about the image: its
    ``title``, when it has one, is the author's own words for it; without one, ``alt=""``
    marks it as decoration, which screen readers skip instead of reading out its address."""
    page = sites("stress").output / "posts/emoji-and-markup/index.html"
    images = {
        img.get("src").rsplit("/", 1)[1]: img.get("alt")
        for img in html.fromstring(page.read_bytes()).iter("img")
    }
    assert images == {"market.jpg": "", "stall.jpg": "A fruit stall in the rain"}


def test_a_link_the_sanitiser_left_without_href_is_plain_text_on_the_page(
    sites: Callable[[str], Site],
) -> None:
    page = sites("stress").output / "posts/emoji-and-markup/index.html"
    tree = html.fromstring(page.read_bytes())
    assert [a.attrib for a in tree.iter("a") if "href" not in a.attrib] == []
    assert "an old-style anchor" in tree.text_content()
    assert "a script link the sanitiser drops" in tree.text_content()


# --- target 7: card metadata -----------------------------------------------------------------


def meta(document: str) -> list[tuple[str, str]]:
    tree = html.fromstring(f"<html><head>{document}</head></html>")
    return [
        (element.get("property") or element.get("name") or "", element.get("content") or "")
        for element in tree.iter("meta")
        if element.get("property") or element.get("name")
    ]


def cards(site: Site) -> dict[str, list[tuple[str, str]]]:
    """The card metadata of every article page and every ``<meta>`` snippet."""
    found = {
        site.label(path): meta(path.read_text(encoding="utf-8"))
        for path in [*sorted(site.output.glob("posts/*/index.html")), *site.snippets()]
    }
    assert len(found) >= 4
    return found


@pytest.mark.parametrize("name", ["example", "stress"])
def test_twitter_description_is_at_most_200_characters(
    name: str, sites: Callable[[str], Site]
) -> None:
    site = sites(name)
    found = [
        (page, len(value))
        for page, tags in cards(site).items()
        for key, value in tags
        if key == "twitter:description" and len(value) > 200
    ]
    found += [
        (site.label(path), len(description))
        for path in site.posts()
        if len(description := json.loads(path.read_bytes())["twitter"]["twitter:description"]) > 200
    ]
    assert found == []


@pytest.mark.parametrize("name", ["example", "stress"])
def test_every_meta_snippet_declares_its_charset_first(
    name: str, sites: Callable[[str], Site]
) -> None:
    snippets = sites(name).snippets()
    assert snippets
    for path in snippets:
        assert path.read_text(encoding="utf-8").startswith('<meta charset="utf-8">\n'), path


@pytest.mark.parametrize("name", ["example", "stress"])
def test_every_card_image_has_a_width_a_height_and_alt_text(
    name: str, sites: Callable[[str], Site]
) -> None:
    for page, tags in cards(sites(name)).items():
        for index, (key, _) in enumerate(tags):
            if key == "og:image":
                after = dict(tags[index + 1 : index + 5])
                assert after.keys() >= {"og:image:width", "og:image:height", "og:image:alt"}, page
                assert after["og:image:width"].isdigit() and after["og:image:height"].isdigit()
                assert after["og:image:alt"].strip(), page
        found = dict(tags)
        if "twitter:image" in found:
            assert found.get("twitter:image:alt", "").strip(), page


@pytest.mark.parametrize("name", ["example", "stress"])
def test_og_locale_is_a_language_and_a_territory(name: str, sites: Callable[[str], Site]) -> None:
    """Open Graph's ``og:locale`` is ``language_TERRITORY`` (``en_US``), not a bare language."""
    for page, tags in cards(sites(name)).items():
        assert re.fullmatch(r"[a-z]{2,3}_[A-Z]{2}", dict(tags)["og:locale"]), page


# --- target 5: language and direction ---------------------------------------------------------


def language_of(element: etree._Element) -> tuple[str | None, str | None]:
    """The ``lang`` and ``dir`` that apply to *element* (its own or an ancestor's)."""
    lang = direction = None
    for node in [element, *element.iterancestors()]:
        lang = lang or node.get("lang") or node.get("{http://www.w3.org/XML/1998/namespace}lang")
        direction = direction or node.get("dir")
    return lang, direction


ARABIC_TITLE = "مكتبة جديدة في القاهرة"


def test_an_arabic_article_page_is_marked_arabic_and_right_to_left(
    sites: Callable[[str], Site],
) -> None:
    page = sites("stress").output / "posts/arabic/index.html"
    tree = html.fromstring(page.read_bytes())
    (heading,) = [h for h in tree.iter("h1") if ARABIC_TITLE in h.text_content()]
    assert language_of(heading) == ("ar", "rtl")
    assert dict(meta(page.read_text(encoding="utf-8")))["og:locale"].startswith("ar_")


def test_an_arabic_article_is_marked_arabic_in_every_feed(
    sites: Callable[[str], Site],
) -> None:
    output = sites("stress").output
    atom = etree.fromstring((output / "atom.xml").read_bytes())
    (entry,) = [
        e
        for e in atom.iter("{http://www.w3.org/2005/Atom}entry")
        if ARABIC_TITLE in "".join(e.itertext())
    ]
    assert language_of(entry)[0] == "ar"
    items = json.loads((output / "feed.json").read_bytes())["items"]
    (item,) = [i for i in items if ARABIC_TITLE in i["title"]]
    assert item.get("language") == "ar"


@pytest.mark.parametrize("name", ["stress", "stress-article"])
def test_an_arabic_article_is_marked_arabic_and_right_to_left_in_the_email(
    name: str, sites: Callable[[str], Site]
) -> None:
    site = sites(name)
    found = []
    for path in site.messages():
        part = site.message(path).get_body(("html",))
        assert part is not None
        tree = html.fromstring(str(part.get_content()))
        found += [
            language_of(heading)
            for heading in tree.iter("h1", "h2")
            if ARABIC_TITLE in heading.text_content()
        ]
    assert found and set(found) == {("ar", "rtl")}
