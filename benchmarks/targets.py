"""Issue 27's performance targets, one table row each: met, or missed and by how much.

Every row is read from one run of ``compare.py``: the medians of its timed cold builds,
and memory as the larger of the largest process's peak RSS over the builds and the peak
PSS of all processes in the untimed memory run before them (see ``run.py``).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from run import md_row
from series import Run, ToolResult

TARGET_ARTICLES = 10_000
FEEDS_MB, SITE_MB = 400.0, 500.0
DEFAULT_RATIO = 2.0
WARM_S, EDIT_S = 1.0, 1.5
FLOOR_RATIO, MKDOCS_FACTOR = 1.5, 10.0
#: Formats that suit a photograph (lossy); a PNG of one is several times larger.
PHOTO_FORMATS = ("JPEG", "WebP")


def seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def faster(ours: ToolResult, theirs: ToolResult, factor: float = 1.0) -> tuple[str, str]:
    """(ratio, verdict) for "*ours* within *factor* × *theirs*" (1: faster than)."""
    a, b = ours.wall(), theirs.wall()
    if a is None or b is None:
        return "–", "not measured: " + (ours.note or theirs.note or "no runs")
    ratio = a / b
    if (ratio < factor) if factor == 1.0 else (ratio <= factor):
        return f"{ratio:.2f}×", "met"
    if factor == 1.0:
        return f"{ratio:.2f}×", f"**missed**: {a - b:.2f} s slower"
    return f"{ratio:.2f}×", f"**missed**: {a - factor * b:.2f} s over {factor:g}×"


def under(values: Sequence[tuple[str, ToolResult]], limit_mb: float) -> tuple[str, str]:
    """(figures, verdict) for peak memory under *limit_mb* in every build of *values*."""
    measured = [(name, r.peak_mb()) for name, r in values if r.runs]
    if not measured:
        return "–", "not measured"
    text = "; ".join(f"{name}: {value:.0f} MB" for name, value in measured)
    worst = max(value for _, value in measured)
    if worst < limit_mb:
        return text, "met"
    return text, f"**missed**: {worst - limit_mb:.0f} MB over"


def per_card(with_cards: ToolResult, without: ToolResult) -> tuple[float, float] | None:
    """(wall, CPU) seconds one card adds: the difference of the median builds, divided by
    the cards the timed builds drew (or the articles, if they did not say)."""
    walls = with_cards.wall(), without.wall()
    cpus = with_cards.cpu(), without.cpu()
    if None in walls or None in cpus:
        return None
    drawn = with_cards.cards[1:]
    n = int(statistics.median(drawn)) if drawn and min(drawn) > 0 else with_cards.articles
    return (walls[0] - walls[1]) / n, (cpus[0] - cpus[1]) / n  # type: ignore[operator]


def target_rows(done: Run, n: int) -> list[str]:
    """Issue 27's table: one row per target, for the corpus of *n* articles."""
    rows: list[list[str]] = []
    hugo = {limit: done.find("feeds", "hugo-feeds", n, limit) for limit in (50, 0)}
    feeds = {limit: done.find("feeds", "syndicate-feeds", n, limit) for limit in (50, 0)}
    for limit, name in ((50, "50 entries"), (0, "every entry")):
        ratio, verdict = faster(feeds[limit], hugo[limit])
        rows.append(
            [
                "1",
                f"Feeds only, {name}: cold build faster than Hugo's feeds-only build",
                seconds(feeds[limit].wall()),
                seconds(hugo[limit].wall()),
                ratio,
                verdict,
            ]
        )
    figures, verdict = under([("50 entries", feeds[50]), ("every entry", feeds[0])], FEEDS_MB)
    rows.append(["1", "Feeds only: peak memory under 400 MB", figures, "–", "–", verdict])
    site = done.find("site", "hugo-site", n)
    pages, default = (done.find("site", f"syndicate-{b}", n) for b in ("pages", "default"))
    ratio, verdict = faster(pages, site)
    rows.append(
        [
            "2",
            "Feeds and article pages, no social files: faster than Hugo's full site",
            seconds(pages.wall()),
            seconds(site.wall()),
            ratio,
            verdict,
        ]
    )
    ratio, verdict = faster(default, site, DEFAULT_RATIO)
    rows.append(
        [
            "2",
            f"Default build (pages, social files, {n:,} cards): within 2× Hugo's full site",
            seconds(default.wall()),
            seconds(site.wall()),
            ratio,
            verdict,
        ]
    )
    figures, verdict = under([("pages", pages), ("default", default)], SITE_MB)
    rows.append(["2", "Those builds: peak memory under 500 MB", figures, "–", "–", verdict])
    rows += incremental_targets(done, n)
    rows += photo_targets(done)
    rows += mkdocs_targets(done)
    header = [
        "| # | Target (issue 27) | syndicate | Peer | Ratio | Verdict |",
        "|---|---|---:|---:|---:|---|",
    ]
    return header + [md_row(row) for row in rows]


