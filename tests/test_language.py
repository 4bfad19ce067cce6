"""An article's language, end to end (issue 26, target 5).

An article says its language with ``lang`` (a BCP 47 tag; ``[site] language`` when it
says nothing).  A bad tag is an error at its line.  Every output carries the language of
what is not in the site's: the article's page and its container's ``lang`` and ``dir``,
the feed entries (Atom's ``xml:lang``, RSS's ``dc:language``, JSON Feed's ``language``),
the email's article blocks and the web version's, Open Graph's ``og:locale``, and the
card, whose right-to-left lines are aligned right and ordered by Unicode's bidirectional
algorithm.  Directions come from CLDR (the script a language is written in), never from a
list kept in syndicate.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree, html

from conftest import NOW, SITE, MakePublication, article
from syndicate.cli import main
from syndicate.language import direction, language_tag, text_direction
from syndicate.pipeline import build
from syndicate.social import bidi
from syndicate.social import card as cards
from syndicate.social.card import CardInput, Layout, Placed, render_card

ARABIC_TITLE = "مكتبة جديدة في القاهرة (افتتاح رسمي): «الكتب للجميع»!"
ARABIC_AUTHOR = "ليلى حسن"
EMAIL = (
    SITE
    + '\n[email]\nfrom = "Test Times <news@example.org>"\n'
    + 'address = "1 Example Street, Springfield"\n'
    + 'unsubscribe_url = "https://news.example.org/u/{token}"\n'
)
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def articles(**more: str) -> dict[str, str]:
    """An Arabic article, an English one with an Arabic title, and an English one that
    says it is in English, the site's language."""
    return {
        "content/arabic.md": article(
            f'"{ARABIC_TITLE}"',
            "2025-06-03",
            "افتتحت مكتبة عامة جديدة في القاهرة.",
            lang="ar",
            author=ARABIC_AUTHOR,
            categories='"العربية, مكتبات"',
        ),
        "content/word.md": article(
            '"مرحبا بالعالم: مقالة عن Python"',
            "2025-06-02",
            "An English article about an Arabic greeting.",
        ),
        # In the site's language, said in another case: nothing to repeat anywhere.
        "content/plain.md": article("Plain English", "2025-06-01", "Nothing special.", lang="EN"),
        **more,
    }


@pytest.fixture
def built(publication: MakePublication) -> Path:
    root = publication(articles(), EMAIL)
    build(root, NOW)
    return root / "feeds"


def marks(element: etree._Element) -> tuple[str | None, str | None]:
    """The ``lang`` and ``dir`` in force at *element* (its own, else its nearest ancestor's)."""
    lang = direction_ = None
    for node in [element, *element.iterancestors()]:
        lang = lang or node.get("lang") or node.get(XML_LANG)
        direction_ = direction_ or node.get("dir")
    return lang, direction_


# --- the tag --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "tag"),
    [("ar", "ar"), ("EN-us", "en-US"), ("pt_BR", "pt-BR"), ("sr-latn", "sr-Latn"),
     ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419"), ("de-CH-1996", "de-CH-1996")],
)  # fmt: skip
def test_a_tag_is_written_in_its_usual_case(written: str, tag: str) -> None:
    assert language_tag(written) == tag


