"""How long a whole build takes for one hostile article of each shape, per megabyte.

python benchmarks/hostile.py [--megabytes 1,4.9] [--shapes nested-quotes,...] [--timeout 600]

Each shape is an article whose body (or front matter) grows with the size asked for:
deeply nested Markdown, a line without spaces, a title without spaces, thousands of
paragraphs, tables, raw HTML that the sanitiser must repair...  Every shape is built in
a fresh publication with pages, social cards and an email digest, in a process of its
own (cold: no build cache), and the wall time of ``syndicate.pipeline.build`` is
reported, with the time per megabyte of the article's file.  A stage that is worse than
linear shows as a time per megabyte that grows with the size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

CONFIG = """\
[site]
title = "Hostile Times"
url = "https://news.example.org/"
author = "Site Author"

[email]
from = "Hostile Times <news@example.org>"
unsubscribe_url = "https://news.example.org/u?e={email}&t={token}"
address = "1 Example Street"
"""

#: The largest article the default ``[content] max_bytes`` allows.
LIMIT = 5_000_000


def front(title: str = "Hostile", **fields: str) -> str:
    lines = ["---", f"title: {title}", "date: 2025-05-01"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join([*lines, "---", "", ""])


def repeat(unit: str, size: int, *, head: str = "", tail: str = "") -> str:
    """*unit* repeated to about *size* bytes (UTF-8), between *head* and *tail*."""
    room = max(0, size - len(head.encode()) - len(tail.encode()) - 200)
    return head + unit * (room // len(unit.encode())) + tail


def body(make: Callable[[int], str]) -> Callable[[int], str]:
    return lambda size: front() + make(size)


def numbered(pattern: str, size: int, separator: str = " ") -> str:
    """*pattern* with 0, 1, 2... in place of ``{}``, joined by *separator*, up to about
    *size* bytes."""
    items, total, number = [], 0, 0
    while total < size - 200:
        item = pattern.format(number)
        items.append(item)
        total += len(item) + len(separator)
        number += 1
    return separator.join(items)


#: Each shape: its name and the article of about *size* bytes.
SHAPES: dict[str, Callable[[int], str]] = {
    "nested-quotes": body(lambda n: repeat("> ", n, tail="deep\n")),
    "nested-lists": body(lambda n: repeat("- ", n, tail="deep\n")),
    "nested-ordered-lists": body(lambda n: repeat("1. ", n, tail="deep\n")),
    "nested-emphasis": body(lambda n: repeat("*", n // 2) + "a" + repeat("*", n // 2)),
    "nested-strong": body(lambda n: repeat("**", n // 2) + "a" + repeat("**", n // 2)),
    "unclosed-emphasis": body(lambda n: repeat("*a _b ", n)),
    "emphasis-runs": body(lambda n: repeat("a**b ", n)),
    "nested-links": body(lambda n: repeat("[", n // 5) + "a" + repeat("](b)", 4 * n // 5)),
    "open-brackets": body(lambda n: repeat("![a](", n)),
    "backticks": body(lambda n: repeat("a`b``c", n)),
    "1MB-line": body(lambda n: repeat("x", n)),
    "long-words": body(lambda n: repeat("x" * 5000 + " ", n)),
    "paragraphs": body(lambda n: repeat("A short paragraph of words.\n\n", n)),
    "one-paragraph": body(lambda n: repeat("word ", n)),
    "headings": body(lambda n: repeat("# Heading\n", n)),
    "table-columns": body(
        lambda n: "|a" * (n // 8) + "|\n" + "|-" * (n // 8) + "|\n" + repeat("|b\n", n // 4)
    ),
    "table-rows": body(lambda n: "|a|b|\n|-|-|\n" + repeat("|c|d|\n", n)),
    "entities": body(lambda n: repeat("&amp;&#x41;&lt;", n)),
    "html-nested-divs": body(lambda n: repeat("<div>", n)),
    "html-misnested": body(lambda n: repeat("<b><i><p>", n)),
    "html-anchors": body(lambda n: repeat("<a href=x>", n)),
    "html-tables": body(lambda n: repeat("<table><tr><td>", n)),
    "html-comment": body(lambda n: "<!--" + repeat("-", n)),
    "links-to-md": body(lambda n: repeat("[a](b.md) ", n)),
    "distinct-md-links": body(lambda n: numbered("[a](p{}.md)", n)),
    "relative-links": body(lambda n: repeat("[a](x/y) ", n)),
    "images": body(lambda n: repeat("![a](x.png) ", n)),
    "long-title-no-spaces": lambda n: front("x" * (n - 200)) + "Body.\n",
    "long-title-words": lambda n: front(repeat("word ", n).strip()) + "Body.\n",
    "long-title-cjk": lambda n: front(repeat("字", n)) + "Body.\n",
    "long-summary": lambda n: front(summary=repeat("word ", n).strip()) + "Body.\n",
    "long-summary-no-spaces": lambda n: front(summary="x" * (n - 200)) + "Body.\n",
    "long-author": lambda n: front(author="x" * (n - 200)) + "Body.\n",
    "many-categories": lambda n: front(categories=numbered("c{}", n, ", ")) + "Body.\n",
    "long-category": lambda n: front(categories="x" * (n - 200)) + "Body.\n",
    "many-authors": lambda n: front(author="[" + numbered("a{}", n, ", ") + "]") + "Body.\n",
}

RUN = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from syndicate.errors import ContentError
    from syndicate.pipeline import build
    started = time.perf_counter()
    try:
        report = build(Path(sys.argv[1]), datetime(2026, 1, 1, tzinfo=UTC), use_cache=False)
        outcome = f"{report.published} published"
    except ContentError as error:
        outcome = "refused: " + "; ".join(d.message[:60] for d in error.diagnostics[:2])
    print(f"{time.perf_counter() - started:.3f}\\t{outcome}")
    """
)


