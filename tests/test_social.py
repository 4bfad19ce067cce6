"""Each article's social files: post texts, card metadata and the card image."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import NOW, REPO, SITE, MakePublication, article, example_copy, mtimes, tree
from syndicate.cli import main
from syndicate.errors import ContentError
from syndicate.pipeline import build
from syndicate.social import card as cards
from syndicate.social.counting import count

SNAPSHOTS = REPO / "tests" / "artifacts" / "cards" / "example"


def example(tmp_path: Path) -> Path:
    return example_copy(tmp_path / "example")


def test_every_example_article_gets_its_three_social_files(tmp_path: Path) -> None:
    root = example(tmp_path)
    report = build(root, NOW)
    assert report.cards == report.published == 7
    for page in sorted((root / "feeds/posts").iterdir()):
        slug = page.name
        document = json.loads((root / f"feeds/social/{slug}.json").read_text())
        url = f"https://syndicate-news.github.io/syndicate/posts/{slug}/"
        assert document["url"] == url
        # Every example article has an image: its card is a photo card, a JPEG.
        kind, extension = "JPEG", "jpg"
        card_url = f"https://syndicate-news.github.io/syndicate/social/{slug}.{extension}"
        assert document["image"] == document["og"]["og:image"] == card_url
        assert document["og"]["og:image:type"] == f"image/{kind.lower()}"
        assert set(document["posts"]) == {"x", "mastodon", "bluesky", "linkedin", "threads"}
        for platform, post in document["posts"].items():
            assert post["length"] == count(platform, post["text"]) <= post["limit"]
            assert url in post["text"]
        bluesky = document["posts"]["bluesky"]
        [link] = [f for f in bluesky["facets"] if f["features"][0].get("uri") == url]
        data = bluesky["text"].encode("utf-8")
        assert data[link["index"]["byteStart"] : link["index"]["byteEnd"]] == url.encode()
        assert bluesky["embed"]["external"]["thumb"] == f"social/{slug}.{extension}"
        assert document["og"]["og:image:width"] == "1200"
        assert document["twitter"]["twitter:card"] == "summary_large_image"
        assert '<meta property="og:url"' in (root / f"feeds/social/{slug}.html").read_text()
        with Image.open(root / f"feeds/social/{slug}.{extension}") as card:
            assert (card.format, card.size) == (kind, (1200, 630))
        assert not (root / f"feeds/social/{slug}.png").exists()
        # Visual snapshots to look at, kept out of git (tests/artifacts/ is ignored).
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / f"feeds/social/{slug}.{extension}", SNAPSHOTS / f"{slug}.{extension}")


def test_the_build_says_how_many_cards_it_rendered(tmp_path: Path) -> None:
    root = example(tmp_path)
    first = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert first.exit_code == 0, first.output
    assert "Social cards: 7 rendered, the others unchanged." in first.output
    again = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert again.exit_code == 0 and "Social cards" not in again.output


def test_an_unchanged_card_is_not_rendered_again(tmp_path: Path) -> None:
    root = example(tmp_path)
    build(root, NOW)
    stamps = mtimes(root / "feeds/social")
    assert build(root, NOW).cards == 0
    assert mtimes(root / "feeds/social") == stamps
    (root / ".syndicate/cache/outputs.json").write_text("{broken")  # never trusted blindly
    assert build(root, NOW).cards == 7
    assert mtimes(root / "feeds/social") == stamps  # same bytes: nothing rewritten
    path = root / "content/indonesia-ai-hub.md"
    path.write_text(path.read_text().replace("Indonesia Aims", "Indonesia Plans"))
    assert build(root, NOW).cards == 1


def test_a_card_that_cannot_draw_its_title_stops_a_strict_build_writing_anything(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cards.fonts, "raqm_available", lambda: False)  # no Arabic then
    root = publication({"content/a.md": article("Hello")})
    build(root, NOW)
    before, stamps = tree(root / "feeds"), mtimes(root / "feeds")
    (root / "content/a.md").write_text(article("مقالة عن Python"))
    # The card is drawn while the other files are written: its warning still comes first.
    with pytest.raises(ContentError) as raised:
        build(root, NOW, strict=True)
    assert any("card: title: no font has" in d.message for d in raised.value.diagnostics)
    assert tree(root / "feeds") == before and mtimes(root / "feeds") == stamps
    report = build(root, NOW)
    assert any("card: title: no font has" in d.message for d in report.diagnostics)
    assert "a.png" in " ".join(report.written)


def test_social_settings(publication: MakePublication) -> None:
    config = SITE + (
        '\n[social]\nplatforms = ["mastodon", "x"]\nhashtags = 1\n'
        '[social.mastodon]\nsuffix = "via @news@mastodon.social"\nlimit = 1000\n'
        '[social.x]\nhandle = "news"\n'
    )
    root = publication({"content/a.md": article(categories="Southeast Asia, AI")}, config)
    build(root, NOW)
    document = json.loads((root / "feeds/social/a.json").read_text())
    assert list(document["posts"]) == ["mastodon", "x"]
    mastodon = document["posts"]["mastodon"]
    assert mastodon["limit"] == 1000
    assert mastodon["text"].endswith("#SoutheastAsia via @news@mastodon.social")
    assert document["twitter"]["twitter:site"] == "@news"


def test_no_platforms_no_social_files(publication: MakePublication) -> None:
    root = publication({"content/a.md": article()}, SITE + "\n[social]\nplatforms = []\n")
    build(root, NOW)
    assert not (root / "feeds/social").exists()


def test_the_card_takes_its_colours_from_the_config(publication: MakePublication) -> None:
    config = SITE + '\n[social.card]\nbackground = "#102030"\naccent = "#ff0000"\n'
    root = publication({"content/a.md": article()}, config)
    build(root, NOW)
    with Image.open(root / "feeds/social/a.png") as card:
        rgb = card.convert("RGB")
        assert rgb.getpixel((1190, 620)) == (0x10, 0x20, 0x30)  # the plain background
        assert rgb.getpixel((2, 315)) == (255, 0, 0)  # the accent stripe on the left edge