def test_a_bad_lang_is_an_error_at_its_line(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = publication(
        {
            "content/a.md": article("A", lang="arabic"),
            "content/b.md": article("B", lang="xx-Latn"),
            "content/c.md": article("C", lang="e"),
            "content/d.md": article("D", lang="ar-Zzzx"),
            "content/e.md": article("E", lang="no"),
            "content/f.md": article("F", lang='"no"'),
        }
    )
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert result.output.splitlines()[:-1] == [
        'content/a.md:4: error: lang: "arabic" is not a language tag (the name of a '
        'language, whose tag is "ar")',
        'content/b.md:4: error: lang: "xx-Latn" is not a language tag (CLDR knows no '
        'language "xx")',
        'content/c.md:4: error: lang: "e" is not a language tag (BCP 47: "en", "ar", "pt-BR"...)',
        'content/d.md:4: error: lang: "ar-Zzzx" is not a language tag (CLDR knows no '
        'script "Zzzx")',
        "content/e.md:4: error: lang: must be text, not false (true/false) (YAML reads no "
        'as false: write lang: "no" for Norwegian)',
    ]


def test_the_site_language_is_checked_the_same_way(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(publication({}, SITE + 'language = "english"\n'))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert (
        "syndicate.toml:6: error: site.language: must be a language tag (the name of a "
        "language, whose tag is \"en\"): 'english'"
    ) in result.output


@pytest.mark.parametrize(
    "tag", ["ar", "he", "fa", "ur", "ckb", "yi", "dv", "syr", "nqo", "az-Arab", "pa-Arab",
            "en-Arab"]
)  # fmt: skip
def test_languages_written_right_to_left_are_found_in_cldr(tag: str) -> None:
    assert direction(tag) == "rtl"


@pytest.mark.parametrize(
    "tag", ["en", "ku", "az", "sd-Deva", "ja", "zh-Hant", "sr-Cyrl", "mn-Mong", "hi"]
)
def test_languages_written_left_to_right_are_found_in_cldr(tag: str) -> None:
    assert direction(tag) == "ltr"


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("مرحبا بالعالم: مقالة عن Python", "ltr", "rtl"),  # an Arabic title, English article
        ("The word مرحبا means hello", "ltr", "ltr"),
        ("iPhone 16: مراجعة", "rtl", "rtl"),  # a tie: the article's own direction
        ("iPhone 16 review", "rtl", "ltr"),  # an English title on an Arabic article
        ("2025 – 2026", "rtl", "rtl"),  # no word with a direction
    ],
)
def test_a_text_runs_the_way_most_of_its_words_do(text: str, language: str, expected: str) -> None:
    assert text_direction(text, language) == expected  # type: ignore[arg-type]


# --- pages ----------------------------------------------------------------------------------


def test_an_article_page_marks_the_article_in_its_language_and_the_site_in_its_own(
    built: Path,
) -> None:
    tree = html.fromstring((built / "posts/arabic/index.html").read_bytes())
    assert tree.get("lang") == "en"
    (container,) = tree.iter("article")
    assert (container.get("lang"), container.get("dir")) == ("ar", "rtl")
    (heading,) = tree.iter("h1")
    assert heading.get("dir") is None and marks(heading) == ("ar", "rtl")
    byline, filed = container.find_class("meta")
    # "name · date", the date in Arabic; the author isolated from what follows.
    assert byline.text_content().split() == [*ARABIC_AUTHOR.split(), "·", "3", "يونيو", "2025"]
    assert [b.text for b in byline.iter("bdi")] == [ARABIC_AUTHOR]
    # The site's own words are English, and say so; its category links isolate each name.
    assert marks(filed) == ("en", "ltr")
    assert [a.get("dir") for a in filed.iter("a")] == ["auto", "auto"]
    assert marks(tree.find(".//footer")) == ("en", None)


def test_an_english_article_with_an_arabic_title_has_its_title_run_right_to_left(
    built: Path,
) -> None:
    tree = html.fromstring((built / "posts/word/index.html").read_bytes())
    (container,) = tree.iter("article")
    assert (container.get("lang"), container.get("dir")) == ("en", "ltr")
    (heading,) = tree.iter("h1")
    assert marks(heading) == ("en", "rtl")
    plain = html.fromstring((built / "posts/plain/index.html").read_bytes())
    (heading,) = plain.iter("h1")
    assert heading.get("dir") is None and marks(heading) == ("en", "ltr")
    assert plain.find_class("meta")[0].text_content().split()[-3:] == ["June", "1,", "2025"]


def test_the_landing_page_marks_titles_in_another_language_or_direction(built: Path) -> None:
    tree = html.fromstring((built / "index.html").read_bytes())
    found = {
        a.text: (a.get("lang"), a.get("dir"))
        for a in tree.iter("a")
        if "/posts/" in (a.get("href") or "")
    }
    assert found == {
        ARABIC_TITLE: ("ar", "rtl"),
        "مرحبا بالعالم: مقالة عن Python": (None, "rtl"),
        "Plain English": (None, None),
    }


# --- feeds ----------------------------------------------------------------------------------


