"""The palette PNG writer of social cards: pieces compressed apart make one valid image."""

from __future__ import annotations

import io
import itertools
import random
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from syndicate.social import png

PALETTE = bytes(range(256)) * 3  # 256 colours: (0, 1, 2), (3, 4, 5)...


def pixels(width: int, height: int, seed: int = 0) -> bytes:
    """Rows like a card's: runs of one colour, with a noisy band in the middle."""
    rng = random.Random(seed)
    rows = []
    for y in range(height):
        if height // 3 <= y < 2 * height // 3:
            rows.append(bytes(rng.randrange(256) for _ in range(width)))
        else:
            rows.append(bytes([y % 7]) * width)
    return b"".join(rows)


def decode(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_adler32_combine_is_the_checksum_of_both_parts(first: bytes, second: bytes) -> None:
    combined = png.adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
    assert combined == zlib.adler32(first + second)


@pytest.mark.parametrize("cuts", [[], [5], [1, 2, 3], [20, 21], [0, 10, 39]])
def test_rows_compressed_in_pieces_decode_to_the_same_image(cuts: list[int]) -> None:
    width, height = 37, 40
    data = pixels(width, height)
    edges = [0, *cuts, height]
    image = Image.frombytes("L", (width, height), data)
    pieces = [
        png.compress(image.crop((0, top, width, bottom)))
        for top, bottom in itertools.pairwise(edges)
        if bottom > top
    ]
    picture = decode(png.write((width, height), "L", pieces, PALETTE))
    assert (picture.format, picture.mode, picture.size) == ("PNG", "P", (width, height))
    assert picture.tobytes() == data
    assert picture.getpalette() == list(PALETTE)


def test_rgb_rows_in_pieces_decode_to_the_same_image() -> None:
    width, height = 41, 30
    bands = [Image.frombytes("L", (width, height), pixels(width, height, n)) for n in (1, 2, 3)]
    image = Image.merge("RGB", bands)
    pieces = [png.compress(image.crop((0, top, width, top + 10))) for top in (0, 10, 20)]
    picture = decode(png.write(image.size, "RGB", pieces))
    assert (picture.mode, picture.size) == ("RGB", (width, height))
    assert picture.tobytes() == image.tobytes()


def test_the_same_rows_give_the_same_bytes_however_often() -> None:
    image = Image.frombytes("L", (50, 30), pixels(50, 30, seed=1))
    made = {png.write(image.size, "L", [png.compress(image)], PALETTE) for _ in range(3)}
    assert len(made) == 1


def test_the_png_has_only_the_chunks_an_image_needs() -> None:
    row = Image.frombytes("L", (2, 1), b"\x00\x01")
    data = png.write((2, 1), "L", [png.compress(row)], b"\0\0\0\xff\xff\xff")
    assert data.startswith(png.SIGNATURE)
    chunks = []
    position = len(png.SIGNATURE)
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunks.append(data[position + 4 : position + 8])
        position += 12 + length
    assert chunks == [b"IHDR", b"PLTE", b"IDAT", b"IEND"]
    assert decode(data).convert("RGB").getpixel((1, 0)) == (255, 255, 255)


def test_rows_that_do_not_make_the_image_are_an_error() -> None:
    row = Image.new("L", (4, 1))
    with pytest.raises(ValueError, match="bytes of scanlines"):
        png.write((4, 2), "L", [png.compress(row)], PALETTE)
    with pytest.raises(ValueError, match="palette"):
        png.write((4, 1), "L", [png.compress(row)], b"\0" * 4)
    with pytest.raises(ValueError, match="palette"):
        png.write((4, 1), "RGB", [png.compress(row.convert("RGB"))], PALETTE)


def test_rows_cut_from_a_widened_image_are_its_own_scanlines() -> None:
    width, height = 37, 40
    image = Image.frombytes("L", (width, height), pixels(width, height, seed=2))
    wide = png.widened(image)
    assert wide.size == (width + 1, height)
    assert wide.tobytes() == png.scanlines(image)
    # Pieces of either kind follow one another.
    pieces = [
        png.compress_rows(wide.crop((0, 0, width + 1, 15))),
        png.compress(image.crop((0, 15, width, 16))),
        png.compress_rows(wide.crop((0, 16, width + 1, height))),
    ]
    assert decode(png.write(image.size, "L", pieces, PALETTE)).tobytes() == image.tobytes()
    with pytest.raises(ValueError, match="palette indices"):
        png.widened(image.convert("RGB"))
