"""The feeds: valid RSS 2.0, Atom 1.0 and JSON Feed 1.1, site-wide and per category."""

from __future__ import annotations

import json
import shutil
from html import unescape
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from checkers import feed_validator
from conftest import NOW, REPO, SITE, MakePublication, article, example_copy, tree
from syndicate import engine, feeds
from syndicate.content import category_slug
from syndicate.pipeline import build
from validators import atom_problems, json_feed_problems, rss_problems

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
MEDIA = "{http://search.yahoo.com/mrss/}content"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
GOLDEN = REPO / "tests" / "golden" / "example"


def example(tmp_path: Path) -> Path:
    """A copy of this repository's example publication, built at NOW; returns its feeds/."""
    root = example_copy(tmp_path / "example")
    build(root, NOW)
    return root / "feeds"


def feed_files(folder: Path) -> dict[str, bytes]:
    return {k: v for k, v in tree(folder).items() if k.endswith((".xml", ".json", ".html"))}


# --- the example publication -----------------------------------------------


def test_example_feeds_match_the_golden_files(tmp_path: Path, update_golden: bool) -> None:
    files = feed_files(example(tmp_path))
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in files.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    golden = tree(GOLDEN)
    assert sorted(files) == sorted(golden), "run pytest --update-golden after a deliberate change"
    for name, data in files.items():
        assert data.decode() == golden[name].decode(), name


def test_committed_feeds_folder_is_what_publish_writes(tmp_path: Path) -> None:
    assert tree(example(tmp_path)) == tree(REPO / "feeds"), "run `make publish` and commit feeds/"


@pytest.mark.parametrize("in_workers", [0, 3])
def test_entries_are_the_same_whoever_serialises_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_workers: int
) -> None:
    # The workers that render the bodies serialise up to WORKER_ENTRIES entries; the rest
    # are serialised as the feed files are written.  None, some or all: the same files.
    monkeypatch.setattr(engine, "WORKER_ENTRIES", in_workers)
    assert feed_files(example(tmp_path)) == tree(GOLDEN)


def test_example_writes_site_and_category_feeds_in_three_formats(tmp_path: Path) -> None:
    files = feed_files(example(tmp_path))
    categories = {name.split("/")[1] for name in files if name.startswith("categories/")}
    assert {"ai", "technology", "southeast-asia", "indonesia", "innovation"} <= categories
    for folder in ["", *(f"categories/{c}/" for c in categories)]:
        for name in ("rss.xml", "atom.xml", "feed.json"):
            assert folder + name in files


def test_every_example_feed_is_valid(tmp_path: Path) -> None:
    problems = {}
    for name, data in feed_files(example(tmp_path)).items():
        if name.endswith("rss.xml"):
            problems[name] = rss_problems(data)
        elif name.endswith("atom.xml"):
            problems[name] = atom_problems(data)
        elif name.endswith("feed.json"):
            problems[name] = json_feed_problems(data)
    assert len(problems) >= 27
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_canonical_example_article_becomes_a_complete_entry(tmp_path: Path) -> None:
    feeds = example(tmp_path)
    parsed = feedparser.parse((feeds / "atom.xml").read_bytes())
    assert parsed.bozo == 0
    entry = next(e for e in parsed.entries if e.title.startswith("Indonesia Aims"))
    assert entry.link == "https://syndicate-news.github.io/syndicate/posts/indonesia-ai-hub/"
    assert entry.published == "2025-08-19T01:39:54.073000+07:00"  # 18:39:54.073Z in Jakarta
    assert entry.author == "Daffa Aditya"
    assert [t.term for t in entry.tags] == [
        "AI",
        "Technology",
        "Indonesia",
        "Southeast Asia",
        "Innovation",
    ]
    assert entry.summary.startswith("Indonesia is making significant strides")
    content = entry.content[0].value
    assert "<h1>" not in content  # the H1 repeated the title
    assert "<h2>Why Indonesia?</h2>" in content
    assert entry.media_content[0]["url"] == (
        "https://syndicate-news.github.io/syndicate/assets/images/"
        "indonesia-aims-to-become-an-ai-hub-in-asia.webp"
    )
    assert entry.media_content[0]["type"] == "image/webp"


