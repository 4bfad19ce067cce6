"""Social cards: size and format, deterministic bytes, the title inside the safe area,
font coverage per script, article images, and the key that decides re-rendering."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from conftest import REPO
from syndicate.social import card as cards
from syndicate.social.card import (
    ELLIPSIS,
    SIZE,
    CardInput,
    CardStyle,
    Layout,
    card_key,
    covered,
    font_chain,
    render_card,
)

ARTIFACTS = REPO / "tests" / "artifacts" / "cards"

LONG_TITLE = ("Why the quiet village library outlived three empires and a flood " * 5)[:300]
LONG_WORD = "Donaudampfschifffahrtsgesellschaftskapitän" * 5  # 210 characters, no space

SAMPLES = {
    "latin": "Syndicate 1.0: feeds, a digest and social cards from one folder",
    "long": LONG_TITLE,
    "word": LONG_WORD[:200],
    "cyrillic": "Съешь же ещё этих мягких французских булок, да выпей чаю",
    "greek": "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία: μια ιστορία",
    "vietnamese": "Tiếng Việt có dấu: những điều bạn cần biết về phở và bánh mì",
    "arabic": "مرحبا بالعالم: مقالة عن النشر المستقل مع Python",
    "cjk": "日本語のタイトル、そして中文标题：社交卡片的测试",
    "emoji": "Launch day 🚀🎉 — we shipped 👩🏽‍💻 with ❤️",
}


def article(title: str = SAMPLES["latin"], image: Path | None = None) -> CardInput:
    return CardInput("Test Times", title, "Ada Lovelace", "1 May 2025", image)


DEFAULT = CardStyle()


def render(card: CardInput, style: CardStyle = DEFAULT) -> tuple[Image.Image, Layout]:
    png, layout = render_card(card, style)
    return Image.open(io.BytesIO(png)), layout


def inside(box: tuple[int, int, int, int], area: tuple[int, int, int, int]) -> bool:
    return area[0] <= box[0] <= box[2] <= area[2] and area[1] <= box[1] <= box[3] <= area[3]


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A 1600×900 WebP photo-like gradient, without alpha."""
    picture = Image.linear_gradient("L").resize((1600, 900)).convert("RGB")
    path = tmp_path / "static" / "photo.webp"
    path.parent.mkdir()
    picture.save(path, "WEBP", quality=80)
    return path


def test_a_card_is_a_1200_by_630_png() -> None:
    picture, layout = render(article())
    assert picture.format == "PNG"
    assert picture.size == SIZE == (1200, 630)
    assert layout.safe_area == (72, 72, 1128, 558)
    assert not layout.image_used
    assert layout.problems == ()


