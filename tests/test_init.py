"""`syndicate init`: a new publication that checks, builds and publishes from the start,
and whose example values never reach a reader."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO
from syndicate import __version__
from syndicate.cli import main
from syndicate.scaffold import FILES, toml_string


def init(folder: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, ["init", str(folder), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_init_scaffolds_a_publication_that_checks_and_builds(tmp_path: Path) -> None:
    root = tmp_path / "field-notes"
    output = init(root)
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} == {
        target for _, target in FILES
    }
    config = (root / "syndicate.toml").read_text()
    assert 'title = "Field Notes"' in config
    assert 'url = "https://your-user.github.io/field-notes/"' in config
    article = (root / "content/hello-world.md").read_text()
    assert article.startswith('---\ntitle: "Hello, World"\nauthor: "Your Name"\ndate: ')
    assert (root / ".github/syndicate-requirements.txt").read_text() == (
        f"syndicate-publisher=={__version__}\n"
    )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    # What a publish or the list service writes beside the articles; the list's SQLite
    # file comes with its write-ahead log and shared memory.
    written = [
        "outbox/digest-1/ana.eml",
        "subscribers.csv",
        ".syndicate/cache/pages.json",
        ".syndicate/subscribers.db",
        ".syndicate/subscribers.db-wal",
        ".syndicate/subscribers.db-shm",
    ]
    ignored = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "--no-index", *written],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    assert ignored == written
    for step in ("SYNDICATE_SECRET", "SUBSCRIBERS_CSV", "syndicate -C", "preview", "dry_run"):
        assert step in output
    runner = CliRunner()
    checked = runner.invoke(main, ["-C", str(root), "check"])
    assert checked.exit_code == 0, checked.output
    # Init's example values are named (see below), but do not stop a check or a rehearsal.
    assert checked.stdout.startswith("ok: 1 article, 1 published; 0 errors, 6 warnings\n")
    assert "first email: 1 article (all 1 published)\n" in checked.stdout  # the sample
    published = runner.invoke(main, ["-C", str(root), "publish"])
    assert published.exit_code == 0, published.output
    assert "no subscriber list" in published.output  # built; nothing sent, and said so
    assert (root / "feeds/rss.xml").is_file()


def test_init_writes_the_workflow_this_repository_uses(tmp_path: Path) -> None:
    init(tmp_path / "pub")
    workflow = ".github/workflows/publish.yml"
    assert (tmp_path / "pub" / workflow).read_bytes() == (REPO / workflow).read_bytes()


def test_init_refuses_to_overwrite_and_force_overwrites(tmp_path: Path) -> None:
    root = tmp_path / "pub"
    root.mkdir()
    (root / "syndicate.toml").write_text("# mine\n")
    refused = CliRunner().invoke(main, ["init", str(root)])
    assert refused.exit_code == 1
    assert "syndicate.toml: error: exists" in refused.output
    assert "nothing was written (--force overwrites them)" in refused.output
    assert (root / "syndicate.toml").read_text() == "# mine\n"
    assert not (root / "content").exists()
    init(root, "--force", "--title", 'The "Quoted" Post', "--url", "https://q.example.org")
    config = (root / "syndicate.toml").read_text()
    assert 'title = "The \\"Quoted\\" Post"' in config
    assert 'url = "https://q.example.org/"' in config


#: What check --strict says about a publication fresh from init (run from its folder).
PLACEHOLDERS = [
    "syndicate.toml:10: warning: site.url: https://your-user.github.io/pub/ is init's "
    "example: say where feeds/ is served",
    "syndicate.toml:11: warning: site.description: is init's example: say what this is about",
    'syndicate.toml:14: warning: site.author: "Your Name" is init\'s example',
    "syndicate.toml:22: warning: email.from: example.org is an example domain: no mail sent "
    "from it reaches anyone; use your own address",
    "syndicate.toml:27: warning: email.unsubscribe_url: example.org is an example domain: no "
    "reader could unsubscribe; point it at your unsubscribe endpoint",
    "syndicate.toml:28: warning: email.address: is init's example: write your postal address",
]

#: The same settings, made the publication's own.
OWN = {
    "https://your-user.github.io/pub/": "https://notes-from-the-field.net/",
    "What this publication is about, in one line": "Notes from the field",
    '"Your Name"': '"Ana Lee"',
    "newsletter@example.org": "news@notes-from-the-field.net",
    "https://example.org/unsubscribe": "https://notes-from-the-field.net/unsubscribe",
    "Your postal address, as anti-spam laws ask": "1 Field Road, Leeds",
}


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A publication just made by init, with a subscriber list, as the current folder."""
    root = tmp_path / "pub"
    init(root)
    (root / "subscribers.csv").write_text("email,name,status\nreader@example.com,R,subscribed\n")
    monkeypatch.setenv("SYNDICATE_SUBSCRIBERS", str(root / "subscribers.csv"))
    monkeypatch.chdir(root)
    return root


