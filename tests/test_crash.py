"""Crash safety: a build killed at any moment, or stopped by a full disk, leaves either the
old complete output or the new complete output, never a mix, and a state file that parses."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import NOW, SITE, MakePublication, article, tree
from syndicate import workers
from syndicate.delivery.lock import publication_lock
from syndicate.pipeline import build
from syndicate.state import read_state

ARTICLES = 40
CATEGORIES = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon")


def version(root: Path, edition: str) -> None:
    """Write every article of the publication as of *edition*: each edition changes every
    article's text, so every feed and page differs between two editions."""
    for n in range(ARTICLES):
        body = "\n\n".join(f"Paragraph {p} of article {n}, {edition} edition." for p in range(30))
        categories = f"[{CATEGORIES[n % 5]}, {CATEGORIES[(n + 2) % 5]}]"
        text = article(
            f"Article {n}", f"2025-{1 + n % 12:02}-{1 + n % 28:02}", body, categories=categories
        )
        (root / "content" / f"a{n:02}.md").write_text(text, encoding="utf-8")


def command(root: Path) -> list[str]:
    return [sys.executable, "-m", "syndicate", "-C", str(root), "build"]


ENVIRON = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}


def start_build(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command(root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENVIRON
    )


def build_to_the_end(root: Path) -> None:
    done = subprocess.run(command(root), capture_output=True, text=True, env=ENVIRON)
    assert done.returncode == 0, done.stderr


def state_parses(root: Path) -> None:
    path = root / ".syndicate/state.json"
    json.loads(path.read_bytes())
    _, problems = read_state(path)
    assert problems == []


def edition_of(output: dict[str, bytes], editions: dict[str, dict[str, bytes]]) -> str:
    """Which edition *output* is, whole, or which edition each of its files comes from."""
    for name, files in editions.items():
        if output == files:
            return name
    return "a mix: " + ", ".join(
        f"{path} from {next((e for e, f in editions.items() if f.get(path) == data), 'neither')}"
        for path, data in sorted(output.items())
    )


@pytest.fixture
def editions(publication: MakePublication, tmp_path: Path) -> dict[str, dict[str, bytes]]:
    """The complete output of each edition, built without interruption (first "old" then
    "new", as in the loop, so both have the same ids)."""
    root = publication({}, config=SITE)
    outputs = {}
    for edition in ("old", "new"):
        version(root, edition)
        build_to_the_end(root)
        outputs[edition] = tree(root / "feeds")
    shutil.rmtree(root)
    assert outputs["old"].keys() == outputs["new"].keys()
    assert all(
        outputs["old"][name] != outputs["new"][name]
        for name in outputs["old"]
        if name.endswith((".xml", ".json"))
    )
    return outputs


def test_a_build_killed_at_any_moment_leaves_the_old_or_the_new_output(
    publication: MakePublication, editions: dict[str, dict[str, bytes]]
) -> None:
    """SIGKILL at random moments across whole builds: the output folder afterwards is
    exactly one edition's complete output, and the state file always parses and agrees
    with it."""
    root = publication({}, config=SITE)
    durations = []
    for edition in ("new", "old"):  # how long a build that edits every article takes
        version(root, edition)
        started = time.perf_counter()
        build_to_the_end(root)
        durations.append(time.perf_counter() - started)
    duration = min(durations)
    shown = "old"
    chance = random.Random(7)
    outcomes: list[str] = []
    for run in range(40):
        # At least 16 runs, and more until kills landed both before and after the swap.
        if run >= 16 and "killed, old output" in outcomes and "new output" in str(outcomes):
            break
        wanted = "new" if shown == "old" else "old"
        version(root, wanted)
        build = start_build(root)
        # Up to twice as long: on a busy machine a build may take longer than it did above.
        waited = duration * chance.uniform(0.1, 2.0)
        time.sleep(waited)
        build.send_signal(signal.SIGKILL)
        code = build.wait()
        after = tree(root / "feeds")
        assert edition_of(after, editions) in (shown, wanted), f"run {run}"
        state_parses(root)
        output_and_state_agree(root)
        killed = "killed" if code == -signal.SIGKILL else "finished"
        if after != editions[wanted]:  # builds take longer than that now (a busy machine)
            duration = max(duration, waited)
        shown = wanted if after == editions[wanted] else shown
        outcomes.append(f"{killed}, {'new' if shown == wanted else 'old'} output")
        # The article text now on disk is `wanted`: the next run edits every article again.
    assert "killed, old output" in outcomes, outcomes  # some kills landed before the swap
    assert any(o.endswith("new output") for o in outcomes), outcomes
    # And the next whole build finishes the job.
    build_to_the_end(root)
    assert tree(root / "feeds") == editions[wanted]
    assert not (root / ".feeds.next").exists() and not (root / ".feeds.old").exists()


FULL_DISK = r"""
import json, os, subprocess, sys
from pathlib import Path

source, disk = Path(sys.argv[1]), Path(sys.argv[2])
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], check=True)
root = disk / "pub"
subprocess.run(["cp", "-a", str(source), str(root)], check=True)
command = [sys.executable, "-m", "syndicate", "-C", str(root), "build"]

def snapshot():
    return {str(p.relative_to(disk)): p.read_bytes().hex() for p in sorted(disk.rglob("*"))
            if p.is_file() and p.name != "filler"}

def fill(leave):
    st = os.statvfs(disk)
    size = st.f_bavail * st.f_frsize - leave
    with open(disk / "filler", "wb") as f:
        f.write(b"\0" * size)

first = subprocess.run(command, capture_output=True, text=True)
before = snapshot()
source_edit = sys.argv[3]
edit = Path(source_edit).read_text()
Path(root / "content" / "a00.md").write_text(edit)
before_edit = snapshot()
fill(48 * 1024)
full = subprocess.run(command, capture_output=True, text=True)
after_full = snapshot()
(disk / "filler").unlink()
again = subprocess.run(command, capture_output=True, text=True)
print(json.dumps({
    "first": first.returncode, "full": full.returncode, "again": again.returncode,
    "stderr": full.stderr,
    "unchanged": after_full == before_edit,
    "feeds_changed_after": snapshot() != before_edit,
    "leftovers": sorted(p.name for p in root.iterdir() if p.name.startswith(".feeds")),
    "first_stderr": first.stderr,
}))
"""


def test_a_full_disk_gives_a_clear_error_and_the_old_output_stays(
    publication: MakePublication, tmp_path: Path
) -> None:
    """A real small file system (a 4 MB tmpfs, mounted in a user namespace) filled up so
    that the build runs out of space half-way."""
    unshare = shutil.which("unshare")
    probe = (
        unshare
        and subprocess.run([unshare, "-Urm", "true"], capture_output=True, check=False).returncode
        == 0
    )
    if not probe:
        pytest.skip("user namespaces are not available to mount a small file system")
    root = publication({}, config=SITE)
    version(root, "old")
    edited = tmp_path / "edited.md"
    edited.write_text(article("Article 0", "2025-01-01", "Edited. " * 20_000), encoding="utf-8")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "full_disk.py"
    script.write_text(FULL_DISK, encoding="utf-8")
    done = subprocess.run(
        [unshare, "-Urm", sys.executable, str(script), str(root), str(disk), str(edited)],
        capture_output=True,
        text=True,
        check=False,
        env=ENVIRON,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["first"] == 0, result["first_stderr"]
    assert result["full"] == 1
    assert "No space left on device" in result["stderr"]
    assert "/pub/feeds is unchanged; free some disk space and build again" in result["stderr"]
    assert "Traceback" not in result["stderr"]
    assert result["unchanged"]  # the old output, byte for byte, and the old state
    # Nothing left of the failed run: only the spare of the build that followed it.
    assert result["leftovers"] == [".feeds.spare"]
    assert result["again"] == 0 and result["feeds_changed_after"]


# -- killed at the swap itself -------------------------------------------------------------

KILLING = Path(__file__).with_name("killing.py")


def killed_build(root: Path, when: str) -> subprocess.CompletedProcess[str]:
    """A build killed with SIGKILL at the rename *when* says (see tests/killing.py)."""
    return subprocess.run(
        [sys.executable, str(KILLING), when, "-C", str(root), "build"],
        capture_output=True,
        text=True,
        env=ENVIRON,
        check=False,
    )


def small_edition(root: Path, edition: str, *, extra: bool) -> None:
    """Three articles whose text says *edition*, and with *extra* a fourth, "x.md", alone
    in its category: it has a page, a card and feeds of its own."""
    for n in range(3):
        text = article(f"Article {n}", f"2025-03-0{n + 1}", f"Article {n}, {edition} edition.")
        (root / "content" / f"a{n}.md").write_text(text, encoding="utf-8")
    extra_article = root / "content" / "x.md"
    if extra:
        text = article("Extra", "2025-03-09", f"The extra, {edition}.", categories="[Extra]")
        extra_article.write_text(text, encoding="utf-8")
    else:
        extra_article.unlink(missing_ok=True)


def output_and_state_agree(root: Path) -> None:
    """The state lists every file of the output folder (so that a later build can remove
    it), and keeps the id of every entry the feeds show."""
    state, problems = read_state(root / ".syndicate/state.json")
    assert problems == []
    unlisted = set(tree(root / "feeds")) - set(state.outputs)
    assert not unlisted, f"in feeds/ but not in the state: {sorted(unlisted)}"
    feed = json.loads((root / "feeds/feed.json").read_bytes())
    unknown = {item["id"] for item in feed["items"]} - {r.id for r in state.records}
    assert not unknown, f"entries whose id the state does not keep: {sorted(unknown)}"


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_build_killed_at_the_swap_leaves_output_and_state_agreeing(
    publication: MakePublication, tmp_path: Path, when: str
) -> None:
    """Killed just before or just after ``renameat2`` swaps the new output folder in: the
    state lists what the folder holds either way, and once the new article is deleted
    again the next build removes its page, card and feeds."""
    root = publication({}, config=SITE)
    small_edition(root, "first", extra=False)
    build(root, NOW)
    before = tree(root / "feeds")
    small_edition(root, "second", extra=True)
    killed = killed_build(root, f"{when}:renameat2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    after = tree(root / "feeds")
    assert ("posts/x/index.html" in after) == (when == "after")
    assert (after == before) == (when == "before")
    output_and_state_agree(root)

    small_edition(root, "third", extra=False)
    build(root, NOW)
    output_and_state_agree(root)
    made = tree(root / "feeds")
    assert not [name for name in made if "/x/" in name or "/x." in name or "extra" in name]
    scratch = tmp_path / "scratch"
    shutil.copytree(root / "content", scratch / "content")
    (scratch / "syndicate.toml").write_text(SITE, encoding="utf-8")
    build(scratch, NOW)
    assert made == tree(scratch / "feeds")


def test_a_build_killed_after_any_of_its_renames_leaves_output_and_state_agreeing(
    publication: MakePublication,
) -> None:
    """Every moment a killed build can leave behind, in turn: a build that adds an article
    is killed just before its first rename, then just after it, after its second, and so
    on (the cache's records, the swap, the spare, the state), until one finishes.  After
    each kill the output is one edition whole and the state agrees with it; and the next
    build, with the article deleted or made a draft again, makes exactly that edition."""
    root = publication({}, config=SITE)
    editions = {}
    for name, extra in (("without", False), ("with", True), ("without", False)):
        small_edition(root, name, extra=extra)
        build(root, NOW)
        editions[name] = tree(root / "feeds")
    killed_at: list[str] = []
    for after in range(60):
        small_edition(root, "with", extra=True)
        done = killed_build(root, f"after:{after}" if after else "before:1")
        renames = [line for line in done.stderr.splitlines() if line.startswith("rename ")]
        where = renames[-1] if renames else "before the first rename"
        output = tree(root / "feeds")
        assert edition_of(output, editions) in ("without", "with"), where
        output_and_state_agree(root)
        if done.returncode == 0:
            assert output == editions["with"], done.stderr
            break
        assert done.returncode == -signal.SIGKILL, done.stderr
        killed_at.append(where.split()[2])
        if after % 2:
            small_edition(root, "without", extra=False)
        else:  # the article stays, as a draft
            small_edition(root, "without", extra=True)
            draft = (root / "content/x.md").read_text(encoding="utf-8")
            (root / "content/x.md").write_text(draft.replace("---\n", "---\ndraft: true\n", 1))
        build(root, NOW)
        assert tree(root / "feeds") == editions["without"], where
        output_and_state_agree(root)
    assert "renameat2" in killed_at and "os.replace" in killed_at, killed_at


# -- killed with its helpers, and the publish lock ---------------------------------------

#: Holds the publish lock of the publication in argv[2] and has its helpers work on items
#: that each take ten minutes ("pool": the runner's process pool),
#: or ("fork", "exec") leaves a process of its own that inherited the lock's file; says
#: "ready" once they are all started, then waits to be killed.
HOLDER = r"""
import os, subprocess, sys, time
from pathlib import Path
from syndicate import workers
from syndicate.delivery.lock import publication_lock

def ten_minutes(context, item):
    time.sleep(600)
    return item

how, root = sys.argv[1], Path(sys.argv[2])
with publication_lock(root):
    if how == "pool":
        work = workers.Run(ten_minutes, None, list(range(1000)), min_items=1)
    elif how == "fork":
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
    else:  # a program started with the lock's file among those it keeps open
        lock = next(int(fd) for fd in os.listdir("/proc/self/fd")
                    if os.readlink(f"/proc/self/fd/{fd}").endswith("publish.lock"))
        subprocess.Popen(["sleep", "600"], pass_fds=[lock])
    print("ready", flush=True)
    time.sleep(600)
"""


def children(pid: int) -> set[int]:
    """The processes whose parent is *pid*."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether the process *pid* is there, and not a zombie waiting to be reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != b"Z"


def hold_the_lock_and_die(root: Path, how: str) -> set[int]:
    """Start HOLDER, wait until it is ready, kill it with SIGKILL; give the processes it
    had started."""
    (root / ".syndicate").mkdir(exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, how, str(root)],
        stdout=subprocess.PIPE,
        env=ENVIRON,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "ready\n"
    started = children(holder.pid)
    holder.kill()
    holder.wait()
    holder.stdout.close()
    return started


def gone_within(pids: set[int], seconds: float) -> set[int]:
    """Those of *pids* still alive after *seconds* (no more than that is waited)."""
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {p for p in pids if alive(p)}


def end(pids: set[int]) -> None:
    """Kill what a failed test left behind (only these processes, started by it)."""
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(workers.cores() < 2, reason="one core: no helper")
def test_killing_the_main_process_kills_its_helpers_and_frees_the_lock(tmp_path: Path) -> None:
    """The helpers, busy with work that would keep them for minutes, die with the process
    that started them, killed with SIGKILL as the out-of-memory killer would; and the
    publish lock is free at once, with nothing to take over."""
    helpers = hold_the_lock_and_die(tmp_path, "pool")
    try:
        assert helpers, "no helper was started"
        assert gone_within(helpers, 20) == set()
        with publication_lock(tmp_path) as notes:
            assert notes == []
    finally:
        end(helpers)


def test_a_process_forked_while_the_lock_is_held_does_not_hold_it(tmp_path: Path) -> None:
    """Whatever forks a process while the lock is held (a pool, a library), the child
    does not keep the lock once its parent is killed."""
    left = hold_the_lock_and_die(tmp_path, "fork")
    try:
        assert left and all(alive(pid) for pid in left)
        with publication_lock(tmp_path) as notes:
            assert notes == []
    finally:
        end(left)


def test_a_stale_lock_whose_holder_is_gone_is_taken_over_with_a_note(
    publication: MakePublication,
) -> None:
    """A program that the killed holder started, and that kept the lock's file open,
    holds the lock: its holder is gone, so the next build takes it over and says so."""
    root = publication({"content/a.md": article()})
    left = hold_the_lock_and_die(root, "exec")
    try:
        assert left and all(alive(pid) for pid in left)
        done = subprocess.run(command(root), capture_output=True, text=True, env=ENVIRON)
        assert done.returncode == 0, done.stderr
        [note] = [line for line in done.stderr.splitlines() if "publish.lock" in line]
        assert "warning: took the publish lock over: process " in note
        assert "which held it, is gone (killed?) and left a process that still had it open" in note
        assert (root / "feeds/rss.xml").is_file()
        # Taken over once, the lock is an ordinary one again: free, or refused while held.
        with publication_lock(root.resolve()) as notes:
            assert notes == []
            refused = subprocess.run(command(root), capture_output=True, text=True, env=ENVIRON)
            assert refused.returncode == 3
            assert "another syndicate publish is running" in refused.stderr
    finally:
        end(left)


def test_an_output_folder_restored_with_its_cache_loses_what_the_sources_no_longer_make(
    publication: MakePublication, tmp_path: Path
) -> None:
    """The publish workflow restores ``feeds/`` with the build cache from the last job
    that succeeded, and the state from git, committed by every job: after a job that
    failed once its build was done (a delivery error, a cancelled run), the output
    folder comes back older than the state.  The next build still removes the page,
    card and feeds of an article deleted meanwhile."""
    root = publication({}, config=SITE)
    small_edition(root, "first", extra=True)
    build(root, NOW)
    saved = tmp_path / "actions-cache"  # as actions/cache saves and restores them
    shutil.copytree(root / "feeds", saved / "feeds")
    shutil.copytree(root / ".syndicate/cache", saved / "cache")
    small_edition(root, "second", extra=False)
    build(root, NOW)  # the job that fails after its build: its state is committed
    for leftover in ("feeds", ".feeds.spare", ".syndicate/cache"):
        shutil.rmtree(root / leftover)  # a new job, on a new machine
    shutil.copytree(saved / "feeds", root / "feeds")
    shutil.copytree(saved / "cache", root / ".syndicate/cache")
    assert "posts/x/index.html" in tree(root / "feeds")

    build(root, NOW)
    scratch = tmp_path / "scratch"
    shutil.copytree(root / "content", scratch / "content")
    (scratch / "syndicate.toml").write_text(SITE, encoding="utf-8")
    build(scratch, NOW)
    assert tree(root / "feeds") == tree(scratch / "feeds")
    output_and_state_agree(root)
