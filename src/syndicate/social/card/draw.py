"""How a card looks: the picture drawn from an article's :class:`CardInput`.

From top to bottom: an accent stripe down the left edge, the publication's logo and the
site name in the header, the title (wrapped and shrunk to fit, see :mod:`.layout`), and
the author and date in the footer.  Colours are the style's (``[social.card]``), sizes
and margins the layout file's.  An article with an image has it behind everything,
cover-cropped and darkened by the background colour at the layout's ``overlay``
opacity, so any colour scheme keeps its contrast; without one (or with one that cannot
be read) the card is the plain design: the background colour and the stripe.

Text is drawn by Pillow, as coverage on an "L" layer, then painted in its colour in
:data:`LEVELS` steps: a plain card has at most 256 colours (the background and 85 steps
from it to each of the accent, the title and the footer colours), a palette image.  The
backdrop (everything but the title and the footer) is the same on every card of a
publication: it is drawn once (:func:`backdrop`) and each card is drawn on a copy.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ...images import ImageError, open_image, reading
from ...language import text_direction
from .encode import SharedRows
from .fonts import (
    END_ISOLATE,
    ISOLATE,
    NO_ISOLATES,
    Typeset,
    drawable,
    font_chain,
    right_to_left,
    shaped,
    typeset,
)
from .keys import file_digest
from .layout import MAX_META, MAX_TITLE, Frame, clip, fit_title, load_frame, one_line, title_area
from .model import SIZE, CardInput, CardStyle, Layout

if TYPE_CHECKING:
    from PIL import Image

#: The steps of coverage text is painted in, from none to full: few enough that a plain
#: card fits a palette of 256 colours, many enough that the edges look the same.
LEVELS = 86
_STEP = 255 // (LEVELS - 1)
_STEPS = [(value + _STEP // 2) // _STEP * _STEP for value in range(256)]
#: The colours text is painted in: see :func:`colours`.
ACCENT, FOREGROUND, META = 0, 1, 2
# The palette index of each coverage of each text colour, through its step; 0 is the
# background.
_INDEX = [
    [0 if step == 0 else (LEVELS - 1) * colour + step // _STEP for step in _STEPS]
    for colour in (ACCENT, FOREGROUND, META)
]
_COVERED = [0 if step == 0 else 255 for step in _STEPS]


def _mix(colour: str, other: str, amount: float) -> str:
    from PIL import ImageColor

    a, b = ImageColor.getrgb(colour), ImageColor.getrgb(other)
    return "#" + "".join(
        f"{round(x * (1 - amount) + y * amount):02x}" for x, y in zip(a, b, strict=False)
    )


def colours(style: CardStyle) -> tuple[str, str, str]:
    """The site name's and stripe's, the title's, and the author and date's colours."""
    return style.accent, style.foreground, _mix(style.foreground, style.background, 0.25)


@lru_cache(maxsize=8)
def palette(style: CardStyle) -> bytes:
    """A plain card's palette: the background, then each text colour's steps over it, as
    painting that step on the background gives them."""
    from PIL import Image, ImageColor

    steps = Image.frombytes("L", (LEVELS - 1, 1), bytes(range(_STEP, 256, _STEP)))
    found = bytearray(ImageColor.getrgb(style.background)[:3])
    for colour in colours(style):
        strip = Image.new("RGB", steps.size, style.background)
        strip.paste(colour, (0, 0, *steps.size), steps)
        found += strip.tobytes()
    return bytes(found)


Box = tuple[int, int, int, int]


def _inside(box: Box, outer: Box | None) -> bool:
    """Whether *box* lies within *outer* (never within None)."""
    if outer is None:
        return False
    return all(box[i] >= outer[i] and box[i + 2] <= outer[i + 2] for i in (0, 1))


def _paint(
    canvas: Image.Image,
    layer: Image.Image,
    at: tuple[int, int],
    colour: str | int,
    clear: Box | None = None,
) -> tuple[int, int]:
    """The coverage *layer* on *canvas* at *at*, in *colour*: a palette colour (ACCENT,
    FOREGROUND, META) on an "L" canvas, a colour itself on an RGB one.  *clear* is a box
    of *canvas* known to hold only the background.  Returns the rows it painted (top,
    bottom)."""
    box = layer.getbbox()
    if box is None:
        return (0, 0)
    coverage = layer.crop(box)
    where = (at[0] + box[0], at[1] + box[1])
    if canvas.mode == "L":
        assert isinstance(colour, int)
        indexed = coverage.point(_INDEX[colour])
        if _inside((*where, where[0] + coverage.width, where[1] + coverage.height), clear):
            # On the background (index 0), the text's indices are the card's pixels as
            # they are, 0 where it has no ink: no mask to make.
            canvas.paste(indexed, where)
        else:
            canvas.paste(indexed, where, coverage.point(_COVERED))
    else:
        canvas.paste(
            colour,
            (*where, where[0] + coverage.width, where[1] + coverage.height),
            coverage.point(_STEPS),
        )
    return (where[1], where[1] + coverage.height)


def _text(
    font: Typeset,
    size: tuple[int, int],
    span: tuple[int, int],
    lines: Sequence[tuple[str, int]],
    rtl: bool,
) -> Image.Image:
    """A coverage layer of *size* with *lines* (each with its baseline on the layer)
    drawn between the columns of *span*, aligned right when they run right to left
    (*rtl*): nothing reaches past the layer."""
    from PIL import Image

    layer = Image.new("L", size)
    for line, baseline in lines:
        font.draw(layer, line, (*span, baseline), rtl)
    return layer


def _clean(value: str, chain: Sequence[Path], what: str) -> tuple[str, str | None]:
    """*value* as drawn (spaces collapsed, characters no font has left out), and the
    problem to report when some were."""
    kept, missing = drawable(" ".join(unicodedata.normalize("NFC", value).split()), chain)
    problem = f"{what}: no font has {', '.join(map(repr, missing))}: left out" if missing else None
    return " ".join(kept.split()), problem


def _open_image(path: Path) -> Image.Image:
    """The image at *path*, upright, in RGB, or RGBA when it has transparency;
    :class:`~syndicate.images.ImageError` when it cannot be read."""
    from PIL import ImageOps

    with reading(path):
        picture = open_image(path, needed=lambda _: SIZE, mode="RGB")
        ImageOps.exif_transpose(picture, in_place=True)
        wanted = "RGBA" if picture.has_transparency_data else "RGB"
        if picture.mode == wanted:
            return picture
        with picture:
            return picture.convert(wanted)
    raise AssertionError("unreachable")  # reading() raises whatever it caught


def _cover(picture: Image.Image) -> Image.Image:
    """*picture* scaled to cover the card, and cut to it around its centre."""
    from PIL import Image

    width, height = picture.size
    scale = max(SIZE[0] / width, SIZE[1] / height)
    crop = (SIZE[0] / scale, SIZE[1] / scale)
    left, top = (width - crop[0]) / 2, (height - crop[1]) / 2
    # Bilinear, from a picture first reduced by whole factors to no less than three times
    # the card: under the overlay it cannot be told from bicubic, and a large photo costs
    # little more than a small one.
    box = (left, top, left + crop[0], top + crop[1])
    return picture.resize(SIZE, Image.Resampling.BILINEAR, box=box, reducing_gap=3.0)


#: How many freed blocks of image memory Pillow keeps for its next images, at least.
_KEPT_BLOCKS = 4


@lru_cache(maxsize=1)
def _keep_blocks() -> None:
    """Have Pillow keep the memory of the images a photo card frees (the decoded photo,
    its scaled copy) for the next card's, as ``PILLOW_BLOCKS_MAX`` would, rather than
    hand it back to the system: the next photo's pixels would otherwise land on fresh
    pages, each faulted in and zeroed again by the kernel, a large part of what a photo
    card costs (benchmarks/RESULTS.md).  Never fewer than the environment asked for."""
    from PIL import _imaging  # Pillow's core, which Image.core is

    if _imaging.get_blocks_max() < _KEPT_BLOCKS:
        _imaging.set_blocks_max(_KEPT_BLOCKS)


def _shaded(path: Path, background: str, overlay: float) -> Image.Image:
    """The image at *path* covering the card, under *background* at *overlay* opacity;
    :class:`~syndicate.images.ImageError` when it cannot be read."""
    from PIL import Image, ImageColor

    _keep_blocks()
    with reading(path), _open_image(path) as opened:
        picture = _cover(opened)
    if picture.mode == "RGBA":
        base = Image.new("RGBA", SIZE, background)
        base.alpha_composite(picture)
        picture = base.convert("RGB")
    # The background colour is the same on every pixel: one table per channel does it.
    table = [
        round(value * (1 - overlay) + channel * overlay)
        for channel in ImageColor.getrgb(background)[:3]
        for value in range(256)
    ]
    return picture.point(table)


class Backdrop(NamedTuple):
    """What every card of a publication shows alike: the stripe, the logo, the site name."""

    #: The plain card without its title and footer, its rows kept compressed: palette
    #: indices ("L"), or RGB when a logo makes it too colourful for a palette.
    plain: SharedRows
    #: The logo, resized (RGBA), and the site name's coverage over the header.
    logo: Image.Image | None
    site: Image.Image | None
    problems: tuple[str, ...]
    #: Below the header and right of the stripe, where a plain backdrop ("L") is only
    #: the background; None for an RGB one.
    clear: Box | None = None


def _decorate(canvas: Image.Image, frame: Frame, style: CardStyle, drop: Backdrop) -> None:
    """The stripe, the logo and the site name on *canvas* (palette indices or RGB)."""
    palette = canvas.mode == "L"
    if frame.stripe:
        canvas.paste(
            _INDEX[ACCENT][255] if palette else style.accent, (0, 0, frame.stripe, SIZE[1])
        )
    if drop.logo is not None:
        canvas.paste(drop.logo, (frame.margin, frame.margin), drop.logo)
    if drop.site is not None:
        _paint(canvas, drop.site, (0, 0), ACCENT if palette else style.accent)


@lru_cache(maxsize=8)
def backdrop(site: str, style: CardStyle, frame: Frame, logo: str | None) -> Backdrop:
    """The backdrop of the cards of *site* in *style*.  *logo* is the digest of the logo's
    bytes: part of the cache key, so that an edited logo is read again."""
    from PIL import Image

    del logo  # only part of the key
    m = frame.margin
    problems: list[str] = []
    picture = None
    x = m
    if style.logo is not None:
        try:
            with reading(style.logo), _open_image(style.logo) as opened:
                scale = frame.header / opened.height
                width = max(1, min(round(opened.width * scale), 4 * frame.header))
                picture = opened.convert("RGBA").resize(
                    (width, frame.header), Image.Resampling.LANCZOS
                )
        except ImageError as error:
            problems.append(f"cannot read the logo: {error}")
        else:
            x += picture.width + frame.header // 3

    chain = font_chain(style, bold=False)
    font = typeset(chain, frame.site_size)
    name, problem = _clean(site, chain, "site")
    problems += [problem] if problem else []
    layer = None
    if name:  # after the logo, on a layer over everything above the title
        rtl = text_direction(name, "ltr") == "rtl"
        line = one_line(font, name, SIZE[0] - m - x, rtl)
        baseline = m + (frame.header + font.ascent - font.descent) // 2
        header = (SIZE[0], title_area(frame)[1])
        layer = _text(font, header, (x, SIZE[0] - m), [(line, baseline)], rtl)
    # Palette index 0 is the background; a logo has colours of its own.
    plain = Image.new("L", SIZE, 0) if picture is None else Image.new("RGB", SIZE, style.background)
    drop = Backdrop(SharedRows(plain), picture, layer, tuple(problems))
    _decorate(plain, frame, style, drop)
    clear = None
    if plain.mode == "L":
        ink = plain.crop((frame.stripe, 0, *SIZE)).getbbox()
        clear = (frame.stripe, 0 if ink is None else ink[3], *SIZE)
    return drop._replace(plain=SharedRows(plain), clear=clear)


class Drawn(NamedTuple):
    """A card drawn, before it is written."""

    #: Palette indices ("L") for a plain card; RGB with a photo or a logo.
    picture: Image.Image
    #: The backdrop it was drawn on, and the rows (top, bottom) drawn over it since.
    backdrop: Backdrop
    bands: tuple[tuple[int, int], ...]
    layout: Layout


def draw_card(card: CardInput, style: CardStyle) -> Drawn:
    """The card of one article, drawn.

    Never fails on the article's own files: an image or logo that cannot be read gives
    the plain design (or no logo) and a line in :attr:`Layout.problems`.  A font or layout
    file that cannot be read is the publication's configuration: a ``RenderError``."""
    frame = load_frame()
    width, height = SIZE
    m = frame.margin
    problems: list[str] = []
    title_chain = font_chain(style, bold=True)
    text_chain = font_chain(style, bold=False)
    drop = backdrop(card.site, style, frame, file_digest(style.logo))
    photo = None
    if card.image is not None:
        try:
            photo = _shaded(card.image, style.background, frame.overlay)
        except ImageError as error:
            problems.append(f"cannot read the image, the card is plain: {error}")
    problems += drop.problems
    if photo is None:
        canvas = drop.plain.picture.copy()
    else:
        canvas = photo
        _decorate(canvas, frame, style, drop)
    _, foreground, meta_colour = colours(style)
    palette = canvas.mode == "L"
    bands: list[tuple[int, int]] = []  # the rows painted over the backdrop

    def text(value: str, chain: Sequence[Path], what: str) -> str:
        kept, problem = _clean(value, chain, what)
        problems.extend([problem] if problem else [])
        return kept

    # Footer: author and date, in the article's direction, as its date is written in its
    # language: "name · date" is read from the right in an article in Arabic, the name
    # first, whatever the name.
    meta = typeset(text_chain, frame.meta_size)
    parts = [
        text(clip(card.author, MAX_META), text_chain, "author"),
        text(clip(card.date, MAX_META), text_chain, "date"),
    ]
    shown = " · ".join(part for part in parts if part)
    meta_rtl = card.direction == "rtl"
    if shaped() and (meta_rtl or right_to_left(shown)):
        # The name and the date each in an isolate, as <bdi> on a page: a name's last word
        # cannot take the date's first number ("Leila Hassan · 3 يونيو 2025") as its own.
        shown = " · ".join(f"{ISOLATE}{part}{END_ISOLATE}" for part in parts if part)
    meta_line = one_line(meta, shown, width - 2 * m, meta_rtl)
    area = title_area(frame)
    if meta_line:  # on a layer over everything below the title
        baseline = height - m - (frame.footer - meta.ascent - meta.descent) // 2 - meta.descent
        below = (width, height - area[3])
        layer = _text(meta, below, (m, width - m), [(meta_line, baseline - area[3])], meta_rtl)
        colour = META if palette else meta_colour
        bands.append(_paint(canvas, layer, (0, area[3]), colour, drop.clear))

    # The title, between them, on a layer the size of its area.
    title_text = text(clip(card.title, MAX_TITLE), title_chain, "title")
    direction = text_direction(title_text, "rtl" if card.direction == "rtl" else "ltr")
    rtl = direction == "rtl"
    title = fit_title(title_text, title_chain, area, frame, rtl)
    font = typeset(title_chain, title.size)
    left, top, right, bottom = area
    lines = [(line, base - top) for line, base in zip(title.lines, title.baselines, strict=True)]
    layer = _text(font, (right - left, bottom - top), (0, right - left), lines, rtl)
    colour = FOREGROUND if palette else foreground
    bands.append(_paint(canvas, layer, (left, top), colour, drop.clear))

    layout = Layout(
        title_box=title.box,
        title_size=title.size,
        lines=title.lines,
        safe_area=(m, m, width - m, height - m),
        image_used=photo is not None,
        problems=tuple(problems),
        direction=direction,
        title_runs=tuple(tuple(font.runs(line, left, right, rtl)) for line in title.lines),
        footer=meta_line.translate(NO_ISOLATES),
        footer_direction="rtl" if meta_rtl else "ltr",
        footer_runs=tuple(meta.runs(meta_line, m, width - m, meta_rtl)),
    )
    return Drawn(canvas, drop, tuple(bands), layout)