# --- structure, on small inline publications --------------------------------


def three(publication: MakePublication, config: str = SITE) -> Path:
    root = publication(
        {
            "content/old.md": article("Old news", "2025-01-01", categories="Science, AI"),
            "content/mid.md": article(
                "Middle",
                "2025-02-01T10:00:00+02:00",
                author="Ana",
                categories="[ai, Art]",
                updated="2025-03-01",
            ),
            "content/new.md": article(
                "Newest <b>&amp;</b>",
                "2025-03-01 08:00",
                image="/img/x.png",
                summary="'\"Quoted\" & <escaped>'",
            ),
        },
        config,
    )
    build(root, NOW)
    return root / "feeds"


def test_rss_has_items_newest_first_with_every_field(publication: MakePublication) -> None:
    channel = etree.fromstring((three(publication) / "rss.xml").read_bytes()).find("channel")
    assert channel is not None
    assert channel.findtext("link") == "https://news.example.org/"
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None
    assert self_link.get("href") == "https://news.example.org/rss.xml"
    assert self_link.get("rel") == "self"
    assert channel.findtext("lastBuildDate") == "Sat, 01 Mar 2025 08:00:00 +0000"
    items = channel.findall("item")
    # A title that looks like HTML is written as HTML that shows it (escaped once more).
    titles = ["Newest &lt;b&gt;&amp;amp;&lt;/b&gt;", "Middle", "Old news"]
    assert [i.findtext("title") for i in items] == titles
    newest, middle, _ = items
    # The summary as HTML text: what a reader decodes the description as.
    assert newest.findtext("description") == '"Quoted" &amp; &lt;escaped&gt;'
    assert newest.findtext(DC_CREATOR) == "Site Author"
    assert newest.find("author") is None  # RSS <author> must be an e-mail address
    assert newest.find("guid").get("isPermaLink") == "false"  # type: ignore[union-attr]
    assert newest.findtext("pubDate") == "Sat, 01 Mar 2025 08:00:00 +0000"
    assert newest.find(MEDIA).get("url") == "https://news.example.org/img/x.png"  # type: ignore[union-attr]
    assert middle.findtext(DC_CREATOR) == "Ana"
    assert [c.text for c in middle.findall("category")] == ["ai", "Art"]
    assert middle.findtext(CONTENT) == "<p>Body text.</p>\n"


def test_atom_dates_have_zones_and_updated_is_the_newest_change(
    publication: MakePublication,
) -> None:
    feed = etree.fromstring((three(publication) / "atom.xml").read_bytes())
    assert feed.findtext(f"{ATOM}updated") == "2025-03-01T08:00:00+00:00"
    middle = feed.findall(f"{ATOM}entry")[1]
    assert middle.findtext(f"{ATOM}published") == "2025-02-01T08:00:00+00:00"
    assert middle.findtext(f"{ATOM}updated") == "2025-03-01T00:00:00+00:00"


def test_dates_are_shown_in_the_site_timezone(publication: MakePublication) -> None:
    feeds = three(publication, SITE + 'timezone = "Asia/Jakarta"\n')
    items = json.loads((feeds / "feed.json").read_text())["items"]
    # "2025-03-01 08:00" has no zone, so it is 08:00 in Jakarta.
    assert items[0]["date_published"] == "2025-03-01T08:00:00+07:00"
    assert items[1]["date_published"] == "2025-02-01T15:00:00+07:00"


def test_json_feed_items(publication: MakePublication) -> None:
    document = json.loads((three(publication) / "feed.json").read_text())
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == "https://news.example.org/feed.json"
    newest = document["items"][0]
    assert newest["title"] == "Newest <b>&amp;</b>"
    assert newest["url"] == "https://news.example.org/posts/new/"
    assert newest["summary"] == '"Quoted" & <escaped>'
    assert newest["image"] == "https://news.example.org/img/x.png"
    assert newest["authors"] == [{"name": "Site Author"}]
    assert newest["content_html"] == "<p>Body text.</p>\n"


