"""PNGs written fast, from pieces of compressed rows, for images that share most rows.

Every card of a publication has the same backdrop (the background, the stripe, the logo,
the site name) and differs from it only in the rows of its title and of its footer.  zlib
spends as long on a row of plain background as on a row of text, so compressing the whole
card every time compresses the shared rows again and again.  Here the image data (the
zlib stream of the IDAT chunk) is put together from :class:`Piece` objects: raw deflate
data that ends on a byte boundary, with no back-reference outside itself, so that pieces
compressed at different times can follow one another; the shared rows are compressed once
and their piece kept.

Rows are filtered one by one, never from the row above, so any rows make a piece:
palette indices are left as they are (the filter palette images compress best with),
and RGB rows (a backdrop with a logo) get the Sub filter (each byte less the one a pixel
to its left), which Pillow works out for a whole image in one pass.  Both are compressed
with zlib's run-length strategy: on a plain background, half the time of Pillow's own
encoder at its fastest level, which tries every filter on every row; on a card's rows of
text, a tenth faster than zlib's default strategy and a tenth smaller.  (A photo is
another matter: there that search pays for itself in file size, and the card leaves it
to Pillow.)

The compressor is zlib-ng's, whose run-length strategy gives the same bytes as zlib's in
half the time (and its Adler-32 a fifth of zlib's): about a fifth of a plain card's cost.

Palette rows are cheapest cut from a :func:`widened` image, one column wider, whose
first column is the filter type (None, 0): its bytes are its own scanlines.

Only what a card needs: 8-bit palette or RGB images, no interlacing and no ancillary
chunks, so the bytes depend on the pixels alone.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from zlib_ng import zlib_ng as zlib

if TYPE_CHECKING:
    from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: What compresses the rows, for the cards' keys: another version may give other bytes.
COMPRESSOR = f"zlib-ng {zlib.ZLIBNG_VERSION}"
#: zlib's fastest level: a card's rows are mostly runs, which any level finds.
LEVEL = 1
_ADLER_BASE = 65521
# A deflate stream's last block: empty, with BFINAL set.
_FINAL_BLOCK = zlib.compressobj(LEVEL, zlib.DEFLATED, -15).flush()
# Each mode's PNG colour type, bytes per pixel, filter type and zlib strategy.
_MODES = {
    "L": (3, 1, 0, zlib.Z_RLE),  # palette indices, no filter
    "RGB": (2, 3, 1, zlib.Z_RLE),  # Sub
}


class Piece(NamedTuple):
    """Some rows as raw deflate data, ending byte-aligned with no final block."""

    deflated: bytes
    #: The Adler-32 and the length of the rows themselves (filter bytes included).
    adler: int
    length: int


def scanlines(image: Image.Image) -> bytes:
    """The rows of *image* as PNG scanlines, each after its filter type: palette indices
    ("L") as they are, RGB with the Sub filter."""
    from PIL import Image, ImageChops

    _, channels, filter_type, _ = _MODES[image.mode]
    width, height = image.size
    if filter_type:  # Sub: the image less itself moved a pixel right, modulo 256
        moved = Image.new(image.mode, image.size)
        moved.paste(image.crop((0, 0, width - 1, height)), (1, 0))
        image = ImageChops.subtract_modulo(image, moved)
    pixels = image.tobytes()
    row = channels * width
    rows = (pixels[start : start + row] for start in range(0, len(pixels), row))
    mark = bytes([filter_type])
    return mark + mark.join(rows) if pixels else b""


def widened(image: Image.Image) -> Image.Image:
    """*image* (palette indices, "L") one column wider, every row after a 0: the
    scanlines of its rows, filter type and all, as an image (see :func:`compress_rows`)."""
    from PIL import Image

    if image.mode != "L":
        raise ValueError(f"only palette indices (L) are their own scanlines, not {image.mode}")
    wide = Image.new("L", (image.width + 1, image.height), 0)
    wide.paste(image, (1, 0))
    return wide


def compress(image: Image.Image) -> Piece:
    """The rows of *image* as a piece that other pieces may precede or follow."""
    return _piece(scanlines(image), _MODES[image.mode][3])


def compress_rows(wide: Image.Image) -> Piece:
    """The rows of a :func:`widened` image (or rows cut from one) as a piece: the rows of
    the image it widens."""
    return _piece(wide.tobytes(), _MODES["L"][3])


def _piece(data: bytes, strategy: int) -> Piece:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, 8, strategy)
    deflated = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return Piece(deflated, zlib.adler32(data), len(data))


def adler32_combine(first: int, second: int, length: int) -> int:
    """The Adler-32 of A followed by B, from that of A, that of B and B's length."""
    remainder = length % _ADLER_BASE
    low = first & 0xFFFF
    high = (remainder * low) % _ADLER_BASE
    low += (second & 0xFFFF) + _ADLER_BASE - 1
    high += (first >> 16) + (second >> 16) + _ADLER_BASE - remainder
    return (low % _ADLER_BASE) | ((high % _ADLER_BASE) << 16)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write(size: tuple[int, int], mode: str, pieces: Iterable[Piece], palette: bytes = b"") -> bytes:
    """A PNG of *size* whose rows are *pieces*, in order, compressed from images of *mode*:
    "L" for palette indices (then *palette* is its colours, 1 to 256 RGB triplets) or
    "RGB".  The pieces must hold exactly the image's rows."""
    kind, channels, _, _ = _MODES[mode]
    if (mode == "L") != bool(palette) or len(palette) > 768 or len(palette) % 3:
        raise ValueError(f"a palette image has 1 to 256 RGB colours, not {len(palette)} bytes")
    width, height = size
    deflated, adler, length = [b"\x78\x01"], 1, 0
    for piece in pieces:
        deflated.append(piece.deflated)
        adler = adler32_combine(adler, piece.adler, piece.length)
        length += piece.length
    if length != height * (1 + channels * width):
        raise ValueError(f"{length} bytes of scanlines for a {width}×{height} {mode} image")
    deflated += [_FINAL_BLOCK, struct.pack(">I", adler)]
    header = struct.pack(">IIBBBBB", width, height, 8, kind, 0, 0, 0)
    return b"".join(
        (
            SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", palette) if palette else b"",
            _chunk(b"IDAT", b"".join(deflated)),
            _chunk(b"IEND", b""),
        )
    )
