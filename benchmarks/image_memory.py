"""The most memory one article image takes: peak RSS of converting it for the email and of
drawing it as a card's backdrop, each in a process of its own.

python benchmarks/image_memory.py [--side 5000] [--formats png,webp,...]

Each image is *side* × *side* pixels, of one colour (so that making it is quick), in each
format and kind an article may use: RGBA PNG, WebP and BMP, RGB AVIF and JPEG, a palette
GIF, a 16-bit grey PNG.  A process that only imports syndicate's readers is measured too:
what a reader adds is the difference.  With ``--side 9400`` (88 million pixels, under
Pillow's own limit and over syndicate's) the readers refuse the image before decoding it.
Linux only: the peak is the process's VmHWM.  It runs on a checkout from before
``syndicate.images`` too (an error there is a ValueError), to compare.
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tempfile
import textwrap
import zlib
from pathlib import Path

from PIL import Image

KINDS = {
    "png": ("RGBA", "PNG"),
    "webp": ("RGBA", "WEBP"),
    "bmp": ("RGBA", "BMP"),
    "avif": ("RGB", "AVIF"),
    "jpg": ("RGB", "JPEG"),
    "gif": ("P", "GIF"),
    "grey16.png": ("I;16", None),
}

MEASURE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from syndicate.email.images import email_image
    try:
        from syndicate.images import ImageError
    except ImportError:  # before syndicate.images
        ImageError = ValueError
    from syndicate.social.card import CardInput, render_card
    what, path = sys.argv[1], Path(sys.argv[2])
    started = time.perf_counter()
    outcome = "read"
    if what == "email":
        try:
            email_image(path, "", site_url="https://x.example/", alt="")
        except ImageError as error:
            outcome = "refused: " + str(error).split(": ", 1)[1][:40]
    elif what == "card":
        _, layout = render_card(CardInput("Site", "Title", "Ann", "1 May 2025", path))
        if layout.problems:
            outcome = "refused: " + layout.problems[0].split(": ", 2)[2][:40]
    seconds = time.perf_counter() - started
    # VmHWM, the peak of this program's own memory: ru_maxrss would count the parent's
    # from before the exec.
    status = Path("/proc/self/status").read_text()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(f"{peak:.0f}\\t{seconds:.2f}\\t{outcome}")
    """
)


def make(folder: Path, kind: str, side: int) -> Path:
    mode, fmt = KINDS[kind]
    path = folder / f"image.{kind}"
    if fmt is None:  # Pillow writes no 16-bit grey PNG from a new image: the rows by hand
        rows = (b"\0" + struct.pack(">H", 40000) * side) * side
        header = struct.pack(">IIBBBBB", side, side, 16, 0, 0, 0, 0)

        def chunk(name: bytes, body: bytes) -> bytes:
            crc = zlib.crc32(name + body)
            return struct.pack(">I", len(body)) + name + body + struct.pack(">I", crc)

        path.write_bytes(
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 1))
            + chunk(b"IEND", b"")
        )
        return path
    colour = {"RGBA": (10, 200, 30, 128), "RGB": (10, 200, 30), "P": 7}[mode]
    Image.new(mode, (side, side), colour).save(path, fmt)
    return path


def measure(what: str, path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, what, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak, seconds, outcome = done.stdout.strip().split("\t")
    return f"{peak} MB, {seconds} s" + ("" if outcome == "read" else f" ({outcome})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=5000, help="pixels on each side")
    parser.add_argument("--formats", default=",".join(KINDS), help="kinds of image")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="syndicate-images-") as work:
        print(f"imports only: {measure('none', Path(work))}")
        print(f"| {args.side}×{args.side} | email | card |")
        print("| --- | --- | --- |")
        for kind in args.formats.split(","):
            path = make(Path(work), kind, args.side)
            print(f"| {kind} | {measure('email', path)} | {measure('card', path)} |", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
