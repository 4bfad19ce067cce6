"""Reading an image file: the one way syndicate opens an article's image (or the logo).

An article's image is untrusted input, read by Pillow for the social card's backdrop and
for the email's converted copy.  Here, every time:

- Pillow may only open the formats a web page shows (:data:`READABLE`), never one it
  would hand to another program (EPS goes through Ghostscript) or a format nobody
  publishes on the web.
- The size in the header is checked before anything is decoded: a JPEG far larger than
  needed is decoded at 1/2, 1/4 or 1/8 of its size, and what is decoded may have at most
  :data:`MAX_PIXELS` pixels (and no more than Pillow's own ``MAX_IMAGE_PIXELS``), so that
  one image can never take gigabytes.
- A grey image of more than 8 bits (a 16-bit PNG) is reduced first, then scaled to 8 bits.
- Whatever goes wrong, from a missing file to a decoder's own error, is an
  :class:`ImageError` naming the file, which the card and the email turn into a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image as PILImage

#: Formats a web page can show, which are the ones worth reading here (AVIF when Pillow
#: has it; camera JPEGs that Pillow names MPO come with JPEG).
READABLE = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "BMP")
READABLE_NAMES = "JPEG, PNG, GIF, WebP, AVIF or BMP"
#: The most pixels an image may have once decoded (a JPEG photo of any size is decoded
#: at a fraction of it): far more than a 1200-pixel card or email image shows, and what
#: bounds the memory one image takes (benchmarks/RESULTS.md has the figures).
MAX_PIXELS = 25_000_000
#: Modes with more than 8 bits a sample, which a card or an email cannot show as they are.
_DEEP = frozenset({"I", "F", "I;16", "I;16B", "I;16L", "I;16N"})


class ImageError(ValueError):
    """An image that cannot be read; the message names the file and says why."""


def open_image(
    path: Path,
    *,
    needed: Callable[[PILImage.Image], tuple[int, int] | None],
    mode: str | None = None,
) -> PILImage.Image:
    """The first frame of the image at *path*, decoded.

    *needed* is given the opened image (its header read, nothing decoded) and gives the
    smallest size the caller will use, or None for the full size: a JPEG is decoded at
    the smallest scale that keeps at least that (in *mode*, if given, as
    ``Image.draft`` takes it), and a grey image deeper than 8 bits is reduced to it and
    scaled to 8 bits ("L").  Raises :class:`ImageError`.
    """
    from PIL import Image

    with reading(path):
        picture: PILImage.Image = Image.open(path, formats=_readable())
        try:
            # Image.open reads only the header: nothing has been decoded yet.  What will
            # be is checked before *needed* looks at the image (a PNG's EXIF may come
            # after its pixels, which reading it decodes).
            jpeg = picture.format in ("JPEG", "MPO")
            _check_size(path, picture.size, Image.MAX_IMAGE_PIXELS if jpeg else MAX_PIXELS)
            size = needed(picture)
            if size is not None and jpeg:
                picture.draft(mode, size)
                _check_size(path, picture.size, MAX_PIXELS)
            picture.load()
            if picture.mode in _DEEP:
                deep, picture = picture, _eight_bits(picture, size)
                deep.close()
            return picture
        except BaseException:
            picture.close()
            raise
    raise AssertionError("unreachable")  # reading() raises whatever it caught


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turns any failure inside the block, while an image at *path* is read or worked
    on, into an :class:`ImageError` that names the file.  Pillow's decompression-bomb
    warning is an error here; its other warnings (about a corrupt EXIF block, say) are
    not shown: they would be a stray line on the terminal, not a diagnostic."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(f"{path}: too many pixels to read safely ({error})") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not a {READABLE_NAMES} image Pillow can read") from None
    except OSError as error:
        raise ImageError(f"{path}: {error.strerror or error}") from None
    except MemoryError:
        raise ImageError(f"{path}: too large to read in the memory there is") from None
    except Exception as error:  # a decoder's own: SyntaxError, struct.error, RuntimeError...
        reason = f"{type(error).__name__}: {error}"
        raise ImageError(f"{path}: cannot read the image ({reason})") from None


def _readable() -> list[str]:
    from PIL import Image

    Image.init()
    return [name for name in READABLE if name in Image.OPEN]


def _check_size(path: Path, size: tuple[int, int], most: int | None) -> None:
    """Refuse, before decoding, an image with no pixels, or with more than *most* or
    Pillow's ``MAX_IMAGE_PIXELS``."""
    from PIL import Image

    width, height = size
    if width < 1 or height < 1:
        raise ImageError(f"{path}: the image is {width}×{height} pixels")
    # Pillow refuses more than twice its limit but only warns above it: this refusal does
    # not rest on the warnings machinery.
    limit = min(n for n in (most, Image.MAX_IMAGE_PIXELS, 1 << 62) if n is not None)
    if width * height > limit:
        raise Image.DecompressionBombError(
            f"{width}×{height} pixels is more than the limit of {limit:,}"
        )


def _eight_bits(picture: PILImage.Image, size: tuple[int, int] | None) -> PILImage.Image:
    """A grey *picture* of more than 8 bits a sample, reduced to *size* (keeping its
    ratio, never enlarged) while it is small in memory, then scaled to 8 bits: Pillow's
    own conversion clips instead of scaling."""
    from PIL import Image

    width, height = picture.size
    if size is not None:
        factor = min(width / max(1, size[0]), height / max(1, size[1]))
        if factor > 1:
            smaller = (max(1, round(width / factor)), max(1, round(height / factor)))
            # No reducing_gap: Image.reduce has no 16-bit modes.
            picture = picture.resize(smaller, Image.Resampling.LANCZOS)
    if picture.mode == "F":
        return picture.convert("L")
    return picture.convert("I").point(lambda value: value / 256).convert("L")