def test_the_png_has_no_timestamp_or_text_chunks() -> None:
    png, _ = render_card(article())
    for chunk in (b"tIME", b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert chunk not in png


def test_the_same_input_gives_the_same_bytes(photo: Path) -> None:
    for card in (article(), article(SAMPLES["arabic"]), article(image=photo)):
        assert render_card(card)[0] == render_card(card)[0]


def test_a_short_title_is_drawn_large_without_an_ellipsis() -> None:
    _, layout = render(article())
    assert layout.title_size == 72
    assert " ".join(layout.lines) == SAMPLES["latin"]
    assert inside(layout.title_box, layout.safe_area)


def test_a_300_character_title_shrinks_inside_the_safe_area() -> None:
    _, layout = render(article(LONG_TITLE))
    assert len(LONG_TITLE) == 300
    assert 36 <= layout.title_size < 72
    assert inside(layout.title_box, layout.safe_area)
    shown = " ".join(layout.lines)
    # An ellipsis only when the title did not fit whole.
    assert shown == LONG_TITLE.strip() or shown.endswith(ELLIPSIS)
    assert all(not line.endswith(ELLIPSIS) for line in layout.lines[:-1])


def test_a_title_too_long_at_the_smallest_size_is_cut_at_a_word_with_an_ellipsis() -> None:
    title = LONG_TITLE * 2
    _, layout = render(article(title))
    assert layout.title_size == 36
    assert inside(layout.title_box, layout.safe_area)
    assert layout.lines[-1].endswith(ELLIPSIS)
    assert all(not line.endswith(ELLIPSIS) for line in layout.lines[:-1])
    shown = " ".join(layout.lines)[: -len(ELLIPSIS)]
    assert title.startswith(shown)
    assert title[len(shown)] == " "  # cut at a word


def test_a_title_that_fits_after_shrinking_has_no_ellipsis() -> None:
    title = "A title long enough to need a smaller size but not so long that it must be cut " * 2
    _, layout = render(article(title.strip()))
    assert 36 < layout.title_size < 72
    assert " ".join(layout.lines) == title.strip()
    assert not any(ELLIPSIS in line for line in layout.lines)
    assert inside(layout.title_box, layout.safe_area)


def test_a_200_character_word_is_broken_inside_the_safe_area() -> None:
    word = LONG_WORD[:200]
    _, layout = render(article(word))
    assert inside(layout.title_box, layout.safe_area)
    assert "".join(layout.lines).removesuffix(ELLIPSIS) == word[: len("".join(layout.lines))]
    assert "".join(layout.lines) == word  # it fits when broken: no ellipsis


def test_a_very_long_word_is_cut_at_a_grapheme_with_an_ellipsis() -> None:
    word = LONG_WORD * 2  # 420 characters
    _, layout = render(article(word))
    assert inside(layout.title_box, layout.safe_area)
    assert layout.lines[-1].endswith(ELLIPSIS)
    assert word.startswith("".join(layout.lines).removesuffix(ELLIPSIS))


def test_long_site_names_and_authors_are_cut_not_overflowing() -> None:
    card = CardInput("The Site " * 30, "Title", "An Author " * 30, "1 May 2025", None)
    picture, layout = render(card)
    assert picture.size == SIZE
    assert inside(layout.title_box, layout.safe_area)


@pytest.mark.parametrize("script", ["latin", "cyrillic", "greek", "vietnamese"])
def test_european_scripts_are_drawn_by_the_shipped_noto_sans(script: str) -> None:
    title = SAMPLES[script]
    shipped = covered(font_chain(CardStyle(), bold=True)[0])
    regular = covered(font_chain(CardStyle(), bold=False)[0])
    assert font_chain(CardStyle(), bold=True)[0].name == "NotoSans-Bold.ttf"
    missing = [char for char in title if ord(char) not in shipped or ord(char) not in regular]
    assert missing == []  # so never a box for a missing glyph
    _, layout = render(article(title))
    assert layout.problems == ()
    assert " ".join(layout.lines) == title
    assert inside(layout.title_box, layout.safe_area)


def test_arabic_is_drawn_right_aligned_with_the_arabic_font() -> None:
    _, layout = render(article(SAMPLES["arabic"]))
    assert inside(layout.title_box, layout.safe_area)
    if cards.raqm_available():
        assert layout.problems == ()
        assert layout.title_box[2] > 1100  # right-aligned
        arabic = covered(font_chain(CardStyle(), bold=True)[1])
        assert all(ord(char) in arabic for char in "مرحبا بالعالم")


def test_without_raqm_arabic_is_left_out_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cards, "raqm_available", lambda: False)
    _, layout = render(article("مقالة عن Python"))
    assert not any(
        path.name.startswith("NotoSansArabic") for path in font_chain(CardStyle(), bold=True)
    )
    assert " ".join(layout.lines) == "Python"
    assert any("title: no font has" in problem for problem in layout.problems)


@pytest.mark.parametrize("script", ["emoji", "cjk", "arabic"])
def test_emoji_cjk_and_arabic_never_crash(script: str) -> None:
    picture, layout = render(article(SAMPLES[script]))
    assert picture.size == SIZE
    assert inside(layout.title_box, layout.safe_area) or layout.lines == ()


def test_emoji_are_left_out_and_reported() -> None:
    _, layout = render(article(SAMPLES["emoji"]))
    assert " ".join(layout.lines) == "Launch day — we shipped with"
    assert any("🚀" in problem for problem in layout.problems)


