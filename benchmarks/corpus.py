"""Generate a deterministic synthetic publication for benchmarking ``syndicate``.

A publication is a folder holding ``syndicate.toml`` and ``content/**/*.md``. Every article
has YAML front matter in the canonical syndicate format and a Markdown body of roughly 600
words with headings, lists, links and emphasis. The output depends only on ``n`` and ``seed``:
all randomness comes from one ``random.Random(seed)`` and no clock is read.

Usage::

    python benchmarks/corpus.py DEST --articles 1000 [--seed 0] [--limit 50] [--force]
                                [--full] [--photos [--photo-cache DIR]]
"""

from __future__ import annotations

import argparse
import operator
import os
import random
import re
import shutil
import sys
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

WORD_TEXT = """
    the of and to in is for on with as by at from that this it be are was will can has have
    not more new also but or an which their its they than about into over after while most
    market growth policy data network platform service model system report study research
    company startup investor funding capital revenue profit cost price budget economy trade
    government ministry agency regulator council committee official minister leader public
    private sector industry region city community people worker student teacher farmer
    engineer developer designer analyst expert founder customer user reader energy solar
    wind battery grid power climate carbon emission forest river ocean water health hospital
    patient doctor medicine care school university skill training program project plan
    strategy framework roadmap digital mobile cloud software hardware chip device sensor
    robot automation algorithm security privacy identity payment wallet bank loan credit
    finance fintech commerce retail logistics shipping transport vehicle electric traffic
    housing infrastructure investment partnership agreement deal contract export import
    supply demand significant major local global national regional early late strong open
    fast clear complex modern traditional sustainable affordable efficient reliable secure
    flexible scalable resilient inclusive transparent ambitious launch build expand improve
    reduce increase support develop deliver connect manage measure announce publish review
    approve reject propose adopt deploy test says said expects plans shows year month week
    quarter today history future trend signal risk challenge opportunity advantage benefit
    impact effect outcome result target goal milestone number share percent level range
    decision vision mission value culture language media news story café naïve résumé façade
    coöperation
"""
WORDS: tuple[str, ...] = tuple(WORD_TEXT.split())
assert len(WORDS) == 256 == len(set(WORDS)), "draw_words() maps one random byte to one word"

# fmt: off
PLACES: tuple[str, ...] = (
    "Indonesia", "Jakarta", "Asia", "Europe", "Africa", "Brazil", "Kenya", "Vietnam",
    "Singapore", "Malaysia", "Thailand", "India", "Japan", "Germany", "Canada", "Mexico",
    "São Paulo", "Zürich", "Malmö", "Kraków", "Bandung", "Surabaya", "Nairobi", "Lagos",
)

CATEGORIES: tuple[str, ...] = (
    "AI", "Technology", "Indonesia", "Southeast Asia", "Innovation", "Startups", "Finance",
    "Fintech", "Policy", "Climate", "Energy", "Health", "Education", "Security", "Privacy",
    "Cloud", "Mobile", "Hardware", "Semiconductors", "Robotics", "Transport", "Logistics",
    "E-commerce", "Retail", "Media", "Culture", "Science", "Space", "Agriculture", "Food",
    "Travel", "Cities", "Infrastructure", "Jobs", "Open Source", "Data", "Regulation",
    "Investment", "Sustainability", "Opinion",
)

AUTHORS: tuple[str, ...] = (
    "Daffa Aditya", "Bench Writer", "Siti Rahmawati", "Budi Santoso", "Ayu Lestari",
    "Rizky Pratama", "Nguyen Thi Mai", "Tran Van Minh", "Aiko Tanaka", "Kenji Sato",
    "Priya Sharma", "Arjun Mehta", "Grace Wanjiru", "Chinedu Okafor", "Lucía Fernández",
    "José Álvarez", "Zoë Müller", "Lars Björk", "Agnieszka Nowak", "Marta Kowalska",
    "Emily Carter", "James O'Brien", "Sophie Martin", "Lucas Silva", "Ana Souza",
    "Mohammed Al-Farsi", "Fatima Zahra", "Wei Chen", "Li Na", "Hannah Schmidt",
)
# fmt: on

