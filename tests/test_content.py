"""The rules of an article, as the issue states them: dates, publication, categories,
slugs, summaries, images, the title heading, unknown keys, encodings.

Each rule is tested on its own function where there is one (``parse_date``,
``parse_categories``, ``make_slug``, ``make_summary``, ``select``) and through a
file where YAML or the loader has a say.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import tempfile
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import frontmatter.default_handlers
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slugify import slugify

from conftest import NOW, SITE, MakePublication, article
from syndicate.config import load_config
from syndicate.content import (
    KNOWN_KEYS,
    Article,
    load_articles,
    make_slug,
    make_summary,
    parse_categories,
    parse_date,
    read_body,
    reading,
    select,
    values,
)
from syndicate.errors import ContentError, Diagnostic
from syndicate.markdown import Rendered, render
from syndicate.pipeline import build, check

JAKARTA = ZoneInfo("Asia/Jakarta")
IN_JAKARTA = SITE + 'timezone = "Asia/Jakarta"\n'


def load(
    publication: MakePublication, files: Mapping[str, str | bytes], config: str = SITE
) -> tuple[list[Article], list[str]]:
    """The articles of a publication and its diagnostics as the user reads them."""
    root = publication(files, config)
    articles, diagnostics = load_articles(load_config(root))
    return articles, [d.format(relative_to=root) for d in diagnostics]


def one(publication: MakePublication, text: str | bytes, config: str = SITE) -> Article:
    """The one article *text* makes, which must have no errors."""
    articles, diagnostics = load(publication, {"content/post.md": text}, config)
    assert not [d for d in diagnostics if ": error: " in d]
    [loaded] = articles
    return loaded


# --- date ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-08-18T18:39:54.073Z", datetime(2025, 8, 18, 18, 39, 54, 73000, tzinfo=UTC)),
        ("2025-08-18", datetime(2025, 8, 18, tzinfo=JAKARTA)),
        ("2025-07-01 08:00", datetime(2025, 7, 1, 8, 0, tzinfo=JAKARTA)),
        ("2025-10-05T09:30:00+07:00", datetime(2025, 10, 5, 2, 30, tzinfo=UTC)),
        ("  2025-07-01T08:00:00  ", datetime(2025, 7, 1, 8, 0, tzinfo=JAKARTA)),
    ],
)
def test_every_iso_8601_style_of_date_is_read(text: str, expected: datetime) -> None:
    parsed = parse_date(text, JAKARTA)
    assert parsed == expected
    assert parsed.utcoffset() is not None


def test_a_yaml_date_is_midnight_in_the_site_timezone() -> None:
    parsed = parse_date(date(2025, 8, 18), JAKARTA)
    assert parsed == datetime(2025, 8, 18, 0, 0, tzinfo=JAKARTA)
    assert parsed.utcoffset() == timedelta(hours=7)


def test_a_naive_datetime_is_in_the_site_timezone_not_the_machines() -> None:
    parsed = parse_date(datetime(2025, 7, 1, 8, 0), JAKARTA)
    assert parsed.astimezone(UTC) == datetime(2025, 7, 1, 1, 0, tzinfo=UTC)


def test_an_aware_datetime_is_kept_as_it_is() -> None:
    aware = datetime(2025, 10, 5, 9, 30, tzinfo=timezone(timedelta(hours=-3)))
    parsed = parse_date(aware, JAKARTA)
    assert parsed == aware
    assert parsed.utcoffset() == timedelta(hours=-3)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("next tuesday", 'cannot read "next tuesday" as a date'),
        ("18/08/2025", 'cannot read "18/08/2025" as a date'),
        (None, "cannot read an empty value as a date"),
        (True, "cannot read true (true/false) as a date"),
        (20250818, "cannot read the number 20250818 as a date"),
        (["2025-08-18"], "cannot read a list as a date"),
        (date(999, 1, 1), "999 is out of the range of years a feed can carry"),
    ],
)
def test_a_value_that_is_no_date_is_refused_readably(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_date(value, JAKARTA)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2025-08-18T18:39:54.073Z", datetime(2025, 8, 18, 18, 39, 54, 73000, tzinfo=UTC)),
        ("2025-08-18", datetime(2025, 8, 18, tzinfo=JAKARTA)),
        ("2025-07-01 08:00", datetime(2025, 7, 1, 8, 0, tzinfo=JAKARTA)),
        ("2025-07-01 08:00:00", datetime(2025, 7, 1, 8, 0, tzinfo=JAKARTA)),
        ("2025-10-05T09:30:00+07:00", datetime(2025, 10, 5, 2, 30, tzinfo=UTC)),
        ('"2025-10-05T09:30:00+07:00"', datetime(2025, 10, 5, 2, 30, tzinfo=UTC)),
    ],
    ids=["utc-fraction", "yaml-date", "text-no-seconds", "naive-datetime", "aware", "quoted"],
)
def test_every_date_style_is_read_from_front_matter(
    publication: MakePublication, written: str, expected: datetime
) -> None:
    loaded = one(publication, article(date=written), IN_JAKARTA)
    assert loaded.date == expected
    assert loaded.updated == loaded.date


def test_an_aware_date_in_front_matter_keeps_its_offset(publication: MakePublication) -> None:
    loaded = one(publication, article(date="2025-10-05T09:30:00-03:00"), IN_JAKARTA)
    assert loaded.date.utcoffset() == timedelta(hours=-3)


def test_updated_earlier_than_date_is_a_warning_and_the_date_is_used(
    publication: MakePublication,
) -> None:
    articles, diagnostics = load(
        publication, {"content/a.md": article(date="2025-05-01", updated="2025-04-01")}
    )
    assert articles[0].updated == articles[0].date
    assert diagnostics == ["content/a.md:4: warning: updated: earlier than date; the date is used"]


# --- what is published, and when -------------------------------------------


def test_drafts_and_future_articles_are_not_published(publication: MakePublication) -> None:
    articles, _ = load(
        publication,
        {
            "content/past.md": article("Past", "2025-12-31T12:00:00Z"),
            "content/draft.md": article("Draft", "2025-06-01", draft="true"),
            "content/scheduled.md": article("Scheduled", "2026-01-01T13:00:00Z"),
        },
    )
    assert [a.title for a in select(articles, NOW)] == ["Past"]


def test_a_scheduled_article_appears_once_its_time_has_come(
    publication: MakePublication,
) -> None:
    articles, _ = load(
        publication,
        {
            "content/past.md": article("Past", "2025-12-31T12:00:00Z"),
            "content/scheduled.md": article("Scheduled", "2026-01-01T13:00:00Z"),
        },
    )
    assert [a.title for a in select(articles, NOW + timedelta(minutes=59))] == ["Past"]
    assert [a.title for a in select(articles, NOW + timedelta(hours=1))] == ["Scheduled", "Past"]


def test_an_article_dated_exactly_now_is_published(publication: MakePublication) -> None:
    articles, _ = load(publication, {"content/now.md": article("Now", NOW.isoformat())})
    assert [a.title for a in select(articles, NOW)] == ["Now"]


def test_the_first_build_after_its_time_publishes_a_scheduled_article(
    publication: MakePublication,
) -> None:
    root = publication(
        {
            "content/past.md": article("Past", "2025-12-31T12:00:00Z"),
            "content/scheduled.md": article("Scheduled", "2026-01-01T13:00:00Z"),
        }
    )

    def titles() -> list[str]:
        feed = json.loads((root / "feeds/feed.json").read_text(encoding="utf-8"))
        return [item["title"] for item in feed["items"]]

    build(root, NOW)
    assert titles() == ["Past"]
    build(root, NOW + timedelta(hours=2))
    assert titles() == ["Scheduled", "Past"]


def test_a_draft_stays_unpublished_whatever_its_date(publication: MakePublication) -> None:
    articles, _ = load(publication, {"content/d.md": article("D", "2020-01-01", draft="yes")})
    assert articles[0].draft == "draft: true"
    assert select(articles, NOW + timedelta(days=3650)) == []


def test_draft_must_be_true_or_false(publication: MakePublication) -> None:
    articles, diagnostics = load(publication, {"content/d.md": article(draft='"maybe"')})
    assert articles == []
    assert diagnostics == ['content/d.md:4: error: draft: must be true or false, not "maybe"']


# --- categories --------------------------------------------------------------


def test_categories_from_a_comma_separated_string_are_trimmed() -> None:
    assert parse_categories(" Python ,  Web   Dev,Go ") == ("Python", "Web Dev", "Go")


def test_categories_from_a_list_are_trimmed() -> None:
    assert parse_categories([" Python ", "Web Dev", "Go"]) == ("Python", "Web Dev", "Go")


def test_duplicate_categories_are_dropped_ignoring_case_keeping_first_spelling_and_order() -> None:
    assert parse_categories("python, Go, PYTHON, Rust, go, Python") == ("python", "Go", "Rust")
    assert parse_categories(["Straße", "STRASSE", "Go"]) == ("Straße", "Go")


def test_empty_categories_are_ignored() -> None:
    assert parse_categories("a,, ,b,") == ("a", "b")
    assert parse_categories(None) == ()
    assert parse_categories([]) == ()


def test_numbers_in_a_category_list_become_text() -> None:
    assert parse_categories([2025, "News"]) == ("2025", "News")


@pytest.mark.parametrize("value", [{"a": 1}, 42, True, [["nested"]], [None]])
def test_categories_that_are_neither_text_nor_a_list_of_text_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_categories(value)


def test_categories_read_the_same_from_a_string_and_a_yaml_list(
    publication: MakePublication,
) -> None:
    articles, diagnostics = load(
        publication,
        {
            "content/a.md": article("A", categories="Python, web, Web , Go"),
            "content/b.md": article("B", categories="[Python, web, Web, ' Go ']"),
            "content/c.md": article("C", categories="\n  - Python\n  - web\n  - WEB\n  - Go"),
        },
    )
    assert diagnostics == []
    assert [a.categories for a in articles] == [("Python", "web", "Go")] * 3


def test_a_category_of_the_wrong_type_is_an_error_on_its_line(
    publication: MakePublication,
) -> None:
    _, diagnostics = load(publication, {"content/a.md": article(categories="{a: 1}")})
    assert diagnostics == [
        "content/a.md:4: error: categories: must be a comma-separated text or a list, not a mapping"
    ]


# --- slugs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("hello", "hello"),
        ("Hello World", "hello-world"),
        ("Ça va? Été 2025!", "ca-va-ete-2025"),
        ("  spaced   out  ", "spaced-out"),
        ("snake_case_name", "snake-case-name"),
    ],
)
def test_a_slug_is_lowercase_and_url_safe(raw: str, slug: str) -> None:
    assert make_slug(raw) == slug
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", make_slug(raw))


@pytest.mark.parametrize("raw", ["../x", "..", "a/b", "a\\b", "/etc", "x/../../y"])
def test_a_slug_that_would_leave_its_folder_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="a slug names one folder"):
        make_slug(raw)


def test_a_slug_with_no_letters_or_digits_is_refused() -> None:
    with pytest.raises(ValueError, match="no letters or digits"):
        make_slug("!!!")


def test_the_slug_comes_from_the_file_name(publication: MakePublication) -> None:
    articles, _ = load(publication, {"content/2025/My First Post.md": article()})
    assert articles[0].slug == "my-first-post"


def test_a_slug_in_front_matter_wins_over_the_file_name(publication: MakePublication) -> None:
    articles, _ = load(publication, {"content/draft-17.md": article(slug="Launch Day")})
    assert articles[0].slug == "launch-day"


def test_index_md_takes_the_name_of_its_folder(publication: MakePublication) -> None:
    articles, _ = load(publication, {"content/2025/Big-Launch/index.md": article()})
    assert articles[0].slug == "big-launch"


def test_a_front_matter_slug_that_leaves_its_folder_is_an_error(
    publication: MakePublication,
) -> None:
    articles, diagnostics = load(publication, {"content/a.md": article(slug="../../etc")})
    assert articles == []
    assert diagnostics == [
        'content/a.md:4: error: slug: "../../etc" must not contain "/", "\\" or ".." '
        "(a slug names one folder)"
    ]


def test_two_articles_with_one_slug_is_an_error_naming_both_files(
    publication: MakePublication,
) -> None:
    _, diagnostics = load(
        publication,
        {
            "content/a/post.md": article("One"),
            "content/b/post.md": article("Two"),
        },
    )
    [problem] = diagnostics
    assert problem.startswith('content/b/post.md:1: error: slug: "post" is also the slug of ')
    assert "content/a/post.md" in problem


def test_slugs_that_differ_only_in_case_are_duplicates(publication: MakePublication) -> None:
    _, diagnostics = load(
        publication,
        {"content/News.md": article("One"), "content/x.md": article("Two", slug="NEWS")},
    )
    [problem] = diagnostics
    assert problem.startswith('content/x.md:4: error: slug: "news" is also the slug of ')
    assert "content/News.md" in problem


# --- summary -----------------------------------------------------------------


def rendered(loaded: Article) -> Rendered:
    """*loaded*'s body, rendered as the build renders it."""
    return render(
        read_body(loaded), loaded, "https://news.example.org/posts/x/", "https://news.example.org/"
    )


