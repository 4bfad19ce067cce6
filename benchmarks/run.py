"""Benchmark cold, warm and one-edit ``syndicate build`` runs on generated corpora.

For each corpus size this generates a publication (see ``corpus.py``), then runs
``syndicate -C DIR build`` once with the memory of its processes sampled, then ``--repeat``
times timed, taking ``feeds/`` and ``.syndicate/`` away before every run so that each build is
cold (moved aside, and deleted after the last run: see :func:`make_cold`). It reports wall
time (median, min), CPU time, the peak memory of the build process (max RSS) and of all its
processes (PSS, from the sampled build) and the feed files written, as a Markdown table.

Then (unless ``--no-incremental``) it runs ``--repeat`` warm builds with nothing changed, and
``--repeat`` builds after each of which one article's body was edited (the newest article, then
an old one that no feed shows), and reports their times and which files under ``feeds/`` each
changed: a warm build should change none, an edit only those that show the article.

Usage::

    python benchmarks/run.py [--sizes 1000,10000] [--repeat 3] [--limit 50] [--no-incremental]
                             [--full] [--workdir DIR] [--keep] [--syndicate PATH]
                             [--output benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import html
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from corpus import generate, write_config

DEFAULT_SIZES = (1_000, 10_000)
# articles -> (wall seconds, peak RSS in MB) of a cold feeds build; the targets are for 2
# cores.  (Issue 8 also asks it to beat Hugo on the same corpus: benchmarks/compare.py.)
TARGETS: dict[int, tuple[float, float]] = {10_000: (10.0, 400.0)}
#: The feed limit the wall-time target is for; the memory target holds for every limit.
TARGET_LIMIT = 50
#: Issue 8's target for the full cold build (pages and cards too): within this many times
#: the cold build of the feeds alone.  Issue 27 retired it (it compared syndicate with
#: itself; compare.py holds the full build to Hugo's full site instead): the ratio is still
#: reported, and floor.py reads its budget from it, but it is no longer a target.
FULL_RATIO = 3.0
# articles -> (warm wall seconds, one-edit wall seconds): issue 8's targets for the feeds,
# which issue 27 also sets for the default build (with --full), with no card drawn.
INCREMENTAL_TARGETS: dict[int, tuple[float, float]] = {10_000: (1.0, 1.5)}
GNU_TIME = Path("/usr/bin/time")
# The line `syndicate build` ends with: "... wrote 0 files, 124 unchanged, 0 removed, in 0.09 s".
#: The files that hold whole articles: the site feeds and each category's.
FEED_NAMES = frozenset({"rss.xml", "atom.xml", "feed.json"})
SUMMARY_LINE = re.compile(r"wrote (\d+) files?, (\d+) unchanged, (\d+) removed, in ([\d.]+) s")
CARDS_LINE = re.compile(r"Social cards: (\d+) rendered")
REPO = Path(__file__).resolve().parent.parent

# Runs the command given after the report path, then writes what the kernel says about the
# (only) child: RUSAGE_CHILDREN's ru_maxrss is the largest RSS of any waited-for descendant,
# so a fresh wrapper per measurement keeps earlier runs out of it.
PY_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime,
               "rss_kib": rss}, out)
sys.exit(code)
"""


@dataclass(frozen=True)
class Measurement:
    """One build: seconds of wall and CPU time, peak RSS in KiB and the exit code."""

    wall: float
    cpu: float
    rss_kib: int
    code: int
    #: Peak of the summed PSS of every process of the build (worker processes included).
    tree_kib: int = 0


#: The series of cold builds of one corpus, by the keys of :attr:`SizeResult.memory`:
#: ``runs``, and with --full the feeds alone and the feeds with the pages before them.
COLD, FEEDS_ONLY, WITH_PAGES = "cold", "feeds only", "feeds and pages"


@dataclass
class SizeResult:
    """All runs for one corpus size plus what the last run wrote."""

    articles: int
    corpus_bytes: int = 0
    generate_seconds: float = 0.0
    runs: list[Measurement] = field(default_factory=list)
    feed_files: int = 0
    feed_bytes: int = 0
    error: str | None = None
    #: Warm and one-edit builds after the cold ones (empty with --no-incremental).
    incremental: list[Scenario] = field(default_factory=list)
    #: With --full: cold builds of the same corpus with only the feeds, for the ratio.
    feeds_runs: list[Measurement] = field(default_factory=list)
    #: With --full: cold builds with the feeds and the article pages, no social files.
    pages_runs: list[Measurement] = field(default_factory=list)
    #: The cold build before each series of timed ones (:data:`COLD`, :data:`FEEDS_ONLY`,
    #: :data:`WITH_PAGES`), the only one whose memory is sampled: see :func:`cold_series`.
    memory: dict[str, Measurement] = field(default_factory=dict)

    def peaks(self, series: str) -> tuple[float, float]:
        """:func:`peak_memory` of the series, in MB."""
        runs = {FEEDS_ONLY: self.feeds_runs, WITH_PAGES: self.pages_runs}
        rss, tree = peak_memory(runs.get(series, self.runs), self.memory.get(series))
        return mb(rss), mb(tree)


def peak_memory(runs: Sequence[Measurement], memory: Measurement | None) -> tuple[int, int]:
    """The largest max RSS of one process over *runs* and the *memory* run, and the memory
    run's peak PSS of all processes (0 without one), in KiB."""
    measured = [*runs, *([memory] if memory is not None else [])]
    rss = max((r.rss_kib for r in measured), default=0)
    return rss, memory.tree_kib if memory is not None else 0


