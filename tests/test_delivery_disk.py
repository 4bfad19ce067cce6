"""A full disk while sending (issue 23, promise 9).

A full disk (or any write error) while recording the journal is a clear delivery error:
exit 3, one line saying what to do; and once space is freed, the rerun sends nobody a
second copy.  Real parts: small tmpfs file systems, mounted in a user namespace (as
tests/test_crash.py does), filled up for real; ``syndicate publish`` run as a command;
aiosmtpd on 127.0.0.1, in the namespace's process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

#: Runs in a user and mount namespace: argv[1] the folder to mount the small disks on,
#: argv[2] this folder of tests.  Prints what each scenario did, as JSON.
SCRIPT = r"""
import json, os, subprocess, sys
from collections import Counter
from pathlib import Path

disk, tests = Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, tests)
import mailing
from conftest import article
from smtp_server import SmtpServer

READERS = [f"reader{n:02}@example.org" for n in range(40)]

def mount(folder, size):
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                   check=True)

def fill(folder):
    # Zeros until the file system says no more.
    with open(folder / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
        except OSError:
            pass
    try:
        with open(folder / "filler", "ab", buffering=0) as filler:
            while True:
                filler.write(b"\0")
    except OSError:
        pass

def publication(root, port):
    (root / "content").mkdir(parents=True)
    (root / "content/a.md").write_text(article("Hello"))
    (root / "syndicate.toml").write_text(mailing.config(port))
    (root / "subscribers.csv").write_text(mailing.subscribers((a, "") for a in READERS))

def publish(root):
    env = {**os.environ, **mailing.ENV}
    done = subprocess.run([sys.executable, "-m", "syndicate", "-C", str(root), "publish"],
                          capture_output=True, text=True, env=env)
    # What the run said beside its warnings (the tests' example domains draw one).
    said = [line for line in done.stderr.splitlines() if ": warning: " not in line]
    return {"code": done.returncode, "stderr": said}

def scenario(server, root, full, after=None):
    # Publish with *full* filled (after *after* messages, or before the send), free it,
    # publish again: what each run said, and who received what.
    start = len(server.messages)
    if after is None:
        fill(full)
    else:
        server.after_accept = lambda count: count - start == after and fill(full)
    first = publish(root)
    server.after_accept = None
    sent_while_full = len(server.messages) - start
    (full / "filler").unlink()
    again = publish(root)
    received = Counter(r for m in server.messages[start:] for r in m.recipients)
    return {"full": first, "again": again, "sent_while_full": sent_while_full,
            "received": received}

report = {}
with SmtpServer() as server:
    # The whole disk fills up half-way through the send.
    mount(disk / "one", "4m")
    root = disk / "one" / "pub"
    publication(root, server.port)
    report["disk"] = scenario(server, root, disk / "one", after=20)
    # The journal's own file system is full before the send.
    mount(disk / "two", "4m")
    root = disk / "two" / "pub"
    publication(root, server.port)
    mount(root / ".syndicate" / "journal", "64k")
    report["journal"] = scenario(server, root, root / ".syndicate" / "journal")
    # The state file's file system fills up half-way through the send.
    mount(disk / "three", "4m")
    root = disk / "three" / "pub"
    publication(root, server.port)
    mount(root / ".syndicate", "256k")
    mount(root / ".syndicate" / "journal", "256k")
    report["state"] = scenario(server, root, root / ".syndicate", after=20)
print(json.dumps(report))
"""

READERS = [f"reader{n:02}@example.org" for n in range(40)]


@pytest.fixture
def namespace() -> str:
    unshare = shutil.which("unshare")
    probe = (
        unshare
        and subprocess.run([unshare, "-Urm", "true"], capture_output=True, check=False).returncode
        == 0
    )
    if not probe or unshare is None:
        pytest.skip("user namespaces are not available to mount a small file system")
    return unshare


def test_a_full_disk_while_sending_is_one_clear_error_and_nobody_gets_two_copies(
    namespace: str, tmp_path: Path
) -> None:
    script = tmp_path / "full_disk.py"
    script.write_text(SCRIPT, encoding="utf-8")
    disk = tmp_path / "disk"
    disk.mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    done = subprocess.run(
        [namespace, "-Urm", sys.executable, str(script), str(disk), str(TESTS)],
        capture_output=True,
        text=True,
        check=False,
        env=environ,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)

    # The disk fills up half-way: the journal took its room before the first message, so
    # every message accepted is recorded, and the send goes to the end.
    disk_full = report["disk"]
    assert disk_full["full"] == {"code": 0, "stderr": []}
    assert disk_full["received"] == dict.fromkeys(READERS, 1)

    # The journal's disk is full from the start: the send stops before its first message.
    journal = report["journal"]
    assert journal["full"]["code"] == 3 and journal["sent_while_full"] == 0
    [line] = journal["full"]["stderr"]
    assert line.startswith("syndicate: ") and line.endswith(
        ".jsonl: error: cannot make room in the journal (No space left on device): nothing "
        "was sent; free some disk space and run publish again"
    )
    assert journal["again"] == {"code": 0, "stderr": []}
    assert journal["received"] == dict.fromkeys(READERS, 1)

    # The state file's disk fills up half-way: everyone got the email, and the state cannot
    # say so; the rerun, with room again, records it and sends nothing.
    state = report["state"]
    assert state["full"]["code"] == 3 and state["sent_while_full"] == len(READERS)
    [line] = state["full"]["stderr"]
    assert line.startswith("syndicate: ") and line.endswith(
        "/.syndicate/state.json: error: cannot record the email in the state file (No space "
        "left on device); free some disk space and run publish again (nobody gets the email "
        "twice)"
    )
    assert state["again"] == {"code": 0, "stderr": []}
    assert state["received"] == dict.fromkeys(READERS, 1)