def rendered_summary(loaded: Article) -> str:
    return rendered(loaded).summary


def test_an_explicit_summary_is_used(publication: MakePublication) -> None:
    loaded = one(publication, article(summary="Told in one line.", body="The body."))
    assert loaded.summary == "Told in one line."
    assert rendered_summary(loaded) == "Told in one line."


def test_description_is_an_alias_of_summary(publication: MakePublication) -> None:
    loaded = one(publication, article(description="Described.", body="The body."))
    assert rendered_summary(loaded) == "Described."


def test_summary_wins_over_description(publication: MakePublication) -> None:
    loaded = one(publication, article(summary="Summary.", description="Description."))
    assert rendered_summary(loaded) == "Summary."


def test_without_a_summary_the_first_paragraph_is_used_as_plain_text(
    publication: MakePublication,
) -> None:
    body = (
        "# A title\n\n## Intro\n\nThe *first* paragraph, with **bold**, `code` and a "
        "[link](https://example.org/).\nIt goes on.\n\nThe second paragraph.\n"
    )
    loaded = one(publication, article(body=body))
    assert loaded.summary is None
    assert rendered_summary(loaded) == (
        "The first paragraph, with bold, code and a link. It goes on."
    )


def test_a_short_text_is_its_own_summary() -> None:
    assert make_summary("  Short   and\nsweet. ") == "Short and sweet."
    assert make_summary("x" * 300) == "x" * 300


