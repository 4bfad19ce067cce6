"""A drawn card as bytes: JPEG for a photo card, PNG for a plain one.

A photo card is a photograph under text: JPEG at :data:`JPEG_QUALITY`, baseline, 4:2:0
chroma, no EXIF, ICC or comment, so the same pixels give the same bytes (the libjpeg
Pillow ships is in the card's key through Pillow's version).

A plain card is text on the colours every card of the publication shares, the rows
between its lines of text the same as its backdrop's.  :class:`SharedRows` keeps those
rows compressed once (:mod:`syndicate.social.png` writes a PNG from such pieces), so a
card compresses only the rows its text is on.  Pillow's own PNG encoder would compress
every row of every card again: benchmarks/RESULTS.md has the figures that keep this.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import png

if TYPE_CHECKING:
    from PIL import Image

#: The JPEG quality of a photo card: no visible loss on a darkened photo under text.
JPEG_QUALITY = 85


def jpeg(picture: Image.Image) -> bytes:
    """*picture* (RGB) as a JPEG with no metadata."""
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=JPEG_QUALITY, subsampling="4:2:0", optimize=False)
    return buffer.getvalue()


class SharedRows:
    """The picture many cards are drawn on (the backdrop: palette indices, "L", or RGB),
    and its rows compressed once each, to be reused by every card drawn on it."""

    def __init__(self, picture: Image.Image) -> None:
        self.mode = picture.mode
        self.size = picture.size
        self.picture = picture
        self.pixels = picture.tobytes()
        self.row = len(self.pixels) // picture.height
        # From here down every row is alike (the stripe and the background): rows taken
        # from there are the same piece wherever a card's text leaves them.
        last = self.pixels[-self.row :]
        alike = picture.height - 1
        while alike and self.pixels[(alike - 1) * self.row : alike * self.row] == last:
            alike -= 1
        self.alike = alike
        self._pieces: dict[tuple[int, int], png.Piece] = {}

    def piece(self, top: int, bottom: int) -> png.Piece:
        """Rows *top* to *bottom* compressed (once)."""
        if top >= self.alike:  # the same rows as the first ones alike
            top, bottom = self.alike, self.alike + bottom - top
        found = self._pieces.get((top, bottom))
        if found is None:
            if len(self._pieces) >= 4096:  # a bound that real cards never reach
                self._pieces.clear()
            rows = self.picture.crop((0, top, self.size[0], bottom))
            found = self._pieces[top, bottom] = png.compress(rows)
        return found


def shared_png(
    picture: Image.Image, shared: SharedRows, palette: bytes, bands: Sequence[tuple[int, int]]
) -> bytes:
    """*picture*, drawn on *shared*'s picture, as a PNG (a palette PNG of *palette* for
    palette indices): the rows of *bands* (top, bottom), where it may differ, compressed
    now, the others reused."""
    width, height = picture.size
    pieces = []
    row = 0
    for top, bottom in _merged(bands, height):
        if top > row:
            pieces.append(shared.piece(row, top))
        rows = picture.crop((0, top, width, bottom))
        pieces.append(
            png.compress_rows(png.widened(rows)) if rows.mode == "L" else png.compress(rows)
        )
        row = bottom
    if row < height:
        pieces.append(shared.piece(row, height))
    return png.write(picture.size, picture.mode, pieces, palette)


def _merged(bands: Sequence[tuple[int, int]], height: int) -> list[tuple[int, int]]:
    """*bands* inside the picture, in order, those that touch or overlap made one."""
    found: list[tuple[int, int]] = []
    for top, bottom in sorted((max(0, t), min(height, b)) for t, b in bands):
        if top >= bottom:
            continue
        if found and top <= found[-1][1]:
            found[-1] = (found[-1][0], max(bottom, found[-1][1]))
        else:
            found.append((top, bottom))
    return found
