"""What a card shows, and where it put things: plain data, no drawing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ...config import CardConfig

#: The card's size in pixels: what Open Graph and X show large.
SIZE = (1200, 630)

#: How a publication's cards look: ``[social.card]`` in syndicate.toml.
CardStyle = CardConfig


@dataclass(frozen=True, slots=True)
class CardInput:
    """What one article's card shows."""

    site: str
    title: str
    author: str
    #: Already formatted for display.
    date: str
    #: A local image under static/, or None.
    image: Path | None
    #: The direction the article's language runs (``ltr`` or ``rtl``): its title and
    #: byline do, unless most of their words run the other way.
    direction: str = "ltr"


class Placed(NamedTuple):
    """A run of one font and one direction, where a line put it."""

    text: str
    #: The columns its advance spans on the card.
    left: int
    right: int
    #: Drawn right to left, its brackets mirrored.
    rtl: bool


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things were drawn, for tests and for the build's diagnostics."""

    #: The ink box of the title: (left, top, right, bottom), inside ``safe_area``.
    title_box: tuple[int, int, int, int]
    title_size: int
    #: The title's lines as drawn, the last ending with "…" when the title was cut.
    lines: tuple[str, ...]
    safe_area: tuple[int, int, int, int]
    #: Whether the article's image was drawn (False: the plain design).
    image_used: bool = False
    #: What could not be drawn: an unreadable image or logo, characters no font has.
    problems: tuple[str, ...] = field(default=())
    #: The direction the title runs (``rtl``: its lines are aligned right).
    direction: str = "ltr"
    #: Each line of the title as runs, from left to right.
    title_runs: tuple[tuple[Placed, ...], ...] = ()
    #: The author and date line as drawn, its direction, and its runs from left to right.
    footer: str = ""
    footer_direction: str = "ltr"
    footer_runs: tuple[Placed, ...] = ()


class CardFile(NamedTuple):
    """The format a card is written in."""

    #: Pillow's name for it.
    format: str
    extension: str
    media_type: str


#: A card with the article's photo: a photograph compresses best as JPEG.
PHOTO = CardFile("JPEG", "jpg", "image/jpeg")
#: A card of text on one colour: lossless, few colours, a palette PNG.
PLAIN = CardFile("PNG", "png", "image/png")


def card_file(has_image: bool) -> CardFile:
    """The format of the card of an article with an image (*has_image*) or without.
    Decided by the article alone, before the image is read: an image that cannot be read
    gives the plain design, still in the photo card's format, at the same address."""
    return PHOTO if has_image else PLAIN