def test_category_feeds_hold_only_their_articles(publication: MakePublication) -> None:
    feeds = three(publication)
    ai = json.loads((feeds / "categories/ai/feed.json").read_text())
    assert ai["title"] == "Test Times: ai"  # "AI" and "ai" share a feed, named by the newest
    assert [i["title"] for i in ai["items"]] == ["Middle", "Old news"]
    assert ai["feed_url"] == "https://news.example.org/categories/ai/feed.json"
    science = etree.fromstring((feeds / "categories/science/atom.xml").read_bytes())
    assert [e.findtext(f"{ATOM}title") for e in science.findall(f"{ATOM}entry")] == ["Old news"]
    assert science.find(f"{ATOM}link[@rel='self']").get("href") == (  # type: ignore[union-attr]
        "https://news.example.org/categories/science/atom.xml"
    )
    for name, data in tree(feeds).items():
        if name.endswith("rss.xml"):
            assert rss_problems(data) == [], name
        elif name.endswith("atom.xml"):
            assert atom_problems(data) == [], name
        elif name.endswith("feed.json"):
            assert json_feed_problems(data) == [], name


def test_limit_keeps_the_newest_entries(publication: MakePublication) -> None:
    feeds = three(publication, SITE + "[feeds]\nlimit = 2\n")
    titles = [i["title"] for i in json.loads((feeds / "feed.json").read_text())["items"]]
    assert titles == ["Newest <b>&amp;</b>", "Middle"]


def test_limit_zero_keeps_every_entry(publication: MakePublication) -> None:
    feeds = three(publication, SITE + "[feeds]\nlimit = 0\n")
    assert len(json.loads((feeds / "feed.json").read_text())["items"]) == 3


def test_summary_only_feeds(publication: MakePublication) -> None:
    feeds = three(publication, SITE + "[feeds]\nfull_content = false\n")
    item = etree.fromstring((feeds / "rss.xml").read_bytes()).find("channel/item")
    assert item is not None
    assert item.find(CONTENT) is None
    assert item.findtext("description") == '"Quoted" &amp; &lt;escaped&gt;'
    entry = etree.fromstring((feeds / "atom.xml").read_bytes()).find(f"{ATOM}entry")
    assert entry is not None
    assert entry.find(f"{ATOM}content") is None
    json_item = json.loads((feeds / "feed.json").read_text())["items"][0]
    assert "content_html" not in json_item
    assert json_item["content_text"] == '"Quoted" & <escaped>'
    assert rss_problems((feeds / "rss.xml").read_bytes()) == []
    assert atom_problems((feeds / "atom.xml").read_bytes()) == []
    assert json_feed_problems((feeds / "feed.json").read_bytes()) == []


def test_a_site_under_a_path_gets_every_url_below_it(publication: MakePublication) -> None:
    config = SITE.replace("https://news.example.org/", "https://example.github.io/paper")
    feeds = three(publication, config)
    rss = (feeds / "rss.xml").read_text()
    assert 'href="https://example.github.io/paper/rss.xml"' in rss
    assert "https://example.github.io/paper/posts/new/" in rss
    assert "https://example.github.io/paper/img/x.png" in rss


def test_an_empty_publication_still_has_valid_feeds(publication: MakePublication) -> None:
    root = publication({})
    build(root, NOW)
    feeds = root / "feeds"
    assert rss_problems((feeds / "rss.xml").read_bytes()) == []
    assert atom_problems((feeds / "atom.xml").read_bytes()) == []
    assert json_feed_problems((feeds / "feed.json").read_bytes()) == []


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml", "feed.json"])
def test_untrusted_text_is_escaped_not_interpreted(publication: MakePublication, name: str) -> None:
    root = publication(
        {"content/x.md": article('"</title><script>alert(1)</script>"', author='"<b>Eve</b>"')}
    )
    build(root, NOW)
    data = (root / "feeds" / name).read_text()
    assert "<script>" not in data
    assert "<b>Eve" not in data


# --- an RSS description is HTML to a reader: plain text goes in escaped for it --------------

HOSTILE_SUMMARY = '<b>bold</b> & <img src=x onerror="alert(1)"> R&D &amp; more'
HOSTILE_CATEGORY = "<i>Tips</i> & Tricks"


def hostile_feeds(publication: MakePublication, config: str = SITE) -> Path:
    root = publication(
        {
            "content/a.md": article(
                "A", summary=f"'{HOSTILE_SUMMARY}'", categories=f"'{HOSTILE_CATEGORY}'"
            )
        },
        config,
    )
    build(root, NOW)
    return root / "feeds"