def test_cjk_draws_with_the_shipped_fallback_on_any_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cards, "SYSTEM_FALLBACKS", ())  # as on a machine with no CJK font
    _, layout = render(article("中文标题 and English 日本語 한국어"))
    drawn = "".join(layout.lines).replace(" ", "")
    assert drawn == "中文标题andEnglish日本語한국어"  # every character, wherever the lines broke
    assert layout.problems == ()
    chain = cards.font_chain(cards.CardStyle(), bold=True)
    assert all(ord(c) in cards.covered(chain[-1]) for c in "中文标题日本語한국어")


def test_cjk_wraps_by_character(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cards, "SYSTEM_FALLBACKS", ())
    _, layout = render(article("社交卡片" * 40))
    assert len(layout.lines) > 1
    assert inside(layout.title_box, layout.safe_area)


def test_cjk_tokens_are_characters_and_keep_closing_punctuation() -> None:
    tokens = [token.text for token in cards._tokens("中文。标题 and words")]
    assert tokens == ["中", "文。", "标", "题", "and", "words"]


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P"])
def test_an_article_image_is_the_darkened_background(tmp_path: Path, mode: str) -> None:
    source = Image.linear_gradient("L").resize((800, 1000)).convert("RGB")
    if mode == "RGBA":
        source = source.convert("RGBA")
        source.putalpha(Image.linear_gradient("L").resize((800, 1000)))
    elif mode == "P":
        source = source.convert("P")
    path = tmp_path / f"image-{mode}.webp" if mode != "P" else tmp_path / "image.png"
    source.save(path)
    picture, layout = render(article(image=path))
    assert layout.image_used and layout.problems == ()
    plain, _ = render(article())
    assert picture.tobytes() != plain.tobytes()
    # Darkened: the brightest part of the image is far darker than the white source.
    corner = picture.convert("L").crop((600, 600, 1200, 630))
    extrema = corner.getextrema()
    assert isinstance(extrema[1], int) and extrema[1] < 128


def test_a_webp_with_alpha_is_read(tmp_path: Path) -> None:
    source = Image.new("RGBA", (1200, 630), (255, 0, 0, 0))
    source.paste((255, 0, 0, 255), (0, 0, 600, 630))
    path = tmp_path / "alpha.webp"
    source.save(path, "WEBP", lossless=True)
    picture, layout = render(article(image=path))
    assert layout.image_used
    red_side = picture.getpixel((300, 20))
    clear_side = picture.getpixel((900, 20))
    assert isinstance(red_side, tuple) and isinstance(clear_side, tuple)
    assert red_side[0] > clear_side[0]


def test_a_photo_taken_sideways_is_drawn_upright(tmp_path: Path) -> None:
    # Stored as a camera held sideways writes it: a landscape whose top half is white,
    # with EXIF orientation 6 (turn it a quarter clockwise to show it upright).
    stored = Image.new("RGB", (1260, 600), "black")
    stored.paste("white", (0, 0, 1260, 300))
    exif = Image.Exif()
    exif[0x0112] = 6
    turned, plain = tmp_path / "turned.jpg", tmp_path / "plain.jpg"
    stored.save(turned, exif=exif.tobytes())
    stored.save(plain)
    upright = render(article(image=turned))[0].convert("L")
    as_stored = render(article(image=plain))[0].convert("L")
    # Upright, the white half is the right one: the card's left edge is dark, its right lighter.
    left, right = upright.getpixel((60, 315)), upright.getpixel((1140, 315))
    assert isinstance(left, int) and isinstance(right, int) and right > left + 40
    # Without the tag, the same pixels are shown as stored: the white half on top.
    top, bottom = as_stored.getpixel((600, 60)), as_stored.getpixel((600, 570))
    assert isinstance(top, int) and isinstance(bottom, int) and top > bottom + 40


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"RIFF\x10\x00\x00\x00WEBPVP8 "])
def test_a_corrupt_image_gives_the_plain_design(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.webp"
    path.write_bytes(content)
    png, layout = render_card(article(image=path))
    assert not layout.image_used
    assert layout.problems and "cannot read the image" in layout.problems[0]
    assert png == render_card(article())[0]


def test_a_missing_image_gives_the_plain_design(tmp_path: Path) -> None:
    _, layout = render(article(image=tmp_path / "nowhere.jpg"))
    assert not layout.image_used and layout.problems


def test_a_logo_is_drawn_and_an_unreadable_one_is_reported(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (200, 100), (255, 200, 0, 255)).save(logo)
    picture, layout = render(article(), CardStyle(logo=logo))
    assert layout.problems == ()
    assert picture.getpixel((80, 80)) == (255, 200, 0)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"nope")
    _, layout = render(article(), CardStyle(logo=broken))
    assert "cannot read the logo" in layout.problems[0]


