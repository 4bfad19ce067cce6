"""Benchmark cold ``syndicate build`` runs on generated corpora.

For each corpus size this generates a publication (see ``corpus.py``), then runs
``syndicate -C DIR build`` ``--repeat`` times, deleting ``feeds/`` and ``.syndicate/`` before
every run so that each build is cold. It reports wall time (median, min), CPU time, the peak
memory of the build process (max RSS) and the feed files written, as a Markdown table.

Usage::

    python benchmarks/run.py [--sizes 1000,10000] [--repeat 3] [--limit 50]
                             [--workdir DIR] [--syndicate PATH] [--output benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from corpus import generate

DEFAULT_SIZES = (1_000, 10_000)
# articles -> (wall seconds, peak RSS in MB); the targets are for 2 cores.
TARGETS: dict[int, tuple[float, float]] = {10_000: (10.0, 500.0)}
GNU_TIME = Path("/usr/bin/time")
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


# --- measuring ---------------------------------------------------------------------------


def gnu_time_works() -> bool:
    """True when /usr/bin/time is GNU time (it understands -f and -o)."""
    if not GNU_TIME.exists():
        return False
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        cmd = [str(GNU_TIME), "-f", "%M", "-o", report.name, "true"]
        done = subprocess.run(cmd, capture_output=True, check=False)
        return done.returncode == 0 and report.read().strip().isdigit()


def measure_with_gnu_time(cmd: Sequence[str], log: Path, timeout: float) -> Measurement:
    """Run ``cmd`` under GNU time; wall time is taken here, the rest from time's report."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        wrapped = [str(GNU_TIME), "-f", "%U %S %M %x", "-o", report.name, *cmd]
        start = time.perf_counter()
        tree = run_logged(wrapped, log, timeout)
        wall = time.perf_counter() - start
        # GNU time prefixes "Command exited with non-zero status N" lines; the numbers are last.
        user, system, rss, code = report.read().split()[-4:]
    return Measurement(wall, float(user) + float(system), int(rss), int(code), tree)


def measure_with_python(cmd: Sequence[str], log: Path, timeout: float) -> Measurement:
    """Run ``cmd`` under a fresh Python wrapper that reports its RUSAGE_CHILDREN."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as report:
        tree = run_logged([sys.executable, "-c", PY_WRAPPER, report.name, *cmd], log, timeout)
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


def run_logged(cmd: Sequence[str], log: Path, timeout: float) -> int:
    """Run ``cmd`` with its output appended to ``log`` (syndicate may warn a lot); return
    the peak summed PSS of its process tree, sampled every 100 ms, in KiB."""
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
            peak = max(peak, session_pss_kib(child.pid))
            time.sleep(0.1)
        return peak


def make_cold(dest: Path) -> None:
    """Delete everything a previous build left behind."""
    for name in ("feeds", ".syndicate"):
        shutil.rmtree(dest / name, ignore_errors=True)


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
    for attempt in range(1, args.repeat + 1):
        make_cold(dest)
        try:
            run = measure(cmd, log, args.timeout)
        except subprocess.TimeoutExpired:
            result.error = f"run {attempt} timed out after {args.timeout:g} s; end of {log}:\n"
            result.error += tail(log)
            break
        progress(
            f"{n} articles: run {attempt}: {run.wall:.2f} s, {mb(run.rss_kib):.0f} MB "
            f"largest process, {mb(run.tree_kib):.0f} MB all processes"
        )
        if run.code != 0:
            result.error = f"run {attempt} exited with {run.code}; last lines of {log}:\n"
            result.error += tail(log)
            break
        result.runs.append(run)
    result.feed_files, result.feed_bytes = feed_stats(dest / "feeds")
    return result


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


def target_verdict(result: SizeResult, wall: float, rss_mb: float) -> str:
    if result.articles not in TARGETS:
        return "–"
    max_wall, max_mb = TARGETS[result.articles]
    misses = [name for name, bad in (("time", wall > max_wall), ("memory", rss_mb > max_mb)) if bad]
    goal = f"< {max_wall:g} s, < {max_mb:g} MB"
    return f"{goal}: met" if not misses else f"{goal}: **missed** ({', '.join(misses)})"


def result_row(result: SizeResult, limit: int) -> str:
    runs = result.runs
    if not runs:
        cells = ["failed", "–", "–", "–"]
        verdict = "–"
    else:
        wall = statistics.median(r.wall for r in runs)
        rss = mb(max(r.rss_kib for r in runs))
        tree = mb(max(r.tree_kib for r in runs))
        cpu = statistics.median(r.cpu for r in runs)
        cells = [f"{wall:.2f}", f"{min(r.wall for r in runs):.2f}", f"{cpu:.2f}", f"{rss:.0f}"]
        cells.append(f"{tree:.0f}")
        verdict = target_verdict(result, wall, max(rss, tree))
    head = [f"{result.articles:,}", "all" if limit == 0 else str(limit), str(len(runs))]
    rest = [f"{result.feed_files:,}", f"{result.feed_bytes:,}", verdict]
    return md_row([*head, *cells, *rest])


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
        f"Cold `syndicate -C DIR build`, {args.repeat} run(s) per size, seed {args.seed}, "
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
        "held at once, sampled every 100 ms (MB = 10^6 bytes). Targets use the larger.",
        "",
        "| Articles | Corpus (MB) | Mean article (kB) | Generated in (s) |",
        "|---:|---:|---:|---:|",
        *(corpus_row(r) for r in results),
    ]
    errors = [f"- {r.articles:,} articles: {r.error}" for r in results if r.error]
    if errors:
        lines += ["", "## Errors", "", "```", *errors, "```"]
    return "\n".join(lines) + "\n"


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


def missed_target(results: list[SizeResult]) -> bool:
    for result in results:
        if result.articles in TARGETS and result.runs:
            max_wall, max_mb = TARGETS[result.articles]
            wall = statistics.median(r.wall for r in result.runs)
            if wall > max_wall or mb(max(r.rss_kib for r in result.runs)) > max_mb:
                return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    use_time, rss_method = choose_rss_method(args.rss)
    with working_folder(args.workdir) as workdir:
        results = [bench_size(n, args, workdir, use_time) for n in args.sizes]
    text = report(results, args, rss_method)
    print(text, end="")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        progress(f"wrote {args.output}")
    if any(r.error for r in results):
        return 1
    return 2 if args.check and missed_target(results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