def test_a_long_summary_is_cut_at_a_word_boundary_to_at_most_300_characters() -> None:
    text = " ".join(f"word{i}" for i in range(100))
    summary = make_summary(text)
    assert len(summary) <= 300
    assert summary.endswith("…")
    kept = summary.removesuffix("…")
    assert text.startswith(kept)
    assert text[len(kept)] == " "
    assert len(kept) > 250


def test_a_long_first_paragraph_gives_a_cut_summary(publication: MakePublication) -> None:
    body = " ".join(["lorem ipsum dolor"] * 40)
    summary = rendered_summary(one(publication, article(body=body)))
    assert len(summary) <= 300
    assert summary.endswith("…")
    assert body.startswith(summary.removesuffix("…") + " ")


# --- image -------------------------------------------------------------------


@pytest.mark.parametrize("written", ["/assets/cover.webp", "assets/cover.webp"])
def test_a_site_relative_image_is_published_as_an_absolute_url(
    publication: MakePublication, written: str
) -> None:
    files: dict[str, str | bytes] = {
        "content/a.md": article(image=written),
        "static/assets/cover.webp": b"RIFFwebp",
    }
    articles, diagnostics = load(publication, files)
    assert diagnostics == []
    image = articles[0].image
    assert image is not None
    assert image.url == "https://news.example.org/assets/cover.webp"
    assert image.type == "image/webp"
    assert image.length == 8


