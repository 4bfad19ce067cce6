"""Every image syndicate reads (the card's backdrop, the email's copy, the logo) is opened
one way: only as a web format, with its size checked before anything is decoded, a big
JPEG decoded at a fraction of its size, a 16-bit grey reduced and scaled to 8 bits; and
whatever goes wrong is a warning naming the file, never a crash of the build."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from conftest import NOW, SITE, MakePublication, article
from syndicate.email.images import email_image
from syndicate.images import MAX_PIXELS, ImageError, open_image
from syndicate.pipeline import build
from syndicate.social.card import SIZE, CardInput, render_card

EMAIL = SITE + (
    '\n[email]\nfrom = "T <t@example.org>"\n'
    'unsubscribe_url = "https://news.example.org/u?e={email}&t={token}"\n'
)
RED = (200, 30, 30)


def encoded(picture: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def zeroed_avif() -> bytes:
    """An AVIF whose coded pixels are all zeros: its decoder fails with a RuntimeError."""
    data = encoded(Image.new("RGB", (64, 48), RED), "AVIF")
    start = data.index(b"mdat") + 4
    return data[:start] + bytes(len(data) - start)


def png(width: int, height: int, depth: int = 8, colour: int = 2, rows: bytes = b"") -> bytes:
    """A PNG whose header claims *width*×*height* pixels, with *rows* as its pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows or b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def card_with(image: Path) -> tuple[Image.Image, tuple[str, ...], bool]:
    data, layout = render_card(CardInput("Test Times", "Title", "Ann", "1 May 2025", image))
    return Image.open(io.BytesIO(data)).convert("RGB"), layout.problems, layout.image_used


def email_with(image: Path) -> str:
    """Why the email cannot use *image* ("" when it can)."""
    try:
        email_image(image, "", site_url="https://news.example.org/", alt="")
    except ImageError as error:
        return str(error)
    return ""


# --- only the formats a web page shows --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["TIFF", "ICO", "PCX", "TGA", "PPM"])
def test_an_image_in_another_format_is_not_read_whatever_its_name(tmp_path: Path, fmt: str) -> None:
    image = tmp_path / "photo.png"
    image.write_bytes(encoded(Image.new("RGB", (64, 48), RED), fmt))
    _, problems, used = card_with(image)
    assert not used
    assert problems == (
        f"cannot read the image, the card is plain: {image}: "
        "not a JPEG, PNG, GIF, WebP, AVIF or BMP image Pillow can read",
    )
    assert "not a JPEG, PNG, GIF, WebP, AVIF or BMP image" in email_with(image)


# --- any failure is a warning naming the file ------------------------------------------------

BROKEN = {
    "avif-decoder-error": zeroed_avif(),
    "truncated-png": encoded(Image.new("RGB", (64, 48), RED), "PNG")[:60],
    "text": b"not an image at all\n",
    "empty": b"",
    "tiff": encoded(Image.new("RGB", (64, 48), RED), "TIFF"),
    "too-many-pixels": png(9000, 9000),
}


@pytest.mark.parametrize("data", BROKEN.values(), ids=BROKEN.keys())
def test_an_image_that_cannot_be_read_is_a_warning_naming_it_and_the_build_goes_on(
    publication: MakePublication, data: bytes
) -> None:
    root = publication({"content/a.md": article(image="/cover.avif")}, EMAIL)
    (root / "static").mkdir()
    (root / "static/cover.avif").write_bytes(data)
    report = build(root, NOW)
    warnings = [d.format(relative_to=root) for d in report.diagnostics]
    assert len(warnings) == 2, warnings
    card, email = sorted(warnings)
    where = str(root / "static/cover.avif")
    assert email.startswith(f"content/a.md:4: warning: image: left out of the email: {where}: ")
    assert card.startswith(
        f"content/a.md:2: warning: card: cannot read the image, the card is plain: {where}: "
    )
    # The plain design, at the photo card's address: decided by the article, not the file.
    assert (root / "feeds/social/a.jpg").is_file()
    assert not list((root / "feeds").glob("email/images/*"))