@dataclass(frozen=True)
class ArticleInfo:
    """The front matter of one article that the one-edit builds change."""

    path: Path
    name: str  # relative to the publication, for the report
    title: str
    date: datetime
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """One file under ``feeds/`` that a build touched: ``how`` is ``rewritten`` (new
    bytes), ``touched`` (same bytes, new modification time), ``added`` or ``removed``."""

    path: str
    how: str


@dataclass
class IncrementalRun:
    """One warm or one-edit build and what it did to the files under ``feeds/``."""

    run: Measurement
    changes: list[Change]
    #: Changed files that do not show the edited article (warm: every changed file).
    unexpected: list[str]
    #: Feeds (rss.xml, atom.xml, feed.json) that show the edited article without its new text.
    stale: list[str]
    #: syndicate's own last line: files written, unchanged, removed, seconds (or None).
    summary: tuple[int, int, int, float] | None
    #: Output files that show the edited article after the build (title found in them).
    showing: int = 0
    #: Social card images the build rendered (its "Social cards: N rendered" line).
    cards: int = 0


@dataclass
class Scenario:
    """Repeated warm builds, or builds after editing one article, of one corpus."""

    name: str
    kind: str  # "warm", "edit", "clone" or "renamed"
    article: ArticleInfo | None = None
    runs: list[IncrementalRun] = field(default_factory=list)
    note: str | None = None
    #: False for the article chosen because no feed shows it.
    in_feeds: bool = True


# --- measuring ---------------------------------------------------------------------------


def gnu_time_works() -> bool:
    """True when /usr/bin/time is GNU time (it understands -f and -o)."""
    if not GNU_TIME.exists():
        return False
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        cmd = [str(GNU_TIME), "-f", "%M", "-o", report.name, "true"]
        done = subprocess.run(cmd, capture_output=True, check=False)
        return done.returncode == 0 and report.read().strip().isdigit()


def measure_with_gnu_time(
    cmd: Sequence[str], log: Path, timeout: float, *, sample: bool = True
) -> Measurement:
    """Run ``cmd`` under GNU time; wall time is taken here, the rest from time's report.
    *sample*: the memory of every process too (see :func:`run_logged`)."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        wrapped = [str(GNU_TIME), "-f", "%U %S %M %x", "-o", report.name, *cmd]
        start = time.perf_counter()
        tree = run_logged(wrapped, log, timeout, sample=sample)
        wall = time.perf_counter() - start
        # GNU time prefixes "Command exited with non-zero status N" lines; the numbers are last.
        user, system, rss, code = report.read().split()[-4:]
    return Measurement(wall, float(user) + float(system), int(rss), int(code), tree)


def measure_with_python(
    cmd: Sequence[str], log: Path, timeout: float, *, sample: bool = True
) -> Measurement:
    """Run ``cmd`` under a fresh Python wrapper that reports its RUSAGE_CHILDREN."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as report:
        wrapped = [sys.executable, "-c", PY_WRAPPER, report.name, *cmd]
        tree = run_logged(wrapped, log, timeout, sample=sample)
        data = json.loads(report.read())
    cpu = data["user"] + data["sys"]
    return Measurement(data["wall"], cpu, int(data["rss_kib"]), int(data["code"]), tree)


def session_pss_kib(session: int) -> int:
    """Summed proportional set size of every process in *session* (Linux; 0 elsewhere).

    PSS shares pages that forked workers have in common among them, so the sum is
    the memory the whole build holds, neither the largest process nor double counts.
    """
    total = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != session:  # field 6 of stat: the session id
                continue
            for line in (entry / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_logged(cmd: Sequence[str], log: Path, timeout: float, *, sample: bool = True) -> int:
    """Run ``cmd`` with its output appended to ``log`` (syndicate may warn a lot); return
    the peak summed PSS of its process tree, sampled every 100 ms, in KiB (0 without
    *sample*).

    Sampling is not free: reading a process's ``smaps_rollup`` walks its page tables.  Over
    a full cold build (three processes of 200 to 400 MB) the samples took 3.9 to 5 s of
    CPU, 24 ms each, on a machine whose two cores the build keeps busy: 22.56 s median
    against 20.44 s unsampled, three builds each way, taking turns.  So builds that are
    timed are not sampled (see :func:`cold_series`)."""
    with log.open("ab") as out:
        out.write(f"$ {' '.join(cmd[-4:])}\n".encode())
        out.flush()
        # A session of its own, so a timeout can stop the wrapper *and* the build under it.
        child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        peak = 0
        while child.poll() is None:
            if time.monotonic() > deadline:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                raise subprocess.TimeoutExpired(cmd, timeout)
            if sample:
                peak = max(peak, session_pss_kib(child.pid))
            # Waiting (not sleeping) returns as soon as the build ends, so the wall time
            # measured around this call is not rounded up to the next sample: that matters
            # for warm builds, which take well under a second.
            with suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.1)
        return peak


#: Where :func:`make_cold` puts what the builds left, deleted once every build has run.
TRASH = ".trash"


def make_cold(dest: Path) -> None:
    """Take away everything a previous build left behind: moved into the work folder's
    :data:`TRASH`, which :func:`empty_trash` deletes after the last measured build.

    Deleting it here instead would charge the next build for the deletion: on ext4
    without a journal (as on the machine of RESULTS.md), the kernel will not reuse an inode
    freed in the last 5 to 305 seconds (``recently_deleted()`` in ``fs/ext4/ialloc.c``)
    and checks the freed ones one by one for every file it creates.  After deleting a full
    build's 40,000 files, creating a file took 400 µs instead of 30, 16 s of system time
    over a full build.  A build on a fresh clone, as in CI, creates its files without that.
    """
    for name in ("feeds", ".feeds.spare", ".syndicate"):
        if (dest / name).exists():
            os.rename(dest / name, to_trash(dest.parent, name.lstrip(".")))


