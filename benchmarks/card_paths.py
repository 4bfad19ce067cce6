"""How a card is best drawn: the corpus's cards through each way of drawing them.

    python benchmarks/card_paths.py [--articles 10000] [--against REV] [--rounds 3]
                                    [--ways hand,...] [--titles FILE]

Generates the benchmark corpus (``corpus.py``, seed 0, cached under ``--workdir``), takes
every article's card input as a build does (``card_input``), and draws all of them, on
one core, each way in turn, the ways taking turns round after round (median of
``--rounds``).  The ways:

- ``hand``: the card as syndicate drew it at git revision ``--against`` (default the
  last revision with the hand-written glyph-clustering and PNG-assembly engine), its
  ``src`` exported to a scratch folder;
- ``rev:REV``: the card as syndicate drew it at git revision REV, exported the same way
  (``rev:f4ca16b``: each line drawn by ``ImageDraw.text``, every glyph rendered again);
- ``pillow+shared``: the card as this tree draws it: Pillow's text API (libraqm) with
  the fallback-font chain, each word rasterised once and its mask pasted, a palette
  picture, its rows the backdrop shares compressed once (``render_card``);
- ``pillow+cold``: the same, with the word caches emptied before each card: the cost for
  a publication whose titles share no words;
- ``pillow+png``: the same picture, written by Pillow's own PNG encoder (palette, level 1);
- ``pillow+rgb``: the straightforward way: the same picture in RGB, Pillow's PNG encoder
  (level 1).

``--titles FILE`` gives the cards other titles, a line of the file each, in order: the
corpus's titles are drawn from a small vocabulary, so its cards share most of their words,
and a list of real titles tells what a publication's own vocabulary costs.

Every side runs in its own process; CPU time (user + system) of drawing the cards only.
Prints a Markdown table: per-card milliseconds and the total for the corpus.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
#: The last revision of main whose cards were drawn by the hand-written engine.
HAND = "b3c12a1"
#: The last revision of main whose cards drew each line through ``ImageDraw.text``.
LINES = "f4ca16b"
WAYS = ("hand", f"rev:{LINES}", "pillow+shared", "pillow+cold", "pillow+png", "pillow+rgb")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def inputs(corpus: Path, out: Path) -> None:
    """Every published article's card input, as the build makes it, into *out* (JSON)."""
    from syndicate.pages import Days
    from syndicate.pipeline import load_publication
    from syndicate.social.outputs import card_input

    publication, problems = load_publication(corpus, datetime.now(UTC))
    if publication is None:
        raise SystemExit("\n".join(map(str, problems)))
    days = Days(publication.config)
    rows = []
    for article in publication.published:
        card = card_input(publication.config, article, days(article.date, article.lang))
        image = None if card.image is None else str(card.image)
        rows.append([card.site, card.title, card.author, card.date, image, card.direction])
    out.write_text(json.dumps(rows))


def draw(way: str, cards: Path) -> None:
    """Draw every card of *cards* (JSON) *way*; print the CPU seconds and bytes made."""
    from syndicate.social import card as module

    rows = json.loads(cards.read_text())
    made = [module.CardInput(*row[:4], Path(row[4]) if row[4] else None, row[5]) for row in rows]

    def pillow(card: object, rgb: bool) -> bytes:
        from PIL import Image

        picture = module.draw_card(card, module.CardStyle()).picture  # type: ignore[arg-type]
        if picture.mode == "L":  # palette indices: the palette PNG Pillow writes
            picture = Image.frombytes("P", picture.size, picture.tobytes())
            picture.putpalette(module.palette(module.CardStyle()))
        if rgb:
            picture = picture.convert("RGB")
        buffer = io.BytesIO()
        picture.save(buffer, "PNG", compress_level=1)
        return buffer.getvalue()

    def cold(card: object) -> bytes:
        from syndicate.social.card import words

        words.mask.cache_clear()
        words.advance.cache_clear()
        return module.render_card(card)[0]  # type: ignore[arg-type]

    if way in ("hand", "pillow+shared") or way.startswith("rev:"):
        render = lambda card: module.render_card(card)[0]  # noqa: E731
    elif way == "pillow+cold":
        render = cold
    else:
        render = lambda card: pillow(card, way == "pillow+rgb")  # noqa: E731
    render(made[0])  # fonts, character maps, the backdrop loaded
    start = cpu()
    size = sum(len(render(card)) for card in made)
    spent = cpu() - start
    print(json.dumps({"cpu": spent, "bytes": size, "cards": len(made), "code": module.__file__}))


def export(revision: str, folder: Path) -> Path:
    """The ``src`` folder of *revision* (and the templates beside it), exported under *folder*."""
    data = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "src", "templates"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(folder, filter="data")
    return folder / "src"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", default=HAND, help=f"the hand path's revision ({HAND})")
    parser.add_argument("--ways", default=",".join(WAYS))
    parser.add_argument("--titles", type=Path, help="a file of titles, one a line")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cardpaths")
    parser.add_argument("--draw", nargs=2, help=argparse.SUPPRESS)  # WAY CARDS: one side
    args = parser.parse_args()
    if args.draw:
        draw(args.draw[0], Path(args.draw[1]))
        return 0
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"corpus-{args.articles}"
    if not (corpus / "syndicate.toml").is_file():
        command = [sys.executable, str(HERE / "corpus.py"), str(corpus)]
        subprocess.run([*command, "--articles", str(args.articles), "--force"], check=True)
    cards = work / f"cards-{args.articles}.json"
    if not cards.is_file():
        inputs(corpus, cards)
    if args.titles:
        titles = [line for line in args.titles.read_text().splitlines() if line.strip()]
        rows = json.loads(cards.read_text())
        for index, row in enumerate(rows):
            row[1] = titles[index % len(titles)]
        cards = work / f"cards-{args.articles}-{args.titles.stem}.json"
        cards.write_text(json.dumps(rows))
    ways = args.ways.split(",")
    revisions = {way: way.removeprefix("rev:") for way in ways if way.startswith("rev:")}
    if "hand" in ways:
        revisions["hand"] = args.against
    exported = {
        way: export(rev, Path(tempfile.mkdtemp(dir=work))) for way, rev in revisions.items()
    }
    seen: dict[str, list[dict[str, float]]] = {way: [] for way in ways}
    for round_ in range(args.rounds):
        for way in ways:
            env = dict(os.environ)
            if way in exported:
                env["PYTHONPATH"] = str(exported[way])
            command = [sys.executable, __file__, "--draw", way, str(cards)]
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            seen[way].append(json.loads(out.stdout))
            print(f"round {round_ + 1} {way}: {seen[way][-1]}", file=sys.stderr)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min)", file=sys.stderr)
    print("| Way | CPU per card (ms) | Total CPU, all cards (s) | Mean card (KB) |")
    print("|---|---:|---:|---:|")
    for way, runs in seen.items():
        total = statistics.median(run["cpu"] for run in runs)
        count = runs[0]["cards"]
        kilobytes = runs[0]["bytes"] / count / 1024
        print(f"| {way} | {total / count * 1000:.2f} | {total:.1f} | {kilobytes:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
