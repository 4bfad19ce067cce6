"""Social cards: size and format, deterministic bytes, the title inside the safe area,
font coverage per script, article images, and the key that decides re-rendering."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFont

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
    fonts,
    keys,
    render_card,
)
from syndicate.social.card import layout as layouts

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


def test_a_plain_card_is_a_1200_by_630_png() -> None:
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
    first = render_card(article())[0]
    cards.backdrop.cache_clear()  # as in a fresh process
    assert render_card(article())[0] == first


# Titles that share words at different sizes and in both directions: a card drawn from
# what another card left behind must not differ from one drawn first.
SHARING = [
    "Why the quiet village library",
    LONG_TITLE,
    SAMPLES["arabic"],
    "Python مع المستقل النشر",
    SAMPLES["latin"],
]


def _digests(titles: list[str]) -> list[str]:
    return [hashlib.sha256(render_card(article(title))[0]).hexdigest() for title in titles]


def test_a_card_is_the_same_whatever_was_drawn_before_it_in_any_process() -> None:
    forwards = _digests(SHARING)
    backwards = _digests(SHARING[::-1])[::-1]
    script = (
        "import sys; sys.path[:0] = sys.argv[1:2]; import json; "
        "from test_social_card import SHARING, _digests; "
        "print(json.dumps(_digests([sys.argv[2]]) + _digests(SHARING)))"
    )
    command = [sys.executable, "-c", script, str(REPO / "tests")]
    fresh = subprocess.run([*command, SHARING[1]], capture_output=True, text=True, check=True)
    alone, *after = json.loads(fresh.stdout)
    assert forwards == backwards == after
    assert alone == forwards[1]


def test_a_photo_card_is_a_jpeg_without_metadata(photo: Path) -> None:
    data, layout = render_card(article(image=photo))
    picture = Image.open(io.BytesIO(data))
    assert (picture.format, picture.size, picture.mode) == ("JPEG", SIZE, "RGB")
    assert layout.image_used
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(picture.info)
    assert b"Exif" not in data[:200]
    assert cards.card_file(True) == ("JPEG", "jpg", "image/jpeg")
    assert cards.card_file(False) == ("PNG", "png", "image/png")


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
    monkeypatch.setattr(fonts, "raqm_available", lambda: False)
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
    monkeypatch.setattr(fonts, "SYSTEM_FALLBACKS", ())  # as on a machine with no CJK font
    _, layout = render(article("中文标题 and English 日本語 한국어"))
    drawn = "".join(layout.lines).replace(" ", "")
    assert drawn == "中文标题andEnglish日本語한국어"  # every character, wherever the lines broke
    assert layout.problems == ()
    chain = cards.font_chain(cards.CardStyle(), bold=True)
    assert all(ord(c) in cards.covered(chain[-1]) for c in "中文标题日本語한국어")


def test_cjk_wraps_by_character(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "SYSTEM_FALLBACKS", ())
    _, layout = render(article("社交卡片" * 40))
    assert len(layout.lines) > 1
    assert inside(layout.title_box, layout.safe_area)


def test_cjk_breaks_between_characters_but_never_before_closing_punctuation() -> None:
    _, layout = render(article("中文。" * 60))
    assert len(layout.lines) > 1
    assert not any(line.startswith("。") for line in layout.lines)


def ink_in(picture: Image.Image, box: tuple[int, int, int, int]) -> int:
    """How many pixels of *box* differ from the card's background."""
    rgb = picture.convert("RGB")
    background = rgb.getpixel((SIZE[0] - 1, SIZE[1] // 2))
    crop = rgb.crop(box)
    return sum(count for count, colour in crop.getcolors(1 << 20) or [] if colour != background)


@pytest.mark.parametrize("text", ["中文标题", "日本語", "한국어", "مرحبا"])
def test_a_fallback_font_draws_what_the_first_font_lacks(text: str) -> None:
    # Noto Sans has none of these: without the chain they would be left out (or tofu).
    assert not any(ord(c) in covered(font_chain(CardStyle(), bold=True)[0]) for c in text)
    picture, layout = render(article(text))
    assert layout.problems == () and layout.lines == (text,)
    assert ink_in(picture, layout.title_box) > 500


def test_an_emoji_alone_draws_nothing_rather_than_a_box() -> None:
    picture, layout = render(article("🚀"))
    assert layout.lines == () or layout.lines == ("",)
    plain, _ = render(article(""))
    area = (72, 150, 1128, 500)
    assert ink_in(picture, area) == ink_in(plain, area) == 0


@pytest.mark.parametrize("name", list(SAMPLES))
def test_all_ink_of_a_title_is_inside_the_safe_area(name: str) -> None:
    picture, layout = render(article(SAMPLES[name]))
    left, top, right, bottom = layout.safe_area
    rgb = picture.convert("RGB")
    outside = rgb.copy()
    outside.paste(rgb.getpixel((SIZE[0] - 1, SIZE[1] // 2)), (left, top, right, bottom))
    outside.paste(rgb.getpixel((SIZE[0] - 1, SIZE[1] // 2)), (0, 0, 72, SIZE[1]))  # the stripe
    assert ink_in(outside, (0, 0, *SIZE)) == 0


@pytest.mark.parametrize("name", list(SAMPLES))
def test_the_title_box_holds_all_of_the_titles_ink(name: str) -> None:
    picture, layout = render(article(SAMPLES[name]))
    rgb = picture.convert("RGB")
    area = layouts.title_area(layouts.load_frame())
    title = rgb.crop(area)
    background = Image.new("RGB", title.size, rgb.getpixel((SIZE[0] - 1, SIZE[1] // 2)))
    ink = ImageChops.difference(title, background).getbbox()
    assert ink is not None
    assert inside(
        (ink[0] + area[0], ink[1] + area[1], ink[2] + area[0], ink[3] + area[1]), layout.title_box
    )


@pytest.mark.parametrize("name", ["latin", "long", "cyrillic", "greek", "vietnamese"])
def test_a_titles_words_are_spaced_as_pillow_spaces_the_whole_line(name: str) -> None:
    _, layout = render(article(SAMPLES[name]))
    path = font_chain(DEFAULT, bold=True)[0]
    font = ImageFont.truetype(str(path), layout.title_size, layout_engine=ImageFont.Layout.RAQM)
    for line, (run,) in zip(layout.lines, layout.title_runs, strict=True):
        assert run.text == line
        assert run.right - run.left == round(font.getlength(line))


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
    data, layout = render_card(article(image=path))
    assert not layout.image_used
    assert layout.problems and "cannot read the image" in layout.problems[0]
    # The plain design, in the photo card's format: its address does not depend on reading.
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG"
    plain = render(article())[0].convert("RGB")
    difference = [abs(a - b) for a, b in zip(picture.tobytes(), plain.tobytes(), strict=True)]
    assert sum(difference) / len(difference) < 2


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
    monkeypatch.setattr(fonts, "raqm_available", lambda: not raqm)
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
    monkeypatch.setattr(layouts, "layout_file", lambda: broken)
    with pytest.raises(RenderError, match="title_min"):
        render_card(article())


def test_sample_cards_are_saved_as_artifacts(photo: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, title in SAMPLES.items():
        png, layout = render_card(article(title))
        assert inside(layout.title_box, layout.safe_area) or layout.lines == ()
        (ARTIFACTS / f"{name}.png").write_bytes(png)
    data, _ = render_card(article(SAMPLES["latin"], image=photo))
    (ARTIFACTS / "with-image.jpg").write_bytes(data)


def test_a_plain_card_is_a_palette_png_of_the_background_and_three_text_colours() -> None:
    style = CardStyle(background="#102030", foreground="#f0e0d0", accent="#ff8000")
    png, _ = render_card(article(SAMPLES["long"]), style)
    picture = Image.open(io.BytesIO(png))
    assert picture.mode == "P"
    colours = {colour for _, colour in picture.convert("RGB").getcolors(256) or []}
    assert (0x10, 0x20, 0x30) in colours and (0xFF, 0x80, 0x00) in colours  # and the stripe


def test_what_cards_share_never_carries_one_cards_text_into_another(photo: Path) -> None:
    first = article("The first title, rendered before anything else")
    alone = render_card(first)[0]
    for other in [
        article(SAMPLES["long"]),
        article(SAMPLES["cjk"], image=photo),
        CardInput("Another Site", "Another title", "Someone Else", "2 June 2026", None),
    ]:
        render_card(other)
    assert render_card(first)[0] == alone
    # The site name is the backdrop's: another site's cards do not show this one's.
    other_site = render(CardInput("Another Site", first.title, "Ada Lovelace", "1 May 2025", None))
    header = (72, 72, 700, 120)
    assert other_site[0].convert("RGB").crop(header) != render(first)[0].convert("RGB").crop(header)


def test_a_plain_card_with_a_logo_is_rgb(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (100, 100), (255, 200, 0, 255)).save(logo)
    picture = render(article(), CardStyle(logo=logo))[0]
    assert (picture.format, picture.mode) == ("PNG", "RGB")


def test_the_renderer_revision_is_part_of_the_card_key(monkeypatch: pytest.MonkeyPatch) -> None:
    key = card_key(article(), CardStyle(), "1.0")
    monkeypatch.setattr(keys, "RENDERER", keys.RENDERER + 1)
    assert card_key(article(), CardStyle(), "1.0") != key


def test_the_compressor_and_its_version_are_part_of_the_card_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = card_key(article(), CardStyle(), "1.0")
    monkeypatch.setattr(keys.png, "COMPRESSOR", "zlib-ng 0.0.1")
    assert card_key(article(), CardStyle(), "1.0") != key


def test_the_shipped_noto_fonts_are_unhinted_and_say_so() -> None:
    from fontTools.ttLib import TTFont

    for path in sorted(cards.fonts_dir().glob("NotoSans*.ttf")):
        with TTFont(path, lazy=True) as font:
            assert not {"fpgm", "prep", "cvt "} & set(font.keys()), path.name
            assert "hinting removed" in font["name"].getDebugName(5), path.name