def test_only_entries_in_another_language_say_so_in_every_feed(built: Path) -> None:
    atom = etree.fromstring((built / "atom.xml").read_bytes())
    assert atom.get(XML_LANG) == "en"
    entries = {
        entry.findtext(f"{ATOM}title"): entry.get(XML_LANG) for entry in atom.iter(f"{ATOM}entry")
    }
    assert entries == {
        ARABIC_TITLE: "ar",
        "مرحبا بالعالم: مقالة عن Python": None,
        "Plain English": None,
    }
    rss = etree.fromstring((built / "rss.xml").read_bytes())
    assert rss.findtext("channel/language") == "en"
    dc = "{http://purl.org/dc/elements/1.1/}language"
    items = {item.findtext("title"): item.findtext(dc) for item in rss.iter("item")}
    assert items == {
        ARABIC_TITLE: "ar",
        "مرحبا بالعالم: مقالة عن Python": None,
        "Plain English": None,
    }
    feed = json.loads((built / "feed.json").read_bytes())
    assert feed["language"] == "en"
    assert {i["title"]: i.get("language") for i in feed["items"]} == items
    # A category feed is the site's language too: its title and description are.
    (folder,) = [
        path.parent
        for path in built.glob("categories/*/atom.xml")
        if "العربية" in path.read_text(encoding="utf-8").split("<entry")[0]
    ]
    category = etree.fromstring((folder / "atom.xml").read_bytes())
    assert category.get(XML_LANG) == "en"
    assert [e.get(XML_LANG) for e in category.iter(f"{ATOM}entry")] == ["ar"]


# --- email ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["digest", "article"])
def test_each_article_block_of_the_email_is_in_its_language_and_direction(
    publication: MakePublication, mode: str
) -> None:
    root = publication(articles(), EMAIL + f'mode = "{mode}"\n')
    report = build(root, NOW)
    found = {}
    for email in report.due:
        tree = html.fromstring(email.html)
        for heading in tree.iter("h1", "h2"):
            title = heading.text_content()
            byline = heading.getparent()
            while byline is not None and byline.tag != "tr":
                byline = byline.getparent()
            assert byline is not None
            following = byline.getnext()
            assert following is not None
            (div,) = [d for d in following.iter("div") if d.get("lang")]
            align = next(d.get("style") for d in heading.iterancestors("div"))
            found[title] = (
                marks(heading),
                heading.get("style", "").rsplit("text-align:", 1)[1],
                marks(div),
                "text-align:right" in (align or ""),
                div.text_content().split(" · ")[0],
            )
    assert found == {
        ARABIC_TITLE: (("ar", "rtl"), "right", ("ar", "rtl"), True, ARABIC_AUTHOR),
        "مرحبا بالعالم: مقالة عن Python": (
            ("en", "rtl"),
            "right",
            ("en", "ltr"),
            False,
            "Site Author",
        ),
        "Plain English": (("en", "ltr"), "left", ("en", "ltr"), False, "Site Author"),
    }


def test_the_web_version_marks_each_article_block(publication: MakePublication) -> None:
    root = publication(articles(), EMAIL)
    (email,) = build(root, NOW).due
    tree = html.fromstring(email.web)
    blocks = {block.findtext("h2/a"): block for block in tree.iter("article")}
    arabic = blocks[ARABIC_TITLE]
    assert marks(arabic) == ("ar", "rtl")
    assert marks(arabic.find_class("meta")[0]) == ("ar", "rtl")
    assert marks(arabic.find_class("more")[0]) == ("en", "rtl")  # "Read more" is English
    assert marks(blocks["مرحبا بالعالم: مقالة عن Python"].find("h2")) == ("en", "rtl")
    assert marks(blocks["Plain English"].find("h2")) == ("en", "ltr")


# --- Open Graph -----------------------------------------------------------------------------


def test_og_locale_is_the_articles_language_and_its_likely_territory(built: Path) -> None:
    def locale(path: Path) -> str:
        tree = html.fromstring(f"<html><head>{path.read_text()}</head></html>")
        (value,) = [m.get("content") for m in tree.iter("meta") if m.get("property") == "og:locale"]
        return str(value)

    assert locale(built / "posts/arabic/index.html") == "ar_EG"
    assert locale(built / "social/arabic.html") == "ar_EG"
    assert json.loads((built / "social/arabic.json").read_bytes())["og"]["og:locale"] == "ar_EG"
    assert locale(built / "posts/plain/index.html") == "en_US"


# --- the card -------------------------------------------------------------------------------


needs_raqm = pytest.mark.skipif(
    not (cards.raqm_available() and bidi.available()),
    reason="Pillow without libraqm cannot shape Arabic (make test installs FriBidi)",
)


def card(title: str, direction_: str, author: str = ARABIC_AUTHOR) -> Layout:
    _, layout = render_card(
        CardInput("Test Times", title, author, "3 يونيو 2025", None, direction_)
    )
    return layout


def texts(runs: tuple[Placed, ...]) -> str:
    return "|".join(run.text for run in runs)


