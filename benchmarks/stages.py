"""What the per-article stages of a build cost, one process, one core: Markdown to safe
HTML (``markdown.render``), an entry in the three feed formats (``feeds.entry_pieces``),
the article page (``pages.render_article_page``) and the body's Unicode form (``nfc``).

    python benchmarks/stages.py PUBLICATION [--rounds 7]

*PUBLICATION* is a folder written by ``corpus.py`` (its ``syndicate.toml`` decides the
feed limit; the stages do not depend on it).  Each stage runs over every published
article, ``--rounds`` times; the least CPU time of a round is reported, per article, with
a hash of what the stage made, so that two revisions can be checked to write the same
bytes.  To compare a revision, run it with that revision's ``src`` first on
``PYTHONPATH`` (see ``card_paths.py``'s ``export``).  Prints one line of JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from syndicate import feeds, markdown, pages
from syndicate.content.reading import read_body
from syndicate.nfc import nfc
from syndicate.publication import load_publication


def best(rounds: int, work: Callable[[], list[bytes]]) -> tuple[float, str]:
    """The least CPU time of *rounds* runs of *work*, and a hash of what it made."""
    least = float("inf")
    made: list[bytes] = []
    for _ in range(rounds):
        start = time.process_time()
        made = work()
        least = min(least, time.process_time() - start)
    return least, hashlib.sha256(b"".join(made)).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("publication", type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    publication, _ = load_publication(args.publication, datetime(2030, 1, 1, tzinfo=UTC))
    assert publication is not None, "the publication has errors: build it to see them"
    config = publication.config
    site = config.site.url
    articles = [(a, publication.urls[a.slug], read_body(a)) for a in publication.published]
    bodies = [markdown.render(text, a, url, site, {}) for a, url, text in articles]
    entries = [
        feeds.Entry(a, url, url, body.summary, body.html)
        for (a, url, _), body in zip(articles, bodies, strict=True)
    ]
    category_feeds = pages.category_feeds(config, publication.published)

    def render() -> list[bytes]:
        made = [markdown.render(text, a, url, site, {}) for a, url, text in articles]
        return [(r.html + r.summary).encode() for r in made]

    def entry_pieces() -> list[bytes]:
        return [b"".join(feeds.entry_pieces(entry, config)) for entry in entries]

    def article_pages() -> list[bytes]:
        days = pages.Days(config)
        return [
            pages.render_article_page(config, a, url, body, category_feeds, days)
            for (a, url, _), body in zip(articles, bodies, strict=True)
        ]

    def body_nfc() -> list[bytes]:
        return [nfc(text).encode() for _, _, text in articles]

    report: dict[str, object] = {"articles": len(articles), "rounds": args.rounds}
    stages = {
        "markdown.render": render,
        "feeds.entry_pieces": entry_pieces,
        "pages.render_article_page": article_pages,
        "nfc (body)": body_nfc,
    }
    for name, work in stages.items():
        seconds, digest = best(args.rounds, work)
        report[name] = {"us_per_article": round(seconds * 1e6 / len(articles), 1), "sha256": digest}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