def measure(shape: str, size: int, folder: Path, timeout: float) -> tuple[float | None, str]:
    """Seconds to build the article of *shape* at *size* bytes (None past *timeout*)."""
    root = folder / f"{shape}-{size}"
    (root / "content").mkdir(parents=True)
    (root / "syndicate.toml").write_text(CONFIG)
    text = SHAPES[shape](size)
    (root / "content/hostile.md").write_text(text)
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUN, str(root)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"still running after {timeout:.0f} s"
    if done.returncode:
        return None, "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    seconds, outcome = done.stdout.strip().split("\t", 1)
    return float(seconds), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", default="1,4.9", help="article sizes, in MB (10^6 bytes)")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="shapes to build")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per build")
    args = parser.parse_args()
    sizes = [int(float(mb) * 1_000_000) for mb in args.megabytes.split(",")]
    shapes = [s for s in args.shapes.split(",") if s]
    print("| shape | " + " | ".join(f"{s / 1e6:g} MB" for s in sizes) + " | s/MB at largest |")
    print("| --- |" + " --- |" * (len(sizes) + 1))
    with tempfile.TemporaryDirectory(prefix="syndicate-hostile-") as work:
        for shape in shapes:
            cells = []
            per_mb = ""
            for size in sizes:
                seconds, outcome = measure(shape, min(size, LIMIT), Path(work), args.timeout)
                print(f"{shape} {size}: {seconds} {outcome}", file=sys.stderr)
                if seconds is None:
                    cells.append(outcome)
                    per_mb = "–"
                    continue
                cells.append(f"{seconds:.2f} s" + ("" if "published" in outcome else " (refused)"))
                per_mb = f"{seconds / (size / 1e6):.2f}"
            print(f"| {shape} | " + " | ".join(cells) + f" | {per_mb} |", flush=True)


if __name__ == "__main__":
    main()