FOLDERS: tuple[str, ...] = ("news", "analysis", "guides", "opinion/columns", "briefs/asia")
FOLDER_WEIGHTS: tuple[float, ...] = (0.4, 0.2, 0.15, 0.1, 0.15)

LINK_BASES: tuple[str, ...] = (
    "https://example.com/reports/",
    "https://www.example.org/research/",
    "https://data.example.net/datasets/",
    "https://news.example.com/",
    "https://en.wikipedia.org/wiki/",
)

TIME_ZONES: tuple[str, ...] = ("+07:00", "+08:00", "+01:00", "+05:30", "-05:00", "+00:00")

FIRST_DATE = datetime(2022, 1, 1, tzinfo=UTC)
LAST_DATE = datetime(2025, 12, 30, tzinfo=UTC)  # every date stays before 2026-01-01
DATE_SPAN_MS = int((LAST_DATE - FIRST_DATE).total_seconds() * 1000)

NON_SLUG = re.compile(r"[^a-z0-9]+")

CONFIG_TEMPLATE = """[site]
title = "Bench Daily"
url = "https://bench.example.org/"
description = "Generated benchmark corpus"
author = "Bench Writer"
{pages}
[feeds]
limit = {limit}
{social}"""
#: The feeds alone (the benchmark's default): no article pages, no social cards.
FEEDS_ONLY = {"pages": "pages = false\n", "social": "\n[social]\nplatforms = []\n"}
#: Article pages on top of the feeds, but no social files: what the pages alone add.
PAGES = {"pages": "", "social": "\n[social]\nplatforms = []\n"}
#: Everything a build can write.
FULL = {"pages": "", "social": ""}


def _zipf_weights(count: int, exponent: float = 0.8) -> tuple[float, ...]:
    """Weights that make early items more popular than late ones, like real tags."""
    return tuple(1.0 / (rank + 1) ** exponent for rank in range(count))


CATEGORY_WEIGHTS = _zipf_weights(len(CATEGORIES))
AUTHOR_WEIGHTS = _zipf_weights(len(AUTHORS), 0.6)


@dataclass(frozen=True)
class Article:
    """Front matter fields and location of one generated article."""

    title: str
    slug: str
    folder: str


