"""A first send that does not mail the archive: `syndicate publish --baseline`.

A publication that moves to syndicate has years of articles.  Until something is sent,
`check` and `publish --dry-run` say what the first email will carry; `publish --baseline`
records everything published so far as already mailed, sending nothing, so that the first
real email (to a real SMTP server, aiosmtpd on 127.0.0.1) carries only what is new after
it, on this machine and on every later run that checks the committed state out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import mailing
from conftest import NOW, REPO, MakePublication, article, tree
from smtp_server import SmtpServer
from syndicate.cli import main
from syndicate.delivery.lock import publication_lock
from syndicate.pipeline import publish

READERS = [f"reader{n}@example.org" for n in range(4)]
#: Twelve articles already published, from May 1st to May 12th.
ARCHIVE = {
    f"content/old-{day:02}.md": article(f"Archive piece {day}", f"2025-05-{day:02}")
    for day in range(1, 13)
}
NEW = "The first new piece"
FIRST_EMAIL = (
    "first email: 10 articles (the newest 10 of 12 published)\n"
    "  To mail only what you publish from now on, run `syndicate publish --baseline` "
    "before the first send.\n"
)


def moved_here(publication: MakePublication, port: int, email: str = "") -> Path:
    files = {**ARCHIVE, "subscribers.csv": mailing.subscribers((a, "") for a in READERS)}
    # The link as the README advises it, so that `check` says only what these tests are about.
    link = "https://news.example.org/unsubscribe/{token}"
    return publication(files, mailing.config(port, email=email, unsubscribe_url=link))


def cli(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), *args], env=env or mailing.ENV)


def write_new_article(root: Path) -> None:
    (root / "content/new.md").write_text(article(NEW, "2025-06-01"), encoding="utf-8")


def titles_received(server: SmtpServer) -> list[list[str]]:
    """The article titles each message carried, in the order the server took them."""
    every = [NEW, *(f"Archive piece {day}" for day in range(1, 13))]
    found = []
    for message in server.messages:
        text, _ = mailing.parts(mailing.parsed(message.data))
        lines = text.splitlines()
        found.append([title for title in every if title in lines])
    return found


@pytest.mark.parametrize(
    ("mode", "announced"),
    [
        ("digest", FIRST_EMAIL),
        (
            "article",
            FIRST_EMAIL.replace("10 articles (", "10 articles, one email each ("),
        ),
    ],
)
def test_check_and_a_dry_run_announce_what_the_first_email_carries(
    publication: MakePublication, mode: str, announced: str
) -> None:
    root = moved_here(publication, 1, email=f'mode = "{mode}"\n')
    checked = cli(root, "check")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout == "ok: 12 articles, 12 published; 0 errors, 2 warnings\n" + announced
    rehearsed = cli(root, "publish", "--dry-run")
    assert rehearsed.exit_code == 0, rehearsed.output
    assert rehearsed.stdout.endswith(announced), rehearsed.stdout
    # A publication whose articles all fit in the first email is told so.
    for name in list(ARCHIVE)[:9]:
        (root / name).unlink()
    small = cli(root, "check")
    assert small.stdout.splitlines()[1:2] == [
        "first email: 3 articles" + (", one email each" if mode == "article" else "")
        + " (all 3 published)"
    ]


def test_after_a_baseline_the_first_email_carries_only_what_is_new(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        root = moved_here(publication, server.port)
        result = cli(root, "publish", "--baseline")
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[1:] == [
            "Newsletter: nothing new since the last email, so none is due.",
            "Baseline: recorded 12 articles as already mailed; nothing was sent.",
            "The next email carries only articles dated after 2025-05-12 00:00+00:00.",
        ]
        assert lines[0].startswith("12 articles in 1 feeds: wrote ")
        assert server.messages == []
        # Nothing is announced any more, and a publish with nothing new sends nothing.
        assert "first email" not in cli(root, "check").stdout
        assert cli(root, "publish").exit_code == 0
        assert server.messages == []

        write_new_article(root)
        sent = cli(root, "publish")
        assert sent.exit_code == 0, sent.output
        assert "4 sent, 0 already done, 0 failed" in sent.stdout
    assert mailing.received(server) == Counter(READERS)
    assert titles_received(server) == [[NEW]] * len(READERS)


def test_a_baseline_taken_twice_is_one(publication: MakePublication) -> None:
    root = moved_here(publication, 1)
    assert cli(root, "publish", "--baseline").exit_code == 0
    state = (root / ".syndicate/state.json").read_bytes()
    again = cli(root, "publish", "--baseline")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1] == (
        "Baseline: nothing to record: all 12 published articles count as mailed already. "
        "Nothing was sent."
    )
    assert (root / ".syndicate/state.json").read_bytes() == state


def test_a_dry_run_says_what_it_would_record_and_writes_nothing(
    publication: MakePublication,
) -> None:
    root = moved_here(publication, 1)
    assert cli(root, "build").exit_code == 0
    before = tree(root)
    result = cli(root, "publish", "--baseline", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Baseline: would record 12 articles as already mailed; nothing was written.\n"
        "The next email carries only articles dated after 2025-05-12 00:00+00:00.\n"
    )
    assert tree(root) == before


def test_no_baseline_while_a_digest_is_still_going_out(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader whose server says "not now" keeps the first digest open: its readers are
    owed it, with the articles it started with, before anything else is decided."""
    with SmtpServer() as server:
        root = moved_here(publication, server.port)
        monkeypatch.chdir(root)
        server.defer(READERS[0])
        publish(root, NOW, environ=mailing.ENV, sleep=mailing.no_wait)
        state = root / ".syndicate/state.json"
        before = state.read_bytes()
        assert b'"open": true' in before
        result = cli(root, "publish", "--baseline")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-2:] == [
        f".syndicate/state.json: error: digest {_open_digest(before)} is still going out to "
        "some readers: "
        "run syndicate publish to finish it first",
        "syndicate: no baseline was recorded (1 error, 0 warnings); nothing was written",
    ]
    assert state.read_bytes() == before