def to_trash(workdir: Path, prefix: str) -> Path:
    """A new empty folder in *workdir*'s :data:`TRASH`, to move something into."""
    trash = workdir / TRASH
    trash.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(dir=trash, prefix=prefix))


def empty_trash(workdir: Path) -> None:
    shutil.rmtree(workdir / TRASH, ignore_errors=True)


def feed_stats(feeds: Path) -> tuple[int, int]:
    """Number and total size in bytes of the files under ``feeds``."""
    sizes = [p.stat().st_size for p in feeds.rglob("*") if p.is_file()]
    return len(sizes), sum(sizes)


def tree_bytes(folder: Path) -> int:
    """Total size of the files under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --- one corpus size ---------------------------------------------------------------------


def prepare_corpus(
    dest: Path, result: SizeResult, seed: int, limit: int, full: bool = False
) -> None:
    """Generate the corpus into ``dest`` and note its size and generation time."""
    start = time.perf_counter()
    generate(dest, result.articles, seed, limit=limit, overwrite=True, full=full)
    result.generate_seconds = time.perf_counter() - start
    result.corpus_bytes = tree_bytes(dest / "content")


class Measure(Protocol):
    def __call__(
        self, cmd: Sequence[str], log: Path, timeout: float, *, sample: bool = True
    ) -> Measurement: ...


def cold_series(
    name: str,
    runs: list[Measurement],
    result: SizeResult,
    cmd: list[str],
    dest: Path,
    log: Path,
    measure: Measure,
    args: argparse.Namespace,
) -> str | None:
    """One cold build whose memory is sampled (``result.memory[name]``), then ``--repeat``
    cold builds timed without sampling (*runs*): sampling would slow what it measures.
    The first build also leaves the machine as each timed one finds it, a build having
    run just before.  An error message, or None."""
    shown = name if name != COLD else "full" if args.full else "cold"
    label = f"{result.articles} articles, {shown}"
    for attempt in range(args.repeat + 1):
        make_cold(dest)
        try:
            run = measure(cmd, log, args.timeout, sample=attempt == 0)
        except subprocess.TimeoutExpired:
            return f"{name}: timed out after {args.timeout:g} s; end of {log}:\n{tail(log)}"
        if run.code != 0:
            return f"{name}: exited with {run.code}; last lines of {log}:\n{tail(log)}"
        if attempt == 0:
            result.memory[name] = run
            progress(
                f"{label}: memory run: {mb(run.rss_kib):.0f} MB largest process, "
                f"{mb(run.tree_kib):.0f} MB all processes ({run.wall:.2f} s, sampled)"
            )
        else:
            runs.append(run)
            progress(f"{label}: run {attempt}: {run.wall:.2f} s")
    return None


def bench_size(n: int, args: argparse.Namespace, workdir: Path, use_time: bool) -> SizeResult:
    """Generate a corpus of ``n`` articles and time ``--repeat`` cold builds of it."""
    result = SizeResult(n)
    dest = workdir / f"corpus-{n}"
    log = workdir / f"build-{n}.log"
    log.unlink(missing_ok=True)
    progress(f"{n} articles: generating into {dest}")
    prepare_corpus(dest, result, args.seed, args.limit, args.full)
    progress(f"{n} articles: {result.corpus_bytes / 1e6:.1f} MB in {result.generate_seconds:.1f} s")
    measure = measure_with_gnu_time if use_time else measure_with_python
    cmd = [str(args.syndicate), "-C", str(dest), "build"]
    series = [(COLD, True, False, result.runs)]
    if args.full:  # first the feeds alone, then with the pages, for the ratios
        series[:0] = [
            (FEEDS_ONLY, False, False, result.feeds_runs),
            (WITH_PAGES, False, True, result.pages_runs),
        ]
    for name, full, pages, runs in series:
        if args.full:
            write_config(dest, args.limit, full=full, pages=pages)
        result.error = cold_series(name, runs, result, cmd, dest, log, measure, args)
        if result.error is not None:
            return result
    result.feed_files, result.feed_bytes = feed_stats(dest / "feeds")
    if args.incremental and result.error is None:
        bench_incremental(result, args, dest, log, measure)
    return result


# --- warm and one-edit builds ------------------------------------------------------------

Snapshot = dict[str, tuple[int, int, str]]


def snapshot(folder: Path) -> Snapshot:
    """Every file under ``folder``: relative path -> (mtime_ns, size, sha256)."""
    files: Snapshot = {}
    for path in folder.rglob("*"):
        if path.is_file():
            stat = path.stat()
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            files[path.relative_to(folder).as_posix()] = (stat.st_mtime_ns, stat.st_size, sha)
    return files


def compare_snapshots(before: Snapshot, after: Snapshot) -> list[Change]:
    """The files added, removed, rewritten or only touched between two snapshots."""
    changes = [Change(path, "removed") for path in sorted(before.keys() - after.keys())]
    for path in sorted(after):
        if path not in before:
            changes.append(Change(path, "added"))
        elif after[path][1:] != before[path][1:]:
            changes.append(Change(path, "rewritten"))
        elif after[path][0] != before[path][0]:
            changes.append(Change(path, "touched"))
    return changes


def read_front_matter(path: Path, root: Path) -> ArticleInfo | None:
    """Title, date and categories of a generated article (the corpus's own simple YAML)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if not lines or lines[0] != "---" or "---" not in lines[1:]:
        return None
    fields = {}
    for line in lines[1 : lines.index("---", 1)]:
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    try:
        text = fields["date"].strip("'\"")
        date = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except (KeyError, ValueError):
        return None
    title = fields.get("title", "").strip("'\"")
    categories = tuple(c.strip() for c in fields.get("categories", "").split(",") if c.strip())
    date = date if date.tzinfo is not None else date.replace(tzinfo=UTC)
    return ArticleInfo(path, path.relative_to(root).as_posix(), title, date, categories)


def pick_articles(dest: Path, limit: int) -> tuple[ArticleInfo | None, ArticleInfo | None]:
    """The newest article (in the site feed and its category feeds: the most outputs an
    edit can change) and the oldest one no feed shows (None when ``limit`` is 0)."""
    found = (read_front_matter(p, dest) for p in sorted((dest / "content").rglob("*.md")))
    articles = sorted((a for a in found if a is not None), key=lambda a: (a.date, a.name))
    if not articles:
        return None, None
    newest = articles[-1]
    if limit == 0:
        return newest, None
    # Walk from the newest down; an article is in no feed once the site feed and each of
    # its categories already hold `limit` newer ones (plus a margin for date ties).
    hidden, per_category, margin = None, Counter[str](), limit + 2
    for newer, article in enumerate(reversed(articles)):
        if newer >= margin and all(per_category[c] >= margin for c in article.categories):
            hidden = article
        per_category.update(article.categories)
    return newest, hidden


def encodings(text: str) -> list[bytes]:
    """``text`` as it may appear in an output: raw, HTML/XML-escaped, JSON-escaped."""
    forms = {text, html.escape(text, quote=False), html.escape(text), json.dumps(text)[1:-1]}
    return [form.encode("utf-8") for form in forms]


def contains(data: bytes, forms: list[bytes]) -> bool:
    return any(form in data for form in forms)


def cards_rendered(log: Path, start: int) -> int:
    """The card images rendered by the build whose output begins at byte ``start``."""
    with log.open("rb") as text:
        text.seek(start)
        found = CARDS_LINE.findall(text.read().decode("utf-8", errors="replace"))
    return int(found[-1]) if found else 0


def build_summary(log: Path, start: int) -> tuple[int, int, int, float] | None:
    """syndicate's own account of the build whose output begins at byte ``start`` of ``log``."""
    with log.open("rb") as text:
        text.seek(start)
        found = SUMMARY_LINE.findall(text.read().decode("utf-8", errors="replace"))
    if not found:
        return None
    written, unchanged, removed, seconds = found[-1]
    return int(written), int(unchanged), int(removed), float(seconds)


#: The kinds of :class:`Scenario`, in the order :func:`bench_incremental` runs them.
SCENARIO_KINDS = ("warm", "edit", "clone", "renamed")


def bench_incremental(
    result: SizeResult,
    args: argparse.Namespace,
    dest: Path,
    log: Path,
    measure: Measure,
    kinds: Sequence[str] = SCENARIO_KINDS,
) -> None:
    """After the cold builds: ``--repeat`` warm builds, then ``--repeat`` builds each after
    editing the newest article, then the same with an old article that no feed shows,
    then ``--repeat`` builds of a fresh clone with the build cache restored (as the
    publish workflow runs), then ``--repeat`` builds after renaming the publication's
    folder (a renamed checkout, or another CI workspace): those of *kinds*."""
    n = result.articles
    cmd = [str(args.syndicate), "-C", str(dest), "build"]
    newest, hidden = pick_articles(dest, args.limit)
    scenarios = [Scenario("warm (nothing changed)", "warm")]
    scenarios.append(Scenario("one edit, newest article", "edit", newest))
    hidden_name = "one edit, an article in no feed"
    if hidden is None:
        scenarios.append(Scenario(hidden_name, "edit", note="skipped: every article is in a feed"))
    else:
        scenarios.append(Scenario(hidden_name, "edit", hidden, in_feeds=False))
    scenarios.append(Scenario("fresh clone, cache restored", "clone"))
    scenarios.append(Scenario("folder renamed, cache kept", "renamed"))
    scenarios = [scenario for scenario in scenarios if scenario.kind in kinds]
    originals: dict[Path, str] = {}
    try:
        for scenario in scenarios:
            result.incremental.append(scenario)
            if scenario.note is not None:
                continue
            if scenario.kind == "edit" and scenario.article is None:
                scenario.note = "skipped: no article found"
                continue
            for attempt in range(1, args.repeat + 1):
                error = incremental_run(scenario, attempt, cmd, dest, log, measure, args, originals)
                label = f"{n} articles: {scenario.name}: run {attempt}"
                if error is not None:
                    result.error = f"{label}: {error}; last lines of {log}:\n{tail(log)}"
                    return
                done = scenario.runs[-1]
                progress(
                    f"{label}: {done.run.wall:.2f} s, {mb(done.run.rss_kib):.0f} MB largest "
                    f"process, {len(done.changes)} file(s) changed, "
                    f"{len(done.unexpected)} unexpected, {len(done.stale)} stale"
                )
    finally:
        for path, text in originals.items():  # leave the corpus as generated
            path.write_text(text, encoding="utf-8", newline="\n")


def incremental_run(
    scenario: Scenario,
    attempt: int,
    cmd: list[str],
    dest: Path,
    log: Path,
    measure: Measure,
    args: argparse.Namespace,
    originals: dict[Path, str],
) -> str | None:
    """Edit (for an edit scenario), build, and compare ``feeds/`` before and after; return
    an error message, or None after appending the run to ``scenario.runs``."""
    article = scenario.article
    marker = ""
    if scenario.kind == "clone":
        fresh_clone(dest)
    if scenario.kind == "renamed":
        # Each run in a folder of its own name, the files themselves untouched; put back
        # after the build.
        renamed = dest.with_name(f"{dest.name}-renamed-{attempt}")
        os.rename(dest, renamed)
        try:
            there = [str(renamed) if part == str(dest) else part for part in cmd]
            return measured_run(scenario, there, renamed, log, measure, args, "")
        finally:
            os.rename(renamed, dest)
    if article is not None:
        # Unique to the article and the run, so that it cannot be found in another article.
        marker = f"Benchmark edit {attempt} of {article.path.stem}."
        original = originals.setdefault(article.path, article.path.read_text(encoding="utf-8"))
        edited = original.rstrip("\n") + f"\n\n{marker}\n"
        article.path.write_text(edited, encoding="utf-8", newline="\n")
    return measured_run(scenario, cmd, dest, log, measure, args, marker)


def measured_run(
    scenario: Scenario,
    cmd: list[str],
    dest: Path,
    log: Path,
    measure: Measure,
    args: argparse.Namespace,
    marker: str,
) -> str | None:
    """Build with *cmd* and compare ``feeds/`` of *dest* before and after (see
    :func:`incremental_run`; *marker* is the text the edit added)."""
    feeds = dest / "feeds"
    article = scenario.article
    before = snapshot(feeds)
    start = log.stat().st_size if log.exists() else 0
    try:
        run = measure(cmd, log, args.timeout)
    except subprocess.TimeoutExpired:
        return f"timed out after {args.timeout:g} s"
    if run.code != 0:
        return f"exited with {run.code}"
    after = snapshot(feeds)
    changes = compare_snapshots(before, after)
    summary = build_summary(log, start)
    cards = cards_rendered(log, start)
    if article is None:
        unexpected = [c.path for c in changes]
        scenario.runs.append(IncrementalRun(run, changes, unexpected, [], summary, 0, cards))
        return None
    titles, markers = encodings(article.title), encodings(marker)
    showing, stale = set(), []
    for name in after:
        data = (feeds / name).read_bytes()
        if contains(data, titles) or contains(data, markers):
            showing.add(name)
            # A feed shows every article it lists in full, so it must have the new text
            # (social/*.json, with --full, has only a summary: not a feed).
            if name.rpartition("/")[2] in FEED_NAMES and not contains(data, markers):
                stale.append(name)
    unexpected = [c.path for c in changes if c.path not in showing and c.path != "index.html"]
    scenario.runs.append(
        IncrementalRun(run, changes, unexpected, stale, summary, len(showing), cards)
    )
    return None


def fresh_clone(dest: Path) -> None:
    """*dest* as a fresh clone of itself with its build cache restored, at the same place
    (as a CI runner checks out the repository and restores ``.syndicate/cache/``): every
    file's bytes in a new file, with a new inode and modification time.  The old folder
    goes to the trash (see :func:`make_cold`)."""
    away = to_trash(dest.parent, "clone")
    os.rename(dest, away / dest.name)
    # What git holds, and the restored cache: not the spare output folder of a build.
    spare = shutil.ignore_patterns(".feeds.spare")
    shutil.copytree(away / dest.name, dest, copy_function=shutil.copyfile, ignore=spare)
    time.sleep(2.5)  # files changed in the last 2 s are hashed whatever: a checkout is older


def tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a text file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- the machine -------------------------------------------------------------------------


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def cpu_model() -> str:
    for line in read_text("/proc/cpuinfo").splitlines():
        if line.startswith(("model name", "Hardware")):
            return line.partition(":")[2].strip()
    return platform.processor() or platform.machine() or "unknown"


def cpu_count() -> str:
    """os.cpu_count(), plus the CPUs this process may use and any cgroup quota."""
    total = os.cpu_count() or 0
    text = str(total)
    if hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) != total:
        text += f" ({len(os.sched_getaffinity(0))} usable)"
    quota, _, period = read_text("/sys/fs/cgroup/cpu.max").partition(" ")
    if quota.isdigit() and period.strip().isdigit():
        text += f", cgroup quota {int(quota) / int(period):g} CPUs"
    return text