def test_a_publications_font_comes_first(tmp_path: Path) -> None:
    own = cards.fonts_dir() / "NotoSans-Regular.ttf"
    style = CardStyle(font=own)
    assert font_chain(style, bold=True)[:2] == (own, cards.fonts_dir() / "NotoSans-Bold.ttf")
    png, _ = render_card(article(), style)
    assert png != render_card(article())[0]


def test_a_font_that_cannot_be_read_is_a_render_error(tmp_path: Path) -> None:
    from syndicate.errors import RenderError

    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"not a font")
    with pytest.raises(RenderError, match=r"bad\.ttf: cannot read the font"):
        render_card(article(), CardStyle(font=bad))


def test_colours_come_from_the_style() -> None:
    style = CardStyle(background="#ffffff", foreground="#000000", accent="#ff0000")
    picture, _ = render(article(), style)
    seen = picture.convert("RGB")  # a plain card is a palette image
    assert seen.getpixel((600, 20)) == (255, 255, 255)
    assert seen.getpixel((4, 300)) == (255, 0, 0)  # the accent stripe


def test_the_card_key_changes_with_everything_shown_and_nothing_else(
    tmp_path: Path, photo: Path
) -> None:
    card = article(image=photo)
    style = CardStyle()
    key = card_key(card, style, "1.0")
    assert key == card_key(article(image=photo), CardStyle(), "1.0")
    assert len(key) == 64
    changed = [
        card_key(replace(card, site="Other"), style, "1.0"),
        card_key(replace(card, title="Other"), style, "1.0"),
        card_key(replace(card, author="Other"), style, "1.0"),
        card_key(replace(card, date="2 May 2025"), style, "1.0"),
        card_key(replace(card, image=None), style, "1.0"),
        card_key(card, replace(style, background="#000000"), "1.0"),
        card_key(card, replace(style, foreground="#eeeeee"), "1.0"),
        card_key(card, replace(style, accent="#ff0000"), "1.0"),
        card_key(card, replace(style, font=cards.fonts_dir() / "NotoSans-Regular.ttf"), "1.0"),
        card_key(card, replace(style, logo=photo), "1.0"),
        card_key(card, style, "1.1"),
    ]
    assert len({key, *changed}) == len(changed) + 1
    # The same image bytes at another path: the same key; other bytes: another key.
    copy = tmp_path / "copy.webp"
    copy.write_bytes(photo.read_bytes())
    assert card_key(replace(card, image=copy), style, "1.0") == key
    Image.new("RGB", (10, 10), "red").save(photo, "WEBP")
    assert card_key(card, style, "1.0") != key


def test_the_card_key_covers_the_fonts_and_the_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    card, style = article(), CardStyle()
    key = card_key(card, style, "1.0")
    raqm = cards.raqm_available()
    monkeypatch.setattr(cards, "raqm_available", lambda: not raqm)
    assert card_key(card, style, "1.0") != key


