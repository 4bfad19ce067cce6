"""The report of ``compare.py``: issue 27's targets (``targets.py``), then the tables they
are read from, as a section of Markdown that can replace its earlier self in RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from photo_floor import floor_table
from run import Scenario, SizeResult, incremental_details, machine_lines, mb, md_row, peak_memory
from series import Run, Tool, ToolResult
from targets import TARGET_ARTICLES, per_card, seconds, target_rows

SECTION_TITLE = "## Issue 27: syndicate against its peers (`python benchmarks/compare.py`)"
#: Earlier titles of this script's section, replaced by it.
OLD_TITLES = ("## Comparison with Hugo and Pelican (`python benchmarks/compare.py`)",)


SERIES_NAMES = {
    "feeds": "feeds only",
    "site": "full site",
    "photos": "photos",
    "cards": "cards",
}


def limit_text(limit: int) -> str:
    return "all" if limit == 0 else str(limit)


def ratio_text(result: ToolResult, done: Run, labels: dict[str, str]) -> str:
    """On a peer's row: each syndicate build of the same series divided by it (wall)."""
    wall = result.wall()
    # The cards series is read per card (its own table), not build against build.
    if result.tool.startswith("syndicate") or wall is None or result.series == "cards":
        return "–"
    ours = [
        r
        for r in done.results
        if r.tool.startswith("syndicate")
        and (r.series, r.articles, r.limit) == (result.series, result.articles, result.limit)
        and r.runs
    ]
    parts = [
        (labels[r.tool].removeprefix("syndicate, ") + ": " if len(ours) > 1 else "")
        + f"{r.wall() / wall:.2f}"  # type: ignore[operator]
        for r in ours
    ]
    return "; ".join(parts) or "–"


def timing_row(result: ToolResult, done: Run, labels: dict[str, str]) -> str:
    head = [
        SERIES_NAMES.get(result.series, result.series),
        labels.get(result.tool, result.tool),
        f"{result.articles:,}",
        limit_text(result.limit),
        str(len(result.runs)),
    ]
    if result.runs:
        walls = [r.wall for r in result.runs]
        cells = [f"{statistics.median(walls):.2f}", f"{min(walls):.2f}", f"{result.cpu():.2f}"]
        cells += [f"{mb(kib):.0f}" for kib in peak_memory(result.runs, result.memory)]
    else:
        cells = ["failed", "–", "–", "–", "–"]
    cards = " / ".join(str(c) for c in result.cards[1:]) if len(result.cards) > 1 else "–"
    rest = [f"{result.files:,}", f"{result.bytes / 1e6:.1f}", cards]
    return md_row([*head, *cells, *rest, ratio_text(result, done, labels), result.note])


def check_row(result: ToolResult, done: Run, labels: dict[str, str]) -> str:
    check = result.check
    assert check is not None
    key = (result.series, result.articles, result.limit)
    base = next(
        (
            r.check
            for r in done.results
            if r.tool.startswith("syndicate") and (r.series, r.articles, r.limit) == key
        ),
        None,
    )
    same = "–"
    if base is not None and not result.tool.startswith("syndicate"):
        common = set(check.home_titles) & set(base.home_titles)
        same = f"{len(common):,} of {len(base.home_titles):,}"
    cells = [f"{check.home_items:,}", f"{check.category_feeds:,}", f"{check.category_items:,}"]
    cells += [f"{check.rss_bytes / 1e6:.1f}", same]
    head = [SERIES_NAMES[result.series], labels.get(result.tool, result.tool)]
    head.append(f"{result.articles:,}")
    return md_row([*head, limit_text(result.limit), *cells])


