"""Photo-like 1600×900 WebP images for the benchmark corpus, made deterministically.

A card drawn on an article's photograph costs what decoding, scaling and encoding that
photograph cost, and those depend on how much detail it has: a flat colour or a smooth
gradient decodes and compresses far faster than a photograph.  So each image here is
layered like one: a sky-like gradient, soft shapes, value noise at four scales (broad
light and shade down to texture) and a fine grain, the noise drawn from a
``random.Random`` seeded by the corpus seed and the image's number.  Pillow alone (no
numpy) makes them, at about the size and the decoding time of a WebP photograph.

Making one takes a noticeable fraction of a second, so :func:`ensure_photos` keeps them in
a folder (``photo-SEED-NUMBER.webp``) and makes only those missing, on every core.

Usage::

    python benchmarks/photos.py FOLDER [--count 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SIZE = (1600, 900)
#: WebP quality, as a photo pipeline or a camera app saves for the web.
QUALITY = 80
#: Noise octaves: (width of the noise image, weight in the mix), coarse to fine.
OCTAVES = ((8, 0.45), (32, 0.3), (128, 0.17), (512, 0.08))
#: Octaves this wide and wider are grey.
FINE = 128
#: How much full-resolution grain is laid over it: a sensor's noise and fine texture.
GRAIN = 0.05


def photo_name(seed: int, number: int) -> str:
    return f"photo-{seed}-{number:05d}.webp"


def _noise(rng: random.Random, width: int) -> Image.Image:
    """Value noise *width* wide (16:9), scaled up smoothly to the full size: in colour for
    the broad octaves, in grey for the fine ones (a photograph's detail is mostly light
    and shade, its colour changes slowly)."""
    height = max(1, width * SIZE[1] // SIZE[0])
    mode = "RGB" if width < FINE else "L"
    small = Image.frombytes(mode, (width, height), rng.randbytes(len(mode) * width * height))
    return small.resize(SIZE, Image.Resampling.BICUBIC).convert("RGB")


def _colour(rng: random.Random, low: int = 0, high: int = 255) -> tuple[int, int, int]:
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


def _scene(rng: random.Random) -> Image.Image:
    """A gradient sky over a ground, and soft shapes: the picture's broad forms."""
    top, bottom = _colour(rng, 40, 230), _colour(rng, 10, 160)
    mask = Image.linear_gradient("L").resize(SIZE)
    scene = Image.composite(Image.new("RGB", SIZE, bottom), Image.new("RGB", SIZE, top), mask)
    # The shapes are drawn and blurred at a quarter of the size, then scaled up: soft
    # edges like a photograph's depth of field, at a sixteenth of the blur's cost.
    quarter = (SIZE[0] // 4, SIZE[1] // 4)
    shapes = scene.resize(quarter, Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(shapes)
    horizon = rng.randint(quarter[1] // 3, 2 * quarter[1] // 3)
    ground = [(0, horizon)]
    ground += [(x, horizon + rng.randint(-20, 20)) for x in range(0, quarter[0] + 40, 40)]
    draw.polygon([*ground, (quarter[0], quarter[1]), (0, quarter[1])], fill=_colour(rng, 0, 140))
    for _ in range(rng.randint(4, 12)):
        x, y = rng.randrange(quarter[0]), rng.randrange(quarter[1])
        w, h = rng.randint(10, 120), rng.randint(10, 90)
        box = (x, y, x + w, y + h)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=_colour(rng))
        else:
            draw.rectangle(box, fill=_colour(rng))
    shapes = shapes.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 3.0)))
    return shapes.resize(SIZE, Image.Resampling.BICUBIC)


def photo_bytes(seed: int, number: int) -> bytes:
    """The WebP bytes of image *number* of corpus *seed*: the same bytes every time."""
    rng = random.Random(f"photo {seed} {number}")
    picture = _scene(rng)
    texture = _noise(rng, OCTAVES[0][0])
    total = OCTAVES[0][1]
    for width, weight in OCTAVES[1:]:
        total += weight
        texture = Image.blend(texture, _noise(rng, width), weight / total)
    picture = Image.blend(picture, texture, rng.uniform(0.25, 0.4))
    grain = Image.frombytes("L", SIZE, rng.randbytes(SIZE[0] * SIZE[1])).convert("RGB")
    picture = Image.blend(picture, grain, GRAIN)
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=QUALITY, method=2)
    return out.getvalue()


def _make(job: tuple[Path, int, int]) -> None:
    path, seed, number = job
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(photo_bytes(seed, number))
    os.replace(temporary, path)


def ensure_photos(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """The paths of images 0 to *count* − 1 of *seed* in *folder*, made where missing (on
    every core: the time is not measured)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / photo_name(seed, number) for number in range(count)]
    missing = [(path, seed, n) for n, path in enumerate(paths) if not path.exists()]
    if missing:
        start = time.perf_counter()
        workers = min(len(missing), os.cpu_count() or 1)
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_make, missing, chunksize=8))
        seconds = time.perf_counter() - start
        print(
            f"[bench] {len(missing):,} photos made in {folder} in {seconds:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where the images are kept")
    parser.add_argument("--count", type=int, default=1000, help="images (1000)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (0)")
    args = parser.parse_args(argv)
    paths = ensure_photos(args.folder, args.count, args.seed)
    size = sum(path.stat().st_size for path in paths)
    print(f"{len(paths):,} images, {size / max(len(paths), 1) / 1000:.0f} kB each on average")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
