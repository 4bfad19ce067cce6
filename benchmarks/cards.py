"""How long a social card takes to render: CPU time per card, on one core.

python benchmarks/cards.py [--cards 200]

Four kinds of card, each with a different title every time (so nothing is reused but what
every card of a publication shares: fonts, layout, backdrop):

- plain: the default design, no article image (a palette PNG);
- logo: the plain design with a logo before the site name (RGB);
- photo: with a 1600×900 JPEG article image, covered and darkened (RGB);
- first: the very first card of a process, fonts and character maps loaded afresh.

CPU time (``time.process_time``), not wall time, so that other work on the machine does
not count; each figure is the median of three rounds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from syndicate.social import card as cards

#: Words the titles are made of.
WORDS = (
    "Indonesia Aims to Become an AI Hub in Asia with Data Centres and Talent for the Region's",
    "Startups While Grid Capacity Lags Behind Demand in Jakarta and Surabaya",
)


def title(number: int) -> str:
    """A title of 5 to 14 words, different for every *number*."""
    words = " ".join(WORDS).split(" ")
    count = 5 + number % 10
    start = (number * 7) % len(words)
    words = (words * 2)[start : start + count]
    return " ".join([*words, str(number)])


def photo(folder: Path) -> Path:
    """A photo-like JPEG: gradients, shapes and a little blur, 1600×900."""
    picture = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((1600, 900)),
            Image.radial_gradient("L").resize((1600, 900)),
            Image.linear_gradient("L").rotate(90).resize((1600, 900)),
        ),
    )
    draw = ImageDraw.Draw(picture)
    for i in range(40):
        x, y = (i * 131) % 1500, (i * 71) % 800
        draw.ellipse((x, y, x + 60 + i * 3, y + 40 + i * 2), fill=(i * 6, 255 - i * 5, i * 3))
    path = folder / "photo.jpg"
    picture.filter(ImageFilter.GaussianBlur(2)).save(path, "JPEG", quality=85)
    return path


def logo(folder: Path) -> Path:
    picture = Image.new("RGBA", (160, 96), (0, 0, 0, 0))
    ImageDraw.Draw(picture).ellipse((8, 8, 88, 88), fill=(255, 190, 0, 255))
    path = folder / "logo.png"
    picture.save(path)
    return path


def per_card(cards_: int, image: Path | None, style: cards.CardStyle, offset: int) -> float:
    """Median over three rounds of the CPU milliseconds one card takes."""
    rounds = []
    for round_ in range(3):
        start = time.process_time()
        for number in range(cards_):
            n = offset + round_ * cards_ + number
            card = cards.CardInput(
                "Bench Daily", title(n), "Bench Writer", "August 19, 2025", image
            )
            cards.render_card(card, style)
        rounds.append((time.process_time() - start) / cards_ * 1000)
    return statistics.median(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=200, help="cards per round (default 200)")
    args = parser.parse_args()
    default = cards.CardStyle()
    with tempfile.TemporaryDirectory() as folder:
        start = time.process_time()
        cards.render_card(cards.CardInput("Bench Daily", title(0), "Bench Writer", "Today", None))
        first = (time.process_time() - start) * 1000
        results = {
            "plain": per_card(args.cards, None, default, 1),
            "logo": per_card(args.cards, None, cards.CardStyle(logo=logo(Path(folder))), 10**5),
            "photo": per_card(args.cards, photo(Path(folder)), default, 2 * 10**5),
        }
    for kind, milliseconds in results.items():
        print(f"{kind:6s} {milliseconds:6.2f} ms of CPU per card")
    print(f"first  {first:6.0f} ms (fonts and character maps loaded)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