def incremental_targets(done: Run, n: int) -> list[list[str]]:
    rows = []
    reported = done.cards_reported.get(n, False)
    for scenario in done.incremental.get(n, []):
        limit = WARM_S if scenario.kind == "warm" else EDIT_S
        what = {"warm": "Warm default build, nothing changed"}.get(scenario.kind, scenario.name)
        label = f"{what[:1].upper()}{what[1:]}: under {limit:g} s, no card drawn"
        if not scenario.runs:
            rows.append(["3", label, "–", "–", "–", scenario.note or "not measured"])
            continue
        wall = statistics.median(r.run.wall for r in scenario.runs)
        cards = sum(r.cards for r in scenario.runs)
        misses = [f"{wall - limit:.2f} s over"] if wall >= limit else []
        if cards:
            misses.append(f"{cards} card(s) drawn")
        elif not reported:
            misses.append("cards drawn unknown: the cold builds did not say how many they drew")
        if scenario.kind == "warm":
            changed = sum(len(r.changes) for r in scenario.runs)
            misses += [f"{changed} file change(s)"] if changed else []
        else:
            other = sum(len(r.unexpected) + len(r.stale) for r in scenario.runs)
            misses += [f"{other} file(s) that do not show the article"] if other else []
        verdict = "met" if not misses else "**missed**: " + ", ".join(misses)
        figure = f"{wall:.2f} s, {cards} cards"
        rows.append(["3", label, figure, "–", "–", verdict])
    if not rows:
        rows.append(["3", "Warm and one-edit default builds", "–", "–", "–", "not measured"])
    return rows


def photo_targets(done: Run) -> list[list[str]]:
    results = [r for r in done.results if r.series == "photos"]
    if not results:
        return [["4", "Photo cards", "–", "–", "–", "not measured (--photos 0)"]]
    n = results[0].articles
    default = done.find("photos", "syndicate-default", n)
    pages = done.find("photos", "syndicate-pages", n)
    card = per_card(default, pages)
    floor = done.floor
    label = f"Photo cards ({n:,} articles): per card at most 1.5× Pillow's floor (CPU)"
    if card is None or floor is None:
        row = ["4", label, "–", "–", "–", "not measured: " + (default.note or pages.note)]
    else:
        ratio = card[1] / floor.per_card
        verdict = (
            "met (≤ 1.5×)"
            if ratio <= FLOOR_RATIO
            else f"**missed**: {(card[1] - FLOOR_RATIO * floor.per_card) * 1000:.1f} ms over 1.5×"
        )
        row = [
            "4",
            label,
            f"{card[1] * 1000:.1f} ms",
            f"floor {floor.per_card * 1000:.1f} ms",
            f"{ratio:.2f}×",
            verdict,
        ]
    rows = [row]
    formats = done.card_formats
    found = ", ".join(
        f"{len(sizes):,} {kind} (median {statistics.median(sizes) / 1000:.0f} kB)"
        for kind, sizes in sorted(formats.items())
    )
    wrong = sorted(kind for kind in formats if kind not in PHOTO_FORMATS)
    verdict = (
        "not measured" if not formats else (f"**missed**: {', '.join(wrong)}" if wrong else "met")
    )
    rows.append(
        ["4", "Photo cards written in a photograph's format", found or "–", "–", "–", verdict]
    )
    return rows


def mkdocs_targets(done: Run) -> list[list[str]]:
    results = [r for r in done.results if r.series == "cards"]
    label = "Per card, the same titles: at least 10× faster than mkdocs-material (CPU)"
    if not results:
        return [["4", label, "–", "–", "–", "not measured (mkdocs-material skipped)"]]
    n = results[0].articles
    ours = per_card(
        done.find("cards", "syndicate-default", n), done.find("cards", "syndicate-pages", n)
    )
    theirs = per_card(done.find("cards", "mkdocs-cards", n), done.find("cards", "mkdocs-plain", n))
    if ours is None or theirs is None:
        return [["4", label, "–", "–", "–", "not measured"]]
    factor = theirs[1] / ours[1] if ours[1] > 0 else float("inf")
    verdict = (
        f"met (≥ {MKDOCS_FACTOR:g}×)"
        if factor >= MKDOCS_FACTOR
        else f"**missed**: {factor:.1f}× faster, not {MKDOCS_FACTOR:g}×"
    )
    return [
        [
            "4",
            label,
            f"{ours[1] * 1000:.2f} ms",
            f"{theirs[1] * 1000:.2f} ms",
            f"{factor:.1f}× faster",
            verdict,
        ]
    ]
