"""Words measured and rasterised once, then pasted: how :class:`.fonts.Typeset` draws.

A line's runs (one font, one direction) are cut at their spaces into words.  Pillow
shapes and rasterises each word by itself (libraqm: kerning, ligatures, Arabic joining,
mirrored brackets), and what comes of it, its advance, the box its glyphs cover and its
coverage mask, is kept in bounded per-process caches keyed by everything that shapes it:
the font file, the size, the text and the direction.  Titles repeat words ("the", a
publication's names, its recurring subjects), and a card's footer repeats its author
and its month, so many words of a card are pasted instead of drawn again.  Fitting a
title tries sizes by the words' advances and boxes only; a word is rasterised at the
size the title is drawn at.

Shaping never crosses a space (a space ends Arabic joining, and fonts kern no pair with
a space), so a run's advance is its words' and spaces' advances, and a word sits where
Pillow would have put it, to the nearest pixel.  A mask depends only on its key, never
on what was drawn before, so a card's pixels are the same with a cold cache or a warm
one, in any process.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ...errors import RenderError

if TYPE_CHECKING:
    from PIL import Image, ImageFont


@lru_cache(maxsize=256)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """The font at *path* at *size*, laid out by libraqm where Pillow has it."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
    except OSError as error:
        raise RenderError(f"{path}: cannot read the font: {error}") from None


# The caches are bounded so that a publication of many distinct words keeps a worker's
# memory flat: masks are the large ones, advances cost a few bytes each.
@lru_cache(maxsize=16384)
def advance(path: Path, size: int, text: str, rtl: bool) -> float:
    """How far *text* moves the pen, shaped by Pillow in one direction."""
    return load_font(path, size).getlength(text, "rtl" if rtl else "ltr")


Box = tuple[int, int, int, int]


@lru_cache(maxsize=16384)
def bounds(path: Path, size: int, text: str, rtl: bool) -> Box:
    """The box *text*'s glyphs cover, drawn with the pen at (0, 0) on the baseline."""
    font = load_font(path, size)
    box = font.getbbox(text, anchor="ls", direction="rtl" if rtl else None)
    return (math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3]))


# Most of the words pasted are a publication's common ones, which a small cache keeps: a
# larger one would hold each worker's memory for words seldom met again.
@lru_cache(maxsize=1024)
def mask(path: Path, size: int, text: str, rtl: bool) -> Image.Image | None:
    """*text*'s coverage ("L") over its :func:`bounds`, as Pillow draws it; None when
    it covers nothing."""
    from PIL import Image, ImageDraw

    x0, y0, x1, y1 = bounds(path, size, text, rtl)
    if x1 <= x0 or y1 <= y0:
        return None
    image = Image.new("L", (x1 - x0, y1 - y0))
    direction = "rtl" if rtl else None  # None: libraqm finds it, as Pillow's default does
    font = load_font(path, size)
    ImageDraw.Draw(image).text(
        (-x0, -y0), text, font=font, fill=255, anchor="ls", direction=direction
    )
    return image


class Word(NamedTuple):
    """A word of a run, and its distance from the run's start in the run's direction:
    from the left, or from the right for a run drawn right to left."""

    offset: float
    text: str


def words(
    path: Path, size: int, text: str, rtl: bool, cut: bool = True
) -> tuple[list[Word], float]:
    """The words of a run (*text* in one font and one direction) and the run's advance.
    Not *cut*, the run is one word: libraqm orders a run of mixed directions itself."""
    found: list[Word] = []
    offset = 0.0
    for index, word in enumerate(text.split(" ") if cut else [text]):
        if index:
            offset += advance(path, size, " ", rtl)
        if word:
            found.append(Word(offset, word))
            offset += advance(path, size, word, rtl)
    return found, offset
