"""Article images made safe for email clients.

Many clients (Outlook on the desktop among them) show neither WebP nor SVG,
and a phone-sized photo straight from a camera is far too heavy for an inbox.
A local image under the publication's ``static/`` folder is therefore
converted with Pillow into a JPEG (a PNG when it has real transparency) at
most :data:`MAX_WIDTH` pixels wide, without any metadata, and published below
the output folder under a name that carries a hash of its bytes, so that a
changed picture gets a new URL.  Remote images are referenced as they are.

This stage is pure: it reads the source image and returns bytes; the pipeline
writes them.  The same source always gives byte-identical output.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from slugify import slugify

from ..images import ImageError, open_image, reading

if TYPE_CHECKING:
    from PIL import Image as PILImage

#: Widest converted image, in pixels: twice the email column, for 2x screens.
MAX_WIDTH = 1200
#: Width of the email's content column, in CSS pixels.
COLUMN_WIDTH = 600
JPEG_QUALITY = 82
#: Folder, below the output folder, that converted images are published in.
FOLDER = "email/images/"
_ORIENTATION = 0x0112
_ROTATED = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height


@dataclass(frozen=True, slots=True)
class EmailImage:
    """An image as the email shows it."""

    #: Absolute URL the email references.
    url: str
    #: Display width in CSS pixels: half the pixel width, for 2x screens, and at
    #: most the 600 px column.  Remote images, whose size is unknown, get the column.
    width: int
    #: Display height in CSS pixels, keeping the aspect ratio; None when unknown
    #: (remote images), so a template writes no height and the client keeps the ratio.
    height: int | None
    alt: str


@dataclass(frozen=True, slots=True)
class Converted:
    """An email image and, for a local one, the converted file to publish."""

    image: EmailImage
    #: Path of the converted file below the output folder; None for remote images.
    path: str | None
    #: The converted file; None for remote images.
    data: bytes | None


def email_image(source: Path | None, url: str, *, site_url: str, alt: str) -> Converted:
    """The image at *url* as an email references it.

    *source* is the local file under ``static/``, converted as the module
    describes and published at ``site_url + path`` (*url* is then unused); None
    means *url* is remote and used as it is.  Raises :class:`~syndicate.images.ImageError`
    (a ValueError), with the file and the reason, when the file is missing, is not an
    image that can be read here (see :mod:`syndicate.images`) or has too many pixels.
    """
    if source is None:
        return Converted(EmailImage(url, COLUMN_WIDTH, None, alt), None, None)
    data, extension, (width, height) = _convert(source)
    digest = hashlib.sha256(data).hexdigest()[:8]
    stem = slugify(source.stem, max_length=60) or "image"
    path = f"{FOLDER}{stem}-{digest}.{extension}"
    shown_width = min(COLUMN_WIDTH, (width + 1) // 2)
    shown_height = max(1, (2 * shown_width * height + width) // (2 * width))
    return Converted(EmailImage(site_url + path, shown_width, shown_height, alt), path, data)


def _convert(source: Path) -> tuple[bytes, str, tuple[int, int]]:
    """The converted file's bytes, its extension and its size in pixels."""
    if source.suffix.lower() == ".svg":
        raise ImageError(f"{source}: SVG images cannot be converted for email")
    with reading(source), open_image(source, needed=_needed) as picture:
        return _encode(_prepare(picture))


def _needed(picture: PILImage.Image) -> tuple[int, int] | None:
    """What a JPEG may be decoded down to: twice the size it is scaled to (as
    ``Image.thumbnail`` does), so that the Lanczos pass still has pixels to spare; None
    for an image that is not scaled down."""
    orientation = picture.getexif().get(_ORIENTATION, 1)
    width, height = picture.size
    rotated = orientation in _ROTATED
    target = _fit(*((height, width) if rotated else (width, height)))
    if target[0] >= (height if rotated else width):
        return None
    stored = target[::-1] if rotated else target
    return stored[0] * 2, stored[1] * 2


def _prepare(picture: PILImage.Image) -> PILImage.Image:
    """The first frame, upright, in RGB or RGBA, sRGB, at most MAX_WIDTH wide."""
    from PIL import Image, ImageOps

    # In place: a copy of the whole picture is made only when there is something to turn.
    ImageOps.exif_transpose(picture, in_place=True)
    target = _fit(*picture.size)
    colours = _to_srgb(picture)
    if colours.size != target:
        colours = colours.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    # A fresh image carries no info: Pillow would otherwise write EXIF, ICC
    # profiles and comments from the source (a JPEG's COM, a GIF's comment).
    return Image.frombytes(colours.mode, colours.size, colours.tobytes())


def _fit(width: int, height: int) -> tuple[int, int]:
    """*width*×*height* scaled down to at most MAX_WIDTH wide; never up."""
    if width <= MAX_WIDTH:
        return width, height
    return MAX_WIDTH, max(1, (2 * MAX_WIDTH * height + width) // (2 * width))


def _to_srgb(picture: PILImage.Image) -> PILImage.Image:
    """*picture* as RGB, or as RGBA when some pixel is not fully opaque."""
    mode = picture.mode
    transparent = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in picture.info
    wanted = "RGBA" if transparent else "RGB"
    converted = _with_profile(picture, wanted)
    if converted is None:  # converting to the mode it has would copy the picture
        converted = picture if mode == wanted else picture.convert(wanted)
    if transparent:
        alpha = converted.getchannel("A").getextrema()
        if isinstance(alpha[0], int) and alpha[0] == 255:  # an opaque picture: JPEG is far smaller
            converted = converted.convert("RGB")
    return converted


def _with_profile(picture: PILImage.Image, mode: str) -> PILImage.Image | None:
    """*picture* converted to sRGB through its ICC profile; None without a usable one.

    The profile is left out of the output, and an untagged image is read as
    sRGB, so colours from another space (a CMYK print profile, Display P3) are
    converted rather than dropped.  A profile littlecms cannot use leaves
    Pillow's plain conversion, the same as an untagged image gets.
    """
    icc = picture.info.get("icc_profile")
    if not icc:
        return None
    try:
        from PIL import ImageCms
    except ImportError:  # Pillow built without littlecms
        return None
    if picture.mode == "P":
        picture = picture.convert("RGBA" if mode == "RGBA" else "RGB")
    try:
        return ImageCms.profileToProfile(
            picture,
            ImageCms.ImageCmsProfile(io.BytesIO(icc)),
            ImageCms.createProfile("sRGB"),
            outputMode=mode,
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


def _encode(picture: PILImage.Image) -> tuple[bytes, str, tuple[int, int]]:
    out = io.BytesIO()
    if picture.mode == "RGBA":
        picture.save(out, "PNG", optimize=True)
        extension = "png"
    else:
        picture.save(
            out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, subsampling="4:2:0"
        )
        extension = "jpg"
    return out.getvalue(), extension, picture.size