def test_a_relative_image_resolves_against_a_site_url_with_a_path(
    publication: MakePublication,
) -> None:
    config = SITE.replace('"https://news.example.org/"', '"https://example.org/news"')
    files: dict[str, str | bytes] = {
        "content/a.md": article(image="assets/c.png"),
        "static/assets/c.png": b"png",
    }
    articles, _ = load(publication, files, config)
    assert articles[0].image is not None
    assert articles[0].image.url == "https://example.org/news/assets/c.png"


def test_an_absolute_image_url_is_kept(publication: MakePublication) -> None:
    url = "https://cdn.example.com/i/cover.jpg"
    articles, diagnostics = load(publication, {"content/a.md": article(image=url)})
    assert diagnostics == []
    image = articles[0].image
    assert image is not None
    assert (image.url, image.type, image.length) == (url, "image/jpeg", None)


def test_a_missing_local_image_is_a_warning_not_an_error(publication: MakePublication) -> None:
    articles, diagnostics = load(publication, {"content/a.md": article(image="/assets/gone.png")})
    assert diagnostics == [
        'content/a.md:4: warning: image: "/assets/gone.png" is not in the static folder '
        "(static/assets/gone.png)"
    ]
    assert articles[0].image is not None
    assert articles[0].image.url == "https://news.example.org/assets/gone.png"


