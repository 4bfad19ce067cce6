"""Article images for email: converted to JPEG or PNG, at most 1200 px wide, without metadata."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from syndicate.email.images import Converted, EmailImage, email_image

SITE = "https://news.example.org/"
RED = (220, 20, 20)
BLUE = (20, 20, 220)


def convert(source: Path, alt: str = "A picture") -> Converted:
    return email_image(source, SITE + "never-used.webp", site_url=SITE, alt=alt)


def reopen(converted: Converted) -> Image.Image:
    assert converted.data is not None
    picture = Image.open(io.BytesIO(converted.data))
    picture.load()
    return picture


def save(path: Path, picture: Image.Image, fmt: str | None = None, **options: object) -> Path:
    picture.save(path, fmt, **options)
    return path


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of a JPEG's header segments, up to the start of the scan."""
    assert data[:2] == b"\xff\xd8"
    markers, at = [], 2
    while True:
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append(data[at + 4 : at + 8])
        at += 12 + length
    return chunks


def close_to(colour: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims *width*×*height* pixels, with almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


# Formats ----------------------------------------------------------------------


def test_an_opaque_webp_becomes_a_progressive_jpeg(tmp_path: Path) -> None:
    source = save(tmp_path / "photo.webp", Image.new("RGB", (800, 400), RED), quality=90)

    converted = convert(source)

    picture = reopen(converted)
    assert picture.format == "JPEG"
    assert picture.mode == "RGB"
    assert picture.info.get("progressive") == 1
    assert picture.size == (800, 400)
    assert close_to(picture.getpixel((400, 200)), RED)  # type: ignore[arg-type]
    assert converted.path is not None and converted.path.endswith(".jpg")


def test_a_webp_with_transparency_becomes_a_png_that_keeps_it(tmp_path: Path) -> None:
    picture = Image.new("RGBA", (400, 200), (*RED, 255))
    picture.paste((0, 0, 0, 0), (0, 0, 200, 200))
    source = save(tmp_path / "logo.webp", picture, lossless=True)

    converted = convert(source)

    output = reopen(converted)
    assert output.format == "PNG"
    assert output.mode == "RGBA"
    assert output.getpixel((100, 100))[3] == 0  # type: ignore[index]
    assert output.getpixel((300, 100)) == (*RED, 255)
    assert converted.path is not None and converted.path.endswith(".png")


def test_a_png_with_an_alpha_channel_but_no_transparent_pixel_becomes_a_jpeg(
    tmp_path: Path,
) -> None:
    source = save(tmp_path / "opaque.png", Image.new("RGBA", (300, 200), (*BLUE, 255)))

    assert reopen(convert(source)).format == "JPEG"


def test_a_png_with_partial_transparency_stays_a_png(tmp_path: Path) -> None:
    source = save(tmp_path / "shadow.png", Image.new("RGBA", (300, 200), (*BLUE, 128)))

    output = reopen(convert(source))

    assert output.format == "PNG"
    assert output.getpixel((10, 10))[3] == 128  # type: ignore[index]


def test_a_palette_gif_with_a_transparent_colour_becomes_an_rgba_png(tmp_path: Path) -> None:
    picture = Image.new("P", (200, 100), 1)
    picture.putpalette([0, 0, 0, *RED, *BLUE] + [0] * (256 - 3) * 3)
    picture.paste(0, (0, 0, 100, 100))
    source = save(tmp_path / "badge.gif", picture, transparency=0)

    output = reopen(convert(source))

    assert output.format == "PNG"
    assert output.mode == "RGBA"
    assert output.getpixel((50, 50))[3] == 0  # type: ignore[index]
    assert output.getpixel((150, 50)) == (*RED, 255)


def test_a_palette_gif_without_transparency_becomes_a_jpeg(tmp_path: Path) -> None:
    picture = Image.new("RGB", (200, 100), BLUE).convert("P")
    source = save(tmp_path / "chart.gif", picture)

    output = reopen(convert(source))

    assert output.format == "JPEG"
    assert close_to(output.getpixel((100, 50)), BLUE)  # type: ignore[arg-type]


def test_a_cmyk_jpeg_becomes_an_rgb_jpeg_with_the_same_colours(tmp_path: Path) -> None:
    source = save(tmp_path / "print.jpg", Image.new("CMYK", (400, 200), (0, 255, 255, 0)))

    output = reopen(convert(source))

    assert output.mode == "RGB"
    assert close_to(output.getpixel((200, 100)), (255, 0, 0))  # type: ignore[arg-type]


def test_a_16_bit_grey_png_is_scaled_to_8_bits_not_clipped(tmp_path: Path) -> None:
    source = save(tmp_path / "scan.png", Image.new("I;16", (200, 100), 32768))
    with Image.open(source) as original:
        assert original.mode == "I;16"

    output = reopen(convert(source))

    assert output.mode == "RGB"
    assert close_to(output.getpixel((100, 50)), (128, 128, 128), tolerance=4)  # type: ignore[arg-type]


def test_an_icc_tagged_image_is_converted_to_untagged_srgb(tmp_path: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture = Image.new("RGB", (300, 200), RED)
    source = save(tmp_path / "tagged.jpg", picture, icc_profile=srgb, quality=95)

    output = reopen(convert(source))

    assert "icc_profile" not in output.info
    assert close_to(output.getpixel((150, 100)), RED)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_an_animated_image_gives_its_first_frame(tmp_path: Path, fmt: str) -> None:
    frames = [Image.new("RGB", (200, 100), colour) for colour in (RED, BLUE, (20, 220, 20))]
    source = tmp_path / f"loop.{fmt.lower()}"
    frames[0].save(source, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    with Image.open(source) as original:
        assert getattr(original, "n_frames", 1) == 3

    output = reopen(convert(source))

    assert output.size == (200, 100)
    assert close_to(output.getpixel((100, 50)), RED, tolerance=40)  # type: ignore[arg-type]


def test_a_camera_jpeg_is_turned_upright_and_loses_its_exif(tmp_path: Path) -> None:
    picture = Image.new("RGB", (400, 200), RED)
    picture.paste(BLUE, (200, 0, 400, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned clockwise
    exif[ExifTags.Base.Make] = "SecretCam"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (6.0, 10.0, 30.0)
    source = save(tmp_path / "IMG_0001.JPG", picture, exif=exif, comment=b"home address")
    assert b"SecretCam" in source.read_bytes()

    converted = convert(source)

    output = reopen(converted)
    assert output.size == (200, 400)
    assert close_to(output.getpixel((100, 50)), RED)  # type: ignore[arg-type]
    assert close_to(output.getpixel((100, 350)), BLUE)  # type: ignore[arg-type]
    assert not output.getexif()
    assert converted.data is not None
    for secret in (b"Exif", b"SecretCam", b"home address"):
        assert secret not in converted.data


def test_a_jpeg_keeps_no_header_but_its_jfif_tables_and_frame(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    picture = Image.new("RGB", (300, 200), RED)
    source = save(tmp_path / "a.jpg", picture, exif=exif, icc_profile=b"", comment=b"note")

    converted = convert(source)

    assert converted.data is not None
    no_metadata = {0xE0, 0xDB, 0xC4, 0xC2, 0xDA}  # JFIF, tables, progressive frame, scan
    assert set(jpeg_markers(converted.data)) <= no_metadata


def test_a_png_keeps_no_chunk_but_the_image_data(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone")
    info.add_text("Comment", "secret", zip=True)
    picture = Image.new("RGBA", (300, 200), (*RED, 100))
    source = save(tmp_path / "a.png", picture, pnginfo=info, dpi=(300, 300))

    converted = convert(source)

    assert converted.data is not None
    assert set(png_chunks(converted.data)) == {b"IHDR", b"IDAT", b"IEND"}


# Sizes ------------------------------------------------------------------------


def test_a_wide_image_is_scaled_down_to_1200_pixels_keeping_its_ratio(tmp_path: Path) -> None:
    source = save(tmp_path / "panorama.png", Image.new("RGB", (3000, 1000), RED))

    converted = convert(source, alt="The bay")

    assert reopen(converted).size == (1200, 400)
    assert converted.image == EmailImage(SITE + str(converted.path), 600, 200, "The bay")


def test_a_big_camera_jpeg_is_scaled_down_keeping_its_ratio(tmp_path: Path) -> None:
    source = save(tmp_path / "big.jpg", Image.new("RGB", (5000, 4000), BLUE))

    converted = convert(source)

    assert reopen(converted).size == (1200, 960)
    assert (converted.image.width, converted.image.height) == (600, 480)


def test_a_small_image_is_never_scaled_up(tmp_path: Path) -> None:
    source = save(tmp_path / "thumb.png", Image.new("RGB", (300, 200), RED))

    converted = convert(source)

    assert reopen(converted).size == (300, 200)
    assert (converted.image.width, converted.image.height) == (150, 100)


@pytest.mark.parametrize(
    ("pixels", "shown"),
    [
        ((1, 1), (1, 1)),
        ((301, 200), (151, 100)),
        ((1199, 500), (600, 250)),
        ((1200, 1), (600, 1)),
        ((2400, 999), (600, 250)),
        ((100, 3000), (50, 1500)),
    ],
)
def test_the_display_size_is_half_the_pixels_within_the_600_px_column(
    tmp_path: Path, pixels: tuple[int, int], shown: tuple[int, int]
) -> None:
    source = save(tmp_path / "a.png", Image.new("RGB", pixels, RED))

    image = convert(source).image

    assert (image.width, image.height) == shown


# Paths and determinism --------------------------------------------------------


def test_the_converted_image_is_published_below_email_images_at_the_site_url(
    tmp_path: Path,
) -> None:
    source = save(tmp_path / "Café Photo.webp", Image.new("RGB", (300, 200), RED))

    converted = convert(source)

    assert converted.path is not None
    assert converted.path.startswith("email/images/cafe-photo-")
    assert converted.path.endswith(".jpg")
    assert converted.image.url == SITE + converted.path


def test_the_same_source_gives_the_same_bytes_and_path(tmp_path: Path) -> None:
    picture = Image.new("RGBA", (2000, 1000), (*RED, 200))
    picture.paste(BLUE, (0, 0, 1000, 500))
    source = save(tmp_path / "a.png", picture)

    first, second = convert(source), convert(source)

    assert first.data == second.data
    assert first.path == second.path


def test_a_changed_image_gets_a_new_path(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    first = convert(save(source, Image.new("RGB", (300, 200), RED)))
    second = convert(save(source, Image.new("RGB", (300, 200), BLUE)))

    assert first.path != second.path


# Remote images ----------------------------------------------------------------


def test_a_remote_image_is_used_as_it_is_with_no_known_height() -> None:
    url = "https://cdn.example.com/pictures/a.webp?w=2000"

    converted = email_image(None, url, site_url=SITE, alt="Remote")

    assert converted == Converted(EmailImage(url, 600, None, "Remote"), None, None)


# Files that cannot be used ----------------------------------------------------


def test_a_missing_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"gone\.png: No such file"):
        convert(tmp_path / "gone.png")


def test_a_folder_is_a_value_error(tmp_path: Path) -> None:
    (tmp_path / "pictures.png").mkdir()

    with pytest.raises(ValueError, match=r"pictures\.png: Is a directory"):
        convert(tmp_path / "pictures.png")


def test_a_text_file_named_png_is_a_value_error(tmp_path: Path) -> None:
    source = tmp_path / "fake.png"
    source.write_text("This is not a picture.\n")

    with pytest.raises(ValueError, match=r"fake\.png: not a JPEG, PNG, GIF, WebP, AVIF or BMP"):
        convert(source)


def test_an_svg_is_a_value_error_saying_so(tmp_path: Path) -> None:
    source = tmp_path / "logo.svg"
    source.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')

    with pytest.raises(ValueError, match="SVG images cannot be converted for email"):
        convert(source)


def test_a_truncated_image_is_a_value_error(tmp_path: Path) -> None:
    source = save(tmp_path / "cut.png", Image.effect_noise((400, 400), 64).convert("RGB"))
    source.write_bytes(source.read_bytes()[:2000])

    with pytest.raises(ValueError, match=r"cut\.png: "):
        convert(source)


def test_a_format_outside_the_web_ones_is_a_value_error(tmp_path: Path) -> None:
    source = save(tmp_path / "a.tiff", Image.new("RGB", (30, 20), RED))

    with pytest.raises(ValueError, match="not a JPEG, PNG"):
        convert(source)


# Decompression bombs ----------------------------------------------------------


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any pixel data is decoded."""

    def load(self: object) -> None:
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", load)


@pytest.mark.usefixtures("no_decoding")
def test_a_header_claiming_ten_billion_pixels_is_a_value_error(tmp_path: Path) -> None:
    source = tmp_path / "bomb.png"
    source.write_bytes(png_header(100_000, 100_000))

    with pytest.raises(ValueError, match=r"bomb\.png: too many pixels"):
        convert(source)


@pytest.mark.usefixtures("no_decoding")
def test_a_header_just_over_pillows_limit_is_a_value_error_not_a_warning(tmp_path: Path) -> None:
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that.
    source = tmp_path / "bomb.png"
    source.write_bytes(png_header(10_000, 10_000))
    assert Image.MAX_IMAGE_PIXELS is not None
    assert Image.MAX_IMAGE_PIXELS < 10_000 * 10_000 < 2 * Image.MAX_IMAGE_PIXELS

    with pytest.raises(ValueError, match="too many pixels"):
        convert(source)


@pytest.mark.parametrize("limit", [50_000, 99_999, 200_000])
def test_the_limit_is_pillows_max_image_pixels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    source = save(tmp_path / "a.png", Image.new("RGB", (400, 250), RED))  # 100,000 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)

    if limit < 100_000:
        with pytest.raises(ValueError, match="too many pixels"):
            convert(source)
    else:
        assert reopen(convert(source)).size == (400, 250)