def test_a_logo_that_cannot_be_read_leaves_the_card_without_a_logo(
    publication: MakePublication,
) -> None:
    config = SITE + '\n[social.card]\nlogo = "logo.png"\n'
    root = publication({"content/a.md": article(), "logo.png": zeroed_avif()}, config)
    report = build(root, NOW)
    [warning] = [d.format(relative_to=root) for d in report.diagnostics]
    assert warning.startswith(
        f"content/a.md:2: warning: card: cannot read the logo: {root / 'logo.png'}: "
    )


# --- no image takes gigabytes -----------------------------------------------------------------


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int]]]:
    """The size of every image file in a test's folder Pillow decodes while the test runs
    (not the cards it makes, which the test reads back)."""
    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def recorded(self: ImageFile.ImageFile) -> object:
        if isinstance(getattr(self, "filename", None), (str, Path)) and self.filename:
            sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recorded)
    yield sizes


def test_an_image_over_the_pixel_limit_is_refused_before_any_pixel_is_decoded(
    tmp_path: Path, decoded: list[tuple[int, int]]
) -> None:
    # Under Pillow's own limit, but four times syndicate's: a few gigabytes once decoded.
    for depth, colour in ((8, 6), (16, 0)):
        image = tmp_path / f"poster-{depth}.png"
        image.write_bytes(png(9000, 9000, depth, colour))
        assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS > 9000 * 9000
        assert "too many pixels" in email_with(image)
        _, problems, used = card_with(image)
        assert not used and "too many pixels" in problems[0]
    assert decoded == []


def test_a_jpeg_larger_than_the_limit_is_decoded_at_a_fraction_of_its_size(
    tmp_path: Path, decoded: list[tuple[int, int]]
) -> None:
    image = tmp_path / "camera.jpg"
    Image.new("RGB", (8000, 6000), RED).save(image, quality=30)
    assert MAX_PIXELS < 8000 * 6000
    assert email_with(image) == ""
    _, problems, used = card_with(image)
    assert used and problems == ()
    assert decoded and all(width * height <= MAX_PIXELS for width, height in decoded)
    assert all(width >= SIZE[0] and height >= SIZE[1] for width, height in decoded)


def test_a_16_bit_grey_image_is_scaled_to_8_bits_on_the_card_not_clipped(
    tmp_path: Path,
) -> None:
    width, height = 2400, 1260
    row = b"\0" + struct.pack(">H", 32768) * width  # mid-grey, as 16 bits
    image = tmp_path / "scan.png"
    image.write_bytes(png(width, height, 16, 0, row * height))
    with Image.open(image) as original:
        assert original.mode.startswith("I;16")
    picture, problems, used = card_with(image)
    assert used and problems == ()
    # Mid-grey under the background (#0d1117) at 80%, where no text is drawn.
    grey = 128 * 0.2
    assert picture.getpixel((1190, 320)) == (
        round(grey + 13 * 0.8),
        round(grey + 17 * 0.8),
        round(grey + 23 * 0.8),
    )


def test_a_16_bit_grey_image_is_reduced_before_it_is_made_8_bits(tmp_path: Path) -> None:
    width, height = 4000, 3000
    row = b"\0" + struct.pack(">H", 65535) * width
    image = tmp_path / "scan.png"
    image.write_bytes(png(width, height, 16, 0, row * height))
    with open_image(image, needed=lambda _: (400, 300)) as picture:
        assert (picture.mode, picture.size) == ("L", (400, 300))
        assert picture.getextrema() == (255, 255)


def test_pillows_own_warnings_about_an_image_are_not_shown(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    # A JPEG whose EXIF block is cut short: Pillow warns, and reads the picture anyway.
    exif = Image.Exif()
    exif[0x0112] = 1
    data = bytearray(encoded(Image.new("RGB", (64, 48), RED), "JPEG", exif=exif.tobytes()))
    start = data.index(b"Exif\0\0") + 6
    data[start + 8 : start + 12] = b"\xff\x00\x00\x00"  # too many entries for the block
    image = tmp_path / "photo.jpg"
    image.write_bytes(bytes(data))
    assert email_with(image) == ""
    _, problems, used = card_with(image)
    assert used and problems == ()
    assert [str(w.message) for w in recwarn] == []