def test_the_shipped_fonts_carry_their_licence() -> None:
    fonts = cards.fonts_dir()
    licence = (fonts / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Google" in licence
    shipped = sorted(path.name for path in fonts.glob("*.ttf"))
    assert shipped == [
        "DroidSansFallback.ttf",
        "NotoSans-Bold.ttf",
        "NotoSans-Regular.ttf",
        "NotoSansArabic-Bold.ttf",
        "NotoSansArabic-Regular.ttf",
    ]
    droid = (fonts / "LICENSE-DroidSansFallback.txt").read_text(encoding="utf-8")
    assert "Apache License" in droid and "Version 2.0" in droid
    assert sum(path.stat().st_size for path in fonts.iterdir()) < 6_000_000


def test_the_layout_file_is_read_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate.errors import RenderError

    layout = cards.layout_file()
    assert layout.is_file()
    broken = tmp_path / "card.toml"
    broken.write_text(layout.read_text().replace("title_min = 36", "title_min = 0"))
    monkeypatch.setattr(cards, "layout_file", lambda: broken)
    with pytest.raises(RenderError, match="title_min"):
        render_card(article())


def test_sample_cards_are_saved_as_artifacts(photo: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, title in SAMPLES.items():
        png, layout = render_card(article(title))
        assert inside(layout.title_box, layout.safe_area) or layout.lines == ()
        (ARTIFACTS / f"{name}.png").write_bytes(png)
    png, _ = render_card(article(SAMPLES["latin"], image=photo))
    (ARTIFACTS / "with-image.png").write_bytes(png)


# -- how a card is made fast: pieces kept between cards, a palette, unhinted fonts -------


def test_a_plain_card_is_a_palette_png_of_the_background_and_three_text_colours() -> None:
    style = CardStyle(background="#102030", foreground="#f0e0d0", accent="#ff8000")
    png, _ = render_card(article(SAMPLES["long"]), style)
    picture = Image.open(io.BytesIO(png))
    assert picture.mode == "P"
    colours = {colour for _, colour in picture.convert("RGB").getcolors(256) or []}
    background = (0x10, 0x20, 0x30)
    assert background in colours and (0xFF, 0x80, 0x00) in colours  # and the stripe
    # Every other colour lies between the background and one of the text colours.
    meta = cards._mix(style.foreground, style.background, 0.25)
    ends = [(0xFF, 0x80, 0x00), (0xF0, 0xE0, 0xD0), Image.new("RGB", (1, 1), meta).getpixel((0, 0))]

    def between(colour: tuple[int, ...], end: object) -> bool:
        assert isinstance(end, tuple)
        steps = [
            (c - b) / (e - b) for c, b, e in zip(colour, background, end, strict=True) if e != b
        ]
        return max(steps) - min(steps) < 0.02 and -0.01 <= min(steps) <= 1.01

    assert all(any(between(colour, end) for end in ends) for colour in colours)


def test_a_palette_card_shows_the_same_pixels_as_the_rgb_design(tmp_path: Path) -> None:
    # An article image of the background colour, darkened by the background colour, leaves
    # the plain design, but drawn in RGB as every card with an image is.
    style = CardStyle(background="#0d1117")
    same = tmp_path / "background.png"
    Image.new("RGB", (1600, 900), style.background).save(same)
    for title in (SAMPLES["latin"], SAMPLES["long"], SAMPLES["arabic"], SAMPLES["cjk"]):
        palette, layout = render(article(title), style)
        rgb, with_image = render(article(title, image=same), style)
        assert (palette.mode, rgb.mode) == ("P", "RGB")
        assert with_image.image_used and not layout.image_used
        assert palette.convert("RGB").tobytes() == rgb.tobytes()


def test_what_cards_share_never_carries_one_cards_text_into_another(photo: Path) -> None:
    first = article("The first title, rendered before anything else")
    alone = render_card(first)[0]
    others = [
        article(SAMPLES["long"]),
        article(SAMPLES["cjk"], image=photo),
        CardInput("Another Site", "Another title", "Someone Else", "2 June 2026", None),
    ]
    for other in others:
        render_card(other)
    assert render_card(first)[0] == alone
    cards._backdrop.cache_clear()  # as in a fresh process
    assert render_card(first)[0] == alone
    # The site name is the backdrop's: another site's cards do not show this one's.
    other_site = render(CardInput("Another Site", first.title, "Ada Lovelace", "1 May 2025", None))
    this_site = render(first)
    header = (72, 72, 700, 120)
    assert other_site[0].convert("RGB").crop(header) != this_site[0].convert("RGB").crop(header)


def test_a_card_with_an_image_or_a_logo_is_rgb(photo: Path, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (100, 100), (255, 200, 0, 255)).save(logo)
    assert render(article(image=photo))[0].mode == "RGB"
    assert render(article(), CardStyle(logo=logo))[0].mode == "RGB"


def test_the_renderer_revision_is_part_of_the_card_key(monkeypatch: pytest.MonkeyPatch) -> None:
    key = card_key(article(), CardStyle(), "1.0")
    monkeypatch.setattr(cards, "RENDERER", cards.RENDERER + 1)
    assert card_key(article(), CardStyle(), "1.0") != key


def test_the_compressor_and_its_version_are_part_of_the_card_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = card_key(article(), CardStyle(), "1.0")
    monkeypatch.setattr(cards.png, "COMPRESSOR", "zlib-ng 0.0.1")
    assert card_key(article(), CardStyle(), "1.0") != key


def test_the_shipped_noto_fonts_are_unhinted_and_say_so() -> None:
    from fontTools.ttLib import TTFont

    for path in sorted(cards.fonts_dir().glob("NotoSans*.ttf")):
        with TTFont(path, lazy=True) as font:
            assert not {"fpgm", "prep", "cvt "} & set(font.keys()), path.name
            assert "hinting removed" in font["name"].getDebugName(5), path.name


LINES = [
    "Syndicate 1.0: feeds, a digest and social cards",
    "Office affairs: the fluffy finance of fjords",  # ff, fi, fl, ffi, ffl ligatures
    "AVATAR Tower: To Ty Vo Wa Yes “quoted”, ‘single’ — dash… 42%",  # kerning pairs
    "Tiếng Việt có dấu: những điều bạn cần biết về phở",
    "Съешь же ещё этих мягких французских булок",
    "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία",
    "e\u0301 combining, 1\u20442 fraction, \u200djoiner",  # drawn by Pillow, whole
    "Col·lecció paral·lela L·L",  # a Catalan l·l, a substitution in context: Pillow too
]


@pytest.mark.parametrize("bold", [True, False])
@pytest.mark.parametrize("size", [72, 50, 36, 28])
def test_text_drawn_cluster_by_cluster_is_what_pillow_draws(bold: bool, size: int) -> None:
    from PIL import ImageDraw

    chain = font_chain(CardStyle(), bold=bold)
    typeset = cards._Typeset(chain, size)
    for line in LINES:
        ours = Image.new("L", (1400, 3 * size))
        typeset.draw(ours, line, (10, 1390, 2 * size))
        pillow = Image.new("L", ours.size)
        x = 10
        for run in cards._runs(line, chain):
            font = typeset.fonts[run.font]
            ImageDraw.Draw(pillow).text((x, 2 * size), run.text, font=font, fill=255, anchor="ls")
            x = round(x + font.getlength(run.text))
        assert ours.tobytes() == pillow.tobytes(), line
        box = typeset.ink(line, 10, 1390, 2 * size)
        assert ours.getbbox() is not None
        assert inside(ours.getbbox() or (0, 0, 0, 0), box), line
    simple = [cards._Run(0, line) for line in LINES[:-2]]
    assert all(typeset._drawn_by_clusters(run) for run in simple)  # not Pillow after all
    assert not any(typeset._drawn_by_clusters(cards._Run(0, line)) for line in LINES[-2:])


@pytest.mark.parametrize("name", cards.CLUSTERED_FONTS)
def test_fonts_drawn_by_clusters_kern_by_pairs_and_substitute_as_listed(name: str) -> None:
    from fontTools.ttLib import TTFont

    path = cards.fonts_dir() / name
    clustering = cards._clustering(path)
    assert clustering is not None  # every substitution could be listed
    assert {"ff", "fi", "fl", "ffi", "ffl"} <= set(clustering.ligatures)
    assert {"l·l", "L·L"} <= set(clustering.contexts)
    with TTFont(path, lazy=True) as font:
        classes = font["GDEF"].table.GlyphClassDef.classDefs
        marks = {glyph for glyph, kind in classes.items() if kind == 3}
        for kind, sub in cards.subtables(font["GPOS"].table, {"kern"}):
            if kind == 2:  # a pair moves the pen after its first glyph, only
                assert sub.ValueFormat1 in (0, 4) and sub.ValueFormat2 == 0
            else:  # in context: only around marks, which are never clustered
                assert kind == 8
                inputs = {g for coverage in sub.InputCoverage for g in coverage.glyphs}
                assert inputs <= marks


@pytest.mark.parametrize("name", cards.CLUSTERED_FONTS)
def test_fonts_drawn_by_clusters_neither_kern_nor_substitute_across_a_space(name: str) -> None:
    """What lets a line in these fonts be measured word by word."""
    from fontTools.ttLib import TTFont

    path = cards.fonts_dir() / name
    clustering = cards._clustering(path)
    assert clustering is not None
    assert not any(" " in text for text in (*clustering.ligatures, *clustering.contexts))
    with TTFont(path, lazy=True) as font:
        space = font.getBestCmap()[ord(" ")]
        for kind, sub in cards.subtables(font["GPOS"].table):
            if kind != 2:
                continue
            assert space not in sub.Coverage.glyphs
            if sub.Format == 1:
                for pairs in sub.PairSet:
                    assert all(pair.SecondGlyph != space for pair in pairs.PairValueRecord)
            else:  # by class: the space's class (0 when it has none) moves nothing
                column = sub.ClassDef2.classDefs.get(space, 0)
                for row in sub.Class1Record:
                    value = row.Class2Record[column].Value1
                    assert value is None or not getattr(value, "XAdvance", 0)


@pytest.mark.parametrize("bold", [True, False])
@pytest.mark.parametrize("size", [72, 50, 36])
def test_a_line_measured_word_by_word_is_as_wide_as_pillow_lays_it_out(
    bold: bool, size: int
) -> None:
    typeset = cards._Typeset(font_chain(CardStyle(), bold=bold), size)
    for line in [*LINES[:-2], "  two  spaces  ", "AV To Ty. “Yes,” Wa Vo"]:
        run = cards._Run(0, line)
        assert typeset.length(run) == typeset.fonts[0].getlength(line), line


# -- the common case laid out word by word -------------------------------------------------

TITLES = [
    *LINES,
    SAMPLES["latin"],
    LONG_TITLE,
    "Office affairs: the fluffy finance of fjords and the AVATAR Tower’s “Ty Vo Wa”",
    "Zürich, Kraków and São Paulo: coöperation, naïve façades — and a résumé… (42%)",
    "A",
    "i j",
]


@pytest.mark.parametrize("bold", [True, False])
@pytest.mark.parametrize("size", [72, 58, 36, 28])
def test_a_word_laid_out_alone_is_as_wide_as_pillow_lays_it_out(bold: bool, size: int) -> None:
    typeset = cards._Typeset(font_chain(CardStyle(), bold=bold), size)
    words = {word for title in TITLES for word in title.split()}
    laid_out = {word: typeset.word(word) for word in words}
    assert sum(word is not None for word in laid_out.values()) > 0.8 * len(words)
    for text, word in laid_out.items():
        if word is not None:
            assert word.width == typeset.fonts[0].getlength(text), text
    # Not simple, or with a substitution in context: drawn by Pillow, whole.
    assert typeset.word("e\u0301") is None and typeset.word("paral·lela") is None
    assert typeset.words("Col·lecció paral·lela") is None and typeset.words("a  b") is None


@pytest.mark.parametrize("bold", [True, False])
@pytest.mark.parametrize("size", [72, 50, 36])
def test_a_line_laid_out_word_by_word_is_placed_as_its_clusters(bold: bool, size: int) -> None:
    typeset = cards._Typeset(font_chain(CardStyle(), bold=bold), size)
    for line in TITLES:
        if typeset.words(line) is None:
            continue
        clustered, clusters = typeset._clusters(cards._Run(0, line)) or (None, [])
        assert clustered is not None
        placed = clustered.placed(clusters, 10, 2 * size)
        glyphs = typeset._glyphs(line, 10, 2 * size)
        assert glyphs == [(coverage.im, box) for coverage, box in placed], line
        assert typeset.ink(line, 10, 1390, 2 * size) == cards._union(box for _, box in placed)


@pytest.mark.parametrize("size", [72, 60, 36])
@pytest.mark.parametrize("limit", [1056, 700, 300, 120])
@pytest.mark.parametrize("most", [1, 3, 1000])
def test_words_wrap_by_their_widths_as_lines_measured_whole_do(
    size: int, limit: int, most: int
) -> None:
    typeset = cards._Typeset(font_chain(CardStyle(), bold=True), size)
    for title in TITLES:
        tokens = cards._tokens(title)
        by_words = cards._wrap_words(tokens, typeset, limit, most)
        if by_words is not None:
            assert by_words == cards._wrap(tokens, cards._Fits(typeset, limit), most), title


@given(st.text(alphabet=st.sampled_from("ab é,\u00a0\u200d\t-"), max_size=30))
def test_words_split_at_spaces_are_the_tokens_of_text_without_cjk(text: str) -> None:
    assert cards._tokens(text) == cards._tokens_by_character(text)


def test_text_every_character_of_which_the_first_font_has_is_kept_whole() -> None:
    chain = font_chain(CardStyle(), bold=True)
    for text in [*TITLES, "tab\there", "joiner\u200dhere", "no\u00a0break", "emoji 🚀"]:
        kept, missing = cards._drawable(text, chain)
        by_character = "".join(
            " " if char.isspace() else char
            for char in text
            if char.isspace()
            or (not cards._ignorable(char) and any(ord(char) in covered(path) for path in chain))
        )
        assert kept == by_character, text
        assert missing == ("🚀" if "🚀" in text else "")


BANDED = [SAMPLES["latin"], LONG_TITLE, SAMPLES["arabic"], SAMPLES["cjk"], "Ǻ\u0301\u0301 ÿ̧ gjpqy"]


@pytest.mark.parametrize("scanlines", [True, False])
def test_text_is_cut_into_bands_of_rows_that_hold_all_its_ink(scanlines: bool) -> None:
    frame = cards._load_frame()
    area = cards._title_area(frame)
    chain = font_chain(DEFAULT, bold=True)
    left, top, right, bottom = area
    for text in BANDED:
        title = cards._fit_title(text, chain, area, frame)
        typeset = cards._typeset(chain, title.size)
        lines = list(zip(title.lines, title.baselines, strict=True))
        inks = cards._text_inks(typeset, lines, area, cards.FOREGROUND, scanlines)
        # As drawn on one layer the size of the area, onto the card.
        layer = Image.new("L", (right - left, bottom - top))
        for line, baseline in lines:
            typeset.draw(layer, line, (0, right - left, baseline - top))
        expected = Image.new("L", (SIZE[0] + 1, SIZE[1]))
        expected.paste(layer, (left + 1, top))
        found = Image.new("L", expected.size)
        for ink in inks:
            assert ink.colour == cards.FOREGROUND
            found.paste(ink.coverage, (ink.x + 1, ink.y))
            if scanlines:
                assert (ink.x, ink.coverage.width) == (-1, SIZE[0] + 1)
        assert found.tobytes() == expected.tobytes(), text
        spans = sorted((ink.y, ink.y + ink.coverage.height) for ink in inks)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), text
        if text == LONG_TITLE:  # the rows between lines are left to the backdrop
            assert len(inks) == len(title.lines) > 1


def test_ink_on_rows_of_the_backdrop_alike_is_painted_as_on_a_canvas() -> None:
    frame = cards._load_frame()
    chain = font_chain(DEFAULT, bold=False)
    backdrop = cards._backdrop("Test Times", DEFAULT, frame, chain, None)
    assert backdrop.marks == ((1, 1 + frame.stripe, cards._INDEX[cards.ACCENT][255]),)
    assert backdrop.alike < cards._title_area(frame)[1]
    area = cards._title_area(frame)
    typeset = cards._typeset(font_chain(DEFAULT, bold=True), 60)
    for line in ["Office affairs: the fluffy finance", "Jäger — “quoted”"]:
        (ink,) = cards._text_inks(typeset, [(line, 300)], area, cards.FOREGROUND, True)
        rows = cards._on_alike_rows(ink, backdrop)
        assert rows is not None
        height = ink.coverage.height
        band = backdrop.scan.crop((0, ink.y, SIZE[0] + 1, ink.y + height))
        cards._paint(band, ink._replace(x=0, y=0), DEFAULT)
        assert rows.tobytes() == band.tobytes()
    # Ink where the stripe is: painted over the backdrop, not on alike rows.
    stripe = Image.new("L", (SIZE[0] + 1, 4))
    stripe.paste(200, (5, 0, 9, 4))
    assert cards._on_alike_rows(cards._Ink(stripe, -1, 400, cards.META), backdrop) is None