def slugify(text: str) -> str:
    """Lowercase ASCII slug with dashes, good enough for file names and links."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return NON_SLUG.sub("-", ascii_text.lower()).strip("-")


def draw_words(rng: random.Random, k: int) -> list[str]:
    """``k`` uniformly drawn words; one random byte per word keeps 10,000 articles fast."""
    if k == 1:
        return [WORDS[rng.randbytes(1)[0]]]
    return list(operator.itemgetter(*rng.randbytes(k))(WORDS))


def make_title(rng: random.Random) -> str:
    """A headline such as 'Indonesia Aims to Build Reliable Grid Storage'."""
    words = draw_words(rng, rng.randint(3, 7))
    words.insert(rng.randrange(len(words) + 1), rng.choice(PLACES))
    title = " ".join(w[:1].upper() + w[1:] for w in words)
    if rng.random() < 0.1:
        title = f"{rng.choice(('Analysis', 'Explainer', 'Opinion'))}: {title}"
    return title


def plan_articles(rng: random.Random, n: int) -> list[Article]:
    """Pick unique titles/slugs and a folder for each article."""
    articles: list[Article] = []
    seen: set[str] = set()
    for _ in range(n):
        title = make_title(rng)
        slug = slugify(title)
        while slug in seen:
            title = f"{title} {rng.choice(WORDS).capitalize()}"
            slug = slugify(title)
        seen.add(slug)
        folder = rng.choices(FOLDERS, weights=FOLDER_WEIGHTS)[0]
        articles.append(Article(title, slug, folder))
    return articles


def make_date(rng: random.Random) -> str:
    """A past date in one of the three styles syndicate must accept."""
    moment = FIRST_DATE + timedelta(milliseconds=rng.randrange(DATE_SPAN_MS))
    style = rng.random()
    if style < 0.5:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if style < 0.75:
        return moment.strftime("%Y-%m-%d")
    offset = rng.choice(TIME_ZONES)
    sign = -1 if offset[0] == "-" else 1
    delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])) * sign
    local = moment.astimezone(timezone(delta)).replace(microsecond=0)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + offset


def pick_categories(rng: random.Random) -> list[str]:
    """2-5 distinct categories, popular ones more often."""
    wanted = rng.randint(2, 5)
    chosen: list[str] = []
    while len(chosen) < wanted:
        category = rng.choices(CATEGORIES, weights=CATEGORY_WEIGHTS)[0]
        if category not in chosen:
            chosen.append(category)
    return chosen


def make_image(rng: random.Random, slug: str) -> str | None:
    """An image path on about half of the articles."""
    if rng.random() < 0.5:
        return None
    if rng.random() < 0.1:
        return f"https://cdn.bench.example.org/images/{slug}.jpg"
    return f"/assets/images/{slug}.webp"


def front_matter(rng: random.Random, article: Article, photo: bool = False) -> str:
    """The YAML header, field order and quoting as in the canonical example; with *photo*,
    every article names its own photo, :func:`photo_path` (the random draws are the same
    either way, so the rest of the corpus is too)."""
    author = rng.choices(AUTHORS, weights=AUTHOR_WEIGHTS)[0]
    lines = [
        "---",
        f'title: "{article.title}"',
        f'author: "{author}"',
        f"date: {make_date(rng)}",
        f"categories: {', '.join(pick_categories(rng))}",
    ]
    image = make_image(rng, article.slug)
    if photo:
        image = "/" + photo_path(article.slug)
    if image is not None:
        lines.append(f'image: "{image}"')
    lines.append("---")
    return "\n".join(lines)


def sentences(rng: random.Random, count: int, low: int = 8, high: int = 18) -> list[str]:
    """Words of ``count`` sentences, each capitalised and ending with a full stop.

    Lengths, place names and commas come from one batch of random bytes (a byte below 77
    is a ~30% chance), which is several times faster than separate ``rng`` calls.
    """
    rolls = rng.randbytes(count * 4)
    lengths = [low + roll % (high - low + 1) for roll in rolls[:count]]
    words = draw_words(rng, sum(lengths))
    end = 0
    for i, length in enumerate(lengths):
        start, end = end, end + length
        place, where, comma = rolls[count + i], rolls[2 * count + i], rolls[3 * count + i]
        if place < 77:
            words[start + where % length] = PLACES[place % len(PLACES)]
        if comma < 77 and length > 6:
            words[start + 2 + comma % (length - 4)] += ","
        words[start] = words[start][:1].upper() + words[start][1:]
        words[end - 1] += "."
    return words


def wrap(words: list[str], first: int, last: int, before: str, after: str) -> None:
    """Put markup around ``words[first:last + 1]``, keeping trailing punctuation outside."""
    tail = words[last]
    stripped = tail.rstrip(".,")
    words[last] = stripped + after + tail[len(stripped) :]
    words[first] = before + words[first]


def decorate(rng: random.Random, words: list[str], link: str | None) -> None:
    """Add emphasis and optionally one link to a paragraph's words, in place."""
    size = len(words)
    if link is not None:
        i = rng.randrange(size - 3)
        wrap(words, i, i + 2, "[", f"]({link})")
    if rng.random() < 0.5:
        i = rng.randrange(size)
        if not words[i].startswith(("[", "*")) and ")" not in words[i]:
            wrap(words, i, i, "*", "*")
    if rng.random() < 0.3:
        i = rng.randrange(size - 1)
        pair = words[i] + words[i + 1]
        if not any(mark in pair for mark in "[]*") and words[i][-1] not in ".,":
            wrap(words, i, i + 1, "**", "**")


