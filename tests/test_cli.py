"""Habits every command shares: -C and --debug anywhere, results on stdout and
diagnostics on stderr, colour only on a terminal and never with NO_COLOR."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import SITE, MakePublication, article
from syndicate.cli import main

#: An article with a front-matter key syndicate does not know: a warning, not an error.
WARNED = article("Hello", mood="cheerful")
WARNING = "content/a.md:4: warning:"
#: A template of the publication's own that fails in a way no check foresees.
BROKEN_TEMPLATE = "<p>{{ 1 // 0 }}</p>\n"

EMAIL = SITE + (
    '\n[email]\nfrom = "Test Times <news@example.org>"\n'
    'unsubscribe_url = "https://news.example.org/u?e={email}&t={token}"\n'
    'address = "1 Test Street, Testville"\nsubscribers = "list.csv"\n'
)
LIST = "email,name,status\nana@example.com,Ana,subscribed\n"


def every_command(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += every_command(command, (*prefix, name))
    return found


@pytest.mark.parametrize("command", every_command(), ids=" ".join)
def test_every_command_takes_C_and_debug_after_its_name(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "-C, --root DIRECTORY" in result.output
    assert "--debug" in result.output


def test_a_group_added_later_gets_C_and_debug_too() -> None:
    @click.group(name="extra")
    def extra() -> None:
        """A group as another package registers it."""

    @extra.command(name="where")
    @click.pass_obj
    def where(root: Path) -> None:
        """Say the publication's folder."""
        click.echo(str(root))

    main.add_command(extra)
    try:
        runner = CliRunner()
        assert runner.invoke(main, ["extra", "where", "-C", "/tmp"]).output == "/tmp\n"
        assert runner.invoke(main, ["-C", "/tmp", "extra", "where"]).output == "/tmp\n"
        assert runner.invoke(main, ["extra", "where"]).output == ".\n"
    finally:
        del main.commands["extra"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_C_names_the_publication_before_or_after_the_command(
    publication: MakePublication, where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = publication({"content/a.md": article("Hello")})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    runner = CliRunner()
    for command in (["check"], ["build"], ["publish", "--dry-run"]):
        args = ["-C", str(root), *command] if where == "before" else [*command, "-C", str(root)]
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
    assert (root / "feeds" / "rss.xml").is_file()
    assert not (elsewhere / "feeds").exists()
    args = ["-C", str(tmp_path), "init", "new"] if where == "before" else ["init", "new"]
    args += [] if where == "before" else ["-C", str(tmp_path)]
    assert runner.invoke(main, args).exit_code == 0
    assert (tmp_path / "new" / "syndicate.toml").is_file()


def test_results_go_to_stdout_and_diagnostics_to_stderr_for_every_command(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = publication({"content/a.md": WARNED, "list.csv": LIST}, EMAIL)
    runner = CliRunner()
    for command in (["check"], ["build"], ["publish", "--dry-run"], ["publish"]):
        result = runner.invoke(main, ["-C", str(root), *command])
        assert result.exit_code == 0, result.output
        assert WARNING in result.stderr, command
        assert ": warning:" not in result.stdout, command
        assert result.stdout.strip(), f"{command} said nothing on stdout"
    failed = runner.invoke(main, ["-C", str(root), "init", "."])
    assert failed.exit_code == 1
    assert "syndicate.toml: error: exists" in failed.stderr and not failed.stdout
    made = runner.invoke(main, ["init", str(tmp_path / "new")])
    assert "Created New in" in made.stdout and not made.stderr
    broken = publication({"content/a.md": "---\ntitle: [\n---\n"})
    result = runner.invoke(main, ["-C", str(broken), "build"])
    assert result.exit_code == 1
    assert "content/a.md:3: error: front matter" in result.stderr and not result.stdout


def run(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", *args],
        cwd=root,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args", [["--debug", "build"], ["build", "--debug"]], ids=["before", "after"]
)
def test_debug_shows_the_traceback_of_an_unexpected_error(
    publication: MakePublication, args: list[str]
) -> None:
    root = publication(
        {"content/a.md": article("Hello"), "templates/site/index.html.j2": BROKEN_TEMPLATE}
    )
    quiet = run(root, "build")
    assert quiet.returncode == 1
    assert "syndicate: unexpected ZeroDivisionError: integer division or modulo by zero" in (
        quiet.stderr
    )
    assert "Traceback" not in quiet.stderr
    loud = run(root, *args)
    assert loud.returncode == 1
    assert loud.stderr.startswith("Traceback (most recent call last):"), loud.stderr
    assert loud.stderr.rstrip().endswith("ZeroDivisionError: integer division or modulo by zero")


def on_a_terminal(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Everything ``syndicate ARGS`` writes to a pseudo-terminal, as a person sees it."""
    main_fd, terminal = pty.openpty()
    environment = {**os.environ, "TERM": "xterm-256color", **(env or {})}
    if "NO_COLOR" not in (env or {}):
        environment.pop("NO_COLOR", None)
    with subprocess.Popen(
        [sys.executable, "-m", "syndicate", *args],
        cwd=root,
        env=environment,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    ) as process:
        os.close(terminal)
        chunks = []
        while True:
            ready, _, _ = select.select([main_fd], [], [], 60)
            assert ready, "no output for a minute"
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:  # EIO: the terminal closed with the process
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(main_fd)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_colour(publication: MakePublication) -> None:
    root = publication({"content/a.md": WARNED})
    shown = on_a_terminal(root, "check")
    assert "\x1b[" in shown
    assert "\x1b[1m\x1b[33mwarning\x1b[0m" in shown or "\x1b[33m\x1b[1mwarning" in shown, shown


@pytest.mark.parametrize("how", ["NO_COLOR", "a pipe"])
def test_no_color_and_pipes_get_plain_text(publication: MakePublication, how: str) -> None:
    root = publication({"content/a.md": WARNED, "list.csv": LIST}, EMAIL)
    for command in (["check"], ["build"], ["publish"]):
        if how == "NO_COLOR":
            shown = on_a_terminal(root, *command, env={"NO_COLOR": "1"})
        else:
            result = run(root, *command)
            shown = result.stdout + result.stderr
        assert WARNING in shown, shown
        assert "\x1b" not in shown, (command, shown)
