"""A coverage-guided fuzz target (atheris): every reader of an article's image, on any bytes.

    python fuzz/fuzz_images.py fuzz/corpus-images -max_total_time=600 -max_len=65536

Each input is written as an article's image and read as a build reads it: converted for
the email, drawn as a card's backdrop and as the card's logo, and opened on its own.  The
only exception allowed out is syndicate's ImageError, whose message must name the file and
be one line; a card is always made.  The seeds, one small image of each format and kind
syndicate reads (and two it must refuse), are written into the corpus folder when it has
none.  A crash is written to ./crash-* by libFuzzer.
"""

from __future__ import annotations

import io
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import atheris

with atheris.instrument_imports():
    # Pillow's plugins are Python: instrumented, their coverage guides the fuzzer (the
    # decoders themselves are C, whose coverage is not seen).
    from PIL import Image, ImageCms

    from syndicate.config import CardConfig
    from syndicate.email.images import email_image
    from syndicate.images import ImageError, open_image
    from syndicate.social.card import CardInput, render_card

FOLDER = Path(tempfile.mkdtemp(prefix="syndicate-fuzz-images-"))
IMAGE = FOLDER / "static" / "cover.png"
IMAGE.parent.mkdir()
CARD = CardInput("Fuzz", "A title", "An author", "1 May 2025", IMAGE)
LOGO = CardConfig(logo=IMAGE)


def seeds() -> dict[str, bytes]:
    """One small image of each format and kind the readers meet."""

    def saved(picture: Image.Image, fmt: str, **options: object) -> bytes:
        out = io.BytesIO()
        picture.save(out, fmt, **options)
        return out.getvalue()

    rgb = Image.linear_gradient("L").resize((48, 32)).convert("RGB")
    rgba = rgb.copy()
    rgba.putalpha(Image.linear_gradient("L").resize((48, 32)))
    exif = Image.Exif()
    exif[0x0112] = 6  # turned
    frames = [Image.new("P", (16, 16), n) for n in range(3)]
    grey16 = struct.pack(">H", 40000) * 8
    png16 = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 16, 0, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress((b"\0" + grey16) * 8))
        + _chunk(b"IEND", b"")
    )
    found = {
        "seed-rgb.jpg": saved(rgb, "JPEG", exif=exif.tobytes()),
        "seed-cmyk.jpg": saved(rgb.convert("CMYK"), "JPEG"),
        "seed-rgba.png": saved(rgba, "PNG"),
        "seed-grey16.png": png16,
        "seed-icc.png": saved(
            rgb,
            "PNG",
            icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        ),
        "seed-animated.gif": saved(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        "seed-rgba.webp": saved(rgba, "WEBP"),
        "seed-rgb.bmp": saved(rgb, "BMP"),
        "seed-refused.tiff": saved(rgb, "TIFF"),
        "seed-refused.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    }
    if "AVIF" in Image.SAVE:
        found["seed-rgb.avif"] = saved(rgb, "AVIF")
    return found


JPEG = b"\xff\xd8\xff"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def refused(error: ImageError) -> None:
    message = str(error)
    assert message.startswith(f"{IMAGE}: "), message
    assert "\n" not in message, message


def test_one_input(data: bytes) -> None:
    IMAGE.write_bytes(data)
    try:
        email_image(IMAGE, "", site_url="https://fuzz.example.org/", alt="")
    except ImageError as error:
        refused(error)
    try:
        with open_image(IMAGE, needed=lambda _: None) as picture:
            assert picture.width * picture.height > 0
    except ImageError as error:
        refused(error)
    # An article with an image gets a photo card, a JPEG, even when the image cannot be read.
    card, layout = render_card(CARD)
    assert card.startswith(JPEG) and len(layout.problems) <= 1, layout.problems
    card, layout = render_card(CARD, LOGO)
    assert card.startswith(JPEG), layout.problems


def main() -> None:
    corpus = next((Path(arg) for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if corpus is not None:
        corpus.mkdir(parents=True, exist_ok=True)
        if not any(corpus.iterdir()):
            for name, data in seeds().items():
                (corpus / name).write_bytes(data)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
