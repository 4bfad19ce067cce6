"""Entry ids: once an article is published, feed readers know it by its id for ever.

An id in the front matter always wins; otherwise the id lives in
``.syndicate/state.json`` and follows the article through a new title, a new
slug, a new file name or a new folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import NOW, MakePublication, article, mtimes, tree
from syndicate.cli import main
from syndicate.errors import ContentError
from syndicate.pipeline import build, check
from syndicate.state import STATE_VERSION, DigestRecord, Record, State

STATE = ".syndicate/state.json"


def published_ids(root: Path) -> dict[str, str]:
    """The id of each entry of the site's JSON feed, by title, after a build."""
    build(root, NOW)
    items = json.loads((root / "feeds/feed.json").read_bytes())["items"]
    return {item["title"]: item["id"] for item in items}


def saved_state(root: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((root / STATE).read_bytes())
    return document


def move(root: Path, source: str, destination: str) -> None:
    (root / destination).parent.mkdir(parents=True, exist_ok=True)
    (root / source).rename(root / destination)


def rewrite(root: Path, path: str, text: str) -> None:
    (root / path).write_text(text, encoding="utf-8")


def build_errors(root: Path) -> list[str]:
    with pytest.raises(ContentError) as raised:
        build(root, NOW)
    return [str(d) for d in raised.value.diagnostics if d.is_error]


# --- where an id comes from ----------------------------------------------------------------


def test_a_new_article_gets_a_tag_uri(publication: MakePublication) -> None:
    root = publication({"content/first-post.md": article("First post", "2025-05-01")})
    assert published_ids(root) == {"First post": "tag:news.example.org,2025-05-01:first-post"}


def test_an_id_in_the_front_matter_is_used(publication: MakePublication) -> None:
    root = publication(
        {"content/post.md": article("Post", id="urn:uuid:5b1f8a54-0c84-4a3c-9d4e-2b8f3c1e7a10")}
    )
    assert published_ids(root) == {"Post": "urn:uuid:5b1f8a54-0c84-4a3c-9d4e-2b8f3c1e7a10"}


def test_an_id_in_the_front_matter_wins_over_the_saved_one(
    publication: MakePublication,
) -> None:
    root = publication({"content/post.md": article("Post")})
    published_ids(root)
    rewrite(root, "content/post.md", article("Post", id="tag:example.org,2020:kept-elsewhere"))
    assert published_ids(root) == {"Post": "tag:example.org,2020:kept-elsewhere"}


def test_an_id_in_the_front_matter_survives_every_change(publication: MakePublication) -> None:
    root = publication({"content/post.md": article("Post", id="urn:example:post")})
    published_ids(root)
    move(root, "content/post.md", "content/2025/renamed.md")
    rewrite(
        root,
        "content/2025/renamed.md",
        article("New title", "2025-06-01", id="urn:example:post", slug="other"),
    )
    assert published_ids(root) == {"New title": "urn:example:post"}


# --- an id never changes --------------------------------------------------------------------


def test_a_new_title_in_place_keeps_the_id(publication: MakePublication) -> None:
    root = publication({"content/post.md": article("Old title")})
    before = published_ids(root)["Old title"]
    rewrite(root, "content/post.md", article("New title", body="Edited."))
    assert published_ids(root) == {"New title": before}


def test_a_renamed_file_keeps_the_id(publication: MakePublication) -> None:
    root = publication({"content/draft-name.md": article("Post")})
    before = published_ids(root)["Post"]
    move(root, "content/draft-name.md", "content/final-name.md")
    assert published_ids(root) == {"Post": before}


@pytest.mark.parametrize("destination", ["content/2025/post.md", "content/post/index.md"])
def test_a_file_moved_to_a_sub_folder_keeps_the_id(
    publication: MakePublication, destination: str
) -> None:
    root = publication({"content/post.md": article("Post")})
    before = published_ids(root)["Post"]
    move(root, "content/post.md", destination)
    assert published_ids(root) == {"Post": before}
    assert [record["source"] for record in saved_state(root)["articles"]] == [destination]


def test_a_new_slug_in_place_keeps_the_id(publication: MakePublication) -> None:
    root = publication({"content/post.md": article("Post", slug="old-name")})
    before = published_ids(root)["Post"]
    rewrite(root, "content/post.md", article("Post", slug="new-name"))
    assert published_ids(root) == {"Post": before}


def test_an_id_survives_a_history_of_changes(publication: MakePublication) -> None:
    root = publication({"content/post.md": article("Working title"), "content/b.md": article("B")})
    first = published_ids(root)
    rewrite(root, "content/post.md", article("Final title"))
    assert published_ids(root)["Final title"] == first["Working title"]
    rewrite(root, "content/post.md", article("Final title", slug="final-title"))
    assert published_ids(root)["Final title"] == first["Working title"]
    move(root, "content/post.md", "content/2025/final-title.md")
    assert published_ids(root)["Final title"] == first["Working title"]
    move(root, "content/2025/final-title.md", "content/archive/final.md")
    assert published_ids(root) == {"Final title": first["Working title"], "B": first["B"]}


def test_an_article_drafted_again_and_republished_keeps_its_id(
    publication: MakePublication,
) -> None:
    root = publication({"content/post.md": article("Post"), "content/b.md": article("B")})
    before = published_ids(root)["Post"]
    rewrite(root, "content/post.md", article("Post", draft="true"))
    assert "Post" not in published_ids(root)
    rewrite(root, "content/post.md", article("Post"))
    assert published_ids(root)["Post"] == before


# --- a changed permalink is announced ---------------------------------------------------------

OLD_URL = "https://news.example.org/posts/old-name/"
NEW_URL = "https://news.example.org/posts/new-name/"
WARNING = (
    f"content/post.md:4: warning: permalink changed from {OLD_URL} to {NEW_URL}: "
    "links to the old address will break unless it redirects"
)


@pytest.fixture
def new_slug(publication: MakePublication, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A publication whose only article changed its slug since the last build."""
    root = publication({"content/post.md": article("Post", slug="old-name")})
    build(root, NOW)
    rewrite(root, "content/post.md", article("Post", slug="new-name"))
    monkeypatch.chdir(root)
    return root


def test_check_warns_that_the_permalink_changed(new_slug: Path) -> None:
    report = check(new_slug, NOW)
    assert [d.format(relative_to=new_slug) for d in report.diagnostics] == [WARNING]


def test_build_warns_that_the_permalink_changed(new_slug: Path) -> None:
    report = build(new_slug, NOW)
    assert [d.format(relative_to=new_slug) for d in report.diagnostics] == [WARNING]


def test_the_cli_check_warns_that_the_permalink_changed(new_slug: Path) -> None:
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"{WARNING}\n"
    assert result.stdout == "ok: 1 article, 1 published; 0 errors, 1 warning\n"


def test_the_cli_build_warns_that_the_permalink_changed(new_slug: Path) -> None:
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"{WARNING}\n"


def test_a_changed_permalink_is_announced_once(new_slug: Path) -> None:
    build(new_slug, NOW)
    assert build(new_slug, NOW).diagnostics == ()
    assert saved_state(new_slug)["articles"][0]["url"] == NEW_URL


def test_strict_turns_the_permalink_warning_into_an_error(new_slug: Path) -> None:
    before = tree(new_slug / "feeds")
    with pytest.raises(ContentError):
        build(new_slug, NOW, strict=True)
    assert tree(new_slug / "feeds") == before


# --- ids are unique -----------------------------------------------------------------------


def test_a_new_article_gets_an_id_of_its_own(publication: MakePublication) -> None:
    root = publication({"content/one.md": article("One")})
    first = published_ids(root)
    rewrite(root, "content/two.md", article("Two"))
    rewrite(root, "content/three.md", article("Three", "2025-06-01"))
    ids = published_ids(root)
    assert ids["One"] == first["One"]
    assert len(set(ids.values())) == 3


def test_a_slug_of_a_deleted_article_on_the_same_date_gets_a_new_id(
    publication: MakePublication,
) -> None:
    root = publication({"content/news.md": article("Old news", "2025-05-01")})
    old = published_ids(root)["Old news"]
    (root / "content/news.md").unlink()
    rewrite(root, "content/fresh.md", article("Fresh news", "2025-05-01", slug="news"))
    new = published_ids(root)["Fresh news"]
    assert new != old
    assert {record["id"] for record in saved_state(root)["articles"]} == {old, new}


def test_a_file_name_of_a_deleted_article_reused_later_gets_a_new_id(
    publication: MakePublication,
) -> None:
    root = publication(
        {
            "content/keep.md": article("Keep", "2025-01-01"),
            "content/news.md": article("Old news", "2025-05-01"),
        }
    )
    old = published_ids(root)["Old news"]
    (root / "content/news.md").unlink()
    assert "Old news" not in published_ids(root)
    rewrite(root, "content/news.md", article("Fresh news", "2025-05-01"))
    assert published_ids(root)["Fresh news"] != old


def test_a_deleted_article_keeps_its_id_taken(publication: MakePublication) -> None:
    root = publication({"content/a.md": article("A", slug="same")})
    old = published_ids(root)["A"]
    (root / "content/a.md").unlink()
    rewrite(root, "content/b.md", article("B", slug="same"))
    rewrite(root, "content/c.md", article("C"))
    ids = published_ids(root)
    assert old not in ids.values()
    assert len(set(ids.values())) == 2


def test_two_articles_with_one_front_matter_id_is_an_error(publication: MakePublication) -> None:
    root = publication(
        {
            "content/a.md": article("A", id="urn:example:same"),
            "content/b.md": article("B", id="urn:example:same"),
        }
    )
    errors = build_errors(root)
    assert len(errors) == 1
    assert errors[0].endswith(
        'content/b.md:4: error: id: "urn:example:same" is also the id of content/a.md'
    )
    assert not (root / "feeds").exists()
    assert not (root / STATE).exists()


def test_a_front_matter_id_cannot_take_a_published_id(publication: MakePublication) -> None:
    root = publication({"content/a.md": article("A", "2025-01-01")})
    taken = published_ids(root)["A"]
    rewrite(root, "content/b.md", article("B", "2025-02-01", id=taken))
    errors = build_errors(root)
    assert any("content/b.md" in e and "content/a.md" in e for e in errors)


# --- the state file -------------------------------------------------------------------------


def test_the_state_holds_ids_and_nothing_personal(publication: MakePublication) -> None:
    root = publication(
        {
            "content/post.md": article(
                "Post", "2025-05-01T09:30:00+07:00", author='"Jane Doe <jane@example.com>"'
            ),
            "content/other.md": article("Other", authors="[Ann Lee, bob@example.com]"),
        }
    )
    build(root, NOW)
    data = (root / STATE).read_bytes()
    for personal in (b"Jane", b"jane@example.com", b"Ann Lee", b"bob@", b"Site Author"):
        assert personal not in data
    state = json.loads(data)
    assert set(state) == {"version", "articles", "outputs"}
    assert state["version"] == 1
    assert all(
        set(record) == {"id", "source", "title", "date", "url"} for record in state["articles"]
    )
    assert state["articles"] == [
        {
            "id": "tag:news.example.org,2025-05-01:other",
            "source": "content/other.md",
            "title": "Other",
            "date": "2025-05-01T00:00:00+00:00",
            "url": "https://news.example.org/posts/other/",
        },
        {
            "id": "tag:news.example.org,2025-05-01:post",
            "source": "content/post.md",
            "title": "Post",
            "date": "2025-05-01T02:30:00+00:00",
            "url": "https://news.example.org/posts/post/",
        },
    ]


def test_the_state_records_only_published_articles(publication: MakePublication) -> None:
    root = publication(
        {
            "content/post.md": article("Post"),
            "content/draft.md": article("Draft", draft="true"),
            "content/later.md": article("Later", "2026-06-01"),
        }
    )
    build(root, NOW)
    assert [record["title"] for record in saved_state(root)["articles"]] == ["Post"]


def test_building_twice_leaves_the_state_byte_identical(publication: MakePublication) -> None:
    root = publication(
        {
            "content/a.md": article("A", "2025-01-01"),
            "content/notes/b.md": article("B", "2025-02-01", id="urn:example:b"),
            "content/c.md": article("C", "2025-03-01"),
        }
    )
    build(root, NOW)
    data = (root / STATE).read_bytes()
    stamps = mtimes(root / ".syndicate")
    build(root, NOW)
    assert (root / STATE).read_bytes() == data
    assert mtimes(root / ".syndicate") == stamps


STATES = {
    "empty": State(),
    "records, one gone": State(
        records=(
            Record(
                "tag:x,2025:b", "content/b.md", 'Quotes " and \\ and ünïcode ✓', "2025-02-01", "u"
            ),
            Record(
                "urn:a", "content/a.md", "Line\nbreak\ttab \u2028", "2025-01-01", "v", gone=True
            ),
        ),
        outputs=("rss.xml", "atom.xml"),
    ),
    "digests": State(
        records=(Record("i", "s", "t", "d", "u"),),
        digests=(DigestRecord("2025-w01", ("i",), "2025-01-06T09:00:00+00:00"),),
    ),
}


@pytest.mark.parametrize("state", STATES.values(), ids=STATES.keys())
def test_the_state_file_is_indented_json_sorted_by_source(state: State) -> None:
    document: dict[str, Any] = {
        "version": STATE_VERSION,
        "articles": [r.to_json() for r in sorted(state.records, key=lambda r: (r.source, r.id))],
        "outputs": sorted(state.outputs),
    }
    if state.digests:
        document["digests"] = [d.to_json() for d in state.digests]
    expected = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    assert state.to_json() == expected.encode("utf-8")


CORRUPT = {
    "merge conflict": (
        '{\n  "version": 1,\n  "articles": [\n<<<<<<< HEAD\n',
        f"{STATE}:4: error: state file is not valid JSON (Expecting value); restore it from git",
    ),
    "truncated": (
        '{\n  "version": 1,\n  "articles": [\n    {\n      "id": "tag:x,2025:a",\n',
        f"{STATE}:6: error: state file is not valid JSON",
    ),
    "not the state's shape": (
        '{\n  "version": 1\n}\n',
        f"{STATE}:1: error: state file is damaged",
    ),
    "a record without its id": (
        '{"version": 1, "articles": [{"source": "content/a.md"}]}\n',
        f"{STATE}:1: error: state file is damaged",
    ),
    "an unknown version": (
        '{"version": 99, "articles": []}\n',
        f"{STATE}:1: error: state file is damaged (unknown version 99)",
    ),
}


@pytest.mark.parametrize(("text", "expected"), CORRUPT.values(), ids=CORRUPT.keys())
def test_a_corrupt_state_is_an_error_and_nothing_is_written(
    publication: MakePublication, text: str, expected: str
) -> None:
    root = publication({"content/a.md": article("A")})
    build(root, NOW)
    rewrite(root, STATE, text)
    rewrite(root, "content/b.md", article("B"))
    feeds = tree(root / "feeds")
    with pytest.raises(ContentError) as raised:
        build(root, NOW)
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.format(relative_to=root).startswith(expected)
    assert tree(root / "feeds") == feeds
    assert (root / STATE).read_text(encoding="utf-8") == text


def test_a_corrupt_state_stops_the_first_build_too(publication: MakePublication) -> None:
    root = publication({"content/a.md": article("A"), STATE: "not json\n"})
    with pytest.raises(ContentError):
        build(root, NOW)
    assert not (root / "feeds").exists()


def test_the_cli_reports_a_corrupt_state_with_its_path_and_line(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = publication({"content/a.md": article("A"), STATE: '{\n  "version": 1,\n  oops\n}\n'})
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1
    assert result.stderr.startswith(".syndicate/state.json:3: error: state file is not valid JSON")
    assert "nothing was written" in result.stderr
    assert not (root / "feeds").exists()