@given(st.from_regex(r"[a-z0-9]+(?:-[a-z0-9]+)*", fullmatch=True))
def test_a_name_that_is_a_slug_already_is_its_own_slug(name: str) -> None:
    # What make_slug() takes without calling slugify(), which would give the same.
    assert values._PLAIN_SLUG.fullmatch(name) and slugify(name) == name


@given(st.text(alphabet="/.ab-", max_size=16))
def test_an_image_path_is_read_as_pathlib_reads_it(path: str) -> None:
    assert reading._segments(path) == list(PurePosixPath(path.lstrip("/")).parts)
    assert reading._suffix(reading._segments(path)) == PurePosixPath(path).suffix


def test_an_image_path_with_dots_and_double_slashes_is_cleaned(
    publication: MakePublication,
) -> None:
    articles, _ = load(publication, {"content/a.md": article(image="/assets//./c%20d.PNG?v=2")})
    [image] = [a.image for a in articles]
    assert image is not None
    assert image.url == "https://news.example.org/assets/c%2520d.PNG?v=2"
    assert image.type == "image/png"


@pytest.mark.parametrize(
    "written", ["../secret.png", "javascript:alert(1)", "//evil.example/x.png"]
)
def test_an_image_outside_the_site_or_not_http_is_an_error(
    publication: MakePublication, written: str
) -> None:
    articles, diagnostics = load(publication, {"content/a.md": article(image=f"'{written}'")})
    assert articles == []
    [problem] = diagnostics
    assert problem.startswith(f'content/a.md:4: error: image: "{written}" must ')


# --- what a value may be, so that no article makes a build's work explode --------------


def test_an_article_may_have_at_most_a_hundred_categories(publication: MakePublication) -> None:
    names = ", ".join(f"c{n}" for n in range(101))
    articles, diagnostics = load(publication, {"content/a.md": article(categories=names)})
    assert articles == []
    assert diagnostics == [
        "content/a.md:4: error: categories: 101 of them; an article may have at most 100, "
        "each with its feeds"
    ]
    names = ", ".join(f"c{n}" for n in range(100))
    articles, _ = load(publication, {"content/a.md": article(categories=names)})
    assert len(articles[0].categories) == 100


def test_a_slug_or_category_too_long_to_name_a_folder_is_an_error(
    publication: MakePublication,
) -> None:
    long = "x" * 201
    articles, diagnostics = load(
        publication, {"content/a.md": article(slug=long), "content/b.md": article(categories=long)}
    )
    quoted = f'"{"x" * 59}…"'
    assert articles == []
    assert diagnostics == [
        f"content/a.md:4: error: slug: {quoted} makes a slug of 201 characters, more than a "
        "folder's name may have (200); give a shorter slug",
        f"content/b.md:4: error: categories: {quoted} is too long to name its feeds' folder "
        "(at most 200 letters and digits)",
    ]


def test_a_long_value_is_quoted_cut_in_a_message(publication: MakePublication) -> None:
    # A value may be megabytes: a message quotes its beginning, on one short line.
    articles, diagnostics = load(publication, {"content/a.md": article(date="y" * 1_000_000)})
    assert articles == []
    assert diagnostics == [
        f'content/a.md:3: error: date: cannot read "{"y" * 59}…" as a date (use ISO 8601: '
        "2025-08-18 or 2025-08-18T09:30:00+07:00)"
    ]


