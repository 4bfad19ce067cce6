"""`syndicate subscribers …`: the operator's commands, the [subscribers] table, and where the
list lives (a git-ignored SQLite file by default, never published)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import REPO, SITE, MakePublication, article
from leaks import SECRET
from service_support import list_config
from syndicate.cli import main

CSV = (
    "email,name,status\n"
    "ana@example.org,Ana,subscribed\n"
    "bob@example.org,Bob,unsubscribed\n"
    "broken-address,X,subscribed\n"
)


def run(
    root: Path, *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "subscribers", *args], env=env, input=stdin)
    return result.exit_code, result.output


def test_the_operator_keeps_the_list_by_hand(publication: MakePublication) -> None:
    root = publication({"old.csv": CSV}, list_config())

    code, imported = run(root, "import", str(root / "old.csv"))
    assert code == 0
    assert sorted(line.split(": ", 1)[1] for line in imported.splitlines()) == [
        "2 added, 0 updated, 0 unchanged, 0 kept out (they left or bounced), 1 invalid",
        "warning: email: not a valid address (An email address must have an @-sign.); not imported",
    ]
    assert run(root, "add", "cy@example.org", "--name", "Cy") == (0, "Added.\n")
    assert run(root, "add", "bob@example.org")[0] == 1
    assert run(root, "remove", "ana@example.org") == (0, "Unsubscribed.\n")
    assert run(root, "forget", "cy@example.org") == (
        0,
        "Erased the address, its proof of consent and its queued emails.\n",
    )
    assert run(root, "forget", "cy@example.org") == (0, "Not on the list: nothing to erase.\n")

    code, exported = run(root, "export")
    assert code == 0
    rows = [line.split(",")[:3] for line in exported.splitlines()]
    assert rows == [
        ["email", "name", "status"],
        ["ana@example.org", "Ana", "unsubscribed"],
        ["bob@example.org", "Bob", "unsubscribed"],
    ]
    code, counted = run(root, "stats")
    assert code == 0
    assert "  subscribed           0" in counted and "  unsubscribed         2" in counted
    code, shown = run(root, "proof", "ana@example.org")
    assert [line.split("  ", 1)[1].split(" (")[0] for line in shown.splitlines()] == [
        "imported",
        "removed",
    ]


def test_no_command_but_export_prints_an_address(publication: MakePublication) -> None:
    root = publication({"old.csv": CSV}, list_config())
    outputs = [
        run(root, "import", str(root / "old.csv"))[1],
        run(root, "add", "cy@example.org")[1],
        run(root, "add", "bob@example.org")[1],
        run(root, "add", "not an address")[1],
        run(root, "remove", "cy@example.org")[1],
        run(root, "proof", "cy@example.org")[1],
        run(root, "forget", "cy@example.org")[1],
        run(root, "stats")[1],
    ]
    assert not any("@example.org" in text or "not an address" in text for text in outputs)


def test_an_import_that_is_not_utf8_is_an_error_on_its_line(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = publication({"old.csv": b"email,name,status\nana@example.org,J\xf6rg,subscribed\n"})
    monkeypatch.chdir(root)

    code, output = run(root, "import", str(root / "old.csv"))

    assert code == 1
    assert output.splitlines()[0] == "old.csv:2: error: not UTF-8 text (save the list as CSV UTF-8)"


def test_the_default_list_is_a_git_ignored_file_that_no_build_publishes(
    publication: MakePublication,
) -> None:
    root = publication({"content/a.md": article("Hello")}, list_config())
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert run(root, "add", "ana@example.org")[0] == 0

    database = root / ".syndicate" / "subscribers.db"
    assert database.is_file()
    ignored = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "-q", str(database)], check=False
    )
    assert ignored.returncode == 0
    status = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "subscribers.db" not in status
    assert CliRunner().invoke(main, ["-C", str(root), "build"]).exit_code == 0
    published = [p for p in (root / "feeds").rglob("*") if p.is_file()]
    assert published and not any(b"ana@example.org" in p.read_bytes() for p in published)


@pytest.mark.parametrize("folder", ["feeds", "static", "content"])
def test_a_list_file_inside_a_published_folder_is_refused(
    publication: MakePublication, folder: str
) -> None:
    root = publication({}, list_config())

    code, output = run(root, "stats", env={"SYNDICATE_DATABASE_URL": f"sqlite:///{folder}/list.db"})

    assert code == 1
    assert f"the database file must not be inside {folder}/" in output


def test_a_database_url_of_another_kind_is_refused_without_showing_its_password(
    publication: MakePublication,
) -> None:
    root = publication({}, list_config())

    code, output = run(
        root, "stats", env={"SYNDICATE_DATABASE_URL": "mysql://admin:hunter2@db.example/list"}
    )

    assert code == 1
    assert "SYNDICATE_DATABASE_URL: 'mysql://admin:***@db.example/list' is not supported" in output
    assert "hunter2" not in output


def test_a_database_that_cannot_be_reached_is_one_line_without_its_password(
    publication: MakePublication,
) -> None:
    root = publication({}, list_config())
    url = "postgresql://admin:hunter2@127.0.0.1:9/list"  # nothing listens on the discard port

    code, output = run(root, "stats", env={"SYNDICATE_DATABASE_URL": url})

    assert code == 1
    assert output.startswith(
        "syndicate: SYNDICATE_DATABASE_URL: cannot open postgresql+psycopg://admin:***@127.0.0.1:9/list:"
    )
    assert "hunter2" not in output and "Traceback" not in output


def test_the_subscribers_table_is_checked_like_the_others(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SITE + (
        "\n[subscribers]\n"
        'url = "http://lists.example.org/"\n'
        "confirm_hours = 0\n"
        'trusted_proxies = ["10.0.0.0/8", "a proxy"]\n'
        'origins = ["https://news.example.org/page"]\n'
        "goodby = true\n"
    )
    root = publication({}, config)
    monkeypatch.chdir(root)

    result = CliRunner().invoke(main, ["check"])

    assert result.exit_code == 1
    assert result.output.splitlines()[:5] == [
        "syndicate.toml:8: error: subscribers.url: must be an https URL (the service runs "
        "behind a TLS proxy; see the README): 'http://lists.example.org/'",
        "syndicate.toml:9: error: subscribers.confirm_hours: must be a number more than 0: 0.0",
        "syndicate.toml:10: error: subscribers.trusted_proxies: must list IP addresses or "
        "networks such as 127.0.0.1 or 10.0.0.0/8: ['10.0.0.0/8', 'a proxy']",
        "syndicate.toml:11: error: subscribers.origins: must list origins such as "
        "https://example.org: ['https://news.example.org/page']",
        'syndicate.toml:12: error: subscribers.goodby: unknown key (did you mean "goodbye"?)',
    ]


def test_serve_says_what_is_missing_before_it_starts(publication: MakePublication) -> None:
    no_table = publication({}, SITE)
    code, output = run(no_table, "serve", env={"SYNDICATE_SECRET": SECRET})
    assert code == 1
    assert output.startswith("syndicate: ") and "no [subscribers] table" in output
    (no_table / "syndicate.toml").write_text(list_config())
    root = no_table
    code, output = run(root, "serve")
    assert code == 1
    assert "SYNDICATE_SECRET is not set" in output
    code, output = run(
        root, "serve", env={"SYNDICATE_SECRET": SECRET, "SYNDICATE_LIST_TOKEN": "short"}
    )
    assert code == 1
    assert "SYNDICATE_LIST_TOKEN must be at least 32 characters long" in output


def test_a_build_does_not_load_the_service_stack(publication: MakePublication) -> None:
    root = publication({"content/a.md": article("Hello")}, list_config())
    script = (
        "import sys\n"
        "from syndicate.cli import main\n"
        f"try:\n    main(['-C', {str(root)!r}, 'build'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'sqlalchemy', 'alembic', 'starlette', 'uvicorn', 'psycopg'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.splitlines()[-1]

    assert loaded == "[]"


def test_every_subscribers_command_has_help_and_a_place_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    group = main.commands["subscribers"]
    assert isinstance(group, click.Group)
    for name, command in group.commands.items():
        assert command.help, name
        assert f"syndicate subscribers {name}" in readme, name


def test_the_container_and_the_systemd_unit_start_the_service_with_flags_it_has() -> None:
    import json
    import shlex

    unit = (REPO / "deploy" / "syndicate-subscribers.service").read_text(encoding="utf-8")
    (exec_start,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    containerfile = (REPO / "deploy" / "Containerfile").read_text(encoding="utf-8")
    (cmd,) = [line for line in containerfile.splitlines() if line.startswith("CMD ")]
    for argv in (shlex.split(exec_start.removeprefix("ExecStart="))[1:], json.loads(cmd[4:])[1:]):
        assert argv[:1] == ["-C"] and argv[2:4] == ["subscribers", "serve"]
        group = main.commands["subscribers"]
        assert isinstance(group, click.Group)
        context = group.commands["serve"].make_context("serve", argv[4:])
        assert context.params["port"] == 8000


def test_the_wheel_carries_the_migrations_and_runs_them(
    publication: MakePublication, tmp_path: Path
) -> None:
    built = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hatchling",
            "build",
            "--target",
            "wheel",
            "--directory",
            str(built),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    unpacked = tmp_path / "site-packages"
    zipfile.ZipFile(next(built.glob("*.whl"))).extractall(unpacked)
    assert (unpacked / "syndicate/subscribers/migrations/versions/r0001_initial.py").is_file()
    root = publication({}, list_config())

    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "-C", str(root), "subscribers", "stats"],
        cwd=tmp_path,  # not the repository: the migrations come from the installed package
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "  subscribed           0" in result.stdout
    assert (root / ".syndicate" / "subscribers.db").is_file()
