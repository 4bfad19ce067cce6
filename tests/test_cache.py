"""The build cache (.syndicate/cache/) is safe: it makes builds faster and never changes
what they write.  An edited article, a changed template, a changed config value and a new
syndicate version each invalidate what depends on them; a damaged cache is rebuilt."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import syndicate.cache
import syndicate.config
import syndicate.content
import syndicate.markdown
import syndicate.social.card
from conftest import NOW, REPO, SITE, MakePublication, article, mtimes, tree
from syndicate.cache import shard
from syndicate.errors import ContentError
from syndicate.pipeline import build

FEEDS_ONLY = SITE + "pages = false\n\n[social]\nplatforms = []\n"
CACHE = ".syndicate/cache"


def three(publication: MakePublication, config: str = FEEDS_ONLY) -> Path:
    return publication(
        {
            "content/a.md": article(
                "Apples", "2025-01-01", "About [bananas](b.md).", categories="[Fruit, Red]"
            ),
            "content/b.md": article("Bananas", "2025-02-01", "Yellow.", categories="[Fruit]"),
            "content/c.md": article("Carrots", "2025-03-01", "Orange.", categories="[Roots]"),
        },
        config=config,
    )


def cold(root: Path, tmp_path: Path) -> dict[str, bytes]:
    """What a build without any cache writes for the publication as it is now."""
    copy = tmp_path / "cold"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("feeds", "cache"))
    build(copy, NOW, use_cache=False)
    return tree(copy / "feeds")


def feed_files(folder: str) -> set[str]:
    return {folder + name for name in ("rss.xml", "atom.xml", "feed.json")}


def test_a_warm_build_parses_renders_and_rewrites_nothing(publication: MakePublication) -> None:
    root = three(publication)
    first = build(root, NOW)
    assert (first.parsed, first.rendered) == (3, 3)
    stamps = mtimes(root / "feeds")
    again = build(root, NOW)
    assert (again.parsed, again.rendered, again.written) == (0, 0, ())
    assert again.kept == 3 * 4  # the site feed and three category feeds, kept unread
    assert mtimes(root / "feeds") == stamps


def test_an_edited_article_is_read_and_rendered_again_alone(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = three(publication)
    build(root, NOW)
    (root / "content/b.md").write_text(
        article("Bananas", "2025-02-01", "Yellow, and edited.", categories="[Fruit]")
    )
    report = build(root, NOW)
    assert (report.parsed, report.rendered) == (1, 1)
    # Only the feeds that show the edited article are rendered and written again.
    assert set(report.written) == feed_files("") | feed_files("categories/fruit/")
    assert report.kept == 6  # categories/red/ and categories/roots/
    assert tree(root / "feeds") == cold(root, tmp_path)


def test_a_moved_link_target_renders_the_article_linking_to_it_again(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = three(publication)
    build(root, NOW)
    (root / "content/b.md").write_text(
        article("Bananas", "2025-02-01", "Yellow.", categories="[Fruit]", slug="yellow-bananas")
    )
    report = build(root, NOW)
    assert report.rendered == 2  # b itself, and a, whose link to b.md now goes elsewhere
    assert (
        b"https://news.example.org/posts/yellow-bananas/" in (root / "feeds/rss.xml").read_bytes()
    )
    assert tree(root / "feeds") == cold(root, tmp_path)


def test_a_changed_config_value_renders_what_shows_it_again(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = three(publication)
    build(root, NOW)
    config = FEEDS_ONLY.replace('title = "Test Times"', 'title = "Test Tribune"')
    (root / "syndicate.toml").write_text(config)
    report = build(root, NOW)
    assert report.kept == 0 and len(report.written) == 3 * 4 + 1  # every feed and index.html
    assert b"Test Tribune" in (root / "feeds/categories/roots/atom.xml").read_bytes()
    assert tree(root / "feeds") == cold(root, tmp_path)
    # A value feeds do not show (the site's permalink pattern only moves pages... and urls)
    # still gives what a build without a cache gives.
    config = config.replace("pages = false", 'pages = false\ntimezone = "Asia/Jakarta"')
    (root / "syndicate.toml").write_text(config)
    build(root, NOW)
    assert tree(root / "feeds") == cold(root, tmp_path)


def article_files(*slugs: str, kinds: str = "page html json png") -> set[str]:
    """The page (``page``) and social files (``html``, ``json``, ``png``) of *slugs*."""
    names = {"page": "posts/{}/index.html", "html": "social/{}.html"}
    names |= {"json": "social/{}.json", "png": "social/{}.png"}
    return {names[kind].format(slug) for slug in slugs for kind in kinds.split()}


def test_a_warm_full_build_renders_and_rewrites_nothing(publication: MakePublication) -> None:
    root = three(publication, config=SITE)
    first = build(root, NOW)
    assert (first.parsed, first.rendered, first.cards) == (3, 3, 3)
    stamps = mtimes(root / "feeds")
    again = build(root, NOW)
    assert (again.parsed, again.rendered, again.cards, again.written) == (0, 0, 0, ())
    # Every feed, and each article's page and social files, kept unread.
    assert again.kept == 3 * 4 + len(article_files("a", "b", "c"))
    assert mtimes(root / "feeds") == stamps


def test_each_file_written_is_recorded_as_it_is_on_disk(publication: MakePublication) -> None:
    # The record is what the next build compares with the file's status to keep it unread:
    # its size, modification time and inode, taken when it was written, in the folder
    # that the swap then moved into place.
    root = three(publication, config=SITE)
    for edit in ("", "Orange and sweet."):
        if edit:
            (root / "content/c.md").write_text(article("Carrots", "2025-03-01", edit))
        assert build(root, NOW).written
        outputs = json.loads((root / CACHE / "outputs.json").read_text())["entries"]
        assert set(article_files("a", "b", "c")) <= outputs.keys()
        assert outputs.keys() == tree(root / "feeds").keys()  # every file it made
        for name, record in outputs.items():
            if not record:  # made without a key (the landing page): none to compare
                continue
            status = (root / "feeds" / name).stat()
            assert record[1:4] == [status.st_size, status.st_mtime_ns, status.st_ino], name


def test_an_edited_body_makes_its_page_and_texts_again_but_not_its_card(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    (root / "content/b.md").write_text(
        article("Bananas", "2025-02-01", "Yellow, and edited.", categories="[Fruit]")
    )
    report = build(root, NOW)
    assert (report.parsed, report.rendered, report.cards) == (1, 1, 0)
    assert set(report.written) == (
        feed_files("")
        | feed_files("categories/fruit/")
        | article_files("b", kinds="page html json")
    )
    assert tree(root / "feeds") == cold(root, tmp_path)


def test_a_build_that_draws_no_card_loads_no_card_backdrop(publication: MakePublication) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    (root / "content/b.md").write_text(
        article("Bananas", "2025-02-01", "Edited.", categories="[Fruit]")
    )
    syndicate.social.card.backdrop.cache_clear()
    report = build(root, NOW)
    assert report.cards == 0 and "social/b.json" in report.written
    # Fonts, layout and backdrop are loaded for drawing a card (about 0.2 s), not for a page.
    assert syndicate.social.card.backdrop.cache_info().currsize == 0


def test_a_warm_full_build_loads_no_post_rules(publication: MakePublication) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    # In a process of its own: what a build imports stays imported.
    script = (
        "import sys\n"
        "from datetime import datetime\n"
        "from pathlib import Path\n"
        "from syndicate.pipeline import build\n"
        f"report = build(Path({str(root)!r}), datetime.fromisoformat({NOW.isoformat()!r}))\n"
        "print(report.written, 'syndicate.social.text' in sys.modules, 'regex' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # The counting rules and the regex module (60 ms) load only to write a post.
    assert done.stdout.split() == ["()", "False", "False"]


def test_an_edited_title_draws_its_card_again(publication: MakePublication, tmp_path: Path) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    (root / "content/c.md").write_text(
        article("Carrots, raw", "2025-03-01", "Orange.", categories="[Roots]")
    )
    report = build(root, NOW)
    assert report.cards == 1
    written = set(report.written) - {"index.html"}  # lists the latest titles
    assert written == feed_files("") | feed_files("categories/roots/") | article_files("c")
    assert tree(root / "feeds") == cold(root, tmp_path)


def add_to_template(root: Path, name: str, text: str) -> None:
    """Override the default template *name* in the publication: the same, then *text*."""
    (root / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
    (root / "templates" / name).write_text((REPO / "templates" / name).read_text() + text)


def test_a_changed_template_renders_again_only_what_it_renders(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    add_to_template(root, "site/article.html.j2", "<!-- changed -->\n")
    report = build(root, NOW)
    assert (report.rendered, report.cards) == (0, 0)  # the feeds and the social files use none
    assert set(report.written) == article_files("a", "b", "c", kinds="page")
    assert tree(root / "feeds") == cold(root, tmp_path)
    # The pages include the card's <meta> snippet: both are made again, not the rest.
    add_to_template(root, "social/meta.html.j2", "<!-- changed -->\n")
    report = build(root, NOW)
    assert set(report.written) == article_files("a", "b", "c", kinds="page html")
    assert tree(root / "feeds") == cold(root, tmp_path)


def test_front_matter_read_from_the_cache_keeps_the_order_it_was_written_in(
    publication: MakePublication, tmp_path: Path
) -> None:
    text = article("Apples", "2025-01-01").replace("---\n", "---\nzeta: 1\nalpha: 2\n", 1)
    root = publication({"content/a.md": text}, config=SITE)
    build(root, NOW)
    # A page template that shows the unknown keys, rendered from the cached front matter.
    shown = "{% for key in article.extra %}<i>{{ key }}</i>{% endfor %}\n"
    add_to_template(root, "site/article.html.j2", shown)
    assert build(root, NOW).parsed == 0
    page = (root / "feeds/posts/a/index.html").read_text()
    assert "<i>zeta</i><i>alpha</i>" in page
    assert tree(root / "feeds") == cold(root, tmp_path)


def test_a_changed_config_value_makes_again_the_article_files_that_show_it(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    # The X handle is in the twitter:site tag of the pages, snippets and social JSON: not
    # on a card, nor in a feed.
    (root / "syndicate.toml").write_text(SITE + '\n[social.x]\nhandle = "news"\n')
    report = build(root, NOW)
    assert report.cards == 0 and report.kept == 3 * 4 + 3
    assert set(report.written) == article_files("a", "b", "c", kinds="page html json")
    assert tree(root / "feeds") == cold(root, tmp_path)
    # The card's colours are on the cards alone.
    (root / "syndicate.toml").write_text(
        SITE + '\n[social.x]\nhandle = "news"\n[social.card]\naccent = "#ff0000"\n'
    )
    report = build(root, NOW)
    assert report.cards == 3
    assert set(report.written) == article_files("a", "b", "c", kinds="png")
    assert tree(root / "feeds") == cold(root, tmp_path)


def test_a_new_syndicate_version_invalidates_the_whole_cache(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    monkeypatch.setattr(syndicate.cache, "__version__", "99.0.0")
    report = build(root, NOW)
    assert (report.parsed, report.rendered, report.kept, report.cards) == (3, 3, 0, 3)
    assert report.written == ()  # rendered again, to the same bytes
    assert tree(root / "feeds") == cold(root, tmp_path)


def test_another_markdown_engine_renders_every_body_again(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = three(publication)
    build(root, NOW)
    # An upgrade of the Markdown parser may change the HTML: no body rendered by the old one
    # is reused, while the parsed front matter still is.
    monkeypatch.setattr(syndicate.markdown, "engine", lambda: "comrak 99.0")
    report = build(root, NOW)
    assert (report.parsed, report.rendered) == (0, 3)


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"version": "0.1.0"}', b"[]"])
def test_a_damaged_cache_is_rebuilt(
    publication: MakePublication, tmp_path: Path, damage: bytes
) -> None:
    root = three(publication)
    build(root, NOW)
    cache = root / CACHE
    records = sorted(cache.glob("*.json"))
    assert len(records) >= 3  # bodies, outputs and the article files in use
    for path in [*records, cache / "bodies.pack"]:
        path.write_bytes(damage)
    report = build(root, NOW)
    assert (report.parsed, report.rendered) == (3, 3)
    assert tree(root / "feeds") == cold(root, tmp_path)
    for path in records:
        assert json.loads(path.read_bytes())["version"] == syndicate.__version__
    again = build(root, NOW)
    assert (again.parsed, again.rendered, again.written) == (0, 0, ())


def test_an_edit_rewrites_only_the_article_file_that_holds_its_record(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"content/a{n}.md": article(f"A{n}", f"2025-01-{n + 1:02d}") for n in range(20)}
    root = publication(files)
    # Every file as if written a minute ago: known by its times, however quick the test.
    later = time.time_ns() + 60_000_000_000
    monkeypatch.setattr("syndicate.cache.articles.time_ns", lambda: later)
    build(root, NOW)
    cache = root / CACHE
    shards = {path.name: path.stat().st_mtime_ns for path in cache.glob("articles-*.json")}
    assert len(shards) > 1  # twenty articles: spread over several files
    edited = root / "content/a3.md"
    edited.write_text(edited.read_text() + "\nOne more line.\n")
    assert build(root, NOW).parsed == 1
    after = {path.name: path.stat().st_mtime_ns for path in cache.glob("articles-*.json")}
    rewritten = [name for name in after if after[name] != shards.get(name)]
    assert rewritten == [f"articles-{shard('content/a3.md'):02d}.json"]


def test_script_put_into_a_cached_body_is_sanitised_away(publication: MakePublication) -> None:
    root = three(publication)
    build(root, NOW)
    index = json.loads((root / CACHE / "bodies.json").read_bytes())
    pack = (root / CACHE / "bodies.pack").read_bytes()
    poisoned = b""
    for entry in index["entries"].values():
        start, length = entry["at"]
        body = json.loads(pack[start : start + length])
        body["html"] += '<script>alert(1)</script><a href="javascript:alert(2)" onclick="x()">x</a>'
        data = json.dumps(body).encode()
        entry["at"] = [len(poisoned), len(data)]
        poisoned += data
    (root / CACHE / "bodies.pack").write_bytes(poisoned)
    (root / CACHE / "bodies.json").write_text(json.dumps(index))
    (root / CACHE / "outputs.json").unlink()  # so the feeds are rendered from those bodies
    report = build(root, NOW)
    assert report.rendered == 0
    for data in tree(root / "feeds").values():
        assert b"alert" not in data and b"onclick" not in data


def test_an_output_changed_by_hand_is_written_again(publication: MakePublication) -> None:
    root = three(publication)
    build(root, NOW)
    original = (root / "feeds/atom.xml").read_bytes()
    (root / "feeds/atom.xml").write_bytes(b"<feed>changed by hand</feed>")
    report = build(root, NOW)
    assert report.written == ("atom.xml",)
    assert (root / "feeds/atom.xml").read_bytes() == original


def fresh_clone(root: Path, tmp_path: Path) -> None:
    """*root* as a fresh clone with its build cache restored (as the publish workflow does):
    the same bytes in new files, with new inodes and modification times."""
    away = tmp_path / "before-clone"
    shutil.move(root, away)
    shutil.copytree(away, root, copy_function=shutil.copyfile)
    shutil.rmtree(away)


def test_a_fresh_clone_with_the_cache_restored_draws_no_card_and_rewrites_nothing(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    fresh_clone(root, tmp_path)
    stamps = mtimes(root / "feeds")
    report = build(root, NOW)
    assert (report.parsed, report.rendered, report.cards, report.written) == (0, 0, 0, ())
    assert mtimes(root / "feeds") == stamps
    # The files' new times are recorded: the next build keeps them without reading them.
    outputs = json.loads((root / CACHE / "outputs.json").read_text())["entries"]
    for name in article_files("a", "b", "c"):
        status = (root / "feeds" / name).stat()
        assert outputs[name][1:4] == [status.st_size, status.st_mtime_ns, status.st_ino]


def test_after_a_fresh_clone_a_card_with_other_bytes_is_drawn_again(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    fresh_clone(root, tmp_path)
    card = root / "feeds/social/b.png"
    drawn = card.read_bytes()
    card.write_bytes(bytes(len(drawn)))  # the same size, other bytes
    report = build(root, NOW)
    assert report.cards == 1 and report.written == ("social/b.png",)
    assert card.read_bytes() == drawn


def with_photo(publication: MakePublication, colour: str) -> Path:
    """A publication whose article "a" shows a photo of one *colour* from its static folder,
    and whose article "b" links to "a"."""

    root = publication(
        {
            "content/a.md": article("Apples", "2025-01-01", image="/img/a.png"),
            "content/b.md": article("Bananas", "2025-02-01", "After [apples](a.md)."),
        }
    )
    (root / "static/img").mkdir(parents=True)
    photo(root / "static/img/a.png", colour)
    return root


def photo(path: Path, colour: str) -> None:
    """A photo of one *colour*, whose file has the same size whatever the colour."""
    from PIL import Image

    Image.new("RGB", (240, 126), colour).save(path, compress_level=0)


def moved_copy(root: Path, tmp_path: Path) -> Path:
    """*root* copied to another folder, its build cache and output with it."""
    moved = tmp_path / "elsewhere" / "pub"
    shutil.copytree(root, moved, copy_function=shutil.copyfile)
    return moved


def test_a_publication_moved_to_another_folder_parses_renders_and_draws_nothing_again(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = with_photo(publication, "red")
    build(root, NOW)
    moved = moved_copy(root, tmp_path)
    shutil.rmtree(root)
    report = build(moved, NOW)
    assert (report.parsed, report.rendered, report.cards, report.written) == (0, 0, 0, ())
    assert tree(moved / "feeds") == cold(moved, tmp_path)


def test_a_moved_publication_draws_its_cards_from_its_own_images(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = with_photo(publication, "red")
    build(root, NOW)
    moved = moved_copy(root, tmp_path)
    photo(moved / "static/img/a.png", "blue")
    report = build(moved, NOW)
    assert (report.parsed, report.cards) == (0, 1) and "social/a.jpg" in report.written
    assert tree(moved / "feeds") == cold(moved, tmp_path)
    assert build(root, NOW).written == ()  # the first folder still shows its own


def test_a_page_whose_template_shows_a_path_is_made_again_in_another_folder(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = with_photo(publication, "red")
    (root / "templates/site").mkdir(parents=True)
    (root / "templates/site/article.html.j2").write_text("{{ article.source }}\n")
    build(root, NOW)
    moved = moved_copy(root, tmp_path)
    report = build(moved, NOW)
    assert set(report.written) == {"posts/a/index.html", "posts/b/index.html"}
    assert (moved / "feeds/posts/a/index.html").read_text() == f"{moved}/content/a.md\n"


def test_without_the_cache_the_output_is_the_same(publication: MakePublication) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    cached = tree(root / "feeds")
    shutil.rmtree(root / CACHE)
    report = build(root, NOW)
    assert report.written == ()
    assert tree(root / "feeds") == cached


def test_a_build_without_the_cache_neither_uses_nor_changes_it(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = three(publication, config=SITE)
    build(root, NOW)
    kept = tree(root / CACHE)
    (root / "content/a.md").write_text(article("Apples", "2025-01-01", "Green now."))
    report = build(root, NOW, use_cache=False)
    assert (report.parsed, report.rendered, report.kept) == (3, -1, 0)
    assert tree(root / "feeds") == cold(root, tmp_path)
    assert tree(root / CACHE) == kept


def test_an_edit_that_keeps_the_size_and_modification_time_is_still_seen(
    publication: MakePublication, tmp_path: Path
) -> None:
    """An unchanged file is not even read (its size, times and inode are compared); an
    edit that restores the old modification time still changes the file's change time."""
    root = three(publication)
    path = root / "content/b.md"
    past = 1_600_000_000_000_000_000
    os.utime(path, ns=(past, past))
    time.sleep(2.1)  # files changed in the last two seconds are always read
    build(root, NOW)
    assert build(root, NOW).parsed == 0
    edited = article("Bananas", "2025-02-01", "Yellow!", categories="[Fruit]")
    assert len(edited) == path.stat().st_size
    path.write_text(edited)
    os.utime(path, ns=(past, past))
    report = build(root, NOW)
    assert report.parsed == 1
    assert b"Yellow!" in (root / "feeds/rss.xml").read_bytes()
    assert tree(root / "feeds") == cold(root, tmp_path)