def memory() -> str:
    """Total memory from /proc/meminfo, plus any cgroup limit."""
    text = "unknown"
    for line in read_text("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            text = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    limit = read_text("/sys/fs/cgroup/memory.max").strip()
    if limit.isdigit():
        text += f", cgroup limit {int(limit) / 1024**3:.1f} GiB"
    return text


def load_average() -> str:
    """Other work on the machine makes timings noisy; this shows whether there was any."""
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def command_output(cmd: Sequence[str]) -> str:
    """First line of a command's output, or "" if it fails."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else ""


def machine_lines(syndicate: Path, rss_method: str) -> list[str]:
    commit = command_output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPUs (nproc): {cpu_count()}",
        f"- CPU model: {cpu_model()}",
        f"- Memory: {memory()}",
        f"- Load average at the end (1, 5, 15 min): {load_average()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        f"- OS: {platform.platform()}",
        f"- syndicate: {command_output([str(syndicate), '--version']) or 'unknown version'}"
        + (f" (git {commit})" if commit else ""),
        f"- Peak memory measured with: {rss_method}",
    ]


# --- the report --------------------------------------------------------------------------


def mb(kib: int) -> float:
    """KiB (as ru_maxrss and GNU time report them) to MB (10^6 bytes), as in the targets."""
    return kib * 1024 / 1e6


def target(result: SizeResult, limit: int) -> tuple[float, float]:
    """The size's (wall seconds, MB) targets; no time target but at :data:`TARGET_LIMIT`."""
    max_wall, max_mb = TARGETS[result.articles]
    return (max_wall if limit == TARGET_LIMIT else float("inf")), max_mb


def target_verdict(result: SizeResult, limit: int, wall: float, rss_mb: float) -> str:
    if result.articles not in TARGETS:
        return "–"
    max_wall, max_mb = target(result, limit)
    misses = [name for name, bad in (("time", wall > max_wall), ("memory", rss_mb > max_mb)) if bad]
    goal = f"< {max_wall:g} s, < {max_mb:g} MB" if max_wall < float("inf") else f"< {max_mb:g} MB"
    return f"{goal}: met" if not misses else f"{goal}: **missed** ({', '.join(misses)})"


def result_row(result: SizeResult, limit: int) -> str:
    runs = result.runs
    if not runs:
        cells = ["failed", "–", "–", "–"]
        verdict = "–"
    else:
        wall = statistics.median(r.wall for r in runs)
        rss, tree = result.peaks(COLD)
        cpu = statistics.median(r.cpu for r in runs)
        cells = [f"{wall:.2f}", f"{min(r.wall for r in runs):.2f}", f"{cpu:.2f}", f"{rss:.0f}"]
        cells.append(f"{tree:.0f}")
        # The times and memory here are targets for the feeds; compare.py holds a full
        # build to Hugo's full site.
        full = bool(result.feeds_runs)
        verdict = "–" if full else target_verdict(result, limit, wall, max(rss, tree))
    head = [f"{result.articles:,}", "all" if limit == 0 else str(limit), str(len(runs))]
    rest = [f"{result.feed_files:,}", f"{result.feed_bytes:,}", verdict]
    return md_row([*head, *cells, *rest])


def incremental_verdict(result: SizeResult, scenario: Scenario, wall: float) -> str:
    """The issues' target for a warm or one-edit build of this size: met or missed.  The
    times hold for the feeds (issue 8) and for the full build (issue 27), which also
    draws no card."""
    if result.articles not in INCREMENTAL_TARGETS or not scenario.runs:
        return "–"
    full = bool(result.feeds_runs)
    max_wall = INCREMENTAL_TARGETS[result.articles][0 if scenario.kind == "warm" else 1]
    changed = sum(len(r.changes) for r in scenario.runs)
    unexpected = sum(len(r.unexpected) for r in scenario.runs)
    stale = sum(len(r.stale) for r in scenario.runs)
    cards = sum(r.cards for r in scenario.runs)
    # A fresh clone or a renamed folder has no time target: it is what a publish in CI costs.
    has_time = scenario.kind in ("warm", "edit")
    timed = f"< {max_wall:g} s, " if has_time else ""
    misses = ["time"] if has_time and wall > max_wall else []
    if scenario.kind != "edit":  # nothing changed: nothing rewritten, no card drawn
        goal = timed + ("0 cards rendered, " if full else "") + "0 files rewritten"
        misses += [f"{changed} file change(s)"] if changed else []
        misses += [f"{cards} card(s) rendered"] if cards else []
    else:
        goal = timed + ("0 cards rendered, " if full else "") + "only affected files rewritten"
        misses += [f"{cards} card(s) rendered"] if cards else []
        misses += [f"{unexpected} other file(s) rewritten"] if unexpected else []
        misses += [f"{stale} stale feed(s)"] if stale else []
    return f"{goal}: met" if not misses else f"{goal}: **missed** ({', '.join(misses)})"


def incremental_missed(result: SizeResult, scenario: Scenario) -> bool:
    if not scenario.runs:
        return False
    wall = statistics.median(r.run.wall for r in scenario.runs)
    return "missed" in incremental_verdict(result, scenario, wall)


def incremental_row(result: SizeResult, scenario: Scenario) -> str:
    head = [f"{result.articles:,}", scenario.name, str(len(scenario.runs))]
    runs = scenario.runs
    if not runs:
        return md_row([*head, scenario.note or "failed", *["–"] * 8])
    walls = [r.run.wall for r in runs]
    wall = statistics.median(walls)
    own = [r.summary[3] for r in runs if r.summary is not None]
    cells = [
        f"{wall:.2f}",
        f"{min(walls):.2f}",
        f"{statistics.median(r.run.cpu for r in runs):.2f}",
    ]
    cells.append(f"{statistics.median(own):.2f}" if own else "–")
    cells.append(f"{mb(max(r.run.rss_kib for r in runs)):.0f}")
    cells.append(f"{mb(max(r.run.tree_kib for r in runs)):.0f}")
    cells.append(" / ".join(str(len(r.changes)) for r in runs))
    if scenario.kind != "edit":
        cells.append("–")
    else:
        other = sum(len(r.unexpected) for r in runs)
        stale = sum(len(r.stale) for r in runs)
        only = "yes" if not other else f"**no** ({other} other)"
        cells.append(only + (f", **{stale} stale**" if stale else ""))
    return md_row([*head, *cells, incremental_verdict(result, scenario, wall)])


def change_list(changes: Sequence[Change]) -> str:
    """'atom.xml, categories/ai/rss.xml (same bytes), ...' with how, unless rewritten."""
    if not changes:
        return "none"
    return ", ".join(
        f"`{c.path}`" + ("" if c.how == "rewritten" else f" ({c.how})") for c in changes
    )


def incremental_details(result: SizeResult, scenario: Scenario) -> list[str]:
    """What each warm or one-edit run changed, as Markdown list items."""
    label = f"{result.articles:,} articles, {scenario.name}"
    if not scenario.runs:
        return [f"- {label}: {scenario.note or 'no run finished'}"]
    article = scenario.article
    lines = [f"- {label}"]
    if article is not None:
        categories = ", ".join(article.categories)
        lines[0] += (
            f": `{article.name}`, “{article.title}”, {article.date.isoformat()}, "
            f"{len(article.categories)} categories ({categories}); "
        )
        if scenario.in_feeds:
            count = 3 + 3 * len(article.categories)
            lines[0] += f"{count} feed files if it is in the site feed and all its category feeds"
        else:
            lines[0] += "by date, no feed shows it (each has `limit` newer articles)"
        lines[0] += f"; after the build {scenario.runs[-1].showing} output file(s) show it"
    previous: list[Change] | None = None
    for number, run in enumerate(scenario.runs, 1):
        own = ""
        if run.summary is not None:
            written, unchanged, removed, seconds = run.summary
            own = (
                f" (syndicate: wrote {written}, {unchanged} unchanged, {removed} removed, "
                f"{run.cards} cards rendered, in {seconds:.2f} s)"
            )
        what = (
            "the same files"
            if run.changes == previous and run.changes
            else change_list(run.changes)
        )
        line = f"  - run {number}: {len(run.changes)} changed{own}: {what}"
        if run.unexpected:
            line += f"; **not showing the article**: {', '.join(run.unexpected)}"
        if run.stale:
            line += f"; **stale** (show it without the edit): {', '.join(run.stale)}"
        lines.append(line)
        previous = run.changes
    return lines


def md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def corpus_row(result: SizeResult) -> str:
    mean_kb = result.corpus_bytes / max(result.articles, 1) / 1000
    cells = [f"{result.articles:,}", f"{result.corpus_bytes / 1e6:.1f}", f"{mean_kb:.1f}"]
    return md_row([*cells, f"{result.generate_seconds:.1f}"])


def report(results: list[SizeResult], args: argparse.Namespace, rss_method: str) -> str:
    lines = [
        "# syndicate benchmark",
        "",
        f"Cold `syndicate -C DIR build`, {args.repeat} timed run(s) per size (after one more, "
        "not timed, whose memory is sampled)"
        + (", then as many warm and one-edit builds" if args.incremental else "")
        + f", seed {args.seed}, "
        f"`[feeds] limit = {args.limit}`; "
        + ("article pages and social output too." if args.full else "feeds only."),
        "",
        *machine_lines(args.syndicate, rss_method),
        "",
        "| Articles | Feed limit | Runs | Wall median (s) | Wall min (s) | CPU median (s) "
        "| Peak RSS (MB) | Peak PSS, all processes (MB) | Feed files | Feed bytes | Target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *(result_row(r, args.limit) for r in results),
        "",
        "CPU = user + system time of the build. Peak RSS = the largest max RSS of one process "
        "over the runs; peak PSS = the most the whole process tree (worker processes included) "
        "held at once, sampled every 100 ms (MB = 10^6 bytes) during one more cold build, "
        "made before the timed ones and not timed: sampling takes CPU time from the build. "
        "Targets use the larger.",
        "",
        "| Articles | Corpus (MB) | Mean article (kB) | Generated in (s) |",
        "|---:|---:|---:|---:|",
        *(corpus_row(r) for r in results),
    ]
    if any(r.feeds_runs for r in results):
        lines += full_section(results)
    if any(r.incremental for r in results):
        lines += incremental_section(results)
    errors = [f"- {r.articles:,} articles: {r.error}" for r in results if r.error]
    if errors:
        lines += ["", "## Errors", "", "```", *errors, "```"]
    return "\n".join(lines) + "\n"


def full_ratio(result: SizeResult, runs: Sequence[Measurement] | None = None) -> float | None:
    """Median full cold build (or of *runs*) over median feeds-only cold build (None
    without both)."""
    runs = result.runs if runs is None else runs
    if not runs or not result.feeds_runs:
        return None
    return statistics.median(r.wall for r in runs) / statistics.median(
        r.wall for r in result.feeds_runs
    )


def full_section(results: list[SizeResult]) -> list[str]:
    lines = [
        "",
        "## The full build against the feeds alone",
        "",
        "The same corpus built cold with only the feeds (no article pages, no social files), "
        "then with the feeds and the article pages (no social files: no cards, post texts or "
        "meta snippets), before the full cold builds above, and the ratios of their median "
        "wall times to the feeds build's. The builds with the pages show what the pages "
        "alone add, and the full builds what the social files add to those. (Issue 8's "
        f"target, the full build within {FULL_RATIO:g}× the feeds build, was retired by "
        "issue 27: `compare.py` holds the full build to Hugo's full site.)",
        "",
        "| Articles | Runs | Feeds only: wall median (s) | CPU median (s) | Peak RSS (MB) "
        "| Feeds and pages: wall median (s) | CPU median (s) | Ratio "
        "| Full: wall median (s) | CPU median (s) | Ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        ratio = full_ratio(result)
        if ratio is None:
            continue
        runs = result.feeds_runs
        pages = full_ratio(result, result.pages_runs)
        cells = [
            f"{result.articles:,}",
            str(len(runs)),
            *_medians(runs),
            f"{max(result.peaks(FEEDS_ONLY)):.0f}",
            *_medians(result.pages_runs),
            f"{pages:.2f}×" if pages is not None else "–",
            *_medians(result.runs),
            f"{ratio:.2f}×",
        ]
        lines.append(md_row(cells))
    return lines


def _medians(runs: Sequence[Measurement]) -> list[str]:
    """Median wall and CPU seconds of *runs*, as table cells ("–" without runs)."""
    if not runs:
        return ["–", "–"]
    return [
        f"{statistics.median(r.wall for r in runs):.2f}",
        f"{statistics.median(r.cpu for r in runs):.2f}",
    ]


def incremental_section(results: list[SizeResult]) -> list[str]:
    scenarios = [(r, s) for r in results for s in r.incremental]
    return [
        "",
        "## Warm and one-edit builds",
        "",
        "After the cold runs, with the cache they left in `.syndicate/cache/`: builds with "
        "nothing changed, then builds each after appending a sentence (with the run number) "
        "to one article's body. “Files changed” counts, for each run, the files under "
        "`feeds/` whose bytes or modification time changed, or that were added or removed. "
        "“Only affected”: every changed file shows the edited article (its title or the new "
        "sentence is in it) or is `feeds/index.html`; **stale** would be a feed that lists "
        "the article without the new sentence. syndicate's own time is the `in N s` of its "
        "last line (without interpreter start-up).",
        "",
        "| Articles | Build | Runs | Wall median (s) | Wall min (s) | CPU median (s) "
        "| syndicate's own (s) | Peak RSS (MB) | Peak PSS, all processes (MB) "
        "| Files changed (per run) | Only affected | Target |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
        *(incremental_row(r, s) for r, s in scenarios),
        "",
        *(line for r, s in scenarios for line in incremental_details(r, s)),
    ]


# --- command line ------------------------------------------------------------------------


def parse_sizes(values: Sequence[str]) -> list[int]:
    """'1000,10000' or '1000 10000' (or both) -> [1000, 10000]."""
    sizes = [int(part.replace("_", "")) for v in values for part in v.split(",") if part]
    if not sizes or min(sizes) < 1:
        raise ValueError("sizes must be positive integers")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=[",".join(map(str, DEFAULT_SIZES))],
        help="corpus sizes in articles, e.g. 1000,10000 (default)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="cold builds per size (3)")
    parser.add_argument(
        "--full",
        action="store_true",
        help="also write article pages and social output (default: the feeds only)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=50,
        help="[feeds] limit written to syndicate.toml; 0 = every entry (50)",
    )
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (0)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep corpora and build logs here (default: a temporary folder)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="delete nothing at the end, not even what the cold builds moved aside: "
        "keep it all in the work folder (which is then never temporary) for a sequence of "
        "runs, as deleting a full build's files slows the next minutes' file creation",
    )
    parser.add_argument(
        "--syndicate",
        type=Path,
        default=Path(sys.executable).parent / "syndicate",
        help="syndicate executable (default: next to this Python)",
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per build (900)")
    parser.add_argument(
        "--rss",
        choices=("auto", "time", "python"),
        default="auto",
        help="measure peak memory with GNU /usr/bin/time or a Python wrapper",
    )
    parser.add_argument(
        "--no-incremental",
        dest="incremental",
        action="store_false",
        help="only the cold builds (default: also warm and one-edit builds)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit with status 2 when a target is missed"
    )
    args = parser.parse_args(argv)
    try:
        args.sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        parser.error(f"--sizes: {exc}")
    if args.repeat < 1 or args.limit < 0:
        parser.error("--repeat must be >= 1 and --limit >= 0")
    if not os.access(args.syndicate, os.X_OK):
        parser.error(
            f"{args.syndicate} is not an executable (install the project or pass --syndicate PATH)"
        )
    return args


def choose_rss_method(choice: str) -> tuple[bool, str]:
    """(use GNU time?, description) for the --rss choice."""
    have_time = gnu_time_works()
    if choice == "time" and not have_time:
        raise SystemExit("run.py: --rss time needs GNU time at /usr/bin/time")
    if choice == "time" or (choice == "auto" and have_time):
        return True, "GNU `/usr/bin/time` (%M of the build process)"
    return False, "a Python wrapper's `getrusage(RUSAGE_CHILDREN).ru_maxrss`"


@contextmanager
def working_folder(path: Path | None) -> Iterator[Path]:
    """``path`` (created if needed) or a temporary folder removed afterwards."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-") as tmp:
        yield Path(tmp)


def missed_target(results: list[SizeResult], limit: int) -> bool:
    for result in results:
        if result.articles in TARGETS and result.runs and not result.feeds_runs:
            max_wall, max_mb = target(result, limit)
            wall = statistics.median(r.wall for r in result.runs)
            if wall > max_wall or max(result.peaks(COLD)) > max_mb:
                return True
        if any(incremental_missed(result, s) for s in result.incremental):
            return True
    return False


def compile_syndicate() -> None:
    """Compile syndicate's modules to bytecode, as installing its wheel does.  From a
    checkout (an editable install) with ``PYTHONDONTWRITEBYTECODE`` set, or before its
    first run, every build would otherwise compile the modules changed since, which no
    installed copy does."""
    spec = importlib.util.find_spec("syndicate")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        compileall.compile_dir(folder, quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    use_time, rss_method = choose_rss_method(args.rss)
    compile_syndicate()
    if args.keep and args.workdir is None:
        args.workdir = Path(tempfile.mkdtemp(prefix="syndicate-bench-"))
    if args.keep:
        progress(f"keeping the corpora and every build's output in {args.workdir}")
    with working_folder(args.workdir) as workdir:
        if not args.keep:
            empty_trash(workdir)  # a killed run's
        try:
            results = [bench_size(n, args, workdir, use_time) for n in args.sizes]
        finally:
            if not args.keep:
                empty_trash(workdir)
    text = report(results, args, rss_method)
    print(text, end="")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        progress(f"wrote {args.output}")
    if any(r.error for r in results):
        return 1
    return 2 if args.check and missed_target(results, args.limit) else 0


if __name__ == "__main__":
    raise SystemExit(main())
