"""Social cards: one 1200×630 image per article, drawn with Pillow.

To change how a card looks, read :mod:`.draw` (what goes where, in which colour) and the
layout file ``templates/social/card.toml`` (sizes and margins, read by :mod:`.layout`);
:mod:`.fonts` picks a font for each character and draws a line through Pillow's text
API, word by word (:mod:`.words` keeps each word's pixels once drawn); :mod:`.encode`
turns the picture into bytes; :mod:`.keys` says when a card must be drawn again.

A card with the article's photo is a JPEG, a plain card a palette PNG
(:func:`card_file`).  The same input gives the same bytes: nothing carries a timestamp,
and what is kept between cards (fonts, the layout, the backdrop every card of a
publication shares, each word's pixels) is made from the same inputs as the card and
only ever copied.
"""

from __future__ import annotations

from .draw import backdrop, draw_card, palette
from .encode import jpeg, shared_png
from .fonts import SYSTEM_FALLBACKS, covered, font_chain, fonts_dir, raqm_available
from .keys import RENDERER, CardKeys, card_key, file_digest
from .layout import ELLIPSIS, layout_file, load_frame
from .model import PHOTO, PLAIN, SIZE, CardFile, CardInput, CardStyle, Layout, Placed, card_file

__all__ = [
    "ELLIPSIS",
    "PHOTO",
    "PLAIN",
    "RENDERER",
    "SIZE",
    "SYSTEM_FALLBACKS",
    "CardFile",
    "CardInput",
    "CardKeys",
    "CardStyle",
    "Layout",
    "Placed",
    "card_file",
    "card_key",
    "covered",
    "file_digest",
    "font_chain",
    "fonts_dir",
    "layout_file",
    "prepare",
    "raqm_available",
    "render_card",
]

_DEFAULT_STYLE = CardStyle()


def render_card(card: CardInput, style: CardStyle = _DEFAULT_STYLE) -> tuple[bytes, Layout]:
    """The card of one article as bytes in its format (:func:`card_file`), and where its
    title went.  See :func:`.draw.draw_card` for what it never fails on."""
    from PIL import Image

    picture, drop, bands, layout = draw_card(card, style)
    if card_file(card.image is not None) is PHOTO:
        if picture.mode == "L":  # an image that could not be read: the plain design
            indexed = Image.frombytes("P", picture.size, picture.tobytes())
            indexed.putpalette(palette(style))
            picture = indexed.convert("RGB")
        return jpeg(picture), layout
    colours = palette(style) if picture.mode == "L" else b""
    return shared_png(picture, drop.plain, colours, bands), layout


def prepare(style: CardStyle, site: str) -> None:
    """Load what every card of *site* in *style* needs (the layout, the fonts and their
    character maps, the backdrop) now: worker processes started afterwards with "fork"
    inherit it instead of each loading it again."""
    chains = (font_chain(style, bold=True), font_chain(style, bold=False))
    for path in dict.fromkeys(chains[0] + chains[1]):
        covered(path)
    backdrop(site, style, load_frame(), file_digest(style.logo))
    palette(style)
