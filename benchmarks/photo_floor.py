"""The floor of a photo card: what Pillow alone needs to make one from an article's photo.

    python benchmarks/photo_floor.py [IMAGE ...] [--count 200] [--seed 0] [--cache DIR]

For each image (by default ``--count`` of the corpus's generated photographs, see
``photos.py``), on one core, CPU time of each step:

- decode: open the WebP and read its pixels;
- fit: scale and crop it to cover 1200×630 (``ImageOps.fit``), bilinear, the floor's
  choice (the downscale is small: bilinear, whose support Pillow widens by the scale,
  loses nothing visible), and bicubic (``fit``'s default) beside it;
- JPEG: encode the card, quality 85: the format that suits a photograph;
- PNG: encode the same card as a PNG (Pillow's default level), for comparison.

The floor of one card is the median decode + bilinear fit + JPEG encode.  It leaves out
what a card adds to the photo (darkening it, the title, the footer), so a renderer can
only come near it, not under it: issue 27 holds syndicate to 1.5× it.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from photos import ensure_photos

CARD = (1200, 630)
JPEG_QUALITY = 85
#: The most images the floor times by default: each costs about a fifth of a second, the
#: PNG encode most of it, and the median settles long before.
DEFAULT_COUNT = 200


@dataclass(frozen=True)
class Floor:
    """Median CPU seconds of each step over the images, and the median card sizes."""

    images: int
    decode: float
    fit_bilinear: float
    fit_bicubic: float
    jpeg: float
    png: float
    jpeg_bytes: int
    png_bytes: int

    @property
    def per_card(self) -> float:
        """Decode, bilinear fit and JPEG encode: the floor of one photo card."""
        return self.decode + self.fit_bilinear + self.jpeg


def _decode(path: Path) -> Image.Image:
    with Image.open(path) as picture:
        picture.load()
        return picture.convert("RGB") if picture.mode != "RGB" else picture.copy()


def _encode(card: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "JPEG":
        card.save(out, "JPEG", quality=JPEG_QUALITY)
    else:
        card.save(out, "PNG")
    return out.getvalue()


def measure_floor(paths: Sequence[Path]) -> Floor:
    """Time each step on every image of *paths* (after one untimed round on the first, so
    that no codec's loading counts)."""
    if not paths:
        raise ValueError("no images to time")
    bilinear, bicubic = Image.Resampling.BILINEAR, Image.Resampling.BICUBIC
    warm = _decode(paths[0])
    _encode(ImageOps.fit(warm, CARD, bilinear), "JPEG")
    _encode(ImageOps.fit(warm, CARD, bilinear), "PNG")
    steps: dict[str, list[float]] = {"decode": [], "bilinear": [], "bicubic": []}
    steps |= {"jpeg": [], "png": []}
    sizes: dict[str, list[int]] = {"jpeg": [], "png": []}
    for path in paths:
        start = time.process_time()
        picture = _decode(path)
        fitted = time.process_time()
        card = ImageOps.fit(picture, CARD, bilinear)
        steps["decode"].append(fitted - start)
        steps["bilinear"].append(time.process_time() - fitted)
        start = time.process_time()
        ImageOps.fit(picture, CARD, bicubic)
        steps["bicubic"].append(time.process_time() - start)
        for kind in ("jpeg", "png"):
            start = time.process_time()
            data = _encode(card, kind.upper())
            steps[kind].append(time.process_time() - start)
            sizes[kind].append(len(data))
    median = {name: statistics.median(values) for name, values in steps.items()}
    return Floor(
        images=len(paths),
        decode=median["decode"],
        fit_bilinear=median["bilinear"],
        fit_bicubic=median["bicubic"],
        jpeg=median["jpeg"],
        png=median["png"],
        jpeg_bytes=int(statistics.median(sizes["jpeg"])),
        png_bytes=int(statistics.median(sizes["png"])),
    )


def spread(paths: Sequence[Path], count: int) -> list[Path]:
    """At most *count* of *paths*, evenly spread over them."""
    if count <= 0 or count >= len(paths):
        return list(paths)
    return [paths[i * len(paths) // count] for i in range(count)]


def floor_table(floor: Floor) -> list[str]:
    """The floor as Markdown table rows (the header included)."""

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f}"

    return [
        "| Step (median over the images, CPU, one core) | ms | Card size (kB) |",
        "|---|---:|---:|",
        f"| Decode the 1600×900 WebP | {ms(floor.decode)} | |",
        f"| Fit to 1200×630, bilinear | {ms(floor.fit_bilinear)} | |",
        f"| Fit to 1200×630, bicubic (for comparison) | {ms(floor.fit_bicubic)} | |",
        f"| Encode the card, JPEG quality {JPEG_QUALITY} | {ms(floor.jpeg)} "
        f"| {floor.jpeg_bytes / 1000:.0f} |",
        f"| Encode the card, PNG (for comparison) | {ms(floor.png)} "
        f"| {floor.png_bytes / 1000:.0f} |",
        f"| **Floor of one photo card: decode + bilinear fit + JPEG** "
        f"| **{ms(floor.per_card)}** | |",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", type=Path, help="images (default: generated)")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="images timed")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed of the photos (0)")
    parser.add_argument(
        "--cache", type=Path, default=Path("benchmarks/work/photos"), help="photo folder"
    )
    args = parser.parse_args(argv)
    paths = args.images or ensure_photos(args.cache, args.count, args.seed)
    floor = measure_floor(spread(paths, args.count))
    print(f"{floor.images:,} images\n")
    print("\n".join(floor_table(floor)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
