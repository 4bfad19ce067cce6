"""The floor of a full cold build: the work that no way of making its outputs with its
libraries can skip, each part timed alone, against the CPU time the 3× target allows.

    python benchmarks/floor.py CORPUS --feeds-wall S --feeds-cpu S [--cards 2000]

CORPUS is a publication with a full build's output in its output folder (``run.py --full
--keep`` leaves one in each corpus, or ``syndicate -C CORPUS build`` makes one); the feeds
build's median wall and CPU times come from ``run.py``'s table of full builds, on the same
corpus.  The parts, on one core each:

- Markdown: comrak turning the bodies that the feeds do not show into HTML (the feeds
  build renders the others);
- sanitising: nh3 on that HTML (without comrak's source positions, as the build gives
  it), allowing what the build allows but without its Python filter of attributes (which
  resolves links: the build's own code, not nh3's);
- card rows: zlib-ng compressing the rows of each article's card that its title and
  footer are on, timed inside real cards (``--cards`` of them, scaled to every article);
- files: the kernel creating every folder and file of the output with its size, in a
  scratch folder beside the output (``open``, ``write`` and ``close`` each: no flush).

What is left of the budget (two cores for ``run.FULL_RATIO`` times the feeds build's wall
time) after the feeds build's own CPU time and these parts is what everything else may
cost: the page's template, the card's layout and drawing, the post texts and the social
JSON, the meta snippet, and handing the work to the workers and the files to the disk.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nh3

from run import FULL_RATIO
from syndicate import markdown
from syndicate.content import read_body
from syndicate.feeds import plan_feeds
from syndicate.pages import Days
from syndicate.pipeline import load_publication
from syndicate.social import card as cards
from syndicate.social import png
from syndicate.social.outputs import card_input

#: Cores the target's machine has.
CORES = 2


def cpu() -> float:
    """User and system time of this process so far: the kernel's work counts too."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(work: Callable[[], object]) -> float:
    start = cpu()
    work()
    return cpu() - start


def card_rows(inputs: list[cards.CardInput]) -> tuple[float, float]:
    """CPU time per card of zlib-ng compressing its rows, and of the whole card: the
    public compressors of :mod:`syndicate.social.png`, counted while real cards are drawn."""
    spent = 0.0
    originals = {name: getattr(png, name) for name in ("compress", "compress_rows")}

    def counting(name: str) -> Callable[[Any], png.Piece]:
        def counted(image: Any) -> png.Piece:
            nonlocal spent
            start = cpu()
            made: png.Piece = originals[name](image)
            spent += cpu() - start
            return made

        return counted

    cards.render_card(inputs[0])  # fonts, character maps and the backdrop loaded
    for name in originals:
        setattr(png, name, counting(name))
    try:
        whole = timed(lambda: [cards.render_card(card) for card in inputs])
    finally:
        for name, function in originals.items():
            setattr(png, name, function)
    return spent / len(inputs), whole / len(inputs)


def files(output: Path, scratch: Path) -> tuple[int, int, float]:
    """Folders and files made like those of *output*, under *scratch*: how many of each,
    and the CPU time that took."""
    made: list[tuple[str, int | None]] = []  # (path below the top, size; None: a folder)
    top = str(output)
    for parent, _, names in os.walk(top):
        below = parent[len(top) :]
        made.append((below, None))
        made += [(f"{below}/{name}", os.stat(os.path.join(parent, name)).st_size) for name in names]
    blanks: dict[int, bytes] = {}
    root = str(scratch)

    def make() -> None:
        for name, size in made:
            if size is None:
                os.mkdir(root + name)
                continue
            data = blanks.get(size) or blanks.setdefault(size, b"x" * size)
            handle = os.open(root + name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            os.write(handle, data)
            os.close(handle)

    spent = timed(make)
    folders = sum(size is None for _, size in made)
    return folders, len(made) - folders, spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--feeds-wall", type=float, required=True, help="seconds, median")
    parser.add_argument("--feeds-cpu", type=float, required=True, help="seconds, median")
    parser.add_argument("--cards", type=int, default=2000, help="cards drawn (default 2000)")
    parser.add_argument("--keep", action="store_true", help="leave the scratch folder")
    args = parser.parse_args()

    publication, problems = load_publication(args.corpus, datetime.now(UTC))
    if publication is None:
        print(*problems, sep="\n", file=sys.stderr)
        return 1
    config = publication.config
    output = config.output_dir
    if not (output / "posts").is_dir() or not (output / "social").is_dir():
        print(f"{output}: no full build; run syndicate -C {args.corpus} build", file=sys.stderr)
        return 1
    articles = publication.published
    count = len(articles)
    shown = {a.slug for plan in plan_feeds(config, list(articles)) for a in plan.articles}
    bodies = [read_body(a) for a in articles if a.slug not in shown]
    print(f"{count:,} articles, {len(shown):,} shown by the feeds", file=sys.stderr)

    markdown.to_html("warm")  # comrak loaded
    comrak = timed(lambda: [markdown.to_html(body) for body in bodies])
    # Without comrak's source positions, as the build hands its HTML to nh3 (which would
    # drop them, more slowly).
    html = [markdown._SOURCE_POSITIONS.sub("", markdown.to_html(body)) for body in bodies]
    cleaner = nh3.Cleaner(
        attributes=markdown._attributes(),
        url_schemes=set(markdown.URL_SCHEMES),
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
    )
    sanitising = timed(lambda: [cleaner.clean(page) for page in html])

    days = Days(config)
    inputs = [card_input(config, a, days(a.date)) for a in articles[: args.cards]]
    rows, card = card_rows(inputs)
    print(f"{len(inputs):,} cards drawn", file=sys.stderr)

    scratch = Path(tempfile.mkdtemp(prefix=".floor-", dir=output.parent))
    try:
        folders, made, creating = files(output, scratch / "tree")
    finally:
        if args.keep:
            print(f"scratch folder kept: {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch)

    parts = [
        (f"Markdown: comrak, {len(bodies):,} bodies", comrak),
        ("Sanitising: nh3, the same bodies", sanitising),
        (f"Card rows: zlib-ng, {count:,} cards ({rows * 1000:.3f} ms each)", rows * count),
        (f"Files: {folders:,} folders and {made:,} files created", creating),
    ]
    budget = CORES * FULL_RATIO * args.feeds_wall
    floor = sum(seconds for _, seconds in parts)
    left = budget - args.feeds_cpu - floor
    print("| Part | CPU (s) |\n|---|---:|")
    print(f"| The cold feeds build (given) | {args.feeds_cpu:.2f} |")
    for name, seconds in parts:
        print(f"| {name} | {seconds:.2f} |")
    print(f"| **Feeds build and floor** | **{args.feeds_cpu + floor:.2f}** |")
    print()
    print(
        f"The target allows {CORES} cores × {FULL_RATIO:g} × {args.feeds_wall:.2f} s"
        f" = {budget:.2f} s of CPU,"
        f" both cores busy from start to end. Left for everything else: {left:.2f} s,"
        f" {left / count * 1e6:,.0f} µs an article. A whole card took {card * 1e6:,.0f} µs"
        f" of CPU here, {(card - rows) * 1e6:,.0f} µs of it besides compressing its rows."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