def incremental_rows(n: int, scenarios: list[Scenario]) -> list[str]:
    rows = []
    for scenario in scenarios:
        runs = scenario.runs
        if not runs:
            rows.append(md_row([f"{n:,}", scenario.name, "0", scenario.note or "failed"]))
            continue
        walls = [r.run.wall for r in runs]
        own = [r.summary[3] for r in runs if r.summary is not None]
        cells = [
            f"{n:,}",
            scenario.name,
            str(len(runs)),
            f"{statistics.median(walls):.2f}",
            f"{min(walls):.2f}",
            f"{statistics.median(r.run.cpu for r in runs):.2f}",
            f"{statistics.median(own):.2f}" if own else "–",
            f"{mb(max(r.run.rss_kib for r in runs)):.0f}",
            " / ".join(str(len(r.changes)) for r in runs),
            " / ".join(str(r.cards) for r in runs),
        ]
        rows.append(md_row(cells))
    return rows


def photo_section(done: Run) -> list[str]:
    results = [r for r in done.results if r.series == "photos"]
    if not results:
        return []
    n = results[0].articles
    default = done.find("photos", "syndicate-default", n)
    card = per_card(default, done.find("photos", "syndicate-pages", n))
    hugo = done.find("photos", "hugo-site", n)
    lines = [
        "",
        "### Photo cards",
        "",
        f"{n:,} articles, each with a 1600×900 WebP photograph of its own (`photos.py`: "
        "gradients, soft shapes, value noise at four scales and a fine grain, so that it "
        "decodes and compresses like a photograph). The builds are in the table above "
        "(series “photos”). "
        f"The default build took {seconds(default.wall())} ({seconds(default.cpu())} of CPU) "
        f"against {seconds(hugo.wall())} for Hugo's full site of the same corpus (which "
        "copies the photos and makes no card).",
        "",
    ]
    if card is not None:
        lines.append(
            f"One card adds {card[0] * 1000:.1f} ms of wall time and {card[1] * 1000:.1f} ms "
            "of CPU to a build: the median default build less the median build without "
            "social files, divided by the cards drawn. That includes each article's post "
            "texts, its social JSON and its `<meta>` snippet, a small part of it."
        )
    if default.image_warnings:
        lines.append(
            f"**syndicate warned {default.image_warnings} times about an article's image**: "
            "those cards were drawn without their photo, and the figure is too low."
        )
    if done.floor is not None:
        lines += [
            "",
            f"The floor (`photo_floor.py`), Pillow alone on {done.floor.images:,} of the same "
            "photos, each step timed once per image:",
            "",
            *floor_table(done.floor),
        ]
    return lines


def mkdocs_section(done: Run, labels: dict[str, str]) -> list[str]:
    results = [r for r in done.results if r.series == "cards"]
    if not results:
        return []
    n = results[0].articles
    lines = [
        "",
        "### Social cards against mkdocs-material",
        "",
        f"The same {n:,} articles (plain cards: no photo), built by syndicate and by MkDocs "
        "with mkdocs-material (`mkdocs_cards.py`: one page per article, its title the "
        "article's and its description the footer of syndicate's card, “Author · Date”; the "
        "social plugin's default layout, its font cache seeded with syndicate's Noto Sans, "
        "nothing downloaded). One card = the median build with cards less the median build "
        "without, divided by the cards drawn (mkdocs-material draws one for the home page "
        "too); for syndicate, the default build less the build without social files (post "
        "texts, social JSON and `<meta>` snippets included).",
        "",
        "| Tool | With cards: wall / CPU (s) | Without: wall / CPU (s) | One card: wall (ms) "
        "| One card: CPU (ms) | Cards made (per run) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for with_key, without_key in (
        ("syndicate-default", "syndicate-pages"),
        ("mkdocs-cards", "mkdocs-plain"),
    ):
        cards, plain = done.find("cards", with_key, n), done.find("cards", without_key, n)
        card = per_card(cards, plain)
        made = " / ".join(str(c) for c in cards.cards[1:]) or "–"
        lines.append(
            md_row(
                [
                    labels.get(with_key, with_key).split(",")[0],
                    f"{seconds(cards.wall())} / {seconds(cards.cpu())}",
                    f"{seconds(plain.wall())} / {seconds(plain.cpu())}",
                    f"{card[0] * 1000:.2f}" if card else "–",
                    f"{card[1] * 1000:.2f}" if card else "–",
                    made,
                ]
            )
        )
    return lines