def paragraph(rng: random.Random, link: str | None = None) -> tuple[str, int]:
    """A paragraph of 2-5 sentences and its word count."""
    words = sentences(rng, rng.randint(2, 5))
    decorate(rng, words, link)
    return " ".join(words), len(words)


def bullet_list(rng: random.Random) -> tuple[str, int]:
    """'*   **Bold:** text' items, as in the canonical example."""
    items: list[str] = []
    count = 0
    for _ in range(rng.randint(3, 5)):
        label = " ".join(w.capitalize() for w in draw_words(rng, rng.randint(1, 2)))
        text = sentences(rng, 1, 6, 14)
        items.append(f"*   **{label}:** {' '.join(text)}")
        count += len(text) + 1
    return "\n".join(items), count


def numbered_list(rng: random.Random) -> tuple[str, int]:
    """'1.  text' items."""
    items: list[str] = []
    count = 0
    for number in range(1, rng.randint(3, 6) + 1):
        text = sentences(rng, 1, 5, 12)
        items.append(f"{number}.  {' '.join(text)}")
        count += len(text)
    return "\n".join(items), count


def heading(rng: random.Random) -> str:
    """A '## Section' line of 2-5 words."""
    words = draw_words(rng, rng.randint(2, 5))
    return "## " + " ".join(w.capitalize() for w in words)


def absolute_link(rng: random.Random) -> str:
    """An https URL made of a known base and a couple of words."""
    return rng.choice(LINK_BASES) + slugify(" ".join(draw_words(rng, 2)))


def link_plan(rng: random.Random, neighbour: str) -> list[str]:
    """Links to place in the body: 2-3 absolute ones and one relative one, shuffled."""
    links = [absolute_link(rng) for _ in range(rng.randint(2, 3))]
    links.append(f"../{neighbour}/")
    rng.shuffle(links)
    return links


def section_extra(rng: random.Random, index: int) -> tuple[str, int] | None:
    """A list or quote after a section: bullets first, then numbers, then at random."""
    if index == 0:
        return bullet_list(rng)
    if index == 1:
        return numbered_list(rng)
    roll = rng.random()
    if roll < 0.3:
        return bullet_list(rng)
    if roll < 0.45:
        return numbered_list(rng)
    if roll < 0.55:
        text, count = paragraph(rng)
        return "> " + text, count
    return None


def body(rng: random.Random, title: str, neighbour: str) -> str:
    """Markdown body of about 600 words: H1, intro, then sections until the target."""
    target = rng.randint(480, 600)
    links = link_plan(rng, neighbour)
    blocks = [f"# {title}"]
    words = sum(add_paragraph(rng, blocks, links) for _ in range(rng.randint(1, 2)))
    section = 0
    while words < target or links:
        blocks.append(heading(rng))
        for _ in range(rng.randint(1, 3)):
            words += add_paragraph(rng, blocks, links, words >= target)
        extra = section_extra(rng, section) if words < target else None
        if extra is not None:
            blocks.append(extra[0])
            words += extra[1]
        section += 1
    return "\n\n".join(blocks)


def add_paragraph(
    rng: random.Random, blocks: list[str], links: list[str], hurry: bool = False
) -> int:
    """Append a paragraph, often using up a pending link (always if hurried); return words."""
    link = links.pop() if links and (hurry or rng.random() < 0.6) else None
    text, count = paragraph(rng, link)
    blocks.append(text)
    return count


def photo_path(slug: str) -> str:
    """Where an article's photo lies under the static folder (and the site's root)."""
    return f"assets/images/{slug}.webp"