# --- the body ----------------------------------------------------------------


def test_a_leading_h1_equal_to_the_title_is_dropped(publication: MakePublication) -> None:
    loaded = one(publication, article("Hello, World", body="# Hello, world!\n\nText."))
    html = rendered(loaded).html
    assert "<h1>" not in html
    assert "<p>Text.</p>" in html


def test_a_leading_h1_that_differs_from_the_title_is_kept(publication: MakePublication) -> None:
    loaded = one(publication, article("Hello", body="# Something else\n\nText."))
    html = rendered(loaded).html
    assert "<h1>Something else</h1>" in html


def test_an_h1_after_other_text_is_kept(publication: MakePublication) -> None:
    loaded = one(publication, article("Hello", body="Intro.\n\n# Hello\n\nText."))
    html = rendered(loaded).html
    assert "<h1>Hello</h1>" in html


# --- unknown keys ------------------------------------------------------------


def test_unknown_keys_are_kept_in_extra_and_warned_about(publication: MakePublication) -> None:
    articles, diagnostics = load(
        publication, {"content/a.md": article(mood="sunny", rating="5", layout="wide")}
    )
    [loaded] = articles
    assert dict(loaded.extra) == {"mood": "sunny", "rating": 5, "layout": "wide"}
    assert diagnostics == [
        'content/a.md:6: warning: unknown front-matter key "layout" (kept, not published)',
        'content/a.md:4: warning: unknown front-matter key "mood" (kept, not published)',
        'content/a.md:5: warning: unknown front-matter key "rating" (kept, not published)',
    ]


def test_known_keys_are_not_in_extra(publication: MakePublication) -> None:
    loaded = one(
        publication,
        article(author="Ann", categories="a", summary="s", slug="x", draft="false", id="urn:x:1"),
    )
    assert dict(loaded.extra) == {}
    assert loaded.authors == ("Ann",)
    assert loaded.id == "urn:x:1"


# --- encodings -----------------------------------------------------------------


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_utf8_with_or_without_bom_and_lf_or_crlf_read_alike(
    publication: MakePublication, bom: bytes, newline: str
) -> None:
    text = article("Grüße", "2025-01-01", "Zeile eins.\n\nZeile zwei.", mood="ok")
    data = bom + text.replace("\n", newline).encode("utf-8")
    articles, diagnostics = load(publication, {"content/post.md": data})
    [loaded] = articles
    assert loaded.title == "Grüße"
    assert read_body(loaded) == "\nZeile eins.\n\nZeile zwei.\n"
    assert loaded.line("mood") == 4
    assert diagnostics == [
        'content/post.md:4: warning: unknown front-matter key "mood" (kept, not published)'
    ]


def test_only_markdown_files_are_articles(publication: MakePublication) -> None:
    articles, diagnostics = load(
        publication,
        {
            "content/a.md": article("A"),
            "content/notes.txt": "not an article",
            "content/deep/er/b.md": article("B"),
        },
    )
    assert diagnostics == []
    assert sorted(a.title for a in articles) == ["A", "B"]


# --- no front matter ever makes check raise --------------------------------------

KEYS = st.sampled_from(sorted(KNOWN_KEYS))
#: Fixed offsets in whole minutes: PyYAML writes an offset with seconds (a zone's
#: local mean time before 1900) under an explicit ``!!timestamp`` tag it cannot read back.
OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.dates()
    | st.datetimes()
    | st.datetimes(timezones=OFFSETS)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
FRONT_MATTER = st.dictionaries(KEYS | st.text(max_size=10), VALUES, max_size=8)
#: What starts every diagnostic.  (Not yet "one per line": see the report of
#: diagnostics that echo a value's line breaks or PyYAML's two-line reader errors.)
DIAGNOSTIC = re.compile(r"content/post\.md(:[1-9][0-9]*)?: (error|warning): \S")
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_SPLITTER = frontmatter.default_handlers.YAMLHandler()