def test_an_article_changed_during_the_build_is_an_error_not_a_wrong_feed(
    publication: MakePublication,
) -> None:
    """The body of a cached article is read only when needed: if the file changed since
    it was looked at, the build stops and says so."""
    root = three(publication)
    build(root, NOW)
    from syndicate.config import load_config
    from syndicate.content import load_articles, read_body

    articles, _ = load_articles(load_config(root), syndicate.cache.BuildCache.open(root))
    cached = next(a for a in articles if a.slug == "b")
    (root / "content/b.md").write_text(article("Bananas", "2025-02-01", "Green."))
    with pytest.raises(ContentError) as raised:
        read_body(cached)
    assert (
        "changed while syndicate was building; build again" in raised.value.diagnostics[0].message
    )


def test_a_body_the_pack_does_not_hold_at_its_place_is_rendered_again(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = three(publication)
    build(root, NOW)
    index = json.loads((root / CACHE / "bodies.json").read_bytes())
    places = [entry["at"] for entry in index["entries"].values()]
    # Each body points at its neighbour's bytes: valid JSON, but the key is not its own.
    for entry, place in zip(index["entries"].values(), places[1:] + places[:1], strict=True):
        entry["at"] = place
    (root / CACHE / "bodies.json").write_text(json.dumps(index))
    (root / CACHE / "outputs.json").unlink()
    report = build(root, NOW)
    assert report.rendered == 3
    assert tree(root / "feeds") == cold(root, tmp_path)


def test_the_pack_is_rewritten_with_only_the_bodies_in_use(publication: MakePublication) -> None:
    root = three(publication)
    pack = root / CACHE / "bodies.pack"
    for edit in range(40):
        text = article("Carrots", "2025-03-01", "Orange. " * 2000 + str(edit), categories="[Roots]")
        (root / "content/c.md").write_text(text)
        build(root, NOW)
        index = json.loads((root / CACHE / "bodies.json").read_bytes())["entries"]
        live = sum(entry["at"][1] for entry in index.values())
        assert pack.stat().st_size <= 2 * live + 65536
    again = build(root, NOW)
    assert (again.parsed, again.rendered, again.written) == (0, 0, ())


def test_a_workers_record_of_an_article_is_the_json_of_its_fields(
    publication: MakePublication,
) -> None:
    # The record a worker writes directly is what the JSON encoder writes of the same
    # fields, for every kind of article (the unusual ones are written by the encoder).
    root = publication(
        {
            "static/img/local.png": b"\x89PNG...",
            "content/local.md": article('Quotes " and \\ back', image="/img/local.png"),
            "content/remote.md": article(
                "Remote", "2025-05-01T10:00:00+07:00", image="https://cdn.example.org/a.jpg"
            ),
            "content/missing.md": article("Missing", "2025-05-01T10:00:00Z", image="/no.webp"),
            "content/full.md": article(
                '"Ünïcode ✓"',
                "2025-05-01 08:30:00",
                categories="[Café, 'Q&A', Data]",
                summary="A summary",
                id="urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                authors="[Ann, Bo]",
                draft="true",
            ),
            "content/broken.md": article("Broken", "2025-02-30"),
            "content/extra.md": article("Extra", series="Part one"),
        }
    )
    config = syndicate.config.load_config(root)
    direct = []
    for path in sorted((root / "content").glob("*.md")):
        read, found, _ = syndicate.content.reading.read_source(path, config)
        fields = syndicate.content.records._to_record(read, found, root)
        record = syndicate.content.records._record_text("s", [1, 2, 3, 4], "h", read, found, root)
        expected = {"settings": "s", "stat": [1, 2, 3, 4], "hash": "h", **fields}
        if record is not None:
            direct.append(path.stem)
            assert record == syndicate.cache.encoded(expected), path.stem
    assert direct == ["broken", "full", "local", "missing", "remote"]  # not "extra"