def write_config(dest: Path, limit: int = 50, *, full: bool = False, pages: bool = False) -> None:
    """Write (or rewrite) ``syndicate.toml`` with the given ``[feeds] limit``; *full* adds
    article pages and social cards to the feeds, *pages* the article pages alone."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "syndicate.toml").write_text(config_text(limit, full, pages), encoding="utf-8")


def config_text(limit: int = 50, full: bool = False, pages: bool = False) -> str:
    """The text of ``syndicate.toml``, as :func:`write_config` writes it."""
    parts = FULL if full else PAGES if pages else FEEDS_ONLY
    return CONFIG_TEMPLATE.format(limit=limit, **parts)


def prepare_content(content: Path, overwrite: bool) -> None:
    """Make sure ``content/`` is empty, removing an old corpus only if allowed."""
    if content.exists() and any(content.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{content} is not empty (use overwrite=True / --force)")
        shutil.rmtree(content)
    content.mkdir(parents=True, exist_ok=True)


def generate(
    dest: Path,
    n: int,
    seed: int = 0,
    *,
    limit: int = 50,
    overwrite: bool = False,
    full: bool = False,
    photos: Sequence[Path] | None = None,
) -> None:
    """Write a publication of ``n`` articles into ``dest``, fully determined by ``seed``.

    With *photos* (at least ``n`` image files, see ``photos.py``), every article names a
    photo of its own, the *n*-th image linked (or copied) into the static folder at
    :func:`photo_path`; without, about half name an image that is not there.
    """
    dest = Path(dest)
    rng = random.Random(seed)
    write_config(dest, limit, full=full)
    content = dest / "content"
    prepare_content(content, overwrite)
    images = dest / "static" / "assets" / "images"
    shutil.rmtree(images, ignore_errors=True)  # an earlier corpus's photos
    if photos is not None:
        if len(photos) < n:
            raise ValueError(f"{n} articles need {n} photos, not {len(photos)}")
        images.mkdir(parents=True)
    for folder in FOLDERS:
        (content / folder).mkdir(parents=True, exist_ok=True)
    articles = plan_articles(rng, n)
    for index, article in enumerate(articles):
        neighbour = articles[rng.randrange(n)].slug if n > 1 else article.slug
        if neighbour == article.slug and n > 1:
            neighbour = articles[(index + 1) % n].slug
        header = front_matter(rng, article, photos is not None)
        text = header + "\n\n" + body(rng, article.title, neighbour) + "\n"
        path = content / article.folder / f"{article.slug}.md"
        path.write_text(text, encoding="utf-8", newline="\n")
        if photos is not None:
            link_or_copy(photos[index], dest / "static" / photo_path(article.slug))


def link_or_copy(source: str | Path, target: str | Path) -> None:
    """A hard link to *source* at *target* (the photos are large), or a copy where the
    file system has none."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="publication folder to create")
    parser.add_argument("--articles", type=int, default=1000, help="number of articles")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--limit", type=int, default=50, help="[feeds] limit in syndicate.toml")
    parser.add_argument("--force", action="store_true", help="replace an existing content/")
    parser.add_argument(
        "--full", action="store_true", help="article pages and social cards too, not only feeds"
    )
    parser.add_argument(
        "--photos",
        action="store_true",
        help="give every article a 1600×900 WebP photo of its own (see photos.py)",
    )
    parser.add_argument(
        "--photo-cache",
        type=Path,
        help="where the generated photos are kept (default: DEST/../photos)",
    )
    args = parser.parse_args(argv)
    if args.articles < 0:
        parser.error("--articles must be >= 0")
    photos = None
    if args.photos:
        from photos import ensure_photos

        cache = args.photo_cache or args.dest.resolve().parent / "photos"
        photos = ensure_photos(cache, args.articles, args.seed)
    start = time.perf_counter()
    try:
        generate(
            args.dest,
            args.articles,
            args.seed,
            limit=args.limit,
            overwrite=args.force,
            full=args.full,
            photos=photos,
        )
    except FileExistsError as exc:
        print(f"corpus.py: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    print(f"wrote {args.articles} articles to {args.dest} in {elapsed:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