def _open_digest(state: bytes) -> str:
    [record] = json.loads(state)["digests"]
    return str(record["id"])


def test_no_baseline_while_a_publish_runs_nor_without_a_newsletter(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = moved_here(publication, 1)
    with publication_lock(root.resolve()):
        locked = cli(root, "publish", "--baseline")
    assert locked.exit_code == 3
    assert "another syndicate publish is running on this publication" in locked.stderr
    assert not (root / ".syndicate/state.json").exists()

    plain = publication(ARCHIVE)
    monkeypatch.chdir(plain)
    result = cli(plain, "publish", "--baseline")
    assert result.exit_code == 1
    assert result.stderr == (
        "syndicate.toml: error: no [email] table: there is no newsletter to record a "
        "baseline for\n"
        "syndicate: no baseline was recorded (1 error, 0 warnings); nothing was written\n"
    )


def test_the_committed_baseline_holds_in_a_fresh_clone(
    publication: MakePublication, tmp_path: Path
) -> None:
    """What the publish workflow does: check the repository out (no cache, no feeds/, the
    subscriber list from a secret) and publish."""
    root = moved_here(publication, 1)
    shutil.copy(REPO / "templates/init/gitignore", root / ".gitignore")
    assert cli(root, "publish", "--baseline").exit_code == 0
    # A syndicate that knows no baseline must refuse this state, not mail the archive:
    # the versions before it read only version 1.
    state = json.loads((root / ".syndicate/state.json").read_bytes())
    assert state["version"] == 2 and len(state["baseline"]["articles"]) == len(ARCHIVE)
    git = ["git", "-c", "user.name=Editor", "-c", "user.email=editor@example.net"]
    for command in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "moved"]):
        subprocess.run([*git, *command], cwd=root, check=True, capture_output=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    assert not (clone / "subscribers.csv").exists()  # git ignores subscriber lists
    write_new_article(clone)
    with SmtpServer() as server:
        config = (clone / "syndicate.toml").read_text(encoding="utf-8")
        config = config.replace("port = 1\n", f"port = {server.port}\n")
        (clone / "syndicate.toml").write_text(config, encoding="utf-8")
        env = {**mailing.ENV, "SYNDICATE_SUBSCRIBERS": str(root / "subscribers.csv")}
        result = cli(clone, "publish", env=env)
        assert result.exit_code == 0, result.output
    assert titles_received(server) == [[NEW]] * len(READERS)