@pytest.mark.parametrize("full_content", ["true", "false"])
def test_an_rss_description_gives_a_reader_the_summary_as_text_never_as_markup(
    publication: MakePublication, full_content: str
) -> None:
    feeds = hostile_feeds(publication, SITE + f"[feeds]\nfull_content = {full_content}\n")
    category = feeds / f"categories/{category_slug(HOSTILE_CATEGORY)}/rss.xml"
    for path in (feeds / "rss.xml", category):
        channel = etree.fromstring(path.read_bytes()).find("channel")
        assert channel is not None
        item = channel.findtext("item/description")
        shown = channel.findtext("description")
        assert item is not None and shown is not None
        # What a reader parses as HTML holds no tag, and decodes to the plain text.
        assert "<" not in item and "<" not in shown
        assert unescape(item) == HOSTILE_SUMMARY
    description = etree.fromstring(category.read_bytes()).findtext("channel/description")
    assert unescape(description or "") == f"Articles filed under {HOSTILE_CATEGORY} in Test Times"
    # Atom carries it as HTML too (type="html"), and JSON Feed as plain text.
    summary = etree.fromstring((feeds / "atom.xml").read_bytes()).find(f"{ATOM}entry/{ATOM}summary")
    assert summary is not None and summary.get("type") == "html"
    assert "<" not in (summary.text or "") and unescape(summary.text or "") == HOSTILE_SUMMARY
    assert json.loads((feeds / "feed.json").read_text())["items"][0]["summary"] == HOSTILE_SUMMARY


def test_the_w3c_validator_says_nothing_about_any_rss_description(
    publication: MakePublication,
) -> None:
    feeds = hostile_feeds(publication)
    paths = [feeds / "rss.xml", feeds / f"categories/{category_slug(HOSTILE_CATEGORY)}/rss.xml"]
    found = feed_validator(
        {path: "https://news.example.org/" + path.relative_to(feeds).as_posix() for path in paths},
        names={path: path.relative_to(feeds).as_posix() for path in paths},
    )
    lines = {
        path.relative_to(feeds).as_posix(): {
            number
            for number, line in enumerate(path.read_text().splitlines(), start=1)
            if "<description>" in line
        }
        for path in paths
    }
    assert all(lines.values())
    assert [str(f) for f in found if f.line in lines[f.file]] == []


# --- an author is a name --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("Ann Lee <ann@example.org>", "Ann Lee"),
        ('"Lee, Ann" <ann@example.org>', "Lee, Ann"),
        ("<ann@example.org>", "ann@example.org"),  # nothing else to call her
        ("ann@example.org", "ann@example.org"),
        ("Ann <3 Bob", "Ann <3 Bob"),
        ("Q&A Desk", "Q&A Desk"),
    ],
)
def test_feeds_name_an_author_without_the_address_written_after_the_name(
    written: str, named: str
) -> None:
    assert feeds.author_name(written) == named


def test_an_author_written_with_an_address_is_named_in_every_feed_without_it(
    publication: MakePublication,
) -> None:
    root = publication({"content/a.md": article("A", author="'Ann Lee <ann@example.org>'")})
    build(root, NOW)
    out = root / "feeds"
    for name in ("rss.xml", "atom.xml", "feed.json"):
        assert b"ann@example.org" not in (out / name).read_bytes(), name
    rss = etree.fromstring((out / "rss.xml").read_bytes())
    assert rss.findtext(f"channel/item/{DC_CREATOR}") == "Ann Lee"
    atom = etree.fromstring((out / "atom.xml").read_bytes())
    assert atom.findtext(f"{ATOM}entry/{ATOM}author/{ATOM}name") == "Ann Lee"
    item = json.loads((out / "feed.json").read_text())["items"][0]
    assert item["authors"] == [{"name": "Ann Lee"}]
    paths = [out / "rss.xml", out / "atom.xml"]
    found = feed_validator(
        {path: f"https://news.example.org/{path.name}" for path in paths},
        names={path: path.name for path in paths},
    )
    assert [str(f) for f in found] == []
