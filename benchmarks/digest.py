"""How long one digest takes to render (Jinja2 + MJML), and how large it is.

    python benchmarks/digest.py [PUBLICATION] [--runs 200]

Renders the email due next in PUBLICATION (default: this repository's example)
many times and prints the median and the 95th percentile, and the HTML size.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from syndicate.email.render import MAX_HTML_BYTES, email_pictures, render_digest
from syndicate.pipeline import load_publication, newsletter, render_bodies

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("publication", nargs="?", type=Path, default=REPO)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    publication, problems = load_publication(args.publication, datetime.now(UTC))
    if publication is None:
        for problem in problems:
            print(problem)
        return 1
    sent, due = newsletter(publication)
    digests = due or sent[-1:]
    if not digests:
        print("no digest to render: is there an [email] table and a published article?")
        return 1
    digest = digests[0]
    bodies = render_bodies(publication, digest.articles)
    pictures = email_pictures(publication.config, digest.articles).images
    render_digest(publication.config, digest, publication.urls, bodies, pictures)  # warm caches
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        rendered = render_digest(publication.config, digest, publication.urls, bodies, pictures)
        timings.append(time.perf_counter() - started)
    timings.sort()
    size = len(rendered.html.encode("utf-8"))
    print(f"digest {digest.id}: {len(digest.articles)} articles, {args.runs} renders")
    print(
        f"median {statistics.median(timings) * 1000:.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95) - 1] * 1000:.2f} ms"
    )
    print(
        f"HTML {size:,} bytes (Gmail clips over {MAX_HTML_BYTES:,}); "
        f"text {len(rendered.text.encode('utf-8')):,} bytes"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
