"""What one card costs a worker: CPU per plain card, CPU per photo card beside Pillow's
floor, and the memory a worker keeps after drawing a corpus's cards.

    python benchmarks/card_cost.py [--articles 10000] [--photos 60] [--workdir DIR]

One process, one core, everything in turn:

- plain cards: every article's card of the benchmark corpus (``corpus.py``, seed 0, the
  card inputs as ``card_paths.py`` takes them), drawn and encoded (``render_card``): CPU
  per card, and how much the process's resident memory grew over them (the caches a
  worker keeps: word masks, measured runs, shared rows);
- photo cards: ``--photos`` of ``photos.py``'s photographs, each the image of a card,
  then the floor (``photo_floor.py``: decode, bilinear fit, JPEG) on the same photos, in
  the same process: median CPU per card of each and their ratio.

To compare a revision, run it with that revision's ``src`` first on ``PYTHONPATH`` (see
``card_paths.py``'s ``export``).  Prints one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from card_paths import inputs
from photo_floor import measure_floor
from photos import ensure_photos


def _resident() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cardcost")
    args = parser.parse_args()

    import corpus
    from syndicate.social import card as module

    style = module.CardStyle()
    site = args.workdir / f"corpus-{args.articles}"
    if not (site / "content").exists():
        corpus.generate(site, args.articles, 0, full=True, overwrite=True)
    cards = args.workdir / f"cards-{args.articles}.json"
    if not cards.exists():
        inputs(site, cards)
    rows = json.loads(cards.read_text())
    module.prepare(style, rows[0][0])
    first = module.CardInput(*rows[0][:4], None, rows[0][5])
    module.render_card(first, style)
    before, start = _resident(), time.process_time()
    for row in rows:
        module.render_card(module.CardInput(*row[:4], None, row[5]), style)
    plain = (time.process_time() - start) / len(rows)
    grown = _resident() - before

    paths = ensure_photos(args.workdir / "photos", args.photos)
    module.render_card(module.CardInput(*rows[0][:4], paths[0], "ltr"), style)
    spent = []
    for path, row in zip(paths, rows, strict=False):
        start = time.process_time()
        module.render_card(module.CardInput(*row[:4], path, row[5]), style)
        spent.append(time.process_time() - start)
    photo = statistics.median(spent)
    floor = measure_floor(paths).per_card
    report = {
        "code": module.__file__,
        "plain_ms": round(plain * 1000, 3),
        "plain_cards": len(rows),
        "resident_growth_mb": round(grown / 1e6, 1),
        "photo_ms": round(photo * 1000, 2),
        "floor_ms": round(floor * 1000, 2),
        "photo_over_floor": round(photo / floor, 2),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