def edit(root: Path, replacements: dict[str, str]) -> None:
    config = root / "syndicate.toml"
    text = config.read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    config.write_text(text)


def test_check_strict_names_every_value_init_left_in_place(fresh: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--strict"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == PLACEHOLDERS
    assert result.stdout == "0 errors, 6 warnings\n"
    edit(fresh, OWN)
    result = CliRunner().invoke(main, ["check", "--strict"])
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    # A sender or an unsubscribe link on any reserved domain is an example too.
    edit(fresh, {"news@notes-from-the-field.net": "news@mail.example.com"})
    assert "email.from: mail.example.com is an example domain" in (
        CliRunner().invoke(main, ["check", "--strict"]).stderr
    )


def test_the_outbox_rehearsal_warns_and_goes_on(fresh: Path) -> None:
    result = CliRunner().invoke(main, ["publish"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[: len(PLACEHOLDERS)] == PLACEHOLDERS
    assert len(list((fresh / "outbox").rglob("*.eml"))) == 1
    strict = CliRunner().invoke(main, ["publish", "--strict"])
    assert strict.exit_code == 1


def test_publish_refuses_to_send_init_examples_over_smtp_before_doing_anything(
    fresh: Path,
) -> None:
    smtp = '\n[email.smtp]\nhost = "smtp.notes-from-the-field.net"\nport = 2525\n'
    (fresh / "syndicate.toml").write_text((fresh / "syndicate.toml").read_text() + smtp)
    for args in (["publish"], ["publish", "--dry-run"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        errors = [line.replace(": warning: ", ": error: ") for line in PLACEHOLDERS]
        assert result.stderr.splitlines() == [
            *errors,
            "syndicate: syndicate.toml still has init's example values (6 errors, 0 warnings); "
            "nothing was written",
        ]
        assert not result.stdout
    assert not (fresh / "feeds").exists()
    assert not (fresh / "outbox").exists()
    assert not (fresh / ".syndicate" / "journal").exists()


def test_init_writes_the_title_as_text_and_no_placeholder_link(tmp_path: Path) -> None:
    title = 'Café «Notes» 日本 "Q" \\ 🎉'
    init(tmp_path / "pub", "--title", title)
    config = (tmp_path / "pub" / "syndicate.toml").read_text(encoding="utf-8")
    assert 'title = "Café «Notes» 日本 \\"Q\\" \\\\ 🎉"\n' in config
    assert "\\u" not in config
    header = config.split("\n[site]", 1)[0]
    assert "http" not in header and "github.com" not in header
    assert header.startswith(f"# {title}: the settings")
    checked = CliRunner().invoke(main, ["-C", str(tmp_path / "pub"), "check"])
    assert checked.exit_code == 0, checked.output


@given(st.text())
def test_any_title_is_written_as_a_toml_string_that_reads_back_the_same(title: str) -> None:
    written = toml_string(title)
    assert tomllib.loads(f"title = {written}")["title"] == title
    # Only what TOML must escape is escaped: everything printable is written as itself.
    assert all(char in written for char in title if char.isprintable() and char not in '"\\')
