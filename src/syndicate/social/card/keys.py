"""The key of a card: a hash of everything it shows, so a build draws a card again only
when its key changes."""

from __future__ import annotations

import functools
import hashlib
import json
import zlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from ...jsontext import json_text
from .. import png
from .fonts import font_chain, raqm_available
from .layout import layout_file
from .model import CardInput, CardStyle, card_file

#: The revision of how a card is drawn and encoded: raising it draws again the cards an
#: earlier renderer left in the output folder.
RENDERER = 7


@lru_cache(maxsize=512)
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    del mtime_ns, size  # only part of the cache's key
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def file_digest(path: Path | None) -> str | None:
    """The SHA-256 of the file at *path*; None for no path, "missing" when unreadable."""
    if path is None:
        return None
    try:
        stat = path.stat()
        return _digest(path, stat.st_mtime_ns, stat.st_size)
    except OSError:
        return "missing"


@functools.cache
def _pillow_version() -> str:
    return metadata.version("pillow")


class CardKeys:
    """:func:`card_key` for the cards of one *style*: what they all share (fonts, layout,
    logo, versions) is read and hashed once, each card adds its texts and its image."""

    def __init__(self, style: CardStyle, version: str) -> None:
        fonts = dict.fromkeys([*font_chain(style, bold=True), *font_chain(style, bold=False)])
        shared = {
            "syndicate": version,
            "renderer": RENDERER,
            "zlib": zlib.ZLIB_RUNTIME_VERSION,
            "compressor": png.COMPRESSOR,
            "pillow": _pillow_version(),
            "raqm": raqm_available(),
            "style": [style.background, style.foreground, style.accent],
            "logo": file_digest(style.logo),
            "fonts": [[path.name, file_digest(path)] for path in fonts],
            "layout": file_digest(layout_file()),
        }
        encoded = json.dumps(shared, ensure_ascii=False, sort_keys=True).encode("utf-8")
        self._started = hashlib.sha256(encoded)

    def __call__(self, card: CardInput) -> str:
        parts = [card.site, card.title, card.author, card.date, file_digest(card.image)]
        parts += [card.direction, card_file(card.image is not None).format]
        hasher = self._started.copy()
        hasher.update(json_text(parts).encode("utf-8"))
        return hasher.hexdigest()


def card_key(card: CardInput, style: CardStyle, version: str) -> str:
    """A hash of everything the card shows: the same key means the same bytes.

    It covers the card's texts, its format, the style, the bytes of the image, the logo,
    the fonts of both chains and the layout file, the syndicate *version*,
    :data:`RENDERER`, the Pillow, zlib and zlib-ng versions and whether Pillow has libraqm.
    """
    return CardKeys(style, version)(card)