def report(
    done: Run,
    tools: list[Tool],
    missing: dict[str, str],
    args: argparse.Namespace,
    rss_method: str,
) -> str:
    labels = {tool.key: tool.label for tool in tools}
    versions = {tool.name: tool.version for tool in tools if tool.name != "syndicate"}
    syndicate = next(tool for tool in tools if tool.name == "syndicate")
    n = TARGET_ARTICLES if TARGET_ARTICLES in args.sizes else max(args.sizes)
    scale = "" if n == TARGET_ARTICLES else f" (**{n:,} articles: the targets are for 10,000**)"
    checked = [r for r in done.results if r.check is not None and r.series in ("feeds", "site")]
    lines = [
        SECTION_TITLE,
        "",
        f"Cold builds of the same generated corpus (seed {args.seed}), the tools taking turns, "
        f"one build each a round, {args.repeat} timed rounds (Pelican {args.pelican_repeat}) "
        "after one untimed round whose memory is sampled; median wall times. The peers' "
        "builds are described in `benchmarks/README.md`.",
        "",
        *machine_lines(syndicate.exe, rss_method),
        *(f"- {name}: {version or 'unknown version'}" for name, version in versions.items()),
        *(f"- {name}: **skipped**: {why}" for name, why in missing.items()),
        "",
        f"### The targets{scale}",
        "",
        *target_rows(done, n),
        "",
        "### Cold builds",
        "",
        "| Series | Build | Articles | Limit | Runs | Wall median (s) | Wall min (s) "
        "| CPU median (s) | Peak RSS (MB) | Peak PSS, all processes (MB) | Files | MB written "
        "| Cards drawn (per run) | syndicate ÷ this (wall) | Note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
        *(timing_row(r, done, labels) for r in done.results),
        "",
        "Peak RSS: the largest process over every build of the series; peak PSS: the memory "
        "of the whole process tree, sampled every 100 ms in the untimed first round. "
        "Ratios below 1 mean syndicate took less time.",
    ]
    if checked:
        lines += [
            "",
            "What the last build of each wrote (RSS feeds; syndicate's and Pelican's Atom "
            "feeds hold the same entries):",
            "",
            "| Series | Tool | Articles | Limit | Home feed items | Category feeds "
            "| Items in category feeds | RSS MB | Home feed titles also in syndicate's |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
            *(check_row(r, done, labels) for r in checked),
        ]
    for size, scenarios in done.incremental.items():
        lines += [
            "",
            f"### Warm and one-edit default builds, {size:,} articles",
            "",
            "After the full-site series, with the cache its last default build left: builds "
            "with nothing changed, then builds each after appending a sentence to one "
            "article (see `run.py`). Cards drawn: the build's own “Social cards: N rendered” "
            "line (none: 0)"
            + (
                "."
                if done.cards_reported.get(size)
                else "; **the cold default builds printed no such line, so 0 proves nothing**."
            ),
            "",
            "| Articles | Build | Runs | Wall median (s) | Wall min (s) | CPU median (s) "
            "| syndicate's own (s) | Peak RSS (MB) | Files changed (per run) "
            "| Cards drawn (per run) |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
            *incremental_rows(size, scenarios),
            "",
            *(line for s in scenarios for line in incremental_details(SizeResult(size), s)),
        ]
    lines += photo_section(done)
    lines += mkdocs_section(done, labels)
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    """Replace this script's section of ``path`` (from its title, or an earlier title of
    it, up to the next ``## ``), or append it."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    for title in (SECTION_TITLE, *OLD_TITLES):
        start = old.find(title)
        if start >= 0:
            end = old.find("\n## ", start + len(title))
            rest = old[end + 1 :] if end >= 0 else ""
            new = old[:start] + text + ("\n" + rest if rest else "")
            break
    else:
        new = (old.rstrip("\n") + "\n\n" if old.strip() else "") + text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