def assert_checks_cleanly(text: str) -> None:
    """Check a publication of one article *text*: a report, never an exception."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "syndicate.toml").write_text(SITE, encoding="utf-8")
        (root / "content").mkdir()
        (root / "content/post.md").write_text(text, encoding="utf-8", newline="")
        report = check(root, NOW)
        shown = [d.format(relative_to=root) for d in report.diagnostics]
    for line in shown:
        assert DIAGNOSTIC.match(line), line
        assert "\n" not in line and "\r" not in line, line
    # A lone CR ends a line too (files are read with universal newlines).
    last_line = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    assert all(d.line <= last_line for d in report.diagnostics)
    if report.errors == 0:
        assert report.articles == 1


@FUZZ
@given(FRONT_MATTER, st.text(max_size=200))
def test_any_front_matter_values_give_a_report_not_an_exception(
    front_matter: dict[str, object], body: str
) -> None:
    block = yaml.safe_dump(front_matter, allow_unicode=True)
    assert_checks_cleanly(f"---\n{block}---\n{body}")


@FUZZ
@given(st.text(), st.text(max_size=200))
def test_any_front_matter_text_gives_a_report_not_an_exception(block: str, body: str) -> None:
    assert_checks_cleanly(f"---\n{block}\n---\n{body}")


@FUZZ
@given(st.text())
def test_any_file_gives_a_report_not_an_exception(text: str) -> None:
    assert_checks_cleanly(text)


def test_the_body_is_read_from_its_file_only_while_the_file_is_as_it_was_loaded(
    publication: MakePublication,
) -> None:
    """The article holds where its body is, not the body: reading it later finds the file
    changed or gone, and says so (build again) instead of rendering something else."""
    [loaded], _ = load(publication, {"content/post.md": article("Hello", body="Words.")})
    source = loaded.source
    assert read_body(loaded) == "\nWords.\n"
    root = source.parents[1]

    source.write_text(article("Hello", body="Other words."))
    with pytest.raises(ContentError) as changed:
        read_body(loaded)
    source.unlink()
    with pytest.raises(ContentError) as gone:
        read_body(loaded)

    assert [d.format(relative_to=root) for d in changed.value.diagnostics] == [
        "content/post.md: error: changed while syndicate was building; build again"
    ]
    assert [d.format(relative_to=root) for d in gone.value.diagnostics] == [
        "content/post.md: error: cannot read: No such file or directory; build again"
    ]

def test_an_article_crosses_to_a_worker_process_and_back_whole(
    publication: MakePublication,
) -> None:
    text = article("Hello", image="/assets/gone.png").replace("---\n", "---\nextra: [1, 2]\n", 1)
    [loaded], _ = load(publication, {"content/a.md": text})
    again = pickle.loads(pickle.dumps(loaded))
    assert again == loaded and again.image == loaded.image
    for name in ("body_span", "lines", "extra", "source"):
        assert getattr(again, name) == getattr(loaded, name), name


@given(st.text(alphabet=st.sampled_from("ab <é✓\n\t\r\x00\x01\x1f\x7f\ud800\udfff\ufffe\uffff")))
def test_text_loses_exactly_the_characters_no_feed_can_carry(text: str) -> None:
    assert values.drop_not_xml(text) == values.NOT_XML.sub("", text)


@given(
    st.lists(st.sampled_from(["a", "b", "é x", ".."]), max_size=4),
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
)
def test_a_diagnostic_shows_its_path_relative_to_the_folder_asked(
    below: list[str], top: list[str]
) -> None:
    path = Path("/", *below, "post.md")
    folder = Path("/", *top)
    shown = Diagnostic.warning(path, 3, "x").format(relative_to=folder)
    top = f"{folder}{os.sep}"
    expected = str(path)[len(top) :] if str(path).startswith(top) else os.path.relpath(path, top)
    assert shown == f"{expected}:3: warning: x"


def test_a_file_that_grows_while_it_is_read_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.md"
    path.write_text(article("Growing", body="y" * 200_000), encoding="utf-8")
    real = os.fstat

    def before_it_grew(descriptor: int) -> os.stat_result:
        status = list(real(descriptor))
        status[6] = 10  # st_size: the file was 10 bytes when it was looked at
        return os.stat_result(status)

    monkeypatch.setattr(os, "fstat", before_it_grew)
    data, _, text, _ = reading._read_text(path, 10**7)
    monkeypatch.undo()
    assert data == path.read_bytes() and text.endswith("y" * 200_000 + "\n")
