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

from conftest import SITE, MakePublication, article, tree
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
    exactly one edition's complete output, and the state file always parses."""
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
    for run in range(16):
        wanted = "new" if shown == "old" else "old"
        version(root, wanted)
        build = start_build(root)
        # Up to twice as long: on a busy machine a build may take longer than it did above.
        time.sleep(duration * chance.uniform(0.1, 2.0))
        build.send_signal(signal.SIGKILL)
        code = build.wait()
        after = tree(root / "feeds")
        assert edition_of(after, editions) in (shown, wanted), f"run {run}"
        state_parses(root)
        killed = "killed" if code == -signal.SIGKILL else "finished"
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