def test_make_test_has_libraqm_and_fribidi() -> None:
    """The card tests below need them; ``scripts/ensure-fribidi`` installs FriBidi."""
    assert cards.raqm_available() and bidi.available()


@needs_raqm
def test_an_arabic_title_is_aligned_right_line_by_line() -> None:
    layout = card(ARABIC_TITLE, "rtl")
    assert layout.direction == "rtl" and len(layout.lines) == 2
    right = layout.safe_area[2]
    for runs in layout.title_runs:
        assert max(run.right for run in runs) == right  # every line ends at the right
    # The second line is shorter: it starts further right than the first.
    assert min(r.left for r in layout.title_runs[1]) > min(r.left for r in layout.title_runs[0])


@needs_raqm
def test_brackets_in_arabic_are_drawn_right_to_left_so_the_shaper_mirrors_them() -> None:
    layout = card(ARABIC_TITLE, "rtl")
    for runs in layout.title_runs:
        for run in runs:
            if any(char in run.text for char in "()«»"):
                assert run.rtl, run
    # Read from the right: the first line starts with the title's first word.
    first = max(layout.title_runs[0], key=lambda run: run.right)
    assert first.text.startswith("مكتبة")


@needs_raqm
def test_the_byline_is_name_then_date_in_reading_order() -> None:
    layout = card(ARABIC_TITLE, "rtl", author="Leila Hassan")
    assert layout.footer == "Leila Hassan · 3 يونيو 2025"
    assert layout.footer_direction == "rtl"
    name = next(run for run in layout.footer_runs if "Leila" in run.text)
    date = next(run for run in layout.footer_runs if "يونيو" in run.text)
    dot = next(run for run in layout.footer_runs if "·" in run.text)
    assert name.right == layout.safe_area[2] and not name.rtl
    assert date.right <= dot.left and dot.right <= name.left  # date · name, read from the right
    assert dot.rtl  # between a name and Arabic, the dot belongs to the Arabic paragraph


@needs_raqm
def test_an_english_article_byline_reads_from_the_left() -> None:
    _, layout = render_card(CardInput("Test Times", "Plain", "Ada Lovelace", "June 1, 2025", None))
    assert layout.footer_direction == "ltr" and layout.direction == "ltr"
    assert texts(layout.footer_runs) == "Ada Lovelace · June 1, 2025"
    assert layout.footer_runs[0].left == layout.safe_area[0]


@needs_raqm
def test_a_title_runs_the_way_most_of_its_words_do_whatever_the_articles_language() -> None:
    arabic_on_english = card("مرحبا بالعالم: مقالة عن Python", "ltr")
    assert arabic_on_english.direction == "rtl"
    assert max(r.right for r in arabic_on_english.title_runs[0]) == arabic_on_english.safe_area[2]
    # Python, a left-to-right word in a right-to-left line, is at its end: on the left.
    python = next(r for r in arabic_on_english.title_runs[-1] if "Python" in r.text)
    assert python.left == min(r.left for r in arabic_on_english.title_runs[-1])
    english_on_arabic = card("iPhone 16 review", "rtl", author="Leila Hassan")
    assert english_on_arabic.direction == "ltr"
    assert english_on_arabic.title_runs[0][0].left == english_on_arabic.safe_area[0]


def test_the_direction_is_part_of_the_card_key() -> None:
    from dataclasses import replace

    from syndicate.social.card import CardStyle, card_key

    one = CardInput("Test Times", ARABIC_TITLE, ARABIC_AUTHOR, "3 يونيو 2025", None, "rtl")
    assert card_key(one, CardStyle(), "1") != card_key(
        replace(one, direction="ltr"), CardStyle(), "1"
    )


# --- the bidirectional algorithm ------------------------------------------------------------


@needs_raqm
@pytest.mark.parametrize(
    ("text", "rtl", "runs"),
    [
        ("ليلى حسن · June 3, 2025", True, [("June 3, 2025", False), ("ليلى حسن · ", True)]),
        ("The word مرحبا (hello) is Arabic", False,
         [("The word ", False), ("مرحبا", True), (" (hello) is Arabic", False)]),
        ("مقالة (عن Python 3) هنا", True,
         [(") هنا", True), ("Python 3", False), ("مقالة (عن ", True)]),
    ],
)  # fmt: skip
def test_a_line_is_cut_into_runs_in_the_order_they_are_drawn(
    text: str, rtl: bool, runs: list[tuple[str, bool]]
) -> None:
    assert [(run.text, run.rtl) for run in bidi.visual_runs(text, rtl)] == runs
