"""How long one social card takes to render, cold (fonts loaded afresh).

python benchmarks/cards.py [--cards 100]
"""

from __future__ import annotations

import argparse
import time

from syndicate.social import card as cards


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100)
    args = parser.parse_args()
    cards._font.cache_clear()
    cards._cmap.cache_clear()
    title = "Indonesia Aims to Become an AI Hub in Asia, with Data Centres and Talent"
    start = time.perf_counter()
    for number in range(args.cards):
        cards.render_card(
            cards.CardInput(
                site="Bench Daily",
                title=f"{title} {number}",
                author="Bench Writer",
                date="August 19, 2025",
                image=None,
            )
        )
    per_card = (time.perf_counter() - start) / args.cards
    print(f"{per_card * 1000:.1f} ms per card ({args.cards} cold renders, one core)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
